#!/usr/bin/env python3
"""Q6_K and Q4_K quantization as llama.cpp does it, for GPTKit's quantizers to match: writes
Fixtures/gguf/q6k.gguf with a float32 `source` matrix and `q6_k.weight` / `q4_k.weight`, the bytes
ggml's `ggml_quantize_chunk` (its reference `quantize_row_q6_K_ref` / `quantize_row_q4_K_ref`,
no importance matrix) writes from it, through the libggml that llama-cpp-python ships.

    pip install llama-cpp-python gguf numpy
    python3 Fixtures/make_q6k_fixtures.py
"""
import ctypes
import os

import gguf
import llama_cpp
import numpy as np

GGML_TYPE_Q4_K = 12
GGML_TYPE_Q6_K = 14
BLOCK_BYTES = {GGML_TYPE_Q4_K: 144, GGML_TYPE_Q6_K: 210}


def ggml_quantize(source: np.ndarray, kind: int) -> np.ndarray:
    folder = os.path.join(os.path.dirname(llama_cpp.__file__), "lib")
    lib = ctypes.CDLL(os.path.join(folder, "libggml-base.so"))
    lib.ggml_quantize_chunk.restype = ctypes.c_size_t
    lib.ggml_quantize_chunk.argtypes = [ctypes.c_int, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int64, ctypes.c_int64,
                                        ctypes.c_int64, ctypes.c_void_p]
    rows, columns = source.shape
    out = np.zeros(rows * columns // 256 * BLOCK_BYTES[kind], dtype=np.uint8)
    src = np.ascontiguousarray(source, dtype=np.float32)
    written = lib.ggml_quantize_chunk(kind, src.ctypes.data, out.ctypes.data, 0, rows, columns, None)
    assert written == out.size, (written, out.size)
    return out.reshape(rows, columns // 256 * BLOCK_BYTES[kind])


def main():
    rng = np.random.default_rng(6)
    rows = [rng.standard_normal(512) * scale for scale in (1.0, 0.02, 3e-3, 40.0)]
    rows.append(np.zeros(512))                              # an all-zero row: zero blocks
    spike = rng.standard_normal(512) * 0.01
    spike[17] = 5.0
    rows.append(spike)                                      # one outlier per super-block
    rows.append(np.abs(rng.standard_normal(512)))           # all positive
    rows.append(-np.abs(rng.standard_normal(512)) * 0.5)    # all negative
    source = np.stack(rows).astype(np.float32)
    q6 = ggml_quantize(source, GGML_TYPE_Q6_K)
    q4 = ggml_quantize(source, GGML_TYPE_Q4_K)
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "gguf", "q6k.gguf")
    writer = gguf.GGUFWriter(path, "q6k-fixture")
    writer.add_tensor("source", source)
    writer.add_tensor("q6_k.weight", q6, raw_dtype=gguf.GGMLQuantizationType.Q6_K)
    writer.add_tensor("q4_k.weight", q4, raw_dtype=gguf.GGMLQuantizationType.Q4_K)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    print(f"wrote {path}: {source.shape} source, {q6.size} Q6_K and {q4.size} Q4_K bytes")


if __name__ == "__main__":
    main()
