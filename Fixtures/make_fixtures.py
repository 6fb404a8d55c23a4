#!/usr/bin/env python3
"""Regenerate GPTKit's PyTorch reference fixtures.

Run from the repository root:

    python3 Fixtures/make_fixtures.py

Writes (see Fixtures/README.md for every tensor name, shape and convention):

    Fixtures/layers/<case>.safetensors        one file per layer case
    Fixtures/tiny-gpt2/{config.json,model.safetensors}
    Fixtures/tiny-gpt2-reference.safetensors  logits, loss and gradients of the tiny model
    Fixtures/tiny-gpt2-training.safetensors   10 AdamW steps of the tiny model
    Fixtures/SHA256SUMS                       sha256 of every generated file

Everything is float32, single-threaded, dropout 0 and seeded, so a re-run writes byte-identical
files. Each layer case draws from its own generator seeded by crc32(case name), so adding a case
never changes another. Every gradient `d_<name>` is d/d<name> of `(y * dy).sum()`, where `dy` is a
fixed random upstream gradient stored in the same file.

Size legend: B batch, T time, C channels, NH query heads, KVH key/value heads, HS head size,
V vocabulary.
"""

import hashlib
import math
import shutil
import zlib
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
import json
import struct

from safetensors.numpy import save as safetensors_bytes
from transformers import GPT2Config, GPT2LMHeadModel, LlamaConfig
from transformers.models.gpt2.modeling_gpt2 import GPT2Block
from transformers.models.llama.modeling_llama import (
    LlamaDecoderLayer,
    LlamaRMSNorm,
    LlamaRotaryEmbedding,
    apply_rotary_pos_emb,
)

FIXTURES = Path(__file__).resolve().parent
LAYERS = FIXTURES / "layers"
TINY_GPT2 = FIXTURES / "tiny-gpt2"

torch.set_num_threads(1)
torch.use_deterministic_algorithms(True)
torch.set_default_dtype(torch.float32)


# MARK: - Helpers


def generator(name: str) -> torch.Generator:
    """A generator seeded from the case name, so every case is independent of the others."""
    return torch.Generator().manual_seed(zlib.crc32(name.encode()))


def randn(g: torch.Generator, *shape: int, scale: float = 1.0, shift: float = 0.0) -> torch.Tensor:
    return torch.randn(*shape, generator=g) * scale + shift


def meta_string(value) -> str:
    """Metadata values are strings; numbers are plain decimal strings (1e-5 -> "0.00001")."""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return np.format_float_positional(value, trim="-")
    return str(value)


def to_numpy(t: torch.Tensor) -> np.ndarray:
    t = t.detach().contiguous()
    if t.dtype.is_floating_point:
        return t.to(torch.float32).numpy().copy()
    return t.to(torch.int32).numpy().copy()


def save(path: Path, tensors: dict, metadata: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    arrays = {name: to_numpy(t) for name, t in tensors.items()}
    meta = {k: meta_string(v) for k, v in metadata.items()}
    path.write_bytes(canonical_header(safetensors_bytes(arrays, metadata=meta)))


def canonical_header(data: bytes) -> bytes:
    """Sorts the `__metadata__` keys in a safetensors header, in place.

    The safetensors writer keeps metadata in a Rust HashMap, so its key order (and thus the
    file's bytes) changes from run to run. Reordering keeps the header's length, so the padding
    and the data offsets stay valid.
    """
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8: 8 + n])
    header["__metadata__"] = dict(sorted(header["__metadata__"].items()))
    text = json.dumps(header, separators=(",", ":")).encode()
    assert len(text) <= n, "canonical header must not grow"
    return data[:8] + text + b" " * (n - len(text)) + data[8 + n:]


