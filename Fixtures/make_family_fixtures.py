#!/usr/bin/env python3
"""Regenerate the model-family fixtures: tiny random Llama and Qwen2 checkpoints made by
Hugging Face transformers, and their logits on fixed tokens.

Run from the repository root (needs torch, transformers, safetensors):

    python3 Fixtures/make_family_fixtures.py

Writes
    Fixtures/tiny-llama/{config.json,model.safetensors}   LlamaForCausalLM, untied, GQA 4/2
    Fixtures/tiny-qwen2/{config.json,model.safetensors}   Qwen2ForCausalLM, tied, q/k/v biases
    Fixtures/tiny-families-reference.safetensors          "<family>.tokens" [2, 7] (int64) and
                                                          "<family>.logits" [2, 7, V] (float32)
and appends their sha256 to Fixtures/SHA256SUMS-families.

Every parameter (norm gains and biases included) is drawn from N(0, 0.2^2) (gains 1 + that) by a
seeded generator, so nothing is trivially 0 or 1. float32, one thread, eval mode.
"""

import hashlib
from pathlib import Path

import torch
from safetensors.torch import save_file
from transformers import LlamaConfig, LlamaForCausalLM, Qwen2Config, Qwen2ForCausalLM

ROOT = Path(__file__).resolve().parent
torch.set_num_threads(1)
torch.use_deterministic_algorithms(True)

COMMON = dict(vocab_size=64, hidden_size=32, intermediate_size=48, num_hidden_layers=2, num_attention_heads=4,
              num_key_value_heads=2, max_position_embeddings=64, rms_norm_eps=1e-6, rope_theta=10000.0)


def randomize(model, seed):
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, parameter in sorted(model.named_parameters()):
            noise = torch.randn(parameter.shape, generator=generator) * 0.2
            parameter.copy_(1 + noise if name.endswith("norm.weight") else noise)


def build(family):
    if family == "llama":
        config = LlamaConfig(**COMMON, tie_word_embeddings=False, attention_bias=False, torch_dtype="float32")
        model = LlamaForCausalLM(config)
    else:
        config = Qwen2Config(**COMMON, tie_word_embeddings=True, use_sliding_window=False, torch_dtype="float32")
        model = Qwen2ForCausalLM(config)
    randomize(model, seed=7 if family == "llama" else 8)
    return model.eval()


def main():
    reference = {}
    sums = []
    for family in ["llama", "qwen2"]:
        model = build(family)
        directory = ROOT / f"tiny-{family}"
        model.save_pretrained(directory, safe_serialization=True)
        tokens = torch.tensor([[1, 5, 9, 33, 2, 63, 17], [0, 4, 4, 8, 40, 21, 3]], dtype=torch.int64)
        with torch.no_grad():
            logits = model(tokens).logits.float()
        reference[f"{family}.tokens"] = tokens
        reference[f"{family}.logits"] = logits.contiguous()
        for name in ["config.json", "model.safetensors"]:
            path = directory / name
            sums.append(f"{hashlib.sha256(path.read_bytes()).hexdigest()}  tiny-{family}/{name}")
        for extra in directory.iterdir():
            if extra.name not in ("config.json", "model.safetensors"):
                extra.unlink()  # generation_config.json: not used by GPTKit
    out = ROOT / "tiny-families-reference.safetensors"
    save_file(reference, str(out))
    sums.append(f"{hashlib.sha256(out.read_bytes()).hexdigest()}  tiny-families-reference.safetensors")
    (ROOT / "SHA256SUMS-families").write_text("\n".join(sums) + "\n")


if __name__ == "__main__":
    main()
