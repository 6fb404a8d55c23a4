#!/usr/bin/env python3
"""Regenerate the SmolLM2 GGUF and chat-template fixtures: greedy replies, prompt logits and tokenizer
ids from Hugging Face transformers on the shared SmolLM2-135M-Instruct Q4_1 GGUF, and the renderings
of real chat templates by transformers' own Jinja environment.

Run from the repository root (needs torch, transformers 5.x, tokenizers, safetensors, gguf, jinja2;
the model is read from ../shared/data/smollm2-135m-instruct/, never copied here; ~2-3 min on 2 cores,
most of it transformers dequantizing the GGUF to float32):

    python3 Fixtures/make_smollm2_fixtures.py

Writes
    Fixtures/smollm2/cases.json               5 conversations: messages, rendered prompt, prompt ids,
                                              greedy reply ids/text (max_new_tokens 48), stop reason
    Fixtures/smollm2/logits.safetensors       "case<i>.logits" F32 [49152] (last prompt position) and
                                              "case<i>.tokens" I64 [n] (the prompt ids), i = 0..4
    Fixtures/smollm2/tokenizer-corpus.json    ~45 strings: ids with special-token parsing (default) and
                                              with split_special_tokens=True, tokens, decoded text, the
                                              pre-tokenizer pieces, and the tokenizer configuration
    Fixtures/smollm2/tokenizer.json           the tokenizers backend transformers built from the GGUF
                                              (`backend_tokenizer.to_str()`), if under 3 MB; otherwise
                                              tokenizer-config-parts.json with its non-vocabulary parts
    Fixtures/chat-templates/smollm2.jinja     the GGUF's tokenizer.chat_template, byte for byte
    Fixtures/chat-templates/renderings.json   every template x conversation x add_generation_prompt,
                                              rendered by transformers' render_jinja_template (or the
                                              exception it raised), plus the Jinja features each uses
and the sha256 of every file written (and of the vendored templates it read) to
Fixtures/SHA256SUMS-smollm2.

The other Fixtures/chat-templates/*.jinja are inputs, not outputs: real model templates collected
once from public sources (Fixtures/chat-templates/SOURCES.md). The script refuses to run if one of
them no longer has the sha256 pinned in VENDORED below.

float32 (the GGUF dequantized by transformers), eval mode, no grad, two threads, greedy decoding.
"""

import hashlib
import importlib.metadata
import json
import sys
from pathlib import Path

import gguf
import jinja2
import jinja2.meta
import jinja2.nodes
import regex
import tokenizers
import torch
import transformers
from safetensors.torch import save_file
from tokenizers import pre_tokenizers
from transformers import AutoModelForCausalLM, AutoTokenizer
from transformers.convert_slow_tokenizer import bytes_to_unicode
from transformers.utils.chat_template_utils import _compile_jinja_template, render_jinja_template

ROOT = Path(__file__).resolve().parent  # Fixtures/
REPO = ROOT.parent
MODEL_DIR = REPO.parent / "shared" / "data" / "smollm2-135m-instruct"  # ../shared/... from the repo root
MODEL_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
OUT = ROOT / "smollm2"
TEMPLATES = ROOT / "chat-templates"
MAX_NEW_TOKENS = 48
IM_END = 2

torch.set_num_threads(2)
torch.use_deterministic_algorithms(True)

