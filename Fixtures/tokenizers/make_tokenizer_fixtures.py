#!/usr/bin/env python3
"""Make the GPT-2 tokenizer fixtures for GPTTokenizersTests.

Tokenizes a set of varied texts with the GPT-2 files in ../shared/data/gpt2-tokenizer using
Hugging Face `tokenizers` and cross-checks every id with `tiktoken` built from the same local
files (no download). Writes gpt2_cases.json next to this script: each case's text, whether
<|endoftext|> is allowed as a special token, the expected ids and (for plain-text cases) the
pre-tokens of Hugging Face's ByteLevel pre-tokenizer. Only texts and ids are committed, never
the vocabulary files. Also records, for whole corpus files in ../shared/data, the token count
and an FNV-1a-64 checksum of the ids (too many to commit), and the merges Hugging Face's
BpeTrainer learns from tinyshakespeare (for BPETrainer).

Usage (from the package root):
    pip install tokenizers tiktoken
    python3 Fixtures/tokenizers/make_tokenizer_fixtures.py [--data ../shared/data]
"""

import argparse
import hashlib
import json
import os
import random
import sys

import tiktoken
import tokenizers
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

HERE = os.path.dirname(os.path.abspath(__file__))
EOT = "<|endoftext|>"
GPT2_PATTERN = r"""'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"""


def bytes_to_unicode():
    """GPT-2's byte-to-unicode table (openai/gpt-2 src/encoder.py)."""
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, map(chr, cs)))


def hf_tokenizers(directory):
    """Two HF tokenizers from encoder.json + vocab.bpe: with <|endoftext|> special, and without."""
    def make(with_special):
        bpe = models.BPE.from_file(os.path.join(directory, "encoder.json"), os.path.join(directory, "vocab.bpe"))
        tok = Tokenizer(bpe)
        tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
        tok.decoder = decoders.ByteLevel()
        if with_special:
            tok.add_special_tokens([EOT])
        return tok
    return make(True), make(False)


def tiktoken_encoding(directory):
    """tiktoken's gpt2 encoding built from the local encoder.json (ranks equal GPT-2 ids)."""
    byte_decoder = {c: b for b, c in bytes_to_unicode().items()}
    with open(os.path.join(directory, "encoder.json"), encoding="utf-8") as f:
        encoder = json.load(f)
    ranks = {bytes(byte_decoder[c] for c in token): i for token, i in encoder.items() if token != EOT}
    return tiktoken.Encoding(name="gpt2-local", pat_str=GPT2_PATTERN, mergeable_ranks=ranks,
                             special_tokens={EOT: encoder[EOT]})


def surrogate_case():
    """Text with lone surrogates, made into bytes and decoded with replacement (U+FFFD)."""
    raw = "lone \ud800 high, lone \udfff low, pair-like \ud83d\ude00?".encode("utf-8", "surrogatepass")
    raw += b" truncated \xe2\x82 and \xf0\x9f\x98 bytes \xc0\xaf end"
    return raw, raw.decode("utf-8", "replace")


def random_texts(count, seed):
    """Random strings over an alphabet chosen to exercise every branch of the pattern."""
    pools = [
        "abcxyzABCXYZ", "0123456789", " ", "    ", "\n", "\t", "\r\n", "'", "'s", "'t", "'re", "'ve", "'m",
        "'ll", "'d", "'S", "!?.,;:-_()[]{}<>\"/\\|@#$%^&*+=~`", "éàüñøßçÉ", "e\u0301", "\u0300\u0308",
        "αβγΩ", "жЖщ", "שלום", "مرحبا", "नमस्ते", "ไทย", "日本語", "中文", "한국어", "٣٤", "Ⅻⅷ", "²¾",
        "\u00a0", "\u3000", "\u2028", "\u0085", "\u000b\u000c", "\u001c\u001f", "\u200b", "\u200d",
        "😀", "👋🏽", "🇫🇷", "❤️", "€£¥", "—–…", "\u00ad", "\ufffd", "<|endoftext|>",
    ]
    rng = random.Random(seed)
    return ["".join(rng.choice(pools) for _ in range(rng.randint(1, 24))) for _ in range(count)]


