#!/usr/bin/env python3
"""Regenerate the GGUF fixtures (files written by gguf-py, the llama.cpp project's Python GGUF
library, with their expected contents) and tiny random bfloat16, sharded Hugging Face checkpoints.

Run from the repository root (needs numpy, gguf, torch, transformers, safetensors):

    python3 Fixtures/make_gguf_fixtures.py

Writes
    Fixtures/gguf/quants.gguf          GGUF v3, arch "gptkit-test", alignment 32 (default). One
                                       tensor per type F32 F16 BF16 Q8_0 Q4_0 Q4_1 Q5_0 Q5_1 Q4_K Q5_K
                                       Q6_K, named "<type>.weight" (lower case), numpy shape [3, 512]
                                       (GGUF ne = [512, 3]); metadata of every GGUF value type under
                                       "test.*" (empty string and empty array included)
    Fixtures/gguf/aligned64.gguf       general.alignment = 64 (uint32), F32 tensors of 5 and 7 elements
    Fixtures/gguf/nested-array.gguf    an array of arrays of int32, no tensors. Kept out of quants.gguf
                                       because ggml's own reader (gguf.cpp) rejects nested arrays
    Fixtures/gguf/quants-reference.safetensors
                                       "<type>.weight" F32 [3, 512] = gguf.quants.dequantize(the bytes
                                       stored in quants.gguf); "source" F32 [3, 512] = the floats the
                                       non-K types were made from
    Fixtures/gguf/metadata.json        per file: version, alignment, data_offset, every key with type
                                       and value, every tensor info, all read back with gguf.GGUFReader
    Fixtures/tiny-llama-bf16/          LlamaForCausalLM, bfloat16, 3 safetensors shards + index
    Fixtures/tiny-mistral-bf16/        MistralForCausalLM, bfloat16, 3 shards + index
    Fixtures/tiny-qwen2-bf16/          Qwen2ForCausalLM (q/k/v biases), bfloat16, 3 shards + index
    Fixtures/tiny-bf16-reference.safetensors
                                       "<llama|mistral|qwen2>.tokens" I64 [2, 7], ".logits" F32 [2, 7, 96]
and their sha256 to Fixtures/SHA256SUMS-gguf (rewritten each run).

Quantized tensors: F32/F16/BF16/Q8_0/Q4_0/Q4_1/Q5_0/Q5_1 are gguf.quants.quantize() of one seeded
N(0, 0.5^2) matrix with outliers, a zero block, a constant block and a few f16-subnormal values.
gguf-py cannot quantize Q4_K/Q5_K/Q6_K (dequantize only), so those are seeded random bytes with
the f16 super-block scales (d, and dmin for Q4_K/Q5_K) overwritten by values in [0.001, 0.1].
The script checks gguf-py's dequantization against a plain transcription of ggml's
dequantize_row_* (ggml-quants.c, no FMA) and requires bit equality.

Checkpoints: every parameter is drawn from N(0, 0.2^2) (norm gains 1 + that) by a seeded
generator in sorted-name order, then cast to bfloat16 and saved with max_shard_size="20KB". The
logits come from the *saved* bf16 checkpoint reloaded with dtype=torch.float32 (so the reference
model has exactly the bf16-rounded weights, computed in float32). One thread, eval mode.
"""

import hashlib
import json
import zlib
from pathlib import Path

import gguf
import numpy as np
import torch
from gguf import GGMLQuantizationType as QT, GGUFValueType as VT
from safetensors.numpy import save_file as save_numpy
from safetensors.torch import save_file as save_torch
from transformers import (LlamaConfig, LlamaForCausalLM, MistralConfig, MistralForCausalLM, Qwen2Config,
                          Qwen2ForCausalLM)

ROOT = Path(__file__).resolve().parent
OUT = ROOT / "gguf"
torch.set_num_threads(1)
torch.use_deterministic_algorithms(True)

ROWS, COLS = 3, 512
TYPES = ["F32", "F16", "BF16", "Q8_0", "Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q4_K", "Q5_K", "Q6_K"]
RAW_K = {"Q4_K", "Q5_K", "Q6_K"}  # gguf-py has no quantizer for these
# byte ranges of the f16 super-block scales inside one K-quant block
K_SCALE_FIELDS = {"Q4_K": [0, 2], "Q5_K": [0, 2], "Q6_K": [208]}


