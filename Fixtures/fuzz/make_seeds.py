#!/usr/bin/env python3
"""Writes the small synthetic seed files of the FuzzFiles target (Fixtures/fuzz/files/):
a character tokenizer JSON, a tiny Hugging Face tokenizer.json, a tiny llama2.c tokenizer, a tiny
llama2.c checkpoint, and an encoder.json + NUL + vocab.bpe pair; and of the FuzzData target
(Fixtures/fuzz/data/): texts (ASCII, multi-byte UTF-8, Latin-1) and a tiny llm.c token shard.
(FuzzCheckpoint's seeds are a real checkpoint's state, written by the target itself:
GPTKIT_FUZZ_WRITE_SEEDS=Fixtures/fuzz/checkpoint .build/.../FuzzCheckpoint.)
Run from the repository root."""
import json
import struct
from pathlib import Path

out = Path(__file__).resolve().parent / "files"
out.mkdir(exist_ok=True)

(out / "characters.json").write_text(json.dumps({"type": "character", "characters": list("\nabc +=")}))

vocab = {"a": 0, "b": 1, "c": 2, "ab": 3, "Ġ": 4, "<|endoftext|>": 5}
(out / "tokenizer.json").write_text(json.dumps({
    "version": "1.0", "added_tokens": [{"id": 5, "content": "<|endoftext|>", "special": True}],
    "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": False},
    "model": {"type": "BPE", "vocab": vocab, "merges": ["a b"]},
}))

pieces = [("<unk>", 0.0), ("<s>", 0.0), ("</s>", 0.0)] + [(f"<0x{b:02X}>", 0.0) for b in range(256)] + [(" a", -1.0), ("ab", -2.0)]
blob = struct.pack("<i", max(len(p.encode()) for p, _ in pieces))
for piece, score in pieces:
    raw = piece.encode()
    blob += struct.pack("<fi", score, len(raw)) + raw
(out / "tok.bin").write_bytes(blob)

dim, hidden, layers, heads, kv_heads, vocab_size, seq = 8, 16, 1, 2, 2, 4, 4
head = dim // heads
counts = [vocab_size * dim, layers * dim, layers * dim * dim, layers * kv_heads * head * dim, layers * kv_heads * head * dim,
          layers * dim * dim, layers * dim, layers * hidden * dim, layers * dim * hidden, layers * hidden * dim, dim, seq * head]
floats = [((i * 37) % 17 - 8) / 16 for i in range(sum(counts))]
(out / "stories.bin").write_bytes(struct.pack("<7i", dim, hidden, layers, heads, kv_heads, vocab_size, seq)
                                  + struct.pack(f"<{len(floats)}f", *floats))

encoder = json.dumps({"a": 0, "b": 1, "ab": 2, "<|endoftext|>": 3}).encode()
(out / "gpt2-pair").write_bytes(encoder + b"\0" + b"#version: 0.2\na b\n")

data = Path(__file__).resolve().parent / "data"
data.mkdir(exist_ok=True)
(data / "ascii.txt").write_text("First Citizen:\nBefore we proceed any further, hear me speak.\n\nAll:\nSpeak, speak.\n")
(data / "unicode.txt").write_bytes("naïve café — 日本語 🙂 \u0301e\r\n\ttabs\n".encode())
(data / "latin1.txt").write_bytes("caf\u00e9 na\u00efve\n".encode("latin-1"))
tokens = [(i * 7) % 300 for i in range(64)]
(data / "shard.bin").write_bytes(struct.pack("<256i", 20240520, 1, len(tokens), *([0] * 253)) + struct.pack(f"<{len(tokens)}H", *tokens))