# name -> (model whose tokenizer_config.json it is, sha256, special tokens passed to the template).
# The special tokens are that model's tokenizer special_tokens_map (None entries dropped), which is
# what apply_chat_template passes: `template_kwargs = {**self.special_tokens_map, **kwargs}`.
VENDORED = {
    "chatml": ("Snowflake/snowflake-arctic-instruct",
               "153280e3ff55d19da1398bdb3914ee2a51b80429bfaedde11d7d216c39db80f3",
               {"bos_token": "<|im_start|>", "eos_token": "<|im_end|>", "unk_token": "<unk>"}),
    "llama3": ("meta-llama/Meta-Llama-3-8B-Instruct",
               "ba03a121d097859c7b5b9cd03af99aafe95275210d2876f642ad9929a150f122",
               {"bos_token": "<|begin_of_text|>", "eos_token": "<|eot_id|>"}),
    "llama3.1": ("meta-llama/Llama-3.1-8B-Instruct",
                 "e10ca381b1ccc5cf9db52e371f3b6651576caee0a630b452e2816b2d404d4b65",
                 {"bos_token": "<|begin_of_text|>", "eos_token": "<|eot_id|>"}),
    "qwen2": ("Qwen/Qwen2-7B-Instruct",
              "793202280c0910ab26bc6eb57c8212c2417324c6d8c4efd0d10d59092ab3e3eb",
              {"eos_token": "<|im_end|>", "pad_token": "<|endoftext|>"}),
    "qwen2.5": ("Qwen/Qwen2.5-3B-Instruct",
                "cd8e9439f0570856fd70470bf8889ebd8b5d1107207f67a5efb46e342330527f",
                {"eos_token": "<|im_end|>", "pad_token": "<|endoftext|>"}),
    "mistral-v0.1": ("mistralai/Mistral-7B-Instruct-v0.1",
                     "796853172235ab3aaa4810013ddfe2eab481bda3306dad4f700c00d436eed596",
                     {"bos_token": "<s>", "eos_token": "</s>", "unk_token": "<unk>"}),
    "mistral-v0.3": ("mistralai/Mistral-7B-Instruct-v0.3",
                     "e16746b40344d6c5b5265988e0328a0bf7277be86f1c335156eae07e29c82826",
                     {"bos_token": "<s>", "eos_token": "</s>", "unk_token": "<unk>"}),
    "gemma2": ("google/gemma-2-2b-it",
               "ecd6ae513fe103f0eb62e8ab5bfa8d0fe45c1074fa398b089c93a7e70c15cfd6",
               {"bos_token": "<bos>", "eos_token": "<eos>", "unk_token": "<unk>", "pad_token": "<pad>"}),
}

# The SmolLM2 generation cases (a)-(e).
CASES = [
    ("capital", [{"role": "user", "content": "What is the capital of France?"}]),
    ("system", [{"role": "system", "content": "You are a concise assistant. Answer in one sentence."},
                {"role": "user", "content": "Why is the sky blue?"}]),
    ("multi_turn", [{"role": "user", "content": "Hi! My name is Ada."},
                    {"role": "assistant", "content": "Hello Ada! How can I help you today?"},
                    {"role": "user", "content": "What is my name?"}]),
    ("code", [{"role": "user", "content": "Write a Python function that returns the sum of a list of numbers."}]),
    ("non_ascii", [{"role": "user",
                    "content": "Traduis en anglais : « Je m'appelle Zoé et j'adore le café. » 😊"}]),
]

# Conversations for the chat-template renderings.
CONVERSATIONS = [
    ("user_only", [{"role": "user", "content": "Hello!"}]),
    ("system_user", [{"role": "system", "content": "You are a terse assistant."},
                     {"role": "user", "content": "What is 2+2?"}]),
    ("multi_turn", [{"role": "user", "content": "Hi, who are you?"},
                    {"role": "assistant", "content": "I am a helpful assistant."},
                    {"role": "user", "content": "Tell me a joke."}]),
    ("system_multi_turn", [{"role": "system", "content": "Answer in French."},
                           {"role": "user", "content": "Good morning!"},
                           {"role": "assistant", "content": "Bonjour !"},
                           {"role": "user", "content": "How are you?"}]),
    ("assistant_last", [{"role": "user", "content": "Write a haiku about rain."},
                        {"role": "assistant",
                         "content": "Soft rain on the roof\nwhispers to the sleeping town\npuddles hold the sky"}]),
    ("special_chars", [{"role": "user",
                        "content": "  Quotes: 'single' \"double\" `back` \\backslash\\ \ttab\nnew line "
                                   "{{ not_a_variable }} {% if x %} <b>html</b> & é 中文 🙂  "},
                       {"role": "assistant", "content": "  padded reply with trailing newline\n"},
                       {"role": "user", "content": "Line1\r\nLine2\n\n"}]),
    ("non_alternating", [{"role": "user", "content": "First."},
                         {"role": "user", "content": "Second, with no reply in between."}]),
]

