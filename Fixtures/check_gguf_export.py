#!/usr/bin/env python3
"""Checks a GGUF file written by GPTKit (`gpt quantize --model FOLDER ...`, GPT.writeGGUF) in
llama.cpp: loads it with llama-cpp-python and prints its mean next-token loss over consecutive
windows of the given token ids, the windows `gpt eval --batch 1 --seq N` uses, to compare with
GPTKit's loss on the same file.

    gpt tokenize --model out < text.txt > ids.txt
    gpt quantize --model out --type q8_0 --out out.q8_0.gguf
    python3 Fixtures/check_gguf_export.py out.q8_0.gguf ids.txt 64 40
    gpt eval --model out.q8_0.gguf --tokenizer out/tokenizer.json --data text.txt --batch 1 --seq 64 --batches 40

Needs `pip install llama-cpp-python numpy`.
"""
import sys

import numpy as np
from llama_cpp import Llama


def main():
    path, ids_path, seq, windows = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    ids = [int(t) for t in open(ids_path).read().split()]
    llm = Llama(model_path=path, n_ctx=max(256, seq), n_threads=2, n_batch=seq, logits_all=True, verbose=False)
    total = 0.0
    for w in range(windows):
        window = ids[w * seq: w * seq + seq + 1]
        if len(window) < seq + 1:
            sys.exit(f"only {w} windows of {seq + 1} ids in {ids_path}")
        llm.reset()
        llm.eval(window[:seq])
        logits = np.array(llm.scores[:seq], dtype=np.float64)
        logits -= logits.max(axis=1, keepdims=True)
        log_probs = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
        total += -log_probs[np.arange(seq), window[1:]].mean()
    loss = total / windows
    print(f"llama.cpp: loss {loss:.4f}  perplexity {np.exp(loss):.2f}  ({windows} windows of {seq} tokens)")


if __name__ == "__main__":
    main()