class FixtureWriter(gguf.GGUFWriter):
    """GGUFWriter that can also write an empty array (gguf-py's _pack_val raises on len 0, and
    add_array/add_string silently drop empty values). Bytes: type ARRAY, element type, count 0."""

    def _pack_val(self, val, vtype, add_vtype, sub_type=None):
        if vtype == VT.ARRAY and len(val) == 0:
            assert sub_type is not None, "an empty array needs an explicit element type"
            head = self._pack("I", vtype) if add_vtype else b""
            return head + self._pack("I", sub_type) + self._pack("Q", 0)
        return super()._pack_val(val, vtype, add_vtype, sub_type)


def f32(x):
    return float(np.float32(x))


# (key, value type, value, element type for arrays). Values are exactly what the file holds
# (float32 values pre-rounded), so the readback must equal them.
METADATA = [
    ("test.uint8", VT.UINT8, 200, None),
    ("test.int8", VT.INT8, -100, None),
    ("test.uint16", VT.UINT16, 65000, None),
    ("test.int16", VT.INT16, -32000, None),
    ("test.uint32", VT.UINT32, 4000000000, None),
    ("test.int32", VT.INT32, -2000000000, None),
    ("test.uint64", VT.UINT64, 18446744073709551000, None),  # > 2^63 and > 2^53
    ("test.int64", VT.INT64, -9000000000000000123, None),     # not representable as a double
    ("test.float32", VT.FLOAT32, f32(3.14159265358979), None),
    ("test.float64", VT.FLOAT64, 2.718281828459045, None),
    ("test.bool.true", VT.BOOL, True, None),
    ("test.bool.false", VT.BOOL, False, None),
    ("test.string", VT.STRING, "gptkit", None),
    ("test.string.utf8", VT.STRING, "h\u00e9llo w\u00f6rld \u2014 \u65e5\u672c\u8a9e \U0001f999", None),
    ("test.string.empty", VT.STRING, "", None),
    ("test.array.int32", VT.ARRAY, [1, -2, 3, 2147483647, -2147483648], VT.INT32),
    ("test.array.uint8", VT.ARRAY, [0, 1, 127, 128, 255], VT.UINT8),
    ("test.array.int64", VT.ARRAY, [-1, 1099511627776, -9223372036854775808], VT.INT64),
    ("test.array.float32", VT.ARRAY, [f32(v) for v in [0.0, -1.5, 3.14159265, 1e-7, 65504.0, -0.0]], VT.FLOAT32),
    ("test.array.float64", VT.ARRAY, [0.1, -2.5e-300, 1e300], VT.FLOAT64),
    ("test.array.string", VT.ARRAY, ["alpha", "", "\u65e5\u672c\u8a9e", "a b\tc\n"], VT.STRING),
    ("test.array.bool", VT.ARRAY, [True, False, True], VT.BOOL),
    ("test.array.empty", VT.ARRAY, [], VT.INT32),
]
NESTED = [("test.array.nested", VT.ARRAY, [[1, 2, 3], [-4], [5, 6]], VT.ARRAY)]  # inner: INT32


# ---------------------------------------------------------------------------------------------
# Tensor data

def source_matrix():
    rng = np.random.default_rng(20240601)
    x = rng.normal(0.0, 0.5, (ROWS, COLS)).astype(np.float32)
    for (r, c), v in {(0, 5): 7.25, (1, 300): -11.5, (2, 511): 4.0, (0, 130): -6.0, (1, 1): 9.0}.items():
        x[r, c] = v                                     # outliers
    x[2, 64:96] = 0.0                                   # one all-zero 32-block (d = 0 paths)
    x[1, 32:64] = 0.3                                   # one constant 32-block (max == min)
    x[0, 200:205] = [1e-6, -3e-7, 6e-8, 0.0, -0.0]      # f16 subnormals, +-0
    return x


def raw_k_blocks(name):
    block_size, type_size = gguf.GGML_QUANT_SIZES[QT[name]]
    n_blocks = ROWS * COLS // block_size
    rng = np.random.default_rng(zlib.crc32(name.encode()))
    blocks = rng.integers(0, 256, size=(n_blocks, type_size), dtype=np.uint8)
    for start in K_SCALE_FIELDS[name]:
        scales = rng.uniform(0.001, 0.1, size=n_blocks).astype(np.float16)
        blocks[:, start:start + 2] = scales.view(np.uint8).reshape(n_blocks, 2)
    return blocks.reshape(ROWS, -1)


