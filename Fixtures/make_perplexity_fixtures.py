#!/usr/bin/env python3
"""Regenerate the sliding-window perplexity references: per-window and total negative log-likelihoods
of two real models on two texts, from Hugging Face transformers in float32.

Run from the repository root (needs torch, transformers 5.x, tokenizers, gguf, accelerate, sentencepiece,
numpy; the models are read from ../shared/data/, never copied here; ~1-2 min on 2 cores, most of it
transformers dequantizing the SmolLM2 GGUF to float32):

    python3 Fixtures/make_perplexity_fixtures.py

Writes
    Fixtures/evaluation/perplexity.json   5 cases (model x text x window/stride): the token ids, every
                                          window's begin/end/scored count/NLL sum, the totals (scored
                                          tokens, NLL sum, mean NLL, perplexity, bits per byte), the first
                                          64 per-token NLLs of window 0, and the number the Hugging Face
                                          perplexity recipe gives on the same windows
and the sha256 of the file to Fixtures/SHA256SUMS-perplexity (paths from the repository root:
`sha256sum -c Fixtures/SHA256SUMS-perplexity` there). Other files in Fixtures/evaluation/ belong to other
scripts and are left alone.

Definition (every scored token weighted equally). Tokens t[0..N-1], window length W, stride S. For
begin = 0, S, 2S, ...: end = min(begin + W, N); the window scores positions p in
[max(prevEnd, begin + 1), end), prevEnd being the previous window's end (0 before the first); position
p costs -log_softmax(logits[p - 1 - begin])[t[p]] (natural log) from one forward pass over
t[begin..end-1] starting at position 0; stop after the window whose end is N. Per-token values are
torch.log_softmax in float32; every sum is math.fsum of those float32 values (the correctly rounded
float64 sum, independent of order): a window's nll_sum over its tokens, the case's nll_sum over all
scored tokens. mean_nll = nll_sum / scored, perplexity = exp(mean_nll), bits_per_byte = nll_sum / ln 2 /
(UTF-8 bytes of the whole text). Position 0 is never scored; with W == S the first token of every window
is not scored either (nothing precedes it in its window).

hf_recipe_perplexity is the transformers documentation's "Perplexity of fixed-length models" loop run
literally on the same windows (labels masked to -100 before the last end - prevEnd positions,
outputs.loss weighted by num_valid_tokens - batch_size, float32 tensors). When windows overlap
(W > S), every window after the first scores end - prevEnd tokens but is weighted by one less, so the
recipe's figure differs slightly from the equally weighted one; with W == S the two agree (up to float32
accumulation in the recipe).

Models
    stories260K  ../shared/data/stories260K/stories260K.bin (llama2.c checkpoint) converted here to a
                 transformers LlamaForCausalLM: header of 7 int32 (dim, hidden_dim, n_layers, n_heads,
                 n_kv_heads, vocab_size, negative if the classifier is not shared, max_seq_len), then float32
                 arrays in llama2.c order; wq and wk rows permuted from llama2.c's interleaved RoPE pairs
                 (0,1),(2,3)... to transformers' rotate_half halves, as llama2.c's export.py
                 (permute_original) and transformers' convert_llama_weights_to_hf.py do; rms_norm_eps 1e-5,
                 rope_theta 10000, tied embeddings when shared. The script checks the conversion: greedy
                 decoding from BOS + "Once upon a time" must give run.c's 60 tokens (stories260K
                 PROVENANCE.md). Text: STORY below, a children's story written for this fixture (~2500
                 characters), tokenized by sentencepiece on tok512.model with add_bos=True (BOS 1, no EOS).
                 Windows 128/64, 256/256, 512/512 (512 is the model's context; the story is longer).
    smollm2      ../shared/data/smollm2-135m-instruct/SmolLM2-135M-Instruct.Q4_1.gguf, loaded by
                 AutoModelForCausalLM.from_pretrained(gguf_file=..., dtype=float32) (transformers dequantizes
                 every tensor to float32). Text: the first 6000 characters of
                 ../shared/data/tinyshakespeare/input.txt (only its length and sha256 are stored), tokenized by
                 the tokenizer transformers builds from the GGUF, add_special_tokens=False (SmolLM2 has no
                 BOS). Windows 512/256 and 1024/1024.

float32, eval mode, no grad, two threads, torch.use_deterministic_algorithms(True), default (sdpa)
attention. Writes are atomic (temporary file, then rename).
"""

import hashlib
import importlib.metadata
import json
import math
import os
import struct
import sys
import time
from pathlib import Path