CORPUS = [
    "Hello, world!",
    "The quick brown fox jumps over the lazy dog.",
    "café naïve résumé Ångström",
    "Crème brûlée à la française, s'il vous plaît.",
    "日本語のテキストと中文字符",
    "한국어 텍스트",
    "Emoji: 😀👍🏽🇫🇷👨‍👩‍👧‍👦",
    "e\u0301 (e + combining acute) vs \u00e9 (precomposed)",
    "Z\u0351\u0362a\u0337lgo t\u0308e\u0323xt",
    "مرحبا بالعالم",
    "שלום עולם",
    "zero\u200bwidth\u200djoiner \ufeffBOM",
    "12345678901234567890",
    "3.14159 2.71828 -0.5 1e-10",
    "1,000,000 and 1.000.000 and 1 000 000",
    "Version v1.2.3-beta+42",
    " 123 456",
    "Fractions ½ ¾, superscripts x² x³, Arabic-Indic ٣٤٥",
    "Phone: +1 (555) 123-4567",
    "def add(a, b):\n    return a + b\n\nprint(add(1, 2))\n",
    "struct Point {\n\tvar x: Int\n\tvar y: Int\n}\n\nlet p = Point(x: 1, y: 2)\n",
    "if x:\n\tif y:\n\t\tpass\n",
    "a  b   c    d",
    "line1\r\nline2\r\n",
    "trailing spaces   ",
    "   leading spaces",
    "    ",
    "",
    "\n\n\n",
    " \t \n mixed whitespace \t",
    "It's what they're saying: I'm sure you'll see we've done it, he'd said. Don't!",
    "IT'S UPPER 'S 'T 'RE",
    "’curly’ apostrophes don’t split",
    "Hello , world ! I 'm here . Don 't",
    "<|im_start|>user\nhi<|im_end|>",
    "<|endoftext|>",
    "text<|im_end|>more<|im_start|>",
    "<|im_start|> spaced <|im_end|>\n",
    "<repo_name>gptkit<file_sep>main.swift",
    "<|im_start",
    "https://example.com/path?query=1&x=y#frag",
    "@user #hashtag $100 %50 ^_^ ~tilde",
    "snake_case camelCase PascalCase kebab-case",
    "\u00a0non-breaking\u00a0spaces\u3000ideographic",
]

# The regex that tokenizers' ByteLevel pre-tokenizer applies when use_regex is true
# (tokenizers/src/pre_tokenizers/byte_level.rs), checked below against the backend.
GPT2_SPLIT = r"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"