def encode(name, x):
    """Returns (array to hand to GGUFWriter.add_tensor, raw_dtype or None, how it was made)."""
    if name in RAW_K:
        return raw_k_blocks(name), QT[name], "random bytes (f16 scales in [0.001, 0.1])"
    q = gguf.quants.quantize(x, QT[name])
    if name in ("F32", "F16"):
        return q, None, "gguf.quants.quantize"
    return q, QT[name], "gguf.quants.quantize"


# ---------------------------------------------------------------------------------------------
# Independent dequantization: a line-by-line transcription of ggml-quants.c dequantize_row_*,
# float32 throughout, products and sums unfused, same operation order.

def h2f(b, at):
    return b[:, at:at + 2].copy().view(np.float16).astype(np.float32)  # [n, 1]


def ggml_dequantize(name, raw):
    if name == "F32":
        return raw.view(np.float32).reshape(ROWS, COLS)
    if name == "F16":
        return raw.view(np.float16).astype(np.float32).reshape(ROWS, COLS)
    if name == "BF16":
        return (raw.view(np.uint16).astype(np.uint32) << 16).view(np.float32).reshape(ROWS, COLS)
    block_size, type_size = gguf.GGML_QUANT_SIZES[QT[name]]
    b = raw.reshape(-1, type_size)
    n = b.shape[0]
    y = np.zeros((n, block_size), np.float32)
    F = np.float32
    if name == "Q8_0":
        d = h2f(b, 0)
        y[:] = b[:, 2:].view(np.int8).astype(F) * d
    elif name in ("Q4_0", "Q4_1"):
        d = h2f(b, 0)
        qs = b[:, 2:] if name == "Q4_0" else b[:, 4:]
        x0 = (qs & 0xF).astype(np.int32)
        x1 = (qs >> 4).astype(np.int32)
        if name == "Q4_0":
            y[:, :16] = (x0 - 8).astype(F) * d
            y[:, 16:] = (x1 - 8).astype(F) * d
        else:
            m = h2f(b, 2)
            y[:, :16] = x0.astype(F) * d + m
            y[:, 16:] = x1.astype(F) * d + m
    elif name in ("Q5_0", "Q5_1"):
        d = h2f(b, 0)
        off = 2 if name == "Q5_0" else 4
        qh = b[:, off:off + 4].copy().view("<u4").astype(np.uint32)  # [n, 1]
        qs = b[:, off + 4:]
        j = np.arange(16, dtype=np.uint32)
        xh0 = ((qh >> j) << 4) & 0x10
        xh1 = (qh >> (j + 12)) & 0x10
        x0 = ((qs & 0xF).astype(np.uint32) | xh0).astype(np.int32)
        x1 = ((qs >> 4).astype(np.uint32) | xh1).astype(np.int32)
        if name == "Q5_0":
            y[:, :16] = (x0 - 16).astype(F) * d
            y[:, 16:] = (x1 - 16).astype(F) * d
        else:
            m = h2f(b, 2)
            y[:, :16] = x0.astype(F) * d + m
            y[:, 16:] = x1.astype(F) * d + m
    elif name in ("Q4_K", "Q5_K"):
        d, dmin = h2f(b, 0), h2f(b, 2)
        sc_bytes = b[:, 4:16].astype(np.int32)

        def scale_min(j):
            if j < 4:
                return sc_bytes[:, j] & 63, sc_bytes[:, j + 4] & 63
            return ((sc_bytes[:, j + 4] & 0xF) | ((sc_bytes[:, j - 4] >> 6) << 4),
                    (sc_bytes[:, j + 4] >> 4) | ((sc_bytes[:, j] >> 6) << 4))

        if name == "Q4_K":
            ql, qh = b[:, 16:144].astype(np.int32), None
        else:
            qh, ql = b[:, 16:48].astype(np.int32), b[:, 48:176].astype(np.int32)
        u1, u2 = 1, 2
        for g, j in enumerate(range(0, 256, 64)):
            is_ = 2 * g
            sc, m = scale_min(is_)
            d1, m1 = d[:, 0] * sc.astype(F), dmin[:, 0] * m.astype(F)
            sc, m = scale_min(is_ + 1)
            d2, m2 = d[:, 0] * sc.astype(F), dmin[:, 0] * m.astype(F)
            q = ql[:, 32 * g:32 * g + 32]
            lo, hi = q & 0xF, q >> 4
            if qh is not None:
                lo = lo + np.where(qh & u1, 16, 0)
                hi = hi + np.where(qh & u2, 16, 0)
            y[:, j:j + 32] = d1[:, None] * lo.astype(F) - m1[:, None]
            y[:, j + 32:j + 64] = d2[:, None] * hi.astype(F) - m2[:, None]
            u1 <<= 2
            u2 <<= 2
    elif name == "Q6_K":
        d = h2f(b, 208)[:, 0]
        ql_all, qh_all = b[:, 0:128].astype(np.int32), b[:, 128:192].astype(np.int32)
        sc_all = b[:, 192:208].view(np.int8).astype(F)
        for h in range(2):  # two halves of 128 values
            ql, qh, sc = ql_all[:, 64 * h:64 * h + 64], qh_all[:, 32 * h:32 * h + 32], sc_all[:, 8 * h:8 * h + 8]
            for l in range(32):
                is_ = l // 16
                q1 = ((ql[:, l] & 0xF) | (((qh[:, l] >> 0) & 3) << 4)) - 32
                q2 = ((ql[:, l + 32] & 0xF) | (((qh[:, l] >> 2) & 3) << 4)) - 32
                q3 = ((ql[:, l] >> 4) | (((qh[:, l] >> 4) & 3) << 4)) - 32
                q4 = ((ql[:, l + 32] >> 4) | (((qh[:, l] >> 6) & 3) << 4)) - 32
                base = 128 * h
                y[:, base + l] = d * sc[:, is_] * q1.astype(F)
                y[:, base + l + 32] = d * sc[:, is_ + 2] * q2.astype(F)
                y[:, base + l + 64] = d * sc[:, is_ + 4] * q3.astype(F)
                y[:, base + l + 96] = d * sc[:, is_ + 6] * q4.astype(F)
    else:
        raise ValueError(name)
    return y.reshape(ROWS, COLS)