def layer_case(name: str, g: torch.Generator, forward, leaves: dict, metadata: dict,
               constants: dict | None = None) -> None:
    """Runs `forward(**leaves)`, backpropagates a random `dy`, and saves everything.

    leaves: named tensors; float ones get a gradient `d_<name>`.
    constants: extra tensors stored as they are (e.g. integer ids, a reference table).
    """
    leaves = {k: v.detach().clone().requires_grad_(v.dtype.is_floating_point)
              for k, v in leaves.items()}
    y = forward(**leaves)
    dy = randn(g, *y.shape)
    (y * dy).sum().backward()
    tensors = {k: v for k, v in leaves.items()}
    tensors.update(constants or {})
    tensors["y"] = y
    tensors["dy"] = dy
    for k, v in leaves.items():
        if v.requires_grad:
            tensors["d_" + k] = v.grad
    save(LAYERS / f"{name}.safetensors", tensors, {"case": name, **metadata})


def assert_close(a: torch.Tensor, b: torch.Tensor, what: str, atol: float = 1e-5) -> None:
    err = (a.detach() - b.detach()).abs().max().item()
    if err > atol:
        raise AssertionError(f"{what}: max abs difference {err} > {atol}")


# MARK: - Layers in plain PyTorch


def layer_norm(x, weight, bias, eps):
    return F.layer_norm(x, (x.shape[-1],), weight, bias, eps)


def rms_norm(x, weight, eps):
    """Llama RMSNorm: x * rsqrt(mean(x^2) + eps) * weight, in float32."""
    x = x.to(torch.float32)
    variance = x.pow(2).mean(-1, keepdim=True)
    return weight * (x * torch.rsqrt(variance + eps))


def gelu_mlp(x, c_fc_w, c_fc_b, c_proj_w, c_proj_b):
    """GPT-2 MLP: c_proj(gelu_tanh(c_fc(x)))."""
    return F.linear(F.gelu(F.linear(x, c_fc_w, c_fc_b), approximate="tanh"), c_proj_w, c_proj_b)


def swiglu_mlp(x, w1, w3, w2):
    """Llama MLP: w2(silu(w1 x) * w3 x), no biases."""
    return F.linear(F.silu(F.linear(x, w1)) * F.linear(x, w3), w2)


def rope_cos_sin(head_size: int, theta: float, positions: torch.Tensor):
    """cos, sin [B, T, HS] from Hugging Face's LlamaRotaryEmbedding (default rope type)."""
    config = LlamaConfig(hidden_size=head_size, num_attention_heads=1, head_dim=head_size,
                         max_position_embeddings=64,
                         rope_parameters={"rope_type": "default", "rope_theta": theta})
    rotary = LlamaRotaryEmbedding(config)
    cos, sin = rotary(torch.zeros(1, dtype=torch.float32), positions)
    # Same thing written out: inv_freq = 1/theta^(arange(0,HS,2)/HS), emb = cat(freqs, freqs).
    inv_freq = 1.0 / (theta ** (torch.arange(0, head_size, 2, dtype=torch.float) / head_size))
    freqs = positions[..., None].float() * inv_freq
    emb = torch.cat((freqs, freqs), dim=-1)
    assert torch.equal(cos, emb.cos()) and torch.equal(sin, emb.sin()), "RoPE tables differ"
    return cos, sin


def rope(x, cos, sin):
    """x: [B, T, H, HS]; HF Llama apply_rotary_pos_emb (x*cos + rotate_half(x)*sin)."""
    return apply_rotary_pos_emb(x, x, cos, sin, unsqueeze_dim=2)[0]


def positions_for(B: int, T: int, offset: int) -> torch.Tensor:
    return torch.arange(offset, offset + T).unsqueeze(0).expand(B, T)