def dump_json(path, obj):
    path.write_text(json.dumps(obj, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")


def gguf_chat_template(path):
    reader = gguf.GGUFReader(str(path))
    field = reader.fields["tokenizer.chat_template"]
    return bytes(field.parts[field.data[0]]).decode("utf-8")


# ---------------------------------------------------------------------------------------------
# Jinja features a template uses, from its AST (for scoping an interpreter).

def jinja_features(source):
    env = _compile_jinja_template(source).environment
    ast = env.parse(source)
    found = set()
    for node in ast.find_all(jinja2.nodes.Node):
        kind = type(node).__name__
        if isinstance(node, jinja2.nodes.Filter):
            found.add(f"filter:{node.name}" + ("(args)" if node.args or node.kwargs else ""))
            if node.name in ("select", "reject", "selectattr", "rejectattr"):
                at = 1 if node.name.endswith("attr") else 0  # the test name argument
                if len(node.args) > at and isinstance(node.args[at], jinja2.nodes.Const):
                    found.add(f"test:{node.args[at].value} (named in {node.name})")
        elif isinstance(node, jinja2.nodes.Test):
            found.add(f"test:{node.name}")
        elif isinstance(node, jinja2.nodes.Getattr):
            if isinstance(node.node, jinja2.nodes.Name) and node.node.name == "loop":
                found.add(f"loop.{node.attr}")
            else:
                found.add("attribute access (x.y)")
        elif isinstance(node, jinja2.nodes.Getitem):
            if isinstance(node.arg, jinja2.nodes.Slice):
                found.add("slice [a:b]")
            elif isinstance(node.arg, jinja2.nodes.Const) and isinstance(node.arg.value, int) and node.arg.value < 0:
                found.add("negative index [-n]")
            elif isinstance(node.arg, jinja2.nodes.Neg):
                found.add("negative index [-n]")
            else:
                found.add("subscript x[k]")
        elif isinstance(node, jinja2.nodes.Call):
            if isinstance(node.node, jinja2.nodes.Getattr):
                found.add(f"method:.{node.node.attr}()")
            elif isinstance(node.node, jinja2.nodes.Name):
                found.add(f"call:{node.node.name}()")
            if node.kwargs:
                found.add("call with keyword args")
        elif isinstance(node, jinja2.nodes.For):
            found.add("for")
            if node.test is not None:
                found.add("for ... if (loop filter)")
            if node.else_:
                found.add("for ... else")
            if isinstance(node.target, jinja2.nodes.Tuple):
                found.add("for a, b in (unpacking)")
            if node.recursive:
                found.add("for recursive")
        elif isinstance(node, jinja2.nodes.If):
            found.add("if")
            if node.elif_:
                found.add("elif")
            if node.else_:
                found.add("else")
        elif isinstance(node, jinja2.nodes.Assign):
            found.add("set ns.attr = ..." if isinstance(node.target, jinja2.nodes.NSRef) else "set x = ...")
        elif isinstance(node, jinja2.nodes.AssignBlock):
            found.add("set block")
        elif isinstance(node, jinja2.nodes.Compare):
            for op in node.ops:
                found.add(f"compare:{op.op}")
        elif isinstance(node, jinja2.nodes.BinExpr):
            found.add(f"operator:{node.operator}")
        elif isinstance(node, jinja2.nodes.UnaryExpr):
            found.add(f"operator:{node.operator}")
        elif isinstance(node, jinja2.nodes.CondExpr):
            found.add("inline if (a if c else b)")
        elif isinstance(node, jinja2.nodes.Concat):
            found.add("operator:~")
        elif isinstance(node, (jinja2.nodes.List, jinja2.nodes.Dict, jinja2.nodes.Tuple)):
            if not (isinstance(node, jinja2.nodes.Tuple) and node.ctx == "store"):
                found.add(f"literal:{kind.lower()}")
        elif isinstance(node, jinja2.nodes.Const):
            found.add(f"literal:{type(node.value).__name__}")
        elif isinstance(node, (jinja2.nodes.Macro, jinja2.nodes.CallBlock, jinja2.nodes.FilterBlock,
                               jinja2.nodes.Break, jinja2.nodes.Continue, jinja2.nodes.With,
                               jinja2.nodes.Include, jinja2.nodes.Import, jinja2.nodes.Extends,
                               jinja2.nodes.Block, jinja2.nodes.Scope, jinja2.nodes.ExprStmt)):
            found.add(f"statement:{kind}")
    if "{#" in source:
        found.add("comment {# #}")
    for marker in ("{%-", "-%}", "{{-", "-}}", "{#-", "-#}"):
        if marker in source:
            found.add(f"whitespace control {marker}")
    for _, token_type, value in env.lex(source):
        if token_type == "string":
            if "\n" in value:
                found.add("raw newline inside a string literal")
            for escape in regex.findall(r"\\.", value):
                found.add(f"escape {escape} inside a string literal")
            found.add("string literal " + ("'...'" if value.startswith("'") else '"..."'))
    variables = sorted(jinja2.meta.find_undeclared_variables(ast))
    return sorted(found), variables


# ---------------------------------------------------------------------------------------------

def check_vendored():
    for name, (_, sha, _) in VENDORED.items():
        data = (TEMPLATES / f"{name}.jinja").read_bytes()
        got = hashlib.sha256(data).hexdigest()
        if got != sha:
            sys.exit(f"chat-templates/{name}.jinja has sha256 {got}, expected {sha}: restore it from SOURCES.md")


def render(template, messages, add_generation_prompt, specials):
    try:
        rendered, _ = render_jinja_template(conversations=[messages], chat_template=template,
                                            add_generation_prompt=add_generation_prompt, **specials)
        return {"text": rendered[0]}
    except Exception as error:  # noqa: BLE001 - recorded, that is the point
        return {"error": {"type": f"{type(error).__module__}.{type(error).__name__}", "message": str(error)}}


def make_renderings(smollm2_template, smollm2_specials, tok):
    templates = {"smollm2": (smollm2_template, "HuggingFaceTB/SmolLM2-135M-Instruct (GGUF tokenizer.chat_template)",
                             smollm2_specials)}
    for name, (model, _, specials) in VENDORED.items():
        templates[name] = ((TEMPLATES / f"{name}.jinja").read_text(encoding="utf-8"), model, specials)
    out = {
        "environment": {
            "how": "transformers.utils.chat_template_utils.render_jinja_template(conversations=[messages], "
                   "chat_template=..., add_generation_prompt=..., **special_tokens); tools, documents None",
            "class": "jinja2.sandbox.ImmutableSandboxedEnvironment",
            "options": {"trim_blocks": True, "lstrip_blocks": True, "keep_trailing_newline": False,
                        "autoescape": False, "undefined": "jinja2.Undefined (default, not StrictUndefined)"},
            "extensions": ["jinja2.ext.loopcontrols", "AssistantTracker ({% generation %} ... {% endgeneration %})"],
            "filters_overridden": {"tojson": "json.dumps(x, ensure_ascii=False, indent=indent, separators=separators, "
                                             "sort_keys=sort_keys); keywords indent, separators, sort_keys, ensure_ascii"},
            "globals_added": {"raise_exception": "raise_exception(msg) raises jinja2.exceptions.TemplateError(msg)",
                              "strftime_now": "strftime_now(fmt) = datetime.now().strftime(fmt)",
                              "dict": "dict(...) and dict.fromkeys(...)",
                              "namespace": "jinja2 Namespace that rejects names starting with '_'"},
            "variables_passed": ["messages", "tools", "documents", "add_generation_prompt",
                                 "plus the tokenizer special_tokens_map (bos_token, eos_token, unk_token, pad_token)"],
            "versions": {"transformers": transformers.__version__, "jinja2": jinja2.__version__},
        },
        "features_how": "features: from the template's jinja2 AST and lexer tokens (filters, tests, loop.* "
                        "attributes, calls, statements, operators, literal kinds, whitespace control, string-literal "
                        "escapes). undeclared_variables: jinja2.meta.find_undeclared_variables, which also lists "
                        "names that the template only sets inside an if/for block.",
        "conversations": {name: messages for name, messages in CONVERSATIONS},
        "templates": {},
    }
    for name, (source, model, specials) in templates.items():
        features, variables = jinja_features(source)
        cases = []
        for conversation, messages in CONVERSATIONS:
            for add_generation_prompt in (True, False):
                cases.append({"conversation": conversation, "add_generation_prompt": add_generation_prompt,
                              **render(source, messages, add_generation_prompt, specials)})
        out["templates"][name] = {
            "file": f"{name}.jinja", "model": model,
            "sha256": hashlib.sha256(source.encode("utf-8")).hexdigest(),
            "special_tokens": specials, "features": features, "undeclared_variables": variables,
            "renderings": cases,
        }
    # Our rendering of the GGUF template is exactly what the tokenizer's apply_chat_template gives.
    for case in out["templates"]["smollm2"]["renderings"]:
        messages = dict(CONVERSATIONS)[case["conversation"]]
        expected = tok.apply_chat_template(messages, tokenize=False,
                                           add_generation_prompt=case["add_generation_prompt"])
        assert case.get("text") == expected, (case, expected)
    return out


def make_corpus(tok):
    backend = tok.backend_tokenizer
    digits = with_digits_pretokenizer(backend)
    spelling = bytes_to_unicode()
    unspell = {v: k for k, v in spelling.items()}
    entries = []
    for text in CORPUS:
        ids = tok(text, add_special_tokens=False).input_ids
        split_ids = tok(text, add_special_tokens=False, split_special_tokens=True).input_ids
        pieces = [piece for piece, _ in backend.pre_tokenizer.pre_tokenize_str(text)]
        pieces_text = [bytes(unspell[c] for c in piece).decode("utf-8", errors="replace") for piece in pieces]
        python_regex = regex.findall(GPT2_SPLIT, text)
        entries.append({
            "text": text,
            "ids": ids,
            "tokens": tok.convert_ids_to_tokens(ids),
            "decoded": tok.decode(ids, skip_special_tokens=False),
            "decoded_skip_special": tok.decode(ids, skip_special_tokens=True),
            "ids_split_special_tokens": split_ids,
            "decoded_split_special_tokens": tok.decode(split_ids, skip_special_tokens=False),
            "pretokens": pieces_text,
            "pretokens_match_python_regex": python_regex == pieces_text,
            "ids_digits_pretokenizer": digits.encode(text, add_special_tokens=False).ids,
        })
    config = json.loads(backend.to_str())
    return {
        "how": "ids = tok(text, add_special_tokens=False).input_ids (special-token names in the text become "
               "their ids); ids_split_special_tokens adds split_special_tokens=True (encoded as plain text); "
               "decoded = tok.decode(ids, skip_special_tokens=False); pretokens = the backend pre-tokenizer's "
               "pieces (byte-level spelling mapped back to text); ids_digits_pretokenizer = the same backend with "
               "pre_tokenizer Sequence[Digits(individual_digits=True), ByteLevel(add_prefix_space=False, "
               "use_regex=True)], the upstream SmolLM2 tokenizer.json / llama.cpp 'smollm' pre-tokenization",
        "tokenizer_class": type(tok).__name__,
        "gguf_pre": "smollm",
        "clean_up_tokenization_spaces": tok.clean_up_tokenization_spaces,
        "add_bos_token": getattr(tok, "add_bos_token", None),
        "add_eos_token": getattr(tok, "add_eos_token", None),
        "special_tokens_map": tok.special_tokens_map,
        "special_token_ids": {"bos": tok.bos_token_id, "eos": tok.eos_token_id, "unk": tok.unk_token_id,
                              "pad": tok.pad_token_id},
        "all_special_ids": tok.all_special_ids,
        "added_tokens": config["added_tokens"],
        "normalizer": config["normalizer"],
        "pre_tokenizer": config["pre_tokenizer"],
        "pre_tokenizer_regex": GPT2_SPLIT,
        "post_processor": config["post_processor"],
        "decoder": config["decoder"],
        "model": {k: v for k, v in config["model"].items() if k not in ("vocab", "merges")},
        "vocab_size": len(config["model"]["vocab"]),
        "merges": len(config["model"]["merges"]),
        "versions": {"transformers": transformers.__version__, "tokenizers": tokenizers.__version__},
        "entries": entries,
    }


def with_digits_pretokenizer(backend):
    other = tokenizers.Tokenizer.from_str(backend.to_str())
    other.pre_tokenizer = pre_tokenizers.Sequence([pre_tokenizers.Digits(individual_digits=True),
                                                   pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)])
    return other


def make_cases(tok, model):
    cases, logits = [], {}
    for index, (name, messages) in enumerate(CASES):
        prompt = tok.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
        ids = tok(prompt, add_special_tokens=False).input_ids
        input_ids = torch.tensor([ids], dtype=torch.int64)
        with torch.no_grad():
            last = model(input_ids).logits[0, -1].float().contiguous()
            generated = model.generate(input_ids, attention_mask=torch.ones_like(input_ids), do_sample=False,
                                       max_new_tokens=MAX_NEW_TOKENS, pad_token_id=tok.pad_token_id,
                                       return_dict_in_generate=True, output_logits=True)
        reply = generated.sequences[0, len(ids):].tolist()
        margins = []
        for step, step_logits in enumerate(generated.logits):
            top = torch.topk(step_logits[0].float(), 2)
            assert top.indices[0].item() == reply[step], (name, step)  # greedy: argmax of the raw logits
            margins.append(round((top.values[0] - top.values[1]).item(), 4))
        assert int(last.argmax()) == reply[0], name
        logits[f"case{index}.logits"] = last
        logits[f"case{index}.tokens"] = input_ids[0].clone()
        cases.append({
            "index": index, "name": name, "messages": messages, "prompt": prompt, "prompt_ids": ids,
            "reply_ids": reply, "reply": tok.decode(reply, skip_special_tokens=False),
            "stopped_on_im_end": bool(reply and reply[-1] == IM_END),
            "top1_minus_top2_logit": margins,
        })
    return cases, logits


def main():
    check_vendored()
    OUT.mkdir(exist_ok=True)
    written = []

    template = gguf_chat_template(MODEL_DIR / MODEL_FILE)
    (TEMPLATES / "smollm2.jinja").write_bytes(template.encode("utf-8"))
    written.append(TEMPLATES / "smollm2.jinja")

    tok = AutoTokenizer.from_pretrained(str(MODEL_DIR), gguf_file=MODEL_FILE)
    assert tok.chat_template == template

    config_text = tok.backend_tokenizer.to_str()
    if len(config_text.encode("utf-8")) < 3_000_000:
        (OUT / "tokenizer.json").write_text(config_text, encoding="utf-8")
        written.append(OUT / "tokenizer.json")
    else:
        parts = {k: v for k, v in json.loads(config_text).items() if k != "model"}
        dump_json(OUT / "tokenizer-config-parts.json", parts)
        written.append(OUT / "tokenizer-config-parts.json")

    dump_json(OUT / "tokenizer-corpus.json", make_corpus(tok))
    written.append(OUT / "tokenizer-corpus.json")

    specials = {k: v for k, v in tok.special_tokens_map.items() if isinstance(v, str)}
    dump_json(TEMPLATES / "renderings.json", make_renderings(template, specials, tok))
    written.append(TEMPLATES / "renderings.json")

    model = AutoModelForCausalLM.from_pretrained(str(MODEL_DIR), gguf_file=MODEL_FILE, dtype=torch.float32).eval()
    cases, logits = make_cases(tok, model)
    assert cases[0]["reply"] == "The capital of France is Paris.<|im_end|>", cases[0]["reply"]
    dump_json(OUT / "cases.json", {
        "model": f"../shared/data/smollm2-135m-instruct/{MODEL_FILE} (sha256 "
                 f"{hashlib.sha256((MODEL_DIR / MODEL_FILE).read_bytes()).hexdigest()})",
        "how": "prompt = tok.apply_chat_template(messages, tokenize=False, add_generation_prompt=True); "
               "prompt_ids = tok(prompt, add_special_tokens=False).input_ids; reply_ids = model.generate(prompt_ids, "
               f"do_sample=False, max_new_tokens={MAX_NEW_TOKENS}) minus the prompt (ends with 2 = <|im_end|> when it "
               "stopped there); reply = tok.decode(reply_ids, skip_special_tokens=False); top1_minus_top2_logit = "
               "per generated token, the gap between the two largest raw logits (small = a near tie). "
               "Model: AutoModelForCausalLM.from_pretrained(gguf_file=..., dtype=float32), eval, no grad.",
        "generation_config": {k: v for k, v in model.generation_config.to_diff_dict().items()
                              if k != "transformers_version"},
        "versions": {"torch": torch.__version__, "transformers": transformers.__version__,
                     "tokenizers": tokenizers.__version__, "gguf": importlib.metadata.version("gguf"),
                     "jinja2": jinja2.__version__},
        "cases": cases,
    })
    written.append(OUT / "cases.json")
    save_file(logits, str(OUT / "logits.safetensors"))
    written.append(OUT / "logits.safetensors")

    sums = [f"{hashlib.sha256(path.read_bytes()).hexdigest()}  {path.relative_to(ROOT)}" for path in written]
    for name in VENDORED:
        path = TEMPLATES / f"{name}.jinja"
        sums.append(f"{hashlib.sha256(path.read_bytes()).hexdigest()}  {path.relative_to(ROOT)}")
    (ROOT / "SHA256SUMS-smollm2").write_text("\n".join(sorted(sums, key=lambda s: s.split("  ")[1])) + "\n")
    for case in cases:
        print(f"case{case['index']} {case['name']}: {case['reply']!r}")


if __name__ == "__main__":
    main()
