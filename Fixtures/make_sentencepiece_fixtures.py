#!/usr/bin/env python3
"""SentencePiece BPE fixtures: two real SentencePiece models, the GGUF vocabularies llama.cpp's
converter writes for them, the tokenizer.json files transformers makes from them, and the ids every
one of those gives for ~70 hard strings -- also llama.cpp's on the GGUFs -- with `sentencepiece`
itself as ground truth. Plus a small byte-level BPE with a Unicode NFC normalizer in Qwen2's
tokenizer.json layout.

Run from the repository root (needs sentencepiece, protobuf, tokenizers, transformers 5.x, gguf,
llama-cpp-python;
reads ../shared/data/stories260K/tok512.model and ../shared/data/tinyshakespeare/input.txt, and
refuses to run if their sha256 changed; ~10 s):

    python3 Fixtures/make_sentencepiece_fixtures.py

Writes into Fixtures/sentencepiece/ (sha256 of each in Fixtures/SHA256SUMS-sentencepiece):
    tok512.model                    llama2.c's stories260K tokenizer (BPE, 512 pieces), byte for byte
    shakespeare2000.model           trained here (see TRAINER below): BPE, 2000 pieces, byte_fallback,
                                    user-defined <|im_start|> <|im_end|> (ids 3, 4), split_digits
    NAME.gguf                       vocab-only GGUF (no tensors) as convert_hf_to_gguf.py writes it
    shakespeare2000.user-defined.gguf   the same, as the converter writes it when the model directory
                                    also has an added_tokens.json naming the two user-defined pieces
    NAME.legacy.tokenizer.json      transformers' LlamaConverter, legacy=True
    NAME.metaspace.tokenizer.json   transformers' LlamaConverter, legacy=False
    NAME.spm.tokenizer.json         transformers 5's own sentencepiece-faithful build (TokenizersBackend)
    cases.json                      per model, per text: the ids from every source (see below)
    nfc-qwen2-style.tokenizer.json  byte-level BPE (256 bytes + 544 merges) + 3 special tokens, NFC
    nfc-cases.json                  its ids, tokens, NFC-normalized text and decoding per text
    SOURCES.md                      provenance and versions

The two models
    tok512: trainer_spec model_type BPE, vocab 512, byte_fallback, split_digits, unk/bos/eos 0/1/2,
        pad -1; normalizer "identity" (no precompiled charsmap), add_dummy_prefix TRUE,
        remove_extra_whitespaces TRUE (so sentencepiece strips leading/trailing spaces and squeezes
        runs of spaces -- the HF legacy/metaspace files do not), allow_whitespace_only_pieces true.
    shakespeare2000: Llama-style settings -- normalizer "identity", add_dummy_prefix true,
        remove_extra_whitespaces FALSE, allow_whitespace_only_pieces true, byte_fallback, split_digits,
        character_coverage 0.9995 (tiny Shakespeare has no < > | _ { } [ ] # @ $ % ^ & * ~ ` \\ / = + and no
        non-ASCII letters: all of those go through byte fallback),
        required_chars 0-9 (tiny Shakespeare has almost no digits), user_defined_symbols
        <|im_start|> <|im_end|>. Trained from a sentence_iterator over the file's lines (so the proto
        records no file path), one thread, input_sentence_size 0 (all lines, no sampling, no
        shuffle), seed 0. Trained twice per run; the script stops unless both protos are identical.

GGUF (mirrors ggml-org/llama.cpp convert_hf_to_gguf.py @ 0024aa7417efd50a7c2a79e049dfbbbceb0beaaf,
TextModel._create_vocab_sentencepiece + _set_vocab_sentencepiece on a directory holding only
tokenizer.model; the special ids and add_* flags, which SpecialVocab would read from config.json /
tokenizer_config.json, are written directly with the values a Llama checkpoint has)
    general.architecture = "llama"             (GGUFWriter(arch="llama"))
    tokenizer.ggml.model = "llama"
    tokenizer.ggml.pre = "default"
    tokenizer.ggml.tokens     piece strings with "▁", e.g. "<0x0A>", "▁the"
    tokenizer.ggml.scores     float32, sentencepiece GetScore: 0.0 for unk, control, user-defined and
                              byte pieces; -0.0 (negative zero), -1.0, -2.0, ... for the pieces in merge
                              order, then the single characters (tok512 ends at -252.0, shakespeare2000
                              at -1738.0)
    tokenizer.ggml.token_type int32: 2 unknown, 3 control (<s>, </s>), 6 byte, 1 everything else.
        NOTE: the converter checks IsUnknown/IsControl/IsUnused/IsByte only, so sentencepiece
        USER_DEFINED pieces (<|im_start|>, <|im_end|>) come out as 1 NORMAL with score 0.0 in
        shakespeare2000.gguf. Only an added_tokens.json (or a tokenizer_config.json
        added_tokens_decoder) makes them 4 USER_DEFINED, with score -1000.0:
        shakespeare2000.user-defined.gguf. (tok512 has no user-defined pieces.)
    tokenizer.ggml.bos_token_id = 1, eos_token_id = 2, unknown_token_id = 0   (uint32)
    tokenizer.ggml.add_bos_token = true, add_eos_token = false
    tokenizer.ggml.add_space_prefix = true  (the model's normalizer_spec.add_dummy_prefix;
        _set_vocab_sentencepiece does not write this key, llama.cpp defaults it to true for "llama")
    Written in that order, little-endian GGUF v3, no tensors; the script reads each file back with
    gguf.GGUFReader and checks every array.

tokenizer.json files. transformers 5.24's LlamaConverter is broken for BPE: SpmConverter.tokenizer
calls `SpmExtractor(...).extract(vocab_scores)` but the 5.x SentencePieceExtractor.extract takes
(model_type, **kwargs) and returns a dict (AttributeError: 'list' object has no attribute
'__name__'). The script subclasses LlamaConverter with an extractor that does what 4.x's did
(vocab = pieces by id, merges = transformers' own generate_merges(vocab, vocab_scores), i.e.
ranked by piece score), feeds it a stand-in slow tokenizer (vocab_file, legacy, add_prefix_space
True, convert_ids_to_tokens), and wraps the result in LlamaTokenizer(tokenizer_object=...,
add_bos_token=True, add_eos_token=False) so the post-processor is transformers' own. Each file is
what that tokenizer's save_pretrained writes as tokenizer.json. The JSON is never written by hand.
    legacy:    normalizer Sequence[Prepend("▁"), Replace(String " " -> "▁")]; pre_tokenizer null;
               decoder Sequence[Replace("▁" -> " "), ByteFallback, Fuse, Strip(" ", start 1, stop 0)];
               post_processor TemplateProcessing single ["<s>", $A], pair ["<s>", $A, "<s>", $B]
    metaspace: normalizer null; pre_tokenizer Metaspace(replacement "▁", prepend_scheme "first",
               split false); decoder and post_processor as legacy
    spm:       TokenizersBackend.from_pretrained(dir with tokenizer.model, add_bos_token=True) --
               transformers 5's SpmConverter.build_tokenizer_from_spm_proto, which follows the
               normalizer spec. tok512: normalizer Sequence[Replace(Regex "\\A +| +\\z" -> ""),
               Replace(Regex " {2,}" -> " "), Replace(" " -> "▁"), Replace(Regex "\\A▁" -> "▁▁")];
               shakespeare2000: Sequence[Replace(" " -> "▁"), Replace(Regex "\\A▁" -> "▁▁")];
               pre_tokenizer Sequence[Metaspace("▁", prepend_scheme "always", split false)] plus,
               for shakespeare2000, Split(Regex "<\\|im_start\\|>|<\\|im_end\\|>", Isolated);
               decoder as legacy; post_processor TemplateProcessing ["<s>", $A]
    model (all): BPE, unk_token "<unk>", fuse_unk true, byte_fallback true, dropout null,
               continuing_subword_prefix/end_of_word_suffix null; ignore_merges false except
               shakespeare2000.spm (true, because it has user-defined pieces). Merges are written
               as pairs (["▁", "t"]), not "a b" strings (tokenizers 0.23.3).
    added_tokens: <unk> <s> </s> special=true normalized=false; in legacy/metaspace also
               <|im_start|> <|im_end|> special=FALSE normalized=false (sentencepiece user-defined
               pieces become plain added tokens); the spm form has no added token for them (its
               Split pre-tokenizer isolates them instead).
    transformers 5's native LlamaTokenizer.from_pretrained(dir, legacy=False) gives the metaspace
    form except model.unk_token null; cases.json records whether its ids equal hf_metaspace.

cases.json: {"models": {NAME: {..., "cases": [...]}}}, one case per text in TEXTS:
    sentencepiece            SentencePieceProcessor.encode(text) (no BOS/EOS) -- the ground truth
    sentencepiece_pieces     the same as piece strings
    hf_legacy, hf_metaspace, hf_spm   tokenizers.Tokenizer.from_file(file).encode(text,
                             add_special_tokens=False).ids
    hf_legacy_with_special, hf_metaspace_with_special   the same with add_special_tokens=True
    hf_gguf                  AutoTokenizer.from_pretrained(dir, gguf_file=NAME.gguf)(text,
                             add_special_tokens=False).input_ids (transformers reads vocab-only GGUFs)
    hf_gguf_user_defined     (shakespeare2000 only) the same from NAME.user-defined.gguf
    llama_cpp                llama_cpp.Llama(model_path=NAME.gguf, vocab_only=True, verbose=False,
                             n_threads=1, n_threads_batch=1).tokenize(text.encode("utf-8"),
                             add_bos=False, special=False)
    llama_cpp_special        the same with special=True (control-token names in the text are parsed)
    llama_cpp_decoded        llm.detokenize(llama_cpp ids) -- of llama.cpp's own ids (special=False),
                             not the sentencepiece ids -- .decode("utf-8", errors="replace"). That is
                             llama-cpp-python's per-token llama_token_to_piece concatenation: every "▁"
                             becomes " ", the first one included (it strips one leading space only
                             when the first id is BOS), so 65, 65 and 62 of the 70 decode to " " + text.
    llama_cpp_detokenize_api the C API llama_detokenize(vocab, llama_cpp ids, remove_special=false,
                             unparse_special=false), what llama.cpp's own common_detokenize calls: it
                             drops the first piece's leading space (add_space_prefix) and does not
                             render CONTROL tokens.
    llama_cpp_user_defined, llama_cpp_user_defined_special, llama_cpp_user_defined_decoded,
    llama_cpp_user_defined_detokenize_api   (shakespeare2000 only) the same on NAME.user-defined.gguf
    llama_cpp_differs_from_sentencepiece   which of llama_cpp / llama_cpp_user_defined differ from
                             sentencepiece (not counted in `agree`, which is about the hf_* lists)
    decoded                  {sentencepiece: sp.decode(sentencepiece ids), hf_legacy / hf_metaspace /
                             hf_spm / hf_gguf: that tokenizer's decode(sentencepiece ids,
                             skip_special_tokens=False)}
    agree                    every hf_* id list without special tokens equals sentencepiece's
    differs_from_sentencepiece   the names of the hf_* id lists that do not
  per model also "llama_cpp" (per GGUF: llama.cpp's bos/eos/eot/nl ids, add_bos/add_eos, and every
  token whose llama_token_attr is not plain NORMAL or BYTE, with is_eog / is_control) and
  "llama_cpp_counts" (for each llama_cpp list, on how many texts it equals each other list).

RESULTS (sentencepiece 0.2.3, tokenizers 0.23.3, transformers 5.24.0): 54 of 70 texts agree for each
model. Every disagreement, with its cause (S = sentencepiece ids):
  Both models, every HF source (legacy, metaspace, spm, gguf): "<s>", "</s>", "<unk>", "<s>hello</s>".
    SentencePiece never matches control/unknown pieces in text (S for "<s>" on tok512 = [410, 504, 419,
    505] = ▁ < s >); tokenizers matches added special tokens in the text even with
    add_special_tokens=False ([1], [2], [0]; "<s>hello</s>" -> [1, ..., 2], with ▁he after <s> in
    legacy/spm because each segment between added tokens gets its own prefix, he in metaspace/gguf).
  tok512 (remove_extra_whitespaces=true: S strips leading/trailing spaces and squeezes runs of spaces):
    legacy, metaspace, gguf differ on "   leading spaces", "trailing spaces   ", "two  spaces   three
    four", " " (S = []), "    " (S = []) and the Swift and Python snippets (4-space indents become one
    ▁ in S). legacy alone differs on " hello" (S [281, 306, 414]; legacy [410, 281, 306, 414]) and
    " \\t \\n mixed whitespace \\t" (one extra 410 in front). U+2581 in the input counts as a space
    for S's stripping: "▁" and " ▁ " give S = [] (all four HF sources give 410s; spm [410, 410]);
    "▁hello" gives S [410, 281, 306, 414], metaspace and gguf [281, 306, 414].
    hf_spm (which models the stripping with Replace regexes) agrees everywhere else.
  shakespeare2000 (remove_extra_whitespaces=false):
    metaspace, gguf, gguf_user_defined drop the dummy prefix when the text already starts with a
    space or "▁": Metaspace does not prepend to a string that begins with "▁". " hello": S [1932,
    299, 279, 1935], those [299, 279, 1935]; likewise "   leading spaces", " ", "    ",
    " \\t \\n mixed whitespace \\t", "▁", "▁hello", " ▁ " (one 1932 fewer). legacy (Prepend
    normalizer) and spm (Replace "\\A▁" -> "▁▁") agree.
    User-defined pieces: S puts the dummy prefix before a leading user-defined piece and never after
    one: "<|im_start|>user\\nhi<|im_end|>" S [1932, 3, 409, 278, 15, 389, 4]; metaspace and
    gguf_user_defined [3, 409, 278, 15, 389, 4] (the added token is split off first, the empty
    segment before it vanishes); legacy [3, 543, 278, 15, 389, 4] (543 = ▁user: Prepend runs on every
    segment after an added token); gguf [1932, 65, 129, 327, 100, 300, 465, 129, 67, 409, ...]
    (types NORMAL: <|im_start|> is spelled from <0x3C> <0x7C> im _ st art <0x7C> <0x3E>).
    "<|im_start|>" S [1932, 3], legacy/metaspace/gguf_user_defined [3]. "text<|im_end|>more" S [261,
    1933, 1921, 4, 1945, 386], legacy [261, 1933, 1921, 4, 497] (▁more), gguf spelled out, others
    agree. "<|im_start|> spaced <|im_end|>\\n" S [1932, 3, 430, 883, 1943, 1932, 4, 15], legacy [3,
    1932, 430, 883, 1943, 1932, 4, 1932, 15], metaspace/gguf_user_defined [3, 430, 883, 1943, 1932,
    4, 15]. hf_spm agrees on all of them (its Split pre-tokenizer isolates the pieces after
    Metaspace has prefixed the whole text).
  Decoding: every tokenizer.json decoder and transformers' GGUF tokenizer give the same string for
  all texts; it equals sp.decode except tok512 "▁hello" (sp.decode "hello", tokenizers " hello":
  with remove_extra_whitespaces SentencePiece drops all leading spaces when decoding).
  transformers 5's native LlamaTokenizer (legacy=False) gives the hf_metaspace ids on every text,
  although its merges list is ordered differently for tok512 (by id instead of by score).

llama.cpp (llama-cpp-python 0.3.36: llama.cpp 0.5.0-dev, ggml 0.25.3 at commit 0c1e570). The
vocab-only GGUFs load as they are: with vocab_only=True llama.cpp reads no tensors and needs no
llama.* hyperparameter keys (general.architecture and tokenizer.ggml.* suffice; it only logs
"n_ctx_seq (512) > n_ctx_train (0)"), so the files stay exactly what the converter writes.
On load llama.cpp re-types tokens by their text: "<|im_end|>" is taken as EOT, made EOG and given
the CONTROL attribute ("control-looking token ... its type will be overridden"): attr NORMAL+CONTROL
in shakespeare2000.gguf, USER_DEFINED+CONTROL in the user-defined one. So with special=False it is
spelled out as text even where it is USER_DEFINED, while "<|im_start|>" (USER_DEFINED, not CONTROL)
is matched whatever `special` says.
  llama_cpp (special=False) equals sentencepiece on 59/70 (tok512), 66/70 (shakespeare2000.gguf),
  66/70 (user-defined); it equals hf_legacy on 66, 62, 63.
  llama_cpp_special equals hf_legacy on ALL 70 texts for tok512 and for the user-defined GGUF (and
  on 67/70 for shakespeare2000.gguf, where <|im_start|> is NORMAL and spelled from bytes): llama.cpp's
  SPM tokenizer is the legacy layout -- "▁" prepended to every text fragment at the start or after a
  special token, spaces replaced by "▁", no remove_extra_whitespaces (the GGUF has no key for it).
  tok512 differs from S exactly on the 11 texts with leading/trailing/repeated spaces or "▁" that
  S strips or squeezes (" hello", "   leading spaces", "trailing spaces   ", "two  spaces   three
  four", " ", "    ", " \t \n mixed whitespace \t", the Swift and Python snippets, "▁", " ▁ ").
  shakespeare2000 differs from S on the 4 texts with <|im_start|> / <|im_end|>: spelled from bytes
  where the GGUF types them NORMAL (or, for <|im_end|>, CONTROL and special=False); no dummy prefix
  before a leading <|im_start|> in the user-defined GGUF ("<|im_start|>" -> [3], S [1932, 3]).
  "<s>", "</s>", "<unk>", "<s>hello</s>": like S with special=False, [1] [2] [0] [1, ..., 2] with
  special=True.
  llama_cpp_detokenize_api equals sp.decode(sentencepiece ids) on 58/70 for tok512 (the 11 texts
  above, whose llama.cpp ids keep the spaces S dropped, and "▁hello": same ids, but sp.decode drops
  every leading space, llama.cpp one), 70/70 for shakespeare2000.gguf and 68/70 for the user-defined
  GGUF (a "▁" piece right after <|im_start|> keeps its space: "<|im_start|> user\nhi...",
  "<|im_start|>  spaced ...").

nfc-qwen2-style.tokenizer.json: tokenizers BpeTrainer(vocab_size 800, ByteLevel alphabet, min
frequency 2) on the first 200,000 characters of tiny Shakespeare plus every text in TEXTS and NFC
extras, then add_special_tokens <|endoftext|> <|im_start|> <|im_end|> (ids 800-802, special,
normalized false). Layout as Qwen2's tokenizer.json: normalizer {"type": "NFC"}; pre_tokenizer
Sequence[Split(Regex(QWEN2_PATTERN), "isolated", invert false), ByteLevel(add_prefix_space false,
trim_offsets false, use_regex false)]; post_processor ByteLevel (same flags); decoder ByteLevel
(same flags). QWEN2_PATTERN is the one in make_pretokenizer_fixtures.py (checked at run time).
nfc-cases.json "nfc": per text: normalized (tokenizer.normalizer.normalize_str), ids (encode,
add_special_tokens=False), tokens, decoded (skip_special_tokens=False).

(model: BPE defaults, so continuing_subword_prefix/end_of_word_suffix are null where Qwen2 has "";
byte_fallback false, fuse_unk false, ignore_merges false, unk_token null.)

Size: every tokenizer.json is stored compact (backend_tokenizer.save(path, pretty=False); the script
checks it parses to the same JSON as the pretty file save_pretrained writes). The folder is ~580 KB.

Determinism: TOKENIZERS_PARALLELISM=false and RAYON_NUM_THREADS=1 are set before tokenizers is
imported; cases.json / nfc-cases.json are sort_keys, ensure_ascii=False, indent=1 with flat lists
(ids, pieces) kept on one line. Runs (also with different PYTHONHASHSEEDs) give the same
SHA256SUMS-sentencepiece.
"""