# ---------------------------------------------------------------------------------------------
# GGUF files and their expected contents

def add_metadata(writer, entries):
    for key, vtype, value, sub in entries:
        writer.add_key_value(key, value, vtype, sub_type=sub)  # add_key_value keeps "" and []


def write_gguf(path, metadata, tensors, alignment=None):
    writer = FixtureWriter(path, arch="gptkit-test")
    if alignment is not None:
        writer.add_custom_alignment(alignment)
    add_metadata(writer, metadata)
    for name, array, raw_dtype in tensors:
        writer.add_tensor(name, array, raw_dtype=raw_dtype)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()


def float_bits(value, vtype):
    if vtype == VT.FLOAT32:
        return f"0x{np.array(value, np.float32).view(np.uint32).item():08x}"
    return f"0x{np.array(value, np.float64).view(np.uint64).item():016x}"


def expected_entry(vtype, value, sub):
    entry = {"type": vtype.name, "type_id": int(vtype)}
    if vtype == VT.ARRAY:
        entry["element_type"] = sub.name
        entry["element_type_id"] = int(sub)
        if sub == VT.ARRAY:
            entry["inner_element_type"] = "INT32"
            entry["inner_element_type_id"] = int(VT.INT32)
        if sub in (VT.FLOAT32, VT.FLOAT64):
            entry["bits"] = [float_bits(v, sub) for v in value]
    elif vtype in (VT.FLOAT32, VT.FLOAT64):
        entry["bits"] = float_bits(value, vtype)
    entry["value"] = value
    return entry


def read_back_value(field):
    """Decode a ReaderField into plain Python; nested arrays rebuilt from the raw parts (the
    reader flattens them)."""
    types = field.types
    if types[0] != VT.ARRAY:
        return field.contents()
    element = VT(int(field.parts[3][0]))
    if element != VT.ARRAY:
        return field.contents() if len(field.data) else []
    # parts after [klen, key, vtype, element type, count]: per inner array [type, count, values...]
    out, i = [], 5
    for _ in range(int(field.parts[4][0])):
        assert VT(int(field.parts[i][0])) == VT.INT32
        count = int(field.parts[i + 1][0])
        out.append([int(field.parts[i + 2 + k][0]) for k in range(count)])
        i += 2 + count
    return out