def fixed_cases():
    raw, replaced = surrogate_case()
    eot_text = f"First document.{EOT}Second one:\n{EOT}{EOT} third{EOT}"
    partial = f"<|endoftext|<|endoftext|>>{EOT[:-1]} <|endoftext|> x<|endoftext|>y"
    cases = [
        ("english", "The quick brown fox jumps over the lazy dog. It was the best of times, it was the worst of times.", False),
        ("contractions", "I'm sure you'll agree: it's what we've done, they'd say we're right. Don't! CAN'T 'S 'Tis o'clock rock'n'roll ''s", False),
        ("code", "def fib(n: int) -> int:\n    if n < 2:\n        return n\n\treturn fib(n - 1) + fib(n - 2)  # recursion\n\nstruct P { let x = [1, 2]; }\n", False),
        ("numbers", "In 2024, 3.14159 x 10^5 = 314159.0; call +1 (555) 123-4567 at 09:30; 1,000,000 $5.99 ٣٤٥ Ⅻ ¾ ²", False),
        ("whitespace", "a  b   c\n\n\nd \n e\t\tf \u00a0g\u3000h   \n  i\r\nj\u000b\u000ck\u0085l\u2028m\u001c\u001dn      ", False),
        ("trailing spaces", "ends with spaces   ", False),
        ("only whitespace", " \n \t\n\n  ", False),
        ("accents", "Café naïve façade résumé — Ångström, São Paulo, Dvořák, Łódź; decomposed: Cafe\u0301 e\u0300 n\u0303", False),
        ("cjk", "日本語のテキスト、中文文本，한국어 텍스트。漢字かな混じり文", False),
        ("emoji", "Hello 👋🏽 world 🌍! Family: 👨‍👩‍👧‍👦 flags 🇫🇷🇯🇵 ❤️ 🤖🦀", False),
        ("scripts", "Ελληνικά Кириллица עברית العربية हिन्दी ภาษาไทย ქართული Հայերեն", False),
        ("surrogates replaced", replaced, False),
        ("long runs", "a" * 150 + " " + "Supercalifragilisticexpialidocious" * 4 + " " + "1234567890" * 8 + " " + "!?" * 40, False),
        ("punctuation", "!!!??? ... --- *** ((())) ''' \"\"\" ' s 'll 're '' ' ' <<>> ©®™ «» „“", False),
        ("empty", "", False),
        ("endoftext special", eot_text, True),
        ("endoftext as text", eot_text, False),
        ("endoftext partial special", partial, True),
        ("endoftext partial as text", partial, False),
    ]
    return cases, {"surrogates replaced": raw}


def fnv1a64(ids):
    h = 0xCBF29CE484222325
    for i in ids:
        for b in int(i).to_bytes(4, "little"):
            h = ((h ^ b) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return f"{h:016x}"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", default=os.path.join(HERE, "..", "..", "..", "shared", "data"))
    args = parser.parse_args()
    directory = os.path.join(args.data, "gpt2-tokenizer")
    hf_special, hf_plain = hf_tokenizers(directory)
    hf_json = Tokenizer.from_file(os.path.join(directory, "tokenizer.json"))
    hf_json.no_truncation()
    tik = tiktoken_encoding(directory)

    def encode(text, allowed):
        ids = (hf_special if allowed else hf_plain).encode(text).ids
        tik_ids = tik.encode(text, allowed_special={EOT}) if allowed else tik.encode_ordinary(text)
        assert ids == tik_ids, f"HF and tiktoken disagree on {text!r}"
        if allowed:
            assert hf_json.encode(text).ids == ids, f"tokenizer.json disagrees on {text!r}"
        assert hf_special.decode(ids, skip_special_tokens=False) == text, f"no round trip for {text!r}"
        assert tik.decode(ids) == text
        return ids

    fixed, raw_bytes = fixed_cases()
    cases = []
    named = [(name, text, allowed) for name, text, allowed in fixed]
    named += [(f"random {i}", text, i % 2 == 0) for i, text in enumerate(random_texts(120, seed=20240605))]
    for name, text, allowed in named:
        case = {"name": name, "text": text, "allowed_special": allowed, "ids": encode(text, allowed)}
        if not allowed:
            splits = hf_plain.pre_tokenizer.pre_tokenize_str(text)
            case["pieces"] = [text[start:end] for _, (start, end) in splits]
            assert "".join(case["pieces"]) == text, f"pre-token offsets do not cover {text!r}"
        if name in raw_bytes:
            case["raw_utf8_hex"] = raw_bytes[name].hex()
        cases.append(case)

    corpora = []
    for relative in ["tinyshakespeare/input.txt"]:
        path = os.path.join(args.data, relative)
        with open(path, "rb") as f:
            data = f.read()
        text = data.decode("utf-8")
        ids = encode(text, False)
        corpora.append({"file": relative, "sha256": hashlib.sha256(data).hexdigest(),
                        "token_count": len(ids), "ids_fnv1a64": fnv1a64(ids)})

    # Hugging Face's BpeTrainer (byte-level alphabet, GPT-2 pre-tokenization) on a corpus file:
    # BPETrainer must learn the same merges.
    training = []
    for relative, vocab_size in [("tinyshakespeare/input.txt", 1000)]:
        path = os.path.join(args.data, relative)
        trained = Tokenizer(models.BPE())
        trained.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
        trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=[EOT], show_progress=False,
                                      initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
        trained.train([path], trainer)
        merges = json.loads(trained.to_str())["model"]["merges"]
        merges = [m if isinstance(m, str) else " ".join(m) for m in merges]
        with open(path, "rb") as f:
            token_count = len(trained.encode(f.read().decode("utf-8")).ids)
        training.append({"file": relative, "vocab_size": vocab_size, "special_tokens": [EOT],
                         "merges": merges, "token_count": token_count})

    output = {
        "about": "GPT-2 ids from Hugging Face tokenizers, identical to tiktoken, for the files in ../shared/data/gpt2-tokenizer; made by make_tokenizer_fixtures.py",
        "tokenizers_version": tokenizers.__version__,
        "tiktoken_version": tiktoken.__version__,
        "python_version": sys.version.split()[0],
        "cases": cases,
        "corpora": corpora,
        "training": training,
    }
    target = os.path.join(HERE, "gpt2_cases.json")
    with open(target, "w", encoding="utf-8") as f:
        json.dump(output, f, ensure_ascii=True, indent=1)
        f.write("\n")
    print(f"wrote {target}: {len(cases)} cases, {sum(len(c['ids']) for c in cases)} ids, corpora {corpora}")


if __name__ == "__main__":
    main()
