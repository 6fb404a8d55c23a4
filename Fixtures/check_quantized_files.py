#!/usr/bin/env python3
"""Check files written by `gpt quantize` against the reference tools (not run by `swift test`):

    swift run -c release gpt quantize --model IN.gguf --type q8_0 --out /tmp/out.gguf
    python3 Fixtures/check_quantized_files.py IN.gguf /tmp/out.gguf q8_0

1. gguf-py (`pip install gguf`): every tensor of OUT equals `gguf.quants.quantize` of the
   float32 values `gguf.quants.dequantize` gives for the same tensor of IN (vectors: unchanged
   bytes), so GPTKit's quantizers are byte-identical to gguf-py's reference ones.
2. llama.cpp (`pip install llama-cpp-python`): OUT loads, and answers "What is the capital of
   France?" greedily (printed, for the note; llama.cpp's own 8-bit activations may change it).
"""
import sys

import gguf
import numpy as np

source_path, output_path, type_name = sys.argv[1], sys.argv[2], sys.argv[3]
qtype = {"q8_0": gguf.GGMLQuantizationType.Q8_0, "q4_0": gguf.GGMLQuantizationType.Q4_0,
         "q4_1": gguf.GGMLQuantizationType.Q4_1, "f16": gguf.GGMLQuantizationType.F16,
         "bf16": gguf.GGMLQuantizationType.BF16, "f32": gguf.GGMLQuantizationType.F32}[type_name]
source = gguf.GGUFReader(source_path)
output = {t.name: t for t in gguf.GGUFReader(output_path).tensors}
equal = differing = 0
for tensor in source.tensors:
    written = np.asarray(output[tensor.name].data).view(np.uint8).ravel()
    if len(tensor.shape) < 2 or tensor.tensor_type == qtype:
        expected = np.asarray(tensor.data).view(np.uint8).ravel()
    else:
        values = gguf.quants.dequantize(tensor.data, tensor.tensor_type).astype(np.float32)
        expected = gguf.quants.quantize(values, qtype).view(np.uint8).ravel()
    if np.array_equal(written, expected):
        equal += 1
    else:
        differing += 1
        print("differs:", tensor.name)
print(f"gguf-py: {equal} tensors equal, {differing} differing")

from llama_cpp import Llama  # noqa: E402

llm = Llama(model_path=output_path, n_ctx=512, n_threads=2, verbose=False)
reply = llm.create_chat_completion(messages=[{"role": "user", "content": "What is the capital of France?"}],
                                   temperature=0, max_tokens=24)
print("llama.cpp loads it; greedy reply:", repr(reply["choices"][0]["message"]["content"]))
sys.exit(1 if differing else 0)