import os

os.environ["TOKENIZERS_PARALLELISM"] = "false"
os.environ["RAYON_NUM_THREADS"] = "1"

import ctypes  # noqa: E402
import hashlib  # noqa: E402
import importlib.metadata  # noqa: E402
import io  # noqa: E402
import json  # noqa: E402
import shutil  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import unicodedata  # noqa: E402
from pathlib import Path  # noqa: E402

import gguf  # noqa: E402
import llama_cpp  # noqa: E402
import numpy as np  # noqa: E402
import sentencepiece as spm  # noqa: E402
import tokenizers  # noqa: E402
import transformers  # noqa: E402
from tokenizers import AddedToken, Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors  # noqa: E402
from tokenizers import trainers  # noqa: E402
from transformers import AutoTokenizer, LlamaTokenizer, TokenizersBackend  # noqa: E402
from transformers.convert_slow_tokenizer import LlamaConverter, SentencePieceExtractor, import_protobuf  # noqa: E402
from transformers.tokenization_utils_base import generate_merges  # noqa: E402
from transformers.utils import logging as hf_logging  # noqa: E402

hf_logging.set_verbosity_error()

ROOT = Path(__file__).resolve().parent  # Fixtures/
SHARED = ROOT.parent.parent / "shared" / "data"  # ../shared/data from the repository root
OUT = ROOT / "sentencepiece"
SUMS = ROOT / "SHA256SUMS-sentencepiece"