import numpy as np
import sentencepiece
import tokenizers
import torch
import transformers
from transformers import AutoModelForCausalLM, AutoTokenizer, LlamaConfig, LlamaForCausalLM

ROOT = Path(__file__).resolve().parent  # Fixtures/
REPO = ROOT.parent
DATA = REPO.parent / "shared" / "data"  # ../shared/data from the repository root
STORIES_BIN = "stories260K/stories260K.bin"
STORIES_TOKENIZER = "stories260K/tok512.model"
SMOLLM2_DIR = "smollm2-135m-instruct"
SMOLLM2_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
SHAKESPEARE = "tinyshakespeare/input.txt"
SHAKESPEARE_CHARACTERS = 6000
OUT = ROOT / "evaluation"
SUMS = ROOT / "SHA256SUMS-perplexity"
FIRST_WINDOW_TOKENS = 64

STORIES_WINDOWS = [(128, 64), (256, 256), (512, 512)]
SMOLLM2_WINDOWS = [(512, 256), (1024, 1024)]

# run.c -t 0 -n 64 from BOS + "Once upon a time" (../shared/data/stories260K/PROVENANCE.md, also
# Tests/GPTModelTests/Llama2CTests.swift): the conversion check.
RUNC_PROMPT = [1, 403, 407, 261, 378]
RUNC_GREEDY = [int(x) for x in """
    432 383 286 261 376 298 315 421 395 317 426 338 401 396 267 337 410 408 419 292 411 322 265 282 295 433 426 385
    328 432 358 394 261 370 432 352 266 268 388 426 338 391 266 267 337 335 312 432 398 312 286 267 414 270 333 415
    426 13 438 310""".split()]

torch.set_num_threads(2)
torch.use_deterministic_algorithms(True)

STORY = "\n\n".join([
    "Once upon a time, in a small town near a big green hill, there lived a little boy named Tom. Tom "
    "had a red kite. He loved his kite very much. Every day after lunch, he ran up the hill with his "
    "kite and his dog, Max.",
    'One windy morning, Tom said to his mom, "Mom, can I fly my kite today? The wind is very strong!" '
    'His mom smiled and said, "Yes, Tom. But be careful and stay with Max." Tom was so happy. He put on '
    "his blue hat and ran outside.",
    "On the hill, Tom let the string go a little. The kite went up, up, up into the sky. It danced with "
    'the birds and the clouds. Max barked and jumped. "Look, Max! My kite is so high!" Tom shouted.',
    "Then a big gust of wind came. The string slipped out of Tom's hand. The kite flew away over the "
    'trees. Tom felt sad. His eyes filled with tears. "My kite! Come back!" he cried. Max ran after the '
    "kite, and Tom ran after Max.",
    "They ran past a pond with ducks. They ran past a tall old tree. At last, they found the kite. It "
    "was stuck in a bush near a little house. An old woman was sitting on a bench in front of the house. "
    "She had a kind face and a warm smile.",
    '"Is this your kite?" the old woman asked. "Yes," said Tom. "The wind took it away." The old woman '
    "helped Tom pull the kite out of the bush. One of the sticks was broken. Tom looked at it and "
    'frowned. "Now it cannot fly," he said.',
    'The old woman said, "Do not worry. I have some glue and a new stick. We can fix it together." She '
    "went into her house and came back with a small box. Tom held the kite while she put the glue on the "
    "stick. Max sat very still and watched them.",
    'When the kite was fixed, it looked as good as new. Tom hugged the old woman. "Thank you! You are '
    'very nice," he said. The old woman laughed. "You are welcome, little one. Will you come and fly '
    'your kite here sometimes? I like to watch kites."',
    "Tom said yes. From that day on, Tom and Max went to the little house every week. Tom flew his red "
    "kite high in the sky, and the old woman clapped her hands. Sometimes she gave Tom a cookie and Max "
    "a bone. Tom learned that when you lose something, a new friend can help you find it. And he learned "
    "to hold the string very tight.",
    "One day, it began to rain. Tom could not go to the hill. He sat by the window and looked at the "
    'gray sky. "I miss my kite," he said. His mom gave him paper and crayons. Tom drew a picture of the '
    "kite, the hill, Max and the old woman. The next week, he gave the picture to the old woman. She put "
    "it on her wall and said it was the best gift.",
    "The end.",
]) + "\n"


def sha256(data):
    return hashlib.sha256(data).hexdigest()


def write_atomic(path, data):
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temporary.write_bytes(data)
    os.replace(temporary, path)


def dump_json(path, obj):
    write_atomic(path, (json.dumps(obj, ensure_ascii=False, indent=1) + "\n").encode("utf-8"))


