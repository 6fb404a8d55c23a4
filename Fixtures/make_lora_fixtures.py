#!/usr/bin/env python3
"""Regenerate the LoRA fixtures: a PEFT adapter on the tiny random Llama of
make_family_fixtures.py, and what PyTorch + peft compute with it.

Run from the repository root (needs torch, transformers, peft, safetensors):

    python3 Fixtures/make_lora_fixtures.py

Writes
    Fixtures/tiny-llama-lora/{adapter_config.json,adapter_model.safetensors}
        LoraConfig(r=4, lora_alpha=8, lora_dropout=0, every projection q/k/v/o/gate/up/down) as
        PEFT's save_pretrained writes it, with lora_A and lora_B drawn from N(0, 0.1^2) by a seeded
        generator (PEFT's own init leaves B zero, which would make the adapter invisible)
    Fixtures/lora-reference.safetensors
        "tokens" [2, 7] and "labels" [2, 7] (int64; -100 = not in the loss, as an SFT collator masks
        the prompt), "logits" [2, 7, V] of the adapted model, "loss" [1] (transformers' shifted,
        masked mean cross-entropy), "grad.<peft name>" of every lora tensor, then five
        torch.optim.AdamW steps on the same batch (lr 1e-2, betas (0.9, 0.999), eps 1e-8, weight
        decay 0.01, only the adapters trained): "step_losses" [5] (the loss before each step) and
        "final.<peft name>" of every lora tensor after them
and appends their sha256 to Fixtures/SHA256SUMS-lora. float32, one thread, eval mode (no dropout).
"""

import hashlib
import json
from pathlib import Path

import torch
from peft import LoraConfig, get_peft_model
from safetensors.torch import save_file
from transformers import LlamaForCausalLM

ROOT = Path(__file__).resolve().parent
torch.set_num_threads(1)
torch.use_deterministic_algorithms(True)


def main():
    base = LlamaForCausalLM.from_pretrained(ROOT / "tiny-llama", torch_dtype=torch.float32).eval()
    config = LoraConfig(r=4, lora_alpha=8, lora_dropout=0.0, bias="none", task_type="CAUSAL_LM",
                        target_modules=["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"])
    model = get_peft_model(base, config).eval()
    generator = torch.Generator().manual_seed(11)
    with torch.no_grad():
        for name, parameter in sorted(model.named_parameters()):
            if "lora_" in name:
                parameter.copy_(torch.randn(parameter.shape, generator=generator) * 0.1)
    directory = ROOT / "tiny-llama-lora"
    model.save_pretrained(directory, safe_serialization=True)
    for extra in directory.iterdir():
        if extra.name not in ("adapter_config.json", "adapter_model.safetensors"):
            extra.unlink()  # README.md
    # The base's path as the repository names it, not this machine's.
    config_path = directory / "adapter_config.json"
    config_json = json.loads(config_path.read_text())
    config_json["base_model_name_or_path"] = "Fixtures/tiny-llama"
    config_path.write_text(json.dumps(config_json, indent=2, sort_keys=True) + "\n")
    tokens = torch.tensor([[1, 5, 9, 33, 2, 63, 17], [0, 4, 4, 8, 40, 21, 3]], dtype=torch.int64)
    labels = tokens.clone()
    labels[0, :3] = -100
    labels[1, :2] = -100
    lora = {name: parameter for name, parameter in model.named_parameters() if "lora_" in name}
    # PEFT's saved names drop the adapter name: "...q_proj.lora_A.default.weight" -> "...q_proj.lora_A.weight".
    saved = {name: name.replace(".default.", ".") for name in lora}
    output = model(tokens, labels=labels)
    reference = {"tokens": tokens, "labels": labels, "logits": output.logits.detach().float().contiguous(),
                 "loss": output.loss.detach().reshape(1)}
    model.zero_grad()
    output.loss.backward()
    for name, parameter in lora.items():
        reference["grad." + saved[name]] = parameter.grad.detach().clone().contiguous()
    optimizer = torch.optim.AdamW(list(lora.values()), lr=1e-2, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.01)
    losses = []
    for _ in range(5):
        optimizer.zero_grad()
        loss = model(tokens, labels=labels).loss
        losses.append(loss.item())
        loss.backward()
        optimizer.step()
    reference["step_losses"] = torch.tensor(losses, dtype=torch.float32)
    for name, parameter in lora.items():
        reference["final." + saved[name]] = parameter.detach().clone().contiguous()
    out = ROOT / "lora-reference.safetensors"
    save_file(reference, str(out))
    sums = []
    for path in [directory / "adapter_config.json", directory / "adapter_model.safetensors", out]:
        sums.append(f"{hashlib.sha256(path.read_bytes()).hexdigest()}  {path.relative_to(ROOT)}")
    (ROOT / "SHA256SUMS-lora").write_text("\n".join(sums) + "\n")


if __name__ == "__main__":
    main()