INPUTS = {
    "tok512.model": (SHARED / "stories260K" / "tok512.model",
                     "dfff07d929db979913f166ec94a6f5ecad4c70cfed8eb5c9cbe7e464455e46f5"),
    "input.txt": (SHARED / "tinyshakespeare" / "input.txt",
                  "86c4e6aa9db7c042ec79f339dcb96d42b0075e16b8fc2e86bf0ca57e2dc565ed"),
}

TRAINER = dict(
    model_type="bpe", vocab_size=2000, byte_fallback=True, character_coverage=0.9995,
    unk_id=0, bos_id=1, eos_id=2, pad_id=-1, user_defined_symbols=["<|im_start|>", "<|im_end|>"],
    split_digits=True, required_chars="0123456789", normalization_rule_name="identity",
    add_dummy_prefix=True, remove_extra_whitespaces=False, allow_whitespace_only_pieces=True,
    num_threads=1, input_sentence_size=0, shuffle_input_sentence=False, minloglevel=2,
)

# The Qwen2 pre-tokenization regex, exactly as in make_pretokenizer_fixtures.py (checked in main).
QWEN2_PATTERN = r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"

SWIFT = 'func greet(_ name: String) -> String {\n    return "Hello, \\(name)!"\n}\n'
PYTHON = "def fib(n):\n    a, b = 0, 1\n    for _ in range(n):\n        a, b = b, a + b\n    return a\n"
TEXTS = [
    # plain English
    "Hello, world!",
    "The quick brown fox jumps over the lazy dog.",
    "Once upon a time, there was a little girl named Lily.",
    "hello",
    "ALL CAPS SHOUTING and MiXeD cAsE",
    "don't won't it's they're",
    # spaces
    " hello",
    "   leading spaces",
    "trailing spaces   ",
    "two  spaces   three    four",
    " ",
    "    ",
    "",
    # newlines, tabs, CR
    "\n",
    "line one\nline two\n",
    "\n\nparagraph\n\n",
    "tab\tseparated\tvalues",
    "\t indented",
    "windows\r\nline\r\nendings",
    " \t \n mixed whitespace \t",
    # digits and numbers
    "2024",
    "3.14159",
    "1,000,000",
    "Call 555-0123 before 9:30 on 12/31/1999.",
    "x = 42; y = x * 3.5",
    # code
    SWIFT,
    PYTHON,
    # punctuation
    "!!!???...",
    "--- *** ### @@@ $$$ %%% ^^^ &&& ((()))",
    "\"double\" 'single' `back` ~|\\{}[]<>",
    # accented Latin, precomposed and decomposed
    "café",
    "cafe\u0301",
    "\u00e9",
    "e\u0301",
    "naïve résumé Ångström façade",
    # other scripts
    "Ελληνικά: Καλημέρα κόσμε",
    "Русский: Привет, мир!",
    "日本語のテキスト",
    "中文字符测试",
    "한국어 텍스트",
    "مرحبا بالعالم",
    "שלום עולם",
    # emoji
    "emoji 🙂 test",
    "👍🏽",
    "👨\u200d👩\u200d👧\u200d👦",
    "🇫🇷🇯🇵",
    "❤\ufe0f",
    # rare characters (byte fallback), invisible ones
    "𝔘𝔫𝔦𝔠𝔬𝔡𝔢 math",
    "ᐊᓂᔑᓈᐯᒧᐎᓐ",
    "\u00a0non-breaking\u00a0space",
    "zero\u200bwidth",
    "\ufeffBOM",
    "nul\u0000byte",
    "\u007f\u0001\u001b[0m",
    # special-token text
    "<s>",
    "</s>",
    "<unk>",
    "<s>hello</s>",
    "<|im_start|>user\nhi<|im_end|>",
    "<|im_start|>",
    "text<|im_end|>more",
    "<|im_start|> spaced <|im_end|>\n",
    "<|im_start",
    "<0x41>",
    # the meta symbol itself
    "▁",
    "▁hello",
    "hello▁world",
    " ▁ ",
    # Shakespeare
    "First Citizen:\nBefore we proceed any further, hear me speak.",
    "To be, or not to be, that is the question: Whether 'tis nobler in the mind to suffer "
    "the slings and arrows of outrageous fortune, or to take arms against a sea of troubles, "
    "and by opposing end them.",
]
NFC_EXTRAS = [
    "A\u030a",             # A + combining ring -> U+00C5
    "\u212b",              # ANGSTROM SIGN -> U+00C5
    "\ufb01",              # LATIN SMALL LIGATURE FI: NFC keeps it (NFKC would not)
    "\u1100\u1161\u11a8",  # Hangul jamo L V T -> U+AC01
    "\u1100\u1161",        # L V -> U+AC00
    "\u1e9b\u0323",        # long s with dot above + dot below: NFC U+1E9B U+0323
    "\u0071\u0307\u0323",  # q + dot above + dot below: reordered to q + dot below + dot above
    "\u2126 \u212a",       # OHM SIGN, KELVIN SIGN -> Greek Omega, Latin K
    "Ame\u0301lie et Zoe\u0308",
    "x\u00b2 \u2460 \u3000",  # compatibility characters NFC keeps
]