# ---------------------------------------------------------------------------------------------
# llama2.c checkpoint -> transformers LlamaForCausalLM

def permute(w, heads, rows, columns):
    """llama2.c's export.py permute_original: row 2i + j of each head (pair i, element j) moves to
    j * head_dim / 2 + i, so the interleaved RoPE pairs become rotate_half's two halves."""
    return w.view(rows, columns).reshape(heads, rows // heads // 2, 2, columns).transpose(1, 2).reshape(rows, columns)


def load_llama2c(path):
    data = path.read_bytes()
    dim, hidden, layers, heads, kv_heads, vocab, seq_len = struct.unpack("<7i", data[:28])
    shared = vocab > 0
    vocab = abs(vocab)
    head_dim = dim // heads
    kv_dim = kv_heads * head_dim
    values = torch.from_numpy(np.frombuffer(data, dtype="<f4", offset=28).copy())
    offset = 0

    def take(*shape):
        nonlocal offset
        count = math.prod(shape)
        tensor = values[offset:offset + count].view(*shape).clone()
        offset += count
        return tensor

    embedding = take(vocab, dim)
    rms_att = take(layers, dim)
    wq = take(layers, dim, dim)
    wk = take(layers, kv_dim, dim)
    wv = take(layers, kv_dim, dim)
    wo = take(layers, dim, dim)
    rms_ffn = take(layers, dim)
    w1 = take(layers, hidden, dim)
    w2 = take(layers, dim, hidden)
    w3 = take(layers, hidden, dim)
    rms_final = take(dim)
    take(seq_len, head_dim // 2)  # freq_cis_real (unused: RoPE is recomputed)
    take(seq_len, head_dim // 2)  # freq_cis_imag
    classifier = None if shared else take(vocab, dim)
    assert offset == values.numel(), (offset, values.numel())

    header = {"dim": dim, "hidden_dim": hidden, "n_layers": layers, "n_heads": heads, "n_kv_heads": kv_heads,
              "vocab_size": vocab, "shared_classifier": shared, "max_seq_len": seq_len}
    config = LlamaConfig(vocab_size=vocab, hidden_size=dim, intermediate_size=hidden, num_hidden_layers=layers,
                         num_attention_heads=heads, num_key_value_heads=kv_heads, head_dim=head_dim,
                         max_position_embeddings=seq_len, rms_norm_eps=1e-5,
                         rope_parameters={"rope_type": "default", "rope_theta": 10000.0},
                         hidden_act="silu", attention_bias=False, mlp_bias=False,
                         tie_word_embeddings=shared, bos_token_id=1, eos_token_id=2)
    state = {"model.embed_tokens.weight": embedding, "model.norm.weight": rms_final}
    for i in range(layers):
        prefix = f"model.layers.{i}."
        state[prefix + "input_layernorm.weight"] = rms_att[i]
        state[prefix + "self_attn.q_proj.weight"] = permute(wq[i], heads, dim, dim)
        state[prefix + "self_attn.k_proj.weight"] = permute(wk[i], kv_heads, kv_dim, dim)
        state[prefix + "self_attn.v_proj.weight"] = wv[i]
        state[prefix + "self_attn.o_proj.weight"] = wo[i]
        state[prefix + "post_attention_layernorm.weight"] = rms_ffn[i]
        state[prefix + "mlp.gate_proj.weight"] = w1[i]
        state[prefix + "mlp.down_proj.weight"] = w2[i]
        state[prefix + "mlp.up_proj.weight"] = w3[i]
    if not shared:
        state["lm_head.weight"] = classifier
    model = LlamaForCausalLM(config).to(torch.float32)
    missing, unexpected = model.load_state_dict(state, strict=False)
    assert not unexpected, unexpected
    assert missing == (["lm_head.weight"] if shared else []), missing
    if shared:
        model.tie_weights()
        assert model.lm_head.weight.data_ptr() == model.model.embed_tokens.weight.data_ptr()
    return model.eval(), header


def greedy(model, prompt, steps):
    ids = list(prompt)
    with torch.no_grad():
        for _ in range(steps):
            logits = model(torch.tensor([ids], dtype=torch.int64)).logits[0, -1]
            ids.append(int(logits.argmax()))
    return ids[len(prompt):]


# ---------------------------------------------------------------------------------------------
# Sliding windows

def windows(n, window, stride):
    out, previous_end = [], 0
    for begin in range(0, n, stride):
        end = min(begin + window, n)
        out.append((begin, end, max(previous_end, begin + 1)))
        previous_end = end
        if end == n:
            break
    return out


def evaluate(model, tokens, window, stride):
    """The equally weighted sliding-window NLL and, from the same forward passes, the Hugging Face recipe."""
    ids = torch.tensor([tokens], dtype=torch.int64)
    per_window, all_values, first_window = [], [], None
    recipe_sum, recipe_tokens, previous_end = 0.0, 0, 0
    for begin, end, first in windows(len(tokens), window, stride):
        assert end > first, (begin, end, first)  # every window scores something (else the recipe divides 0 by 0)
        input_ids = ids[:, begin:end]
        target_ids = input_ids.clone()
        target_ids[:, :-(end - previous_end)] = -100
        with torch.no_grad():
            outputs = model(input_ids, labels=target_ids)
        logits = outputs.logits[0].float()
        log_probs = torch.log_softmax(logits, dim=-1)
        positions = torch.arange(first, end)
        nll = -log_probs[positions - 1 - begin, ids[0, positions]]  # float32
        values = nll.tolist()  # each a float32 value, exactly
        if first_window is None:
            first_window = values[:FIRST_WINDOW_TOKENS]
        all_values.extend(values)
        window_sum = math.fsum(values)
        per_window.append({"begin": begin, "end": end, "scored": len(values), "nll_sum": window_sum})
        # transformers' loss is the mean over the same positions (its labels shift by one).
        assert math.isclose(outputs.loss.item(), window_sum / len(values), rel_tol=2e-6), (outputs.loss.item(),
                                                                                        window_sum / len(values))
        # The recipe, literally (float32 tensors).
        num_valid_tokens = (target_ids != -100).sum().item()
        num_loss_tokens = num_valid_tokens - target_ids.size(0)
        recipe_sum += outputs.loss * num_loss_tokens
        recipe_tokens += num_loss_tokens
        previous_end = end
    total = math.fsum(all_values)
    scored = len(all_values)
    assert scored == len(tokens) - 1 - (len(per_window) - 1 if window == stride else 0)
    recipe_ppl = torch.exp(recipe_sum / recipe_tokens).item()
    return {"windows": per_window, "scored": scored, "nll_sum": total, "mean_nll": total / scored,
            "perplexity": math.exp(total / scored), "first_window_token_nll": first_window,
            "hf_recipe_scored": recipe_tokens, "hf_recipe_perplexity": recipe_ppl}


def make_case(name, model_name, text, text_source, add_bos, tokens, window, stride, model):
    started = time.perf_counter()
    result = evaluate(model, tokens, window, stride)
    n_bytes = len(text.encode("utf-8"))
    case = {
        "name": name, "model": model_name, "text": None if text_source else text, "text_source": text_source,
        "bytes": n_bytes, "add_bos": add_bos, "tokens": tokens, "window": window, "stride": stride,
        "windows": result["windows"], "scored": result["scored"], "nll_sum": result["nll_sum"],
        "mean_nll": result["mean_nll"], "perplexity": result["perplexity"],
        "bits_per_byte": result["nll_sum"] / math.log(2) / n_bytes,
        "first_window_token_nll": result["first_window_token_nll"],
        "hf_recipe_scored": result["hf_recipe_scored"], "hf_recipe_perplexity": result["hf_recipe_perplexity"],
    }
    print(f"{name}: N {len(tokens)}, {len(case['windows'])} windows, scored {case['scored']}, "
          f"ppl {case['perplexity']:.6f}, bpb {case['bits_per_byte']:.6f}, "
          f"hf recipe {case['hf_recipe_perplexity']:.6f} ({time.perf_counter() - started:.1f} s)", flush=True)
    return case


def main():
    started = time.perf_counter()
    cases, models = [], {}

    # stories260K
    stories_path, tokenizer_path = DATA / STORIES_BIN, DATA / STORIES_TOKENIZER
    model, header = load_llama2c(stories_path)
    produced = greedy(model, RUNC_PROMPT, len(RUNC_GREEDY))
    if produced != RUNC_GREEDY:
        sys.exit(f"stories260K conversion does not reproduce run.c's greedy tokens: {produced}")
    sp = sentencepiece.SentencePieceProcessor(model_file=str(tokenizer_path))
    assert sp.encode("Once upon a time", add_bos=True) == RUNC_PROMPT
    assert (sp.bos_id(), sp.eos_id()) == (1, 2)
    story_tokens = sp.encode(STORY, add_bos=True)
    assert sp.decode(story_tokens) == STORY
    models["stories260K"] = {
        "file": STORIES_BIN, "sha256": sha256(stories_path.read_bytes()),
        "tokenizer": STORIES_TOKENIZER, "tokenizer_sha256": sha256(tokenizer_path.read_bytes()),
        "header": header,
        "how": "llama2.c checkpoint converted to transformers LlamaForCausalLM (wq/wk rows permuted to "
               "rotate_half order), rms_norm_eps 1e-5, rope_theta 10000; checked: greedy from BOS + 'Once upon "
               "a time' equals run.c's 60 tokens. Tokens: sentencepiece encode(text, add_bos=True)",
        "attention": model.config._attn_implementation,
    }
    print(f"stories260K loaded and checked ({time.perf_counter() - started:.1f} s)", flush=True)
    for window, stride in STORIES_WINDOWS:
        cases.append(make_case(f"stories260K-w{window}-s{stride}", "stories260K", STORY, None, True,
                               story_tokens, window, stride, model))
    del model

    # SmolLM2
    loading = time.perf_counter()
    smollm2_dir = DATA / SMOLLM2_DIR
    tok = AutoTokenizer.from_pretrained(str(smollm2_dir), gguf_file=SMOLLM2_FILE)
    model = AutoModelForCausalLM.from_pretrained(str(smollm2_dir), gguf_file=SMOLLM2_FILE,
                                                 dtype=torch.float32).eval()
    assert all(p.dtype == torch.float32 for p in model.parameters())
    raw = (DATA / SHAKESPEARE).read_bytes()
    text = raw.decode("utf-8")[:SHAKESPEARE_CHARACTERS]
    assert len(text) == SHAKESPEARE_CHARACTERS
    source = {"file": SHAKESPEARE, "characters": len(text), "sha256": sha256(text.encode("utf-8"))}
    shakespeare_tokens = tok(text, add_special_tokens=False).input_ids
    assert tok.decode(shakespeare_tokens) == text
    models["smollm2"] = {
        "file": f"{SMOLLM2_DIR}/{SMOLLM2_FILE}", "sha256": sha256((smollm2_dir / SMOLLM2_FILE).read_bytes()),
        "how": "AutoModelForCausalLM.from_pretrained(dir, gguf_file=..., dtype=torch.float32) (every tensor "
               "dequantized to float32 by transformers); tokens: AutoTokenizer.from_pretrained(dir, gguf_file=...)"
               "(text, add_special_tokens=False).input_ids",
        "attention": model.config._attn_implementation,
        "text_file_sha256": sha256(raw),
    }
    print(f"smollm2 loaded ({time.perf_counter() - loading:.1f} s)", flush=True)
    for window, stride in SMOLLM2_WINDOWS:
        cases.append(make_case(f"smollm2-w{window}-s{stride}", "smollm2", text, source, False,
                               shakespeare_tokens, window, stride, model))

    versions = {"python": sys.version.split()[0], "torch": torch.__version__, "transformers": transformers.__version__,
                "tokenizers": tokenizers.__version__, "sentencepiece": sentencepiece.__version__,
                "gguf": importlib.metadata.version("gguf"), "numpy": np.__version__,
                "accelerate": importlib.metadata.version("accelerate")}
    path = OUT / "perplexity.json"
    dump_json(path, {
        "versions": versions,
        "definition": "tokens t[0..N-1], window W, stride S; for begin = 0, S, 2S, ...: end = min(begin + W, N), "
                      "one forward pass over t[begin..end-1] (positions from 0), scored positions p in "
                      "[max(prevEnd, begin + 1), end) (prevEnd = previous window's end, 0 at first), cost "
                      "-log_softmax(logits[p - 1 - begin])[t[p]] in float32; stop after the window with end == N. "
                      "nll_sum = math.fsum of the float32 costs (per window, and over all scored tokens); "
                      "mean_nll = nll_sum / scored; perplexity = exp(mean_nll); bits_per_byte = nll_sum / ln 2 / "
                      "bytes (UTF-8 bytes of the whole text). first_window_token_nll = window 0's first 64 costs "
                      "(positions 1..64). hf_recipe_perplexity = the transformers docs' loop on the same windows "
                      "(outputs.loss * (num_valid_tokens - batch_size), summed in float32), hf_recipe_scored its "
                      "token count",
        "models": models,
        "cases": cases,
    })
    sums = [f"{sha256(path.read_bytes())}  {path.relative_to(REPO)}"]  # repository-relative paths
    write_atomic(SUMS, ("\n".join(sums) + "\n").encode("utf-8"))
    print(f"wrote {path.relative_to(REPO)} ({path.stat().st_size} bytes) in {time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    main()