def describe(path, metadata, sources):
    """Read `path` back with GGUFReader, check it against what was written, return its JSON."""
    reader = gguf.GGUFReader(path)
    fields = [f for f in reader.fields.values() if not f.name.startswith("GGUF.")]
    expected = [("general.architecture", VT.STRING, "gptkit-test", None)]
    if any(f.name == "general.alignment" for f in fields):
        expected.append(("general.alignment", VT.UINT32, int(reader.alignment), None))
    expected += metadata
    assert [f.name for f in fields] == [e[0] for e in expected]
    out_meta = {}
    for field, (key, vtype, value, sub) in zip(fields, expected):
        assert field.types[0] == vtype, key
        if vtype == VT.ARRAY:
            assert VT(int(field.parts[3][0])) == sub, key
        got = read_back_value(field)
        assert got == value and type(got) == type(value), (key, got, value)
        if vtype == VT.ARRAY and sub in (VT.FLOAT32, VT.FLOAT64):
            assert [float_bits(v, sub) for v in got] == [float_bits(v, sub) for v in value], key
        out_meta[key] = expected_entry(vtype, value, sub)
    tensors = {}
    for t in reader.tensors:
        block_size, type_size = gguf.GGML_QUANT_SIZES[t.tensor_type]
        relative = int(t.field.parts[5][0])
        assert t.data_offset == reader.data_offset + relative
        assert relative % reader.alignment == 0
        tensors[t.name] = {
            "type": t.tensor_type.name, "type_id": int(t.tensor_type),
            "shape_ne": [int(v) for v in t.shape], "offset": relative,
            "n_elements": int(t.n_elements), "n_bytes": int(t.n_bytes),
            "block_size": block_size, "type_size": type_size, "made_by": sources[t.name],
        }
    return reader, {
        "version": int(reader.fields["GGUF.version"].parts[0][0]),
        "tensor_count": len(reader.tensors), "kv_count": len(fields),
        "alignment": int(reader.alignment), "data_offset": int(reader.data_offset),
        "file_size": path.stat().st_size, "metadata": out_meta, "tensors": tensors,
    }