def sha256(path):
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def to_json(value, depth=0):
    """json.dumps(sort_keys=True, ensure_ascii=False, indent=1), except that a list holding no list
    or dict (token ids, piece strings) stays on one line."""
    if isinstance(value, dict) and value:
        items = [f"{json.dumps(str(k), ensure_ascii=False)}: {to_json(value[k], depth + 1)}" for k in sorted(value)]
    elif isinstance(value, list) and any(isinstance(v, (list, dict)) for v in value):
        items = [to_json(v, depth + 1) for v in value]
    else:
        return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(", ", ": "))
    pad = "\n" + " " * (depth + 1)
    brackets = "{}" if isinstance(value, dict) else "[]"
    return brackets[0] + pad + ("," + pad).join(items) + "\n" + " " * depth + brackets[1]


def dump_json(path, obj):
    text = to_json(obj)
    assert json.loads(text) == json.loads(json.dumps(obj))
    path.write_text(text + "\n", encoding="utf-8")


def check_inputs():
    for name, (path, expected) in INPUTS.items():
        if not path.is_file():
            sys.exit(f"missing {path}")
        if sha256(path) != expected:
            sys.exit(f"{path} has sha256 {sha256(path)}, expected {expected}")
    source = (ROOT / "make_pretokenizer_fixtures.py").read_text(encoding="utf-8")
    assert f'"qwen2": r"{QWEN2_PATTERN}"' in source, "QWEN2_PATTERN differs from make_pretokenizer_fixtures.py"