def attention(x, c_attn_w, c_attn_b, c_proj_w, c_proj_b, NH: int, KVH: int,
              theta: float | None = None, offset: int = 0):
    """Causal self-attention with grouped KV heads and optional RoPE.

    c_attn_w: [(NH + 2*KVH)*HS, C], rows = NH query heads, then KVH key heads, then KVH value
    heads, each head HS contiguous rows. Query head h reads kv head h // (NH / KVH).
    """
    B, T, C = x.shape
    HS = c_attn_w.shape[0] // (NH + 2 * KVH)
    qkv = F.linear(x, c_attn_w, c_attn_b)
    q, k, v = qkv.split([NH * HS, KVH * HS, KVH * HS], dim=-1)
    q = q.view(B, T, NH, HS)
    k = k.view(B, T, KVH, HS)
    v = v.view(B, T, KVH, HS)
    if theta is not None:
        cos, sin = rope_cos_sin(HS, theta, positions_for(B, T, offset))
        q, k = rope(q, cos, sin), rope(k, cos, sin)
    q, k, v = (t.transpose(1, 2) for t in (q, k, v))  # [B, heads, T, HS]
    k = k.repeat_interleave(NH // KVH, dim=1)
    v = v.repeat_interleave(NH // KVH, dim=1)
    y = F.scaled_dot_product_attention(q, k, v, is_causal=True)  # scale 1/sqrt(HS)
    y = y.transpose(1, 2).reshape(B, T, NH * HS)
    return F.linear(y, c_proj_w, c_proj_b)


# MARK: - Layer cases

B, T, C = 2, 7, 24


def make_linear_cases():
    for name, shape, out, bias in [("linear_bias", (B, T, 24), 20, True),
                                   ("linear_nobias", (B, T, 24), 20, False),
                                   ("linear_odd", (1, 3, 17), 65, True)]:
        g = generator(name)
        leaves = {"x": randn(g, *shape), "weight": randn(g, out, shape[-1], scale=0.3)}
        if bias:
            leaves["bias"] = randn(g, out, scale=0.3)
        layer_case(name, g, lambda x, weight, bias=None: F.linear(x, weight, bias), leaves,
                   {"in_features": shape[-1], "out_features": out, "bias": bias})


def make_embedding_case():
    name, V = "embedding", 11
    g = generator(name)
    ids = torch.randint(0, V, (B, T), generator=g, dtype=torch.int64)
    assert ids.unique().numel() < ids.numel(), "ids must repeat so scatter-add is exercised"
    ids_const = ids.clone()
    layer_case(name, g, lambda weight: weight[ids_const], {"weight": randn(g, V, C, scale=0.3)},
               {"vocab_size": V, "channels": C}, constants={"ids": ids.to(torch.int32)})


def make_position_cases():
    name = "learned_position"
    g = generator(name)
    layer_case(name, g, lambda x, wpe: x + wpe[: x.shape[1]],
               {"x": randn(g, B, T, C), "wpe": randn(g, 16, C, scale=0.3)},
               {"max_positions": 16, "channels": C})

    # "Attention Is All You Need" table, computed in float64 and rounded to float32 once.
    name = "sinusoidal"
    g = generator(name)
    pos = torch.arange(T, dtype=torch.float64)[:, None]
    i2 = torch.arange(0, C, 2, dtype=torch.float64)[None, :]
    angle = pos / (10000.0 ** (i2 / C))
    table = torch.zeros(T, C, dtype=torch.float64)
    table[:, 0::2] = torch.sin(angle)
    table[:, 1::2] = torch.cos(angle)
    table = table.to(torch.float32)
    layer_case(name, g, lambda x: x + table, {"x": randn(g, B, T, C)},
               {"base": 10000.0, "channels": C}, constants={"table": table})

    for offset in (0, 5):
        name = f"rope_offset{offset}"
        g = generator(name)
        H, HS, theta = 3, 8, 10000.0
        cos, sin = rope_cos_sin(HS, theta, positions_for(B, T, offset))
        layer_case(name, g, lambda x: rope(x, cos, sin), {"x": randn(g, B, T, H, HS)},
                   {"theta": theta, "position_offset": offset, "heads": H, "head_size": HS})


def make_norm_cases():
    eps = 1e-5
    for name, constant_rows in [("layernorm", False), ("layernorm_constant_rows", True)]:
        g = generator(name)
        x = randn(g, B, T, C)
        if constant_rows:
            # Dyadic values: the mean is exact in float32, so x - mean is exactly 0 there.
            x[0, 2, :] = 0.75
            x[1, 5, :] = -1.25
        leaves = {"x": x, "weight": randn(g, C, scale=0.1, shift=1.0),
                  "bias": randn(g, C, scale=0.1)}
        meta = {"eps": eps, "channels": C}
        if constant_rows:
            meta["constant_rows"] = "[0,2]=0.75;[1,5]=-1.25"
        layer_case(name, g, lambda x, weight, bias: layer_norm(x, weight, bias, eps), leaves, meta)

    name = "rmsnorm"
    g = generator(name)
    leaves = {"x": randn(g, B, T, C), "weight": randn(g, C, scale=0.1, shift=1.0)}
    reference = LlamaRMSNorm(C, eps=eps)
    with torch.no_grad():
        reference.weight.copy_(leaves["weight"])
        assert_close(reference(leaves["x"]), rms_norm(leaves["x"], leaves["weight"], eps),
                     "rmsnorm vs LlamaRMSNorm", atol=0)
    layer_case(name, g, lambda x, weight: rms_norm(x, weight, eps), leaves,
               {"eps": eps, "channels": C})


def make_ffn_cases():
    name = "ffn_gelu"
    g = generator(name)
    leaves = {"x": randn(g, B, T, C),
              "c_fc.weight": randn(g, 4 * C, C, scale=0.3), "c_fc.bias": randn(g, 4 * C, scale=0.3),
              "c_proj.weight": randn(g, C, 4 * C, scale=0.3), "c_proj.bias": randn(g, C, scale=0.3)}
    layer_case(name, g, lambda **p: gelu_mlp(p["x"], p["c_fc.weight"], p["c_fc.bias"],
                                             p["c_proj.weight"], p["c_proj.bias"]),
               leaves, {"channels": C, "hidden": 4 * C, "activation": "gelu_tanh"})

    name, hidden = "ffn_swiglu", 40
    g = generator(name)
    leaves = {"x": randn(g, B, T, C), "w1.weight": randn(g, hidden, C, scale=0.3),
              "w3.weight": randn(g, hidden, C, scale=0.3),
              "w2.weight": randn(g, C, hidden, scale=0.3)}
    layer_case(name, g, lambda **p: swiglu_mlp(p["x"], p["w1.weight"], p["w3.weight"],
                                               p["w2.weight"]),
               leaves, {"channels": C, "hidden": hidden, "activation": "silu"})


def attention_leaves(g, NH, KVH, HS, bias, prefix=""):
    leaves = {prefix + "c_attn.weight": randn(g, (NH + 2 * KVH) * HS, C, scale=0.3)}
    if bias:
        leaves[prefix + "c_attn.bias"] = randn(g, (NH + 2 * KVH) * HS, scale=0.3)
    leaves[prefix + "c_proj.weight"] = randn(g, C, NH * HS, scale=0.3)
    if bias:
        leaves[prefix + "c_proj.bias"] = randn(g, C, scale=0.3)
    return leaves


def make_attention_cases():
    for name, NH, KVH, bias, theta in [("attn_mha", 3, 3, True, None),
                                       ("attn_mqa", 3, 1, True, None),
                                       ("attn_gqa", 4, 2, True, None),
                                       ("attn_gqa_rope", 4, 2, False, 10000.0)]:
        HS = C // NH
        g = generator(name)
        leaves = {"x": randn(g, B, T, C), **attention_leaves(g, NH, KVH, HS, bias)}

        def forward(NH=NH, KVH=KVH, theta=theta, **p):
            return attention(p["x"], p["c_attn.weight"], p.get("c_attn.bias"),
                             p["c_proj.weight"], p.get("c_proj.bias"), NH, KVH, theta, 0)

        layer_case(name, g, forward, leaves,
                   {"channels": C, "heads": NH, "kv_heads": KVH, "head_size": HS,
                    "bias": bias, "rope": theta is not None, "theta": theta or 10000.0,
                    "position_offset": 0, "causal": True})


def gpt2_block(p, NH, eps):
    h = p["x"] + attention(layer_norm(p["x"], p["ln_1.weight"], p["ln_1.bias"], eps),
                           p["attn.c_attn.weight"], p["attn.c_attn.bias"],
                           p["attn.c_proj.weight"], p["attn.c_proj.bias"], NH, NH)
    return h + gelu_mlp(layer_norm(h, p["ln_2.weight"], p["ln_2.bias"], eps),
                        p["mlp.c_fc.weight"], p["mlp.c_fc.bias"],
                        p["mlp.c_proj.weight"], p["mlp.c_proj.bias"])


def llama_block(p, NH, KVH, eps, theta):
    h = p["x"] + attention(rms_norm(p["x"], p["attention_norm.weight"], eps),
                           p["attn.c_attn.weight"], None, p["attn.c_proj.weight"], None,
                           NH, KVH, theta, 0)
    return h + swiglu_mlp(rms_norm(h, p["ffn_norm.weight"], eps),
                          p["mlp.w1.weight"], p["mlp.w3.weight"], p["mlp.w2.weight"])


def causal_mask():
    """Additive [B, 1, T, T] mask for HF layers run standalone (the model usually builds it)."""
    return torch.full((T, T), float("-inf")).triu(1)[None, None].expand(B, 1, T, T)


def check_gpt2_block_against_hf(p, NH, eps):
    """Our pre-norm block must equal HF's GPT2Block (Conv1D weights are our weights transposed)."""
    config = GPT2Config(n_embd=C, n_head=NH, n_positions=32, layer_norm_epsilon=eps,
                        activation_function="gelu_new", resid_pdrop=0, embd_pdrop=0,
                        attn_pdrop=0)
    config._attn_implementation = "eager"
    block = GPT2Block(config, layer_idx=0).eval()
    state = {k: (v.T if k.endswith("weight") and v.dim() == 2 else v)
             for k, v in p.items() if k != "x"}
    block.load_state_dict(state, strict=False)
    with torch.no_grad():
        out = block(p["x"], attention_mask=causal_mask())
        out = out[0] if isinstance(out, tuple) else out
        assert_close(out, gpt2_block(p, NH, eps), "block_gpt2 vs HF GPT2Block")


def check_llama_block_against_hf(p, NH, KVH, eps, theta, hidden):
    HS = C // NH
    config = LlamaConfig(hidden_size=C, intermediate_size=hidden, num_attention_heads=NH,
                         num_key_value_heads=KVH, rms_norm_eps=eps, attention_bias=False,
                         mlp_bias=False, max_position_embeddings=64,
                         rope_parameters={"rope_type": "default", "rope_theta": theta})
    config._attn_implementation = "eager"
    layer = LlamaDecoderLayer(config, layer_idx=0).eval()
    w = p["attn.c_attn.weight"]
    state = {"input_layernorm.weight": p["attention_norm.weight"],
             "self_attn.q_proj.weight": w[: NH * HS],
             "self_attn.k_proj.weight": w[NH * HS: (NH + KVH) * HS],
             "self_attn.v_proj.weight": w[(NH + KVH) * HS:],
             "self_attn.o_proj.weight": p["attn.c_proj.weight"],
             "post_attention_layernorm.weight": p["ffn_norm.weight"],
             "mlp.gate_proj.weight": p["mlp.w1.weight"],
             "mlp.up_proj.weight": p["mlp.w3.weight"],
             "mlp.down_proj.weight": p["mlp.w2.weight"]}
    layer.load_state_dict(state, strict=True)
    positions = positions_for(B, T, 0)
    cos, sin = rope_cos_sin(HS, theta, positions)
    with torch.no_grad():
        out = layer(p["x"], attention_mask=causal_mask(), position_ids=positions,
                    position_embeddings=(cos, sin))
        out = out[0] if isinstance(out, tuple) else out
        assert_close(out, llama_block(p, NH, KVH, eps, theta), "block_llama vs HF LlamaDecoderLayer")


def make_block_cases():
    eps = 1e-5
    name, NH = "block_gpt2", 3
    g = generator(name)
    leaves = {"x": randn(g, B, T, C),
              "ln_1.weight": randn(g, C, scale=0.1, shift=1.0), "ln_1.bias": randn(g, C, scale=0.1),
              **attention_leaves(g, NH, NH, C // NH, True, prefix="attn."),
              "ln_2.weight": randn(g, C, scale=0.1, shift=1.0), "ln_2.bias": randn(g, C, scale=0.1),
              "mlp.c_fc.weight": randn(g, 4 * C, C, scale=0.3),
              "mlp.c_fc.bias": randn(g, 4 * C, scale=0.3),
              "mlp.c_proj.weight": randn(g, C, 4 * C, scale=0.3),
              "mlp.c_proj.bias": randn(g, C, scale=0.3)}
    check_gpt2_block_against_hf(leaves, NH, eps)
    layer_case(name, g, lambda **p: gpt2_block(p, NH, eps), leaves,
               {"channels": C, "heads": NH, "kv_heads": NH, "head_size": C // NH, "eps": eps,
                "hidden": 4 * C, "norm": "layernorm", "activation": "gelu_tanh", "rope": False})

    name, NH, KVH, hidden, theta = "block_llama", 4, 2, 40, 10000.0
    g = generator(name)
    leaves = {"x": randn(g, B, T, C),
              "attention_norm.weight": randn(g, C, scale=0.1, shift=1.0),
              **attention_leaves(g, NH, KVH, C // NH, False, prefix="attn."),
              "ffn_norm.weight": randn(g, C, scale=0.1, shift=1.0),
              "mlp.w1.weight": randn(g, hidden, C, scale=0.3),
              "mlp.w3.weight": randn(g, hidden, C, scale=0.3),
              "mlp.w2.weight": randn(g, C, hidden, scale=0.3)}
    check_llama_block_against_hf(leaves, NH, KVH, eps, theta, hidden)
    layer_case(name, g, lambda **p: llama_block(p, NH, KVH, eps, theta), leaves,
               {"channels": C, "heads": NH, "kv_heads": KVH, "head_size": C // NH, "eps": eps,
                "hidden": hidden, "norm": "rmsnorm", "activation": "silu", "rope": True,
                "theta": theta, "position_offset": 0})


# MARK: - Tiny Hugging Face GPT-2

GPT2_SETTINGS = dict(vocab_size=96, n_positions=32, n_embd=24, n_layer=2, n_head=3,
                     resid_pdrop=0.0, embd_pdrop=0.0, attn_pdrop=0.0, layer_norm_epsilon=1e-5,
                     activation_function="gelu_new")
MODEL_SEED = 1337


def build_tiny_gpt2() -> None:
    torch.manual_seed(MODEL_SEED)
    model = GPT2LMHeadModel(GPT2Config(**GPT2_SETTINGS))
    # HF init leaves biases at 0 and LayerNorm at 1/0: nudge them so they are not trivial.
    g = generator("tiny-gpt2-perturb")
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith(".bias") or ".ln_" in name:
                p.add_(randn(g, *p.shape, scale=0.02))
    if TINY_GPT2.exists():
        shutil.rmtree(TINY_GPT2)
    model.save_pretrained(str(TINY_GPT2), safe_serialization=True)
    (TINY_GPT2 / "generation_config.json").unlink(missing_ok=True)


def load_tiny_gpt2() -> GPT2LMHeadModel:
    model = GPT2LMHeadModel.from_pretrained(str(TINY_GPT2), dtype=torch.float32)
    assert model.lm_head.weight is model.transformer.wte.weight, "embeddings must be tied"
    names = [n for n, _ in model.named_parameters()]
    assert "lm_head.weight" not in names
    return model


def cross_entropy(logits, targets):
    return F.cross_entropy(logits.view(-1, logits.shape[-1]), targets.reshape(-1).long(),
                           ignore_index=-100)


def plain_gpt2_logits(state: dict, input_ids: torch.Tensor) -> torch.Tensor:
    """The tiny GPT-2 written with this file's layers (Conv1D weights [in, out] transposed)."""
    eps, NH = GPT2_SETTINGS["layer_norm_epsilon"], GPT2_SETTINGS["n_head"]
    T_ = input_ids.shape[1]
    x = state["transformer.wte.weight"][input_ids] + state["transformer.wpe.weight"][:T_]
    for layer in range(GPT2_SETTINGS["n_layer"]):
        prefix = f"transformer.h.{layer}."
        p = {k[len(prefix):]: (v.T if k.endswith("weight") and v.dim() == 2 else v)
             for k, v in state.items() if k.startswith(prefix)}
        x = gpt2_block({"x": x, **p}, NH, eps)
    x = layer_norm(x, state["transformer.ln_f.weight"], state["transformer.ln_f.bias"], eps)
    return x @ state["transformer.wte.weight"].T  # tied lm_head


def make_gpt2_reference() -> None:
    model = load_tiny_gpt2().train()
    g = generator("tiny-gpt2-reference")
    sequence = torch.randint(0, GPT2_SETTINGS["vocab_size"], (2, 9), generator=g)
    input_ids, targets = sequence[:, :8], sequence[:, 1:]
    targets_masked = targets.clone()
    targets_masked[0, :3] = -100   # ignored prefix (like a prompt)
    targets_masked[1, 6:] = -100   # ignored suffix (like padding)

    tensors = {"input_ids": input_ids.to(torch.int32), "targets": targets.to(torch.int32),
               "targets_masked": targets_masked.to(torch.int32)}
    for suffix, tgt in [("", targets), ("_masked", targets_masked)]:
        model.zero_grad(set_to_none=True)
        logits = model(input_ids).logits
        loss = cross_entropy(logits, tgt)
        loss.backward()
        if suffix == "":
            tensors["logits"] = logits
            state = {k: v.detach() for k, v in model.named_parameters()}
            assert_close(plain_gpt2_logits(state, input_ids), logits, "plain GPT-2 vs HF logits")
        tensors["loss" + suffix] = loss.reshape(1)
        for name, p in model.named_parameters():
            tensors[f"grad{suffix}.{name}"] = p.grad
    meta = {k: v for k, v in GPT2_SETTINGS.items()}
    meta.update(ignore_index=-100, loss="mean cross-entropy over non-ignored positions",
                tied="lm_head.weight = transformer.wte.weight; combined gradient stored once",
                masked_positions="[0,0:3] and [1,6:8]")
    save(FIXTURES / "tiny-gpt2-reference.safetensors", tensors, meta)


# MARK: - Training (nanoGPT schedule, AdamW, clipping)

TRAIN = dict(steps=10, max_lr=1e-3, min_lr=1e-4, warmup_iters=3, lr_decay_iters=10,
             beta1=0.9, beta2=0.95, adam_eps=1e-8, weight_decay=0.1, grad_clip=1.0)


def get_lr(it: int) -> float:
    """nanoGPT's warmup + cosine schedule."""
    if it < TRAIN["warmup_iters"]:
        return TRAIN["max_lr"] * (it + 1) / (TRAIN["warmup_iters"] + 1)
    if it > TRAIN["lr_decay_iters"]:
        return TRAIN["min_lr"]
    ratio = (it - TRAIN["warmup_iters"]) / (TRAIN["lr_decay_iters"] - TRAIN["warmup_iters"])
    coeff = 0.5 * (1.0 + math.cos(math.pi * ratio))
    return TRAIN["min_lr"] + coeff * (TRAIN["max_lr"] - TRAIN["min_lr"])


def make_gpt2_training() -> None:
    model = load_tiny_gpt2().train()
    params = [p for _, p in model.named_parameters()]
    decay = [p for p in params if p.dim() >= 2]
    no_decay = [p for p in params if p.dim() < 2]
    optimizer = torch.optim.AdamW(
        [{"params": decay, "weight_decay": TRAIN["weight_decay"]},
         {"params": no_decay, "weight_decay": 0.0}],
        lr=TRAIN["max_lr"], betas=(TRAIN["beta1"], TRAIN["beta2"]), eps=TRAIN["adam_eps"],
        foreach=False, fused=False)

    g = generator("tiny-gpt2-training")
    V, steps = GPT2_SETTINGS["vocab_size"], TRAIN["steps"]
    tensors, losses, lrs, norms = {}, [], [], []
    for k in range(steps):
        sequence = torch.randint(0, V, (2, 9), generator=g)
        inputs, targets = sequence[:, :8], sequence[:, 1:]
        tensors[f"batch.{k}.inputs"] = inputs.to(torch.int32)
        tensors[f"batch.{k}.targets"] = targets.to(torch.int32)

        lr = get_lr(k)
        for group in optimizer.param_groups:
            group["lr"] = lr
        optimizer.zero_grad(set_to_none=True)
        loss = cross_entropy(model(inputs).logits, targets)
        loss.backward()
        norm = torch.nn.utils.clip_grad_norm_(params, TRAIN["grad_clip"], foreach=False)
        optimizer.step()
        losses.append(loss.item())
        lrs.append(lr)
        norms.append(norm.item())
        if k == 0:
            for name, p in model.named_parameters():
                tensors["step1." + name] = p.detach().clone()

    tensors["losses"] = torch.tensor(losses)
    tensors["lrs"] = torch.tensor(lrs)
    tensors["grad_norms"] = torch.tensor(norms)
    for name, p in model.named_parameters():
        tensors["final." + name] = p
    check_training_replay(tensors)
    meta = dict(TRAIN)
    meta.update(optimizer="torch.optim.AdamW foreach=False fused=False",
                weight_decay_on="parameters with dim >= 2 (includes wte, wpe)",
                schedule="nanoGPT get_lr", batch_size=2, sequence_length=8,
                loss="mean cross-entropy", clip="torch.nn.utils.clip_grad_norm_ (L2, total)")
    save(FIXTURES / "tiny-gpt2-training.safetensors", tensors, meta)


def check_training_replay(stored: dict) -> None:
    """Replays the stored run with AdamW and clipping written out by hand (the formulas GPTKit
    implements) and checks it lands on the stored parameters."""
    model = load_tiny_gpt2().train()
    params = dict(model.named_parameters())
    m = {k: torch.zeros_like(p) for k, p in params.items()}
    v = {k: torch.zeros_like(p) for k, p in params.items()}
    b1, b2, eps = TRAIN["beta1"], TRAIN["beta2"], TRAIN["adam_eps"]
    for k in range(TRAIN["steps"]):
        model.zero_grad(set_to_none=True)
        logits = model(stored[f"batch.{k}.inputs"].long()).logits
        cross_entropy(logits, stored[f"batch.{k}.targets"]).backward()
        with torch.no_grad():
            # Total L2 norm over all gradients; scale by max_norm / (norm + 1e-6) when above 1.
            norm = torch.stack([p.grad.norm() for p in params.values()]).norm()
            scale = min(1.0, TRAIN["grad_clip"] / (norm.item() + 1e-6))
            lr, t = get_lr(k), k + 1
            for name, p in params.items():
                grad = p.grad * scale
                if p.dim() >= 2:
                    p.mul_(1 - lr * TRAIN["weight_decay"])  # decoupled weight decay first
                m[name].mul_(b1).add_(grad, alpha=1 - b1)
                v[name].mul_(b2).addcmul_(grad, grad, value=1 - b2)
                denom = (v[name].sqrt() / math.sqrt(1 - b2 ** t)).add_(eps)
                p.addcdiv_(m[name], denom, value=-lr / (1 - b1 ** t))
        assert abs(norm.item() - stored["grad_norms"][k].item()) < 1e-5, "grad norm replay"
    # Not bit-exact (torch orders some float ops differently); about 1e-6 after 10 steps.
    for name, p in params.items():
        assert_close(p, stored["final." + name], f"AdamW replay {name}", atol=1e-5)


# MARK: - Main


def write_checksums() -> None:
    files = sorted(p for p in FIXTURES.rglob("*")
                   if p.is_file() and p.suffix in {".safetensors", ".json"})
    lines = []
    for p in files:
        digest = hashlib.sha256(p.read_bytes()).hexdigest()
        lines.append(f"{digest}  {p.relative_to(FIXTURES)}")
    (FIXTURES / "SHA256SUMS").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


def main() -> None:
    if LAYERS.exists():
        shutil.rmtree(LAYERS)
    make_linear_cases()
    make_embedding_case()
    make_position_cases()
    make_norm_cases()
    make_ffn_cases()
    make_attention_cases()
    make_block_cases()
    build_tiny_gpt2()
    make_gpt2_reference()
    make_gpt2_training()
    write_checksums()


if __name__ == "__main__":
    main()