def make_gguf():
    OUT.mkdir(exist_ok=True)
    info = {"gguf_py_version": gguf_version()}

    # quants.gguf
    x = source_matrix()
    encoded = {name: encode(name, x) for name in TYPES}
    tensors = [(f"{name.lower()}.weight", arr, raw) for name, (arr, raw, _) in encoded.items()]
    sources = {f"{name.lower()}.weight": how for name, (_, _, how) in encoded.items()}
    path = OUT / "quants.gguf"
    write_gguf(path, METADATA, tensors)
    reader, info["quants.gguf"] = describe(path, METADATA, sources)
    reference = {"source": x}
    by_name = {t.name: t for t in reader.tensors}
    for name, (arr, _, _) in encoded.items():
        t = by_name[f"{name.lower()}.weight"]
        assert t.tensor_type == QT[name] and [int(v) for v in t.shape] == [COLS, ROWS]
        raw = np.ascontiguousarray(t.data).view(np.uint8).reshape(ROWS, -1)
        assert raw.tobytes() == np.ascontiguousarray(arr).tobytes(), name  # file holds our bytes
        values = gguf.quants.dequantize(raw, QT[name]).astype(np.float32, copy=False).reshape(ROWS, COLS)
        mine = ggml_dequantize(name, raw)
        assert np.all(np.isfinite(values)), name
        assert values.view(np.uint32).tobytes() == mine.view(np.uint32).tobytes(), name  # bit exact
        if name not in RAW_K:  # sanity: quantization error is plausible
            assert np.abs(values - x).max() < 1.0, name
        reference[t.name] = np.ascontiguousarray(values)
    save_numpy(reference, str(OUT / "quants-reference.safetensors"))

    # aligned64.gguf: odd-sized tensors, so both the header and the first tensor need padding
    rng = np.random.default_rng(64)
    a = rng.normal(size=5).astype(np.float32)
    b = rng.normal(size=7).astype(np.float32)
    path = OUT / "aligned64.gguf"
    meta64 = [("test.note", VT.STRING, "alignment 64", None)]
    write_gguf(path, meta64, [("a", a, None), ("b", b, None)], alignment=64)
    reader, info["aligned64.gguf"] = describe(path, meta64, {"a": "values", "b": "values"})
    for t, v in zip(reader.tensors, (a, b)):
        assert t.data.tobytes() == v.tobytes()
        info["aligned64.gguf"]["tensors"][t.name]["values"] = [float(e) for e in v]
        info["aligned64.gguf"]["tensors"][t.name]["bits"] = [float_bits(e, VT.FLOAT32) for e in v]

    # nested-array.gguf
    path = OUT / "nested-array.gguf"
    write_gguf(path, NESTED, [])
    _, info["nested-array.gguf"] = describe(path, NESTED, {})

    (OUT / "metadata.json").write_text(json.dumps(info, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return ["gguf/quants.gguf", "gguf/aligned64.gguf", "gguf/nested-array.gguf",
            "gguf/quants-reference.safetensors", "gguf/metadata.json"]


def gguf_version():
    from importlib.metadata import version
    return version("gguf")


# ---------------------------------------------------------------------------------------------
# bfloat16 sharded Hugging Face checkpoints

COMMON = dict(vocab_size=96, hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=4,
              num_key_value_heads=2, max_position_embeddings=64, rms_norm_eps=1e-6, rope_theta=10000.0,
              tie_word_embeddings=False)
TOKENS = torch.tensor([[1, 5, 9, 33, 2, 95, 17], [0, 4, 4, 8, 70, 21, 3]], dtype=torch.int64)


def randomize(model, seed):
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, parameter in sorted(model.named_parameters()):
            noise = torch.randn(parameter.shape, generator=generator) * 0.2
            parameter.copy_(1 + noise if name.endswith("norm.weight") else noise)


def build(family):
    if family == "llama":
        model = LlamaForCausalLM(LlamaConfig(**COMMON, attention_bias=False, dtype="float32"))
    elif family == "mistral":
        model = MistralForCausalLM(MistralConfig(**COMMON, sliding_window=None, dtype="float32"))
    else:
        model = Qwen2ForCausalLM(Qwen2Config(**COMMON, use_sliding_window=False, dtype="float32"))
    randomize(model, seed={"llama": 17, "mistral": 18, "qwen2": 19}[family])
    return model.eval()


def make_checkpoints():
    written, reference = [], {}
    for family, cls in [("llama", LlamaForCausalLM), ("mistral", MistralForCausalLM), ("qwen2", Qwen2ForCausalLM)]:
        directory = ROOT / f"tiny-{family}-bf16"
        if directory.exists():
            for old in directory.iterdir():
                old.unlink()
        build(family).to(torch.bfloat16).save_pretrained(directory, max_shard_size="20KB")
        for extra in directory.iterdir():
            if extra.name != "config.json" and not extra.name.startswith("model"):
                extra.unlink()  # generation_config.json: not used by GPTKit
        index = json.loads((directory / "model.safetensors.index.json").read_text())
        shards = sorted(set(index["weight_map"].values()))
        assert 2 <= len(shards) <= 3, shards
        assert sorted(p.name for p in directory.iterdir()) == sorted(
            ["config.json", "model.safetensors.index.json", *shards])
        assert json.loads((directory / "config.json").read_text())["dtype"] == "bfloat16"
        model = cls.from_pretrained(directory, dtype=torch.float32).eval()
        assert all(p.dtype == torch.float32 for p in model.parameters())
        with torch.no_grad():
            logits = model(TOKENS).logits.float()
        reference[f"{family}.tokens"] = TOKENS.clone()
        reference[f"{family}.logits"] = logits.contiguous()
        written += [f"{directory.name}/{p.name}" for p in sorted(directory.iterdir())]
    save_torch(reference, str(ROOT / "tiny-bf16-reference.safetensors"))
    return written + ["tiny-bf16-reference.safetensors"]


def main():
    files = make_gguf() + make_checkpoints()
    sums = [f"{hashlib.sha256((ROOT / f).read_bytes()).hexdigest()}  {f}" for f in files]
    (ROOT / "SHA256SUMS-gguf").write_text("\n".join(sums) + "\n")
    total = sum((ROOT / f).stat().st_size for f in files)
    print(f"wrote {len(files)} files, {total} bytes")


if __name__ == "__main__":
    main()