# ---------------------------------------------------------------------------------------------
# SentencePiece models

def train_shakespeare():
    lines = INPUTS["input.txt"][0].read_text(encoding="utf-8").split("\n")
    protos = []
    for _ in range(2):
        spm.set_random_generator_seed(0)
        writer = io.BytesIO()
        spm.SentencePieceTrainer.train(sentence_iterator=iter(lines), model_writer=writer, **TRAINER)
        protos.append(writer.getvalue())
    if protos[0] != protos[1]:
        sys.exit("sentencepiece training is not deterministic: two runs gave different models")
    return protos[0]


def model_proto(path):
    proto = import_protobuf().ModelProto()
    proto.ParseFromString(Path(path).read_bytes())
    return proto


def spec_summary(proto):
    t, n = proto.trainer_spec, proto.normalizer_spec
    return {
        "trainer_spec": {k: getattr(t, k) for k in (
            "model_type", "vocab_size", "byte_fallback", "split_digits", "split_by_unicode_script",
            "split_by_whitespace", "split_by_number", "treat_whitespace_as_suffix", "allow_whitespace_only_pieces",
            "max_sentencepiece_length", "character_coverage", "unk_id", "bos_id", "eos_id", "pad_id",
            "unk_piece", "bos_piece", "eos_piece", "unk_surface", "user_defined_symbols")}
        | {"model_type": "BPE" if t.model_type == 2 else str(t.model_type),
           "user_defined_symbols": list(t.user_defined_symbols),
           "character_coverage": round(t.character_coverage, 6)},
        "normalizer_spec": {"name": n.name, "add_dummy_prefix": n.add_dummy_prefix,
                            "remove_extra_whitespaces": n.remove_extra_whitespaces,
                            "escape_whitespaces": n.escape_whitespaces,
                            "precompiled_charsmap_bytes": len(n.precompiled_charsmap)},
        "piece_types": {name: [i for i, p in enumerate(proto.pieces) if p.type == code]
                        for name, code in (("unknown", 2), ("control", 3), ("user_defined", 4), ("unused", 5))}
        | {"byte": [min(i for i, p in enumerate(proto.pieces) if p.type == 6),
                    max(i for i, p in enumerate(proto.pieces) if p.type == 6)]},
    }


# ---------------------------------------------------------------------------------------------
# GGUF, as llama.cpp's convert_hf_to_gguf.py writes it

def llama_cpp_vocab(model_path, added_tokens=None):
    """TextModel._create_vocab_sentencepiece for a directory with tokenizer.model (and, optionally,
    added_tokens.json = added_tokens), no config.json vocab_size override."""
    sp = spm.SentencePieceProcessor(model_file=str(model_path))
    n = sp.vocab_size()
    tokens, scores, types = [], [], []
    for i in range(n):
        kind = 1  # NORMAL
        if sp.IsUnknown(i):
            kind = 2
        elif sp.IsControl(i):
            kind = 3
        elif sp.IsUnused(i):
            kind = 5
        elif sp.IsByte(i):
            kind = 6
        tokens.append(sp.IdToPiece(i).encode("utf-8"))
        scores.append(sp.GetScore(i))
        types.append(kind)
    for text, i in (added_tokens or {}).items():
        tokens[i], scores[i], types[i] = text.encode("utf-8"), -1000.0, 4  # USER_DEFINED
    return sp, tokens, scores, types


def write_gguf(path, model_path, added_tokens=None):
    sp, tokens, scores, types = llama_cpp_vocab(model_path, added_tokens)
    add_space_prefix = model_proto(model_path).normalizer_spec.add_dummy_prefix
    writer = gguf.GGUFWriter(path=None, arch="llama")
    writer.add_tokenizer_model("llama")
    writer.add_tokenizer_pre("default")
    writer.add_token_list(tokens)
    writer.add_token_scores(scores)
    writer.add_token_types(types)
    writer.add_bos_token_id(sp.bos_id())
    writer.add_eos_token_id(sp.eos_id())
    writer.add_unk_token_id(sp.unk_id())
    writer.add_add_bos_token(True)
    writer.add_add_eos_token(False)
    writer.add_add_space_prefix(add_space_prefix)
    writer.write_header_to_file(path=path)
    writer.write_kv_data_to_file()
    writer.close()

    reader = gguf.GGUFReader(str(path))
    assert len(reader.tensors) == 0
    field = reader.fields["tokenizer.ggml.tokens"]
    assert [bytes(field.parts[i]) for i in field.data] == tokens
    field = reader.fields["tokenizer.ggml.scores"]
    assert np.array_equal(np.array([field.parts[i][0] for i in field.data]), np.array(scores, dtype=np.float32))
    field = reader.fields["tokenizer.ggml.token_type"]
    assert [int(field.parts[i][0]) for i in field.data] == types
    scalars = {}
    for name, f in reader.fields.items():
        if f.types[0] == gguf.GGUFValueType.ARRAY:
            scalars[name] = f"array of {len(f.data)} {f.types[-1].name}"
        elif f.types[0] == gguf.GGUFValueType.STRING:
            scalars[name] = bytes(f.parts[f.data[0]]).decode("utf-8")
        else:
            value = f.parts[f.data[0]][0].item()
            scalars[name] = value if f.types[0] != gguf.GGUFValueType.BOOL else bool(value)
            scalars[name] = {"type": f.types[0].name, "value": scalars[name]}
    counts = {str(k): types.count(k) for k in sorted(set(types))}
    return {"metadata": scalars, "token_type_counts": counts,
            "token_types_not_normal": {str(i): t for i, t in enumerate(types) if t not in (1, 6)}}


# ---------------------------------------------------------------------------------------------
# tokenizer.json files from transformers

class ScoreRankedExtractor(SentencePieceExtractor):
    """What transformers 4.x's SentencePieceExtractor.extract(vocab_scores) did: the pieces by id,
    and merges from transformers' generate_merges ranked by piece score. 5.x changed extract()'s
    signature without updating SpmConverter.tokenizer, which still calls it this way."""

    def extract(self, vocab_scores=None):
        vocab = {piece.piece: index for index, piece in enumerate(self.proto.pieces)}
        return vocab, generate_merges(vocab, vocab_scores)


class FixedLlamaConverter(LlamaConverter):
    SpmExtractor = ScoreRankedExtractor


class SlowStandIn:
    """The attributes of a slow LlamaTokenizer that LlamaConverter reads."""

    def __init__(self, model_path, legacy):
        self.vocab_file = str(model_path)
        self.legacy = legacy
        self.add_prefix_space = True
        self._sp = spm.SentencePieceProcessor(model_file=str(model_path))

    def convert_ids_to_tokens(self, index):
        return self._sp.id_to_piece(index)


def saved_tokenizer_json(tok, destination):
    """The tokenizer.json save_pretrained writes (backend_tokenizer.save(path), pretty), stored compact:
    backend_tokenizer.save(path, pretty=False). The script checks both parse to the same JSON."""
    with tempfile.TemporaryDirectory() as scratch:
        tok.save_pretrained(scratch)
        pretty = json.loads((Path(scratch) / "tokenizer.json").read_text(encoding="utf-8"))
    tok.backend_tokenizer.save(str(destination), pretty=False)
    assert json.loads(destination.read_text(encoding="utf-8")) == pretty


