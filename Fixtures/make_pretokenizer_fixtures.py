#!/usr/bin/env python3
"""Pre-tokenizer fixtures: how Hugging Face `tokenizers` splits texts with the Llama 3
(`llama-bpe`) and Qwen2 pre-tokenization patterns, for GPTKit's hand-written scanners.

Run from the repository root (needs `tokenizers`):

    python3 Fixtures/make_pretokenizer_fixtures.py

Writes Fixtures/tokenizers/pretokenizers.json: {"patterns": {name: regex}, "cases": [{"text",
name: [pieces]}]}. The texts are the SmolLM2 tokenizer corpus (Fixtures/smollm2/) plus edge
cases for each alternative of the patterns (contractions in any case, a tab or punctuation
before letters, runs of 1 to 7 digits, punctuation followed by newlines, CRLF and Unicode
spaces). Splitting is `Split(Regex(pattern), behavior="isolated")`, exactly as those models'
tokenizer.json files do before their ByteLevel step (which then runs without its own regex).
"""
import json
from pathlib import Path

import tokenizers
from tokenizers import Regex
from tokenizers.pre_tokenizers import Split

ROOT = Path(__file__).resolve().parent
PATTERNS = {
    "llama3": r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+",
    "qwen2": r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+",
}
corpus = [entry["text"] for entry in json.loads((ROOT / "smollm2" / "tokenizer-corpus.json").read_text())["entries"]]
edges = [
    "I'M HERE, YOU'RE THERE, WE'VE GOT IT, SHE'LL GO, HE'D SAY, IT'S, DON'T", "it'S mixed 'Re 'vE",
    "\thello\ttab\tbefore", "...letters!and?more", "(parens)[brackets]{braces}", "#hash @at $dollar",
    "1 12 123 1234 12345 123456 1234567", "3.14159 2,718 1e10 0x1F", "١٢٣٤٥ ½¾ x²",
    "end.\n\nnext", "end.\r\n\r\nnext", "a\n\n\nb", "a \n b", "  \n  \n  x", "trailing   ", "   leading",
    "\u00a0nbsp\u3000ideographic\u2003em", "tabs\t\t\tthen", "mixed \t\n spaces", "!!!\n", "?\r\n", "'quote' \"double\"",
    "can't won't shouldn't", "l'été d'or", "日本語のテキスト", "emoji 🙂🙂 test", "ᐊᓂᔑᓈᐯᒧᐎᓐ", "é", "",
]
cases = []
for text in corpus + edges:
    case = {"text": text}
    for name, pattern in PATTERNS.items():
        case[name] = [piece for piece, _ in Split(Regex(pattern), behavior="isolated").pre_tokenize_str(text)]
    cases.append(case)
out = ROOT / "tokenizers" / "pretokenizers.json"
out.write_text(json.dumps({"tokenizers_version": tokenizers.__version__, "patterns": PATTERNS, "cases": cases},
                          ensure_ascii=False, indent=1) + "\n")
print(f"wrote {out} ({len(cases)} cases)")
