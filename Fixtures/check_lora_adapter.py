#!/usr/bin/env python3
"""Check that an adapter GPTKit saved loads in peft and gives peft's logits.

    GPTKIT_LORA_CHECK_DIR=/tmp/gptkit-adapter swift test --filter LoRATests/testSavedAdaptersAreInPEFTsLayoutAndLoadBack
    python3 Fixtures/check_lora_adapter.py /tmp/gptkit-adapter

Loads Fixtures/tiny-llama with PeftModel.from_pretrained(the directory), runs the tokens of
Fixtures/lora-reference.safetensors and compares the logits with the reference ones (made with
peft's own adapter, which GPTKit loaded and saved again). Needs torch, transformers, peft.
"""

import sys
from pathlib import Path

import torch
from peft import PeftModel
from safetensors.torch import load_file
from transformers import LlamaForCausalLM

ROOT = Path(__file__).resolve().parent
torch.set_num_threads(1)

base = LlamaForCausalLM.from_pretrained(ROOT / "tiny-llama", torch_dtype=torch.float32).eval()
model = PeftModel.from_pretrained(base, sys.argv[1]).eval()
reference = load_file(str(ROOT / "lora-reference.safetensors"))
with torch.no_grad():
    logits = model(reference["tokens"]).logits
difference = (logits - reference["logits"]).abs().max().item()
print(f"max |logits - reference| = {difference:.3g}")
sys.exit(0 if difference < 1e-5 else 1)