def make_tokenizer_jsons(name, model_path):
    sp = spm.SentencePieceProcessor(model_file=str(model_path))
    specials = dict(unk_token=sp.id_to_piece(sp.unk_id()), bos_token=sp.id_to_piece(sp.bos_id()),
                    eos_token=sp.id_to_piece(sp.eos_id()))
    files = {}
    for form, legacy in (("legacy", True), ("metaspace", False)):
        backend = FixedLlamaConverter(SlowStandIn(model_path, legacy)).converted()
        tok = LlamaTokenizer(tokenizer_object=backend, legacy=legacy, add_bos_token=True, add_eos_token=False,
                             **specials)
        files[form] = OUT / f"{name}.{form}.tokenizer.json"
        saved_tokenizer_json(tok, files[form])
    with tempfile.TemporaryDirectory() as scratch:
        shutil.copyfile(model_path, Path(scratch) / "tokenizer.model")
        tok = TokenizersBackend.from_pretrained(scratch, add_bos_token=True, add_eos_token=False)
        files["spm"] = OUT / f"{name}.spm.tokenizer.json"
        saved_tokenizer_json(tok, files["spm"])
        native = LlamaTokenizer.from_pretrained(scratch, legacy=False, add_bos_token=True, add_eos_token=False)
    return files, native


def config_parts(text):
    config = json.loads(text)
    parts = {k: config[k] for k in ("normalizer", "pre_tokenizer", "post_processor", "decoder")}
    parts["model"] = {k: v for k, v in config["model"].items() if k not in ("vocab", "merges")}
    parts["added_tokens"] = config["added_tokens"]
    parts["vocab_size"] = len(config["model"]["vocab"])
    parts["merges_count"] = len(config["model"].get("merges", []))
    parts["merges_first"] = config["model"].get("merges", [])[:3]
    return parts


# ---------------------------------------------------------------------------------------------
# llama.cpp (through llama-cpp-python) on the vocab-only GGUFs

LLAMA_TOKEN_ATTRS = ["unknown", "unused", "normal", "control", "user_defined", "byte", "normalized", "lstrip",
                     "rstrip", "single_word"]  # bit i of llama_token_attr


def llama_cpp_versions():
    ggml = ctypes.CDLL(str(Path(llama_cpp.__file__).parent / "lib" / "libggml-base.so"))
    ggml.ggml_version.restype = ctypes.c_char_p
    ggml.ggml_commit.restype = ctypes.c_char_p
    return {"llama_cpp_python": importlib.metadata.version("llama_cpp_python"),
            "llama_cpp (llama_version())": llama_cpp.llama_version().decode(),
            "ggml (ggml_version(), ggml_commit())": f"{ggml.ggml_version().decode()} {ggml.ggml_commit().decode()}"}


class LlamaCppVocab:
    """Llama(model_path, vocab_only=True): no tensors, no hyperparameters needed (llama.cpp loads a GGUF
    holding only general.architecture and tokenizer.ggml.*; it warns that n_ctx_train is 0)."""

    def __init__(self, gguf_path):
        self.llm = llama_cpp.Llama(model_path=str(gguf_path), vocab_only=True, verbose=False,
                                   n_threads=1, n_threads_batch=1)
        self.vocab = self.llm._model.vocab

    def encode(self, text, special):
        return self.llm.tokenize(text.encode("utf-8"), add_bos=False, special=special)

    def decode(self, ids):
        """llm.detokenize: llama_token_to_piece per id (special=False), concatenated, no space stripping."""
        return self.llm.detokenize(ids).decode("utf-8", errors="replace")

    def detokenize_api(self, ids):
        """The C API llama_detokenize(remove_special=False, unparse_special=False), which common_detokenize
        (llama.cpp's own tools) calls: drops the first piece's leading space when add_space_prefix is set."""
        tokens = (llama_cpp.llama_token * len(ids))(*ids)
        size = 16 * len(ids) + 16
        buffer = ctypes.create_string_buffer(size)
        n = llama_cpp.llama_detokenize(self.vocab, tokens, len(ids), buffer, size, False, False)
        assert 0 <= n <= size, n
        return buffer.raw[:n].decode("utf-8", errors="replace")

    def summary(self):
        """What llama.cpp made of the vocabulary: special ids, and every token whose attributes are not
        plain NORMAL or BYTE (llama.cpp re-types some tokens by their text, e.g. <|im_end|> -> CONTROL + EOG)."""
        v = self.vocab
        n = llama_cpp.llama_vocab_n_tokens(v)
        tokens = {}
        for i in range(n):
            attr = llama_cpp.llama_vocab_get_attr(v, i)
            if attr in (1 << 2, 1 << 5) and not llama_cpp.llama_vocab_is_eog(v, i):
                continue
            tokens[str(i)] = {"text": llama_cpp.llama_vocab_get_text(v, i).decode("utf-8", errors="replace"),
                              "attr": attr, "attr_names": [a for b, a in enumerate(LLAMA_TOKEN_ATTRS) if attr >> b & 1],
                              "is_eog": bool(llama_cpp.llama_vocab_is_eog(v, i)),
                              "is_control": bool(llama_cpp.llama_vocab_is_control(v, i))}
        return {"n_tokens": n, "bos": llama_cpp.llama_vocab_bos(v), "eos": llama_cpp.llama_vocab_eos(v),
                "eot": llama_cpp.llama_vocab_eot(v), "nl": llama_cpp.llama_vocab_nl(v),
                "add_bos": bool(llama_cpp.llama_vocab_get_add_bos(v)),
                "add_eos": bool(llama_cpp.llama_vocab_get_add_eos(v)), "tokens_not_plain": tokens}


# ---------------------------------------------------------------------------------------------
# cases

def gguf_tokenizer(gguf_path):
    with tempfile.TemporaryDirectory() as scratch:
        shutil.copyfile(gguf_path, Path(scratch) / gguf_path.name)
        return AutoTokenizer.from_pretrained(scratch, gguf_file=gguf_path.name)


def make_model_cases(name, model_path, gguf_info):
    sp = spm.SentencePieceProcessor(model_file=str(model_path))
    files, native = make_tokenizer_jsons(name, model_path)
    fast = {form: Tokenizer.from_file(str(path)) for form, path in files.items()}
    ggufs = {"hf_gguf": gguf_tokenizer(OUT / f"{name}.gguf")}
    if (OUT / f"{name}.user-defined.gguf").is_file():
        ggufs["hf_gguf_user_defined"] = gguf_tokenizer(OUT / f"{name}.user-defined.gguf")
    llamas = {"llama_cpp": LlamaCppVocab(OUT / f"{name}.gguf")}
    if (OUT / f"{name}.user-defined.gguf").is_file():
        llamas["llama_cpp_user_defined"] = LlamaCppVocab(OUT / f"{name}.user-defined.gguf")
    cases, native_differs = [], []
    for text in TEXTS:
        ids = sp.encode(text)
        case = {"text": text, "sentencepiece": ids, "sentencepiece_pieces": sp.encode(text, out_type=str)}
        for form, tok in fast.items():
            case[f"hf_{form}"] = tok.encode(text, add_special_tokens=False).ids
            if form != "spm":
                case[f"hf_{form}_with_special"] = tok.encode(text, add_special_tokens=True).ids
        for key, tok in ggufs.items():
            case[key] = tok(text, add_special_tokens=False).input_ids
        # All the tokenizer.json decoders are the same Sequence[Replace, ByteFallback, Fuse, Strip]:
        # keep one decoding unless one of them (or transformers' GGUF tokenizer) decodes differently.
        decoded = {f"hf_{form}": tok.decode(ids, skip_special_tokens=False) for form, tok in fast.items()}
        decoded["hf_gguf"] = ggufs["hf_gguf"].decode(ids, skip_special_tokens=False)
        case["decoded"] = {"sentencepiece": sp.decode(ids), "tokenizers": decoded["hf_legacy"]}
        case["decoded"].update({k: v for k, v in decoded.items() if v != decoded["hf_legacy"]})
        lists = [k for k in case if k.startswith("hf_") and not k.endswith("_with_special")]
        case["differs_from_sentencepiece"] = sorted(k for k in lists if case[k] != ids)
        case["agree"] = not case["differs_from_sentencepiece"]
        for key, llama in llamas.items():
            case[key] = llama.encode(text, special=False)
            case[f"{key}_special"] = llama.encode(text, special=True)
            case[f"{key}_decoded"] = llama.decode(case[key])
            case[f"{key}_detokenize_api"] = llama.detokenize_api(case[key])
        case["llama_cpp_differs_from_sentencepiece"] = sorted(k for k in llamas if case[k] != ids)
        if native(text, add_special_tokens=False).input_ids != case["hf_metaspace"]:
            native_differs.append(text)
        cases.append(case)
    llama_cpp_counts = {}
    for key in llamas:
        hf_gguf = "hf_gguf_user_defined" if key == "llama_cpp_user_defined" else "hf_gguf"
        for form in (key, f"{key}_special"):
            llama_cpp_counts[form] = {f"equal_{other}": sum(case[form] == case[other] for case in cases)
                                      for other in ("sentencepiece", "hf_legacy", "hf_metaspace", "hf_spm", hf_gguf)}
        for form in (f"{key}_decoded", f"{key}_detokenize_api"):
            llama_cpp_counts[form] = {"equal_text": sum(case[form] == case["text"] for case in cases),
                                      "equal_sentencepiece_decode": sum(case[form] == case["decoded"]["sentencepiece"]
                                                                        for case in cases)}
    configs = {form: config_parts(path.read_text(encoding="utf-8")) for form, path in files.items()}
    configs["gguf (transformers backend built from NAME.gguf)"] = config_parts(
        ggufs["hf_gguf"].backend_tokenizer.to_str())
    native_config = config_parts(native.backend_tokenizer.to_str())
    return {
        "model_file": model_path.name if model_path.parent == OUT else str(model_path),
        "model_sha256": sha256(model_path),
        "spec": spec_summary(model_proto(model_path)),
        "gguf": gguf_info,
        "tokenizer_json_files": {form: path.name for form, path in files.items()},
        "tokenizer_configs": configs,
        "transformers5_native_llama_tokenizer": {
            "how": "LlamaTokenizer.from_pretrained(dir with tokenizer.model, legacy=False, add_bos_token=True)",
            "config_differences_from_metaspace": {k: native_config[k] for k in native_config
                                                  if native_config[k] != configs["metaspace"][k]},
            "merges_equal_metaspace": json.loads(native.backend_tokenizer.to_str())["model"]["merges"]
            == json.loads(files["metaspace"].read_text(encoding="utf-8"))["model"]["merges"],
            "texts_where_ids_differ_from_hf_metaspace": native_differs,
        },
        "agree_count": sum(case["agree"] for case in cases),
        "llama_cpp": {key: {"gguf_file": path, **llama.summary()}
                      for (key, llama), path in zip(llamas.items(), [f"{name}.gguf", f"{name}.user-defined.gguf"])},
        "llama_cpp_counts": llama_cpp_counts,
        "cases": cases,
    }


# ---------------------------------------------------------------------------------------------
# NFC byte-level BPE, Qwen2 layout

def make_nfc(shakespeare_text):
    tok = Tokenizer(models.BPE())
    tok.normalizer = normalizers.NFC()
    tok.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(QWEN2_PATTERN), behavior="isolated", invert=False),
        pre_tokenizers.ByteLevel(add_prefix_space=False, trim_offsets=False, use_regex=False),
    ])
    tok.post_processor = processors.ByteLevel(add_prefix_space=False, trim_offsets=False, use_regex=False)
    # decoders.ByteLevel() takes no options in Python and serializes as add_prefix_space/trim_offsets/
    # use_regex true; Qwen2's file has them false (they do not change decoding). Give the decoder the
    # post-processor's state, which tokenizers serialized with those flags false.
    decoder = decoders.ByteLevel()
    decoder.__setstate__(tok.post_processor.__getstate__())
    tok.decoder = decoder
    trainer = trainers.BpeTrainer(vocab_size=800, min_frequency=2, show_progress=False,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), special_tokens=[])
    corpus = shakespeare_text[:200_000].split("\n") + TEXTS + NFC_EXTRAS
    tok.train_from_iterator(corpus, trainer=trainer)
    tok.add_special_tokens([AddedToken(t, special=True, normalized=False)
                            for t in ("<|endoftext|>", "<|im_start|>", "<|im_end|>")])
    path = OUT / "nfc-qwen2-style.tokenizer.json"
    tok.save(str(path), pretty=False)
    tok = Tokenizer.from_file(str(path))
    cases = []
    for text in TEXTS + NFC_EXTRAS:
        encoding = tok.encode(text, add_special_tokens=False)
        normalized = tok.normalizer.normalize_str(text)
        assert normalized == unicodedata.normalize("NFC", text), text
        cases.append({"text": text, "normalized": normalized, "changed_by_nfc": normalized != text,
                      "ids": encoding.ids, "tokens": encoding.tokens,
                      "decoded": tok.decode(encoding.ids, skip_special_tokens=False)})
    dump_json(OUT / "nfc-cases.json", {
        "tokenizer_json": path.name,
        "how": "tokenizers.Tokenizer.from_file(tokenizer_json); normalized = tokenizer.normalizer.normalize_str(text) "
               "(equals unicodedata NFC); ids/tokens = encode(text, add_special_tokens=False); decoded = "
               "decode(ids, skip_special_tokens=False), which is the NFC text, not the input",
        "config": config_parts(path.read_text(encoding="utf-8")),
        "versions": {"tokenizers": tokenizers.__version__},
        "nfc": cases,
    })
    return path


# ---------------------------------------------------------------------------------------------

def write_sources(versions):
    (OUT / "SOURCES.md").write_text(f"""# SentencePiece fixtures: sources

Generated by `Fixtures/make_sentencepiece_fixtures.py`; do not edit by hand.

- `tok512.model`: the SentencePiece BPE tokenizer (512 pieces) of llama2.c's stories260K model,
  copied byte for byte from `../shared/data/stories260K/tok512.model`
  (sha256 {INPUTS["tok512.model"][1]}).
  Upstream: repo icppWorld/icpp_llm, path llama2_c/stories260K/tok512.model, commit
  6c9bf2ee6c19a98a13d54e93d5d415bf20781cce; originally Hugging Face karpathy/tinyllamas
  stories260K, trained with karpathy/llama2.c. License: MIT.
- `shakespeare2000.model`: trained by the script with sentencepiece on tiny Shakespeare,
  `../shared/data/tinyshakespeare/input.txt`
  (sha256 {INPUTS["input.txt"][1]}):
  karpathy/char-rnn data/tinyshakespeare/input.txt, commit
  6f9487a6fe5b420b7ca9afb0d7c078e37c1d1b4e, MIT; the text is Shakespeare, public domain.
- `nfc-qwen2-style.tokenizer.json`: trained by the script with `tokenizers` on the first 200,000
  characters of the same file plus the script's test strings.
- Everything else is derived from those three by the script: GGUF vocabularies written with gguf-py
  the way llama.cpp's convert_hf_to_gguf.py (ggml-org/llama.cpp @
  0024aa7417efd50a7c2a79e049dfbbbceb0beaaf) does, tokenizer.json files written by transformers,
  and the ids in cases.json / nfc-cases.json.

Versions: Python {versions["python"]}, sentencepiece {versions["sentencepiece"]}, tokenizers {versions["tokenizers"]},
transformers {versions["transformers"]}, gguf {versions["gguf"]}, protobuf {versions["protobuf"]}, numpy {versions["numpy"]};
the llama.cpp ids in cases.json from llama-cpp-python {versions["llama_cpp_python"]} (llama.cpp
{versions["llama_cpp (llama_version())"]}, ggml {versions["ggml (ggml_version(), ggml_commit())"]}).
""", encoding="utf-8")


def main():
    check_inputs()
    OUT.mkdir(exist_ok=True)
    versions = {"python": sys.version.split()[0], "sentencepiece": spm.__version__,
                "tokenizers": tokenizers.__version__, "transformers": transformers.__version__,
                "gguf": importlib.metadata.version("gguf"), "protobuf": importlib.metadata.version("protobuf"),
                "numpy": np.__version__, **llama_cpp_versions()}

    tok512 = OUT / "tok512.model"
    shutil.copyfile(INPUTS["tok512.model"][0], tok512)
    shakespeare = OUT / "shakespeare2000.model"
    shakespeare.write_bytes(train_shakespeare())

    gguf_infos = {"tok512": write_gguf(OUT / "tok512.gguf", tok512),
                  "shakespeare2000": write_gguf(OUT / "shakespeare2000.gguf", shakespeare)}
    user_defined = {p.piece: i for i, p in enumerate(model_proto(shakespeare).pieces) if p.type == 4}
    gguf_infos["shakespeare2000.user-defined"] = write_gguf(OUT / "shakespeare2000.user-defined.gguf",
                                                           shakespeare, added_tokens=user_defined)
    gguf_infos["shakespeare2000.user-defined"]["added_tokens.json"] = user_defined

    result = {}
    for name, path in (("tok512", tok512), ("shakespeare2000", shakespeare)):
        info = {"gguf": gguf_infos[name]}
        if name == "shakespeare2000":
            info["gguf_user_defined"] = gguf_infos["shakespeare2000.user-defined"]
        result[name] = make_model_cases(name, path, info)
    dump_json(OUT / "cases.json", {
        "how": "sentencepiece = SentencePieceProcessor(model_file).encode(text) (no BOS/EOS), the ground truth; "
               "hf_<form> = tokenizers.Tokenizer.from_file(NAME.<form>.tokenizer.json).encode(text, "
               "add_special_tokens=False).ids, *_with_special with add_special_tokens=True (post-processor BOS); "
               "hf_gguf = AutoTokenizer.from_pretrained(dir, gguf_file=NAME.gguf)(text, add_special_tokens=False)"
               ".input_ids; decoded = each tokenizer's decode(sentencepiece ids, skip_special_tokens=False) and "
               "sp.decode(ids); agree = every hf_* id list without specials equals sentencepiece's; "
               "llama_cpp = llama_cpp.Llama(NAME.gguf, vocab_only=True).tokenize(text.encode('utf-8'), add_bos=False, "
               "special=False), llama_cpp_special the same with special=True, llama_cpp_user_defined* the same on "
               "NAME.user-defined.gguf; llama_cpp*_decoded = llm.detokenize(llama_cpp ids) (special=False), "
               "llama_cpp*_detokenize_api = the C llama_detokenize(llama_cpp ids, remove_special=False, "
               "unparse_special=False); llama_cpp_differs_from_sentencepiece names the llama_cpp lists (special=False) "
               "that differ",
        "versions": versions,
        "texts": TEXTS,
        "models": result,
    })

    nfc_path = make_nfc(INPUTS["input.txt"][0].read_text(encoding="utf-8"))
    write_sources(versions)

    names = ["tok512.model", "shakespeare2000.model", "cases.json", "nfc-cases.json", nfc_path.name, "SOURCES.md",
             "shakespeare2000.user-defined.gguf"]
    names += [f"{m}.{kind}" for m in ("tok512", "shakespeare2000")
              for kind in ("gguf", "legacy.tokenizer.json", "metaspace.tokenizer.json", "spm.tokenizer.json")]
    written = sorted(OUT / n for n in names)
    for stray in sorted(set(p for p in OUT.iterdir()) - set(written)):
        print(f"note: {stray} is not written by this script (not in {SUMS.name})")
    SUMS.write_text("".join(f"{sha256(p)}  {p.relative_to(ROOT)}\n" for p in written))

    for name, info in result.items():
        print(f"{name}: {info['agree_count']}/{len(info['cases'])} texts agree")
        for case in info["cases"]:
            if not case["agree"]:
                print(f"  {case['text']!r}: differ {case['differs_from_sentencepiece']}")
        for form, counts in info["llama_cpp_counts"].items():
            print(f"  {form}: {counts}")
        for case in info["cases"]:
            if case["llama_cpp_differs_from_sentencepiece"]:
                print(f"  {case['text']!r}: llama.cpp differs {case['llama_cpp_differs_from_sentencepiece']}")
        native = info["transformers5_native_llama_tokenizer"]
        print(f"  native LlamaTokenizer(legacy=False) differs from metaspace on {native['texts_where_ids_differ_from_hf_metaspace']}")
    total = sum(p.stat().st_size for p in written)
    for p in written:
        print(f"{p.stat().st_size:9d}  {p.relative_to(ROOT)}")
    print(f"{total:9d}  total ({nfc_path.name} included)")


if __name__ == "__main__":
    main()
