#!/usr/bin/env python3
"""llama.cpp reference for the SmolLM2 GGUF: greedy replies and logits from llama.cpp itself (through
llama-cpp-python) running the shared SmolLM2-135M-Instruct Q4_1 file on its quantized weights, for the
same 5 chat conversations and prompt token ids as Fixtures/smollm2/cases.json (transformers' reference
on the dequantized float32 weights), with the agreement between the two.

Why: transformers gives what the model computes in float32; llama.cpp gives what a quantized engine
actually outputs for the same file. GPTKit's stored-format kernels (Q4_1 / Q8_0 weights dotted with
8-bit activation blocks) do what llama.cpp does, so their logits should sit at llama.cpp's distance
from the float32 reference, and a greedy reply that parts from transformers' can be checked against
llama.cpp's.

Run from the repository root (needs llama-cpp-python, numpy, safetensors, tokenizers; reads
../shared/data/smollm2-135m-instruct/SmolLM2-135M-Instruct.Q4_1.gguf, never copied here, and refuses to
run if its sha256 changed; reads Fixtures/smollm2/cases.json, logits.safetensors and tokenizer.json,
written by make_smollm2_fixtures.py; ~35 s on one core; writes a ~540 MB float32 GGUF to a temporary
directory for the control run below and deletes it):

    python3 Fixtures/make_llamacpp_fixtures.py

Writes (sha256 of both in Fixtures/SHA256SUMS-llamacpp)
    Fixtures/llamacpp/smollm2-q4_1.json      per conversation: prompt ids, llama.cpp's greedy ids, text,
                                             stop reason, per-step top1-top2 logit gap, agreement with
                                             transformers' reply, logit differences (see below)
    Fixtures/llamacpp/smollm2-q4_1-logits.safetensors
                                             "conv<i>.logits" F16 [2, 49152], i = 0..4: row 0 = the
                                             logits at the last prompt position (predicting the first
                                             reply token), row 1 = at the first generated position
                                             (after feeding reply token 0, predicting token 1).
                                             Stored as float16 to halve the file (~1 MB instead of 2):
                                             llama.cpp's float32 logits rounded to nearest, |error| <=
                                             2^-7 for |logit| < 32, 2^-6 below 64 (the JSON gives the
                                             largest per conversation, <= 0.016, and each row's top 10
                                             ids with their exact float32 values)

How (llama-cpp-python's Llama, low-level calls, no sampler):
    llm = Llama(model_path, n_ctx=2048, n_batch=512, n_ubatch=512, n_threads=1, n_threads_batch=1,
                logits_all=False, seed=0, verbose=False)    (KV cache F16, flash attention off: defaults)
    llm.reset(); llm.eval(prompt_ids)   -- the prompt ids of Fixtures/smollm2/cases.json exactly
                                           (transformers' tokenization of its chat-template rendering;
                                           the script checks llama.cpp tokenizes the prompt text,
                                           special=True, to the same ids), one ubatch, no BOS added
    logits = llama_get_logits_ith(ctx, -1) (float32 [49152]); next = argmax (numpy: first maximum)
    stop when next is end-of-generation (llama_vocab_is_eog: 2 <|im_end|>, which is also EOS; llama.cpp
    also counts 0 <|endoftext|> and 4 <reponame> by their text, none of which a reply here produced)
    -- kept as the last id, as transformers' reply keeps it -- or after 64 ids; else llm.eval([next]).
    logits_all=True gives bit-identical rows (the script checks every conversation's last-prompt row).
    The text is llm.detokenize(ids, special=True) decoded as UTF-8 (errors="replace"); the script
    checks it equals tokenizers' decode of the same ids with Fixtures/smollm2/tokenizer.json.
    OMP_NUM_THREADS=1 is set before llama_cpp is imported. The results should not depend on the
    thread count (checked once: conversation 0's last-prompt logits with 2 threads, bit-identical).

Against transformers (Fixtures/smollm2: greedy, max_new_tokens 48, float32 logits at the last prompt
position): common_prefix = how many leading ids llama.cpp's reply shares with transformers' (over at
most 48 ids), first_difference = that index or null; logits_vs_transformers = max |llama.cpp -
transformers|, that divided by max |transformers logit|, mean and standard deviation of the
difference (a constant shift changes no probability), whether the argmax agrees, and how many of
the top 10 ids are shared.

llama.cpp computes with its own quantized kernels: the activations are quantized to 8-bit blocks
(Q8_1 for the Q4_1 matrices, Q8_0 for the Q8_0 token embedding used as the tied output matrix) and
dotted in integers; K and V are stored as F16. So its logits differ from the dequantized float32
reference by small amounts -- here 0.54-1.15 at most, on logits of magnitude ~25-35 (standard
deviation of the difference 0.11-0.16) -- and greedy replies part wherever the top two are that
close: conversation 0 at its first id (transformers' gap 0.08: llama.cpp answers "L'Étoile, la
Marseillaise, ..." instead of "The capital of France is Paris."), the others after 13, 5, 48 (all
compared) and 21 ids. Two control measurements (in the JSON, not in the logits file) show where
the difference comes from:
    f32_control: the same file requantized by llama.cpp itself to all-F32 (llama_model_quantize,
        LLAMA_FTYPE_ALL_F32, allow_requantize: the exact dequantized weights) and run the same way: its
        last-prompt logits are within 0.025 of transformers' and its greedy replies equal all of
        transformers' ids (8, 48, 21, 48, 48) -- so the model and the prompt are the same, and the
        ~1 logit is the 8-bit activation rounding.
    ubatch_sensitivity: the Q4_1 model with the prompt fed one id at a time (ubatches of 1 instead of
        one ubatch of the whole prompt): its last-prompt logits move by 0.56-1.25, as much as from
        float32 (the argmax stays). llama.cpp picks different CPU kernels (or orders of summation)
        by the number of rows in a ubatch (conversation 0: ubatches of 1, of 2-4 and of >= 8 gave
        three different rows), and tiny float differences flip the rounding of 8-bit activation
        blocks, which then propagates through 30 layers. The F32 model moves by <= 0.016 under the
        same change. So
        llama.cpp's quantized logits are themselves only reproducible to ~1 unless every kernel is
        the same: compare other quantized implementations with a tolerance of that order (or
        against f32_control / transformers), not bit for bit.

Versions: llama-cpp-python 0.3.36 (llama.cpp 0.5.0-dev, ggml 0.25.3 at commit 0c1e570, built from
source with GGML_NATIVE on an AVX2/FMA/F16C x86-64 CPU: llama_print_system_info() is in the JSON; a
build for another CPU -- AVX-512, ARM -- may pick other kernels and give other logits), numpy,
safetensors, tokenizers (in the JSON). Runs give the same SHA256SUMS-llamacpp (checked: two runs,
with different PYTHONHASHSEEDs).
"""

import os

os.environ["OMP_NUM_THREADS"] = "1"
os.environ["TOKENIZERS_PARALLELISM"] = "false"

import ctypes  # noqa: E402
import hashlib  # noqa: E402
import importlib.metadata  # noqa: E402
import json  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
from pathlib import Path  # noqa: E402

import llama_cpp  # noqa: E402
import numpy as np  # noqa: E402
import safetensors  # noqa: E402
import tokenizers  # noqa: E402
from safetensors.numpy import load_file, save_file  # noqa: E402

ROOT = Path(__file__).resolve().parent  # Fixtures/
MODEL = ROOT.parent.parent / "shared" / "data" / "smollm2-135m-instruct" / "SmolLM2-135M-Instruct.Q4_1.gguf"
MODEL_SHA256 = "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53"
SMOLLM2 = ROOT / "smollm2"
OUT = ROOT / "llamacpp"
SUMS = ROOT / "SHA256SUMS-llamacpp"
MAX_NEW_TOKENS = 64
SETTINGS = dict(n_ctx=2048, n_batch=512, n_ubatch=512, n_threads=1, n_threads_batch=1, seed=0)


def sha256(path):
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def to_json(value, depth=0):
    """json.dumps(sort_keys=True, ensure_ascii=False, indent=1), except that a list holding no list
    or dict (token ids, gaps) stays on one line (as in make_sentencepiece_fixtures.py)."""
    if isinstance(value, dict) and value:
        items = [f"{json.dumps(str(k), ensure_ascii=False)}: {to_json(value[k], depth + 1)}" for k in sorted(value)]
    elif isinstance(value, list) and any(isinstance(v, (list, dict)) for v in value):
        items = [to_json(v, depth + 1) for v in value]
    else:
        return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(", ", ": "))
    pad = "\n" + " " * (depth + 1)
    brackets = "{}" if isinstance(value, dict) else "[]"
    return brackets[0] + pad + ("," + pad).join(items) + "\n" + " " * depth + brackets[1]


def versions():
    ggml = ctypes.CDLL(str(Path(llama_cpp.__file__).parent / "lib" / "libggml-base.so"))
    ggml.ggml_version.restype = ctypes.c_char_p
    ggml.ggml_commit.restype = ctypes.c_char_p
    return {"python": sys.version.split()[0], "llama_cpp_python": importlib.metadata.version("llama_cpp_python"),
            "llama_cpp (llama_version())": llama_cpp.llama_version().decode(),
            "ggml (ggml_version(), ggml_commit())": f"{ggml.ggml_version().decode()} {ggml.ggml_commit().decode()}",
            "llama_print_system_info()": llama_cpp.llama_print_system_info().decode().strip(),
            "numpy": np.__version__, "safetensors": safetensors.__version__, "tokenizers": tokenizers.__version__}


class Engine:
    def __init__(self, path, **overrides):
        self.llm = llama_cpp.Llama(model_path=str(path), verbose=False, **{**SETTINGS, **overrides})
        self.vocab = self.llm._model.vocab
        self.n_vocab = self.llm.n_vocab()

    def logits(self):
        """The float32 logits of the last evaluated position."""
        row = np.ctypeslib.as_array(self.llm._ctx.get_logits_ith(-1), shape=(self.n_vocab,))
        return np.array(row, dtype=np.float32, copy=True)

    def prompt(self, ids, one_at_a_time=False):
        self.llm.reset()
        if one_at_a_time:
            for token in ids:
                self.llm.eval([token])
        else:
            self.llm.eval(ids)
        return self.logits()

    def greedy(self, prompt_ids, keep_rows=2):
        """Greedy decoding: argmax of the raw logits, no sampler. Returns the ids, the first `keep_rows`
        logit rows (last prompt position, then each generated position) and the top1-top2 gaps."""
        row = self.prompt(prompt_ids)
        ids, rows, gaps = [], [row], []
        while True:
            top2 = np.argsort(-row, kind="stable")[:2]
            token = int(np.argmax(row))
            assert token == int(top2[0])
            gaps.append(round(float(row[top2[0]] - row[top2[1]]), 4))
            ids.append(token)
            if llama_cpp.llama_vocab_is_eog(self.vocab, token) or len(ids) == MAX_NEW_TOKENS:
                break
            self.llm.eval([token])
            row = self.logits()
            if len(rows) < keep_rows:
                rows.append(row)
        stop = "eog" if llama_cpp.llama_vocab_is_eog(self.vocab, ids[-1]) else "max_new_tokens"
        return ids, rows, gaps, stop


def common_prefix(a, b):
    n = 0
    while n < min(len(a), len(b)) and a[n] == b[n]:
        n += 1
    return n


def compare(ours, reference):
    d = ours.astype(np.float64) - reference.astype(np.float64)
    top_ours, top_ref = np.argsort(-ours, kind="stable")[:10], np.argsort(-reference, kind="stable")[:10]
    return {"max_abs_diff": round(float(np.abs(d).max()), 6),
            "max_abs_diff_over_max_abs_reference": round(float(np.abs(d).max() / np.abs(reference).max()), 6),
            "mean_diff": round(float(d.mean()), 6), "std_diff": round(float(d.std()), 6),
            "argmax_equal": bool(ours.argmax() == reference.argmax()),
            "top10_shared": len(set(top_ours.tolist()) & set(top_ref.tolist()))}


def top10(row):
    return [[int(i), float(row[i])] for i in np.argsort(-row, kind="stable")[:10]]


def agreement(ids, reference_ids, names=("llama_cpp", "transformers")):
    n = common_prefix(ids, reference_ids)
    parted = n < min(len(ids), len(reference_ids))
    return {"common_prefix": n, "compared": min(len(ids), len(reference_ids)),
            "first_difference": n if parted else None,
            "at_first_difference": {names[0]: ids[n], names[1]: reference_ids[n]} if parted else None}


def make_f32(directory):
    """llama.cpp's own requantization of the file to all-F32 (the dequantized weights)."""
    params = llama_cpp.llama_model_quantize_default_params()
    params.nthread = 1
    params.ftype = llama_cpp.LLAMA_FTYPE_ALL_F32
    params.allow_requantize = True
    params.quantize_output_tensor = True
    path = Path(directory) / "smollm2-f32.gguf"
    assert llama_cpp.llama_model_quantize(str(MODEL).encode(), str(path).encode(), ctypes.byref(params)) == 0
    return path


def main():
    if not MODEL.is_file():
        sys.exit(f"missing {MODEL}")
    if sha256(MODEL) != MODEL_SHA256:
        sys.exit(f"{MODEL} has sha256 {sha256(MODEL)}, expected {MODEL_SHA256}")
    reference = json.loads((SMOLLM2 / "cases.json").read_text(encoding="utf-8"))
    assert MODEL_SHA256 in reference["model"], "Fixtures/smollm2/cases.json was made from another file"
    reference_logits = load_file(str(SMOLLM2 / "logits.safetensors"))
    hf_tokenizer = tokenizers.Tokenizer.from_file(str(SMOLLM2 / "tokenizer.json"))
    OUT.mkdir(exist_ok=True)

    engine = Engine(MODEL)
    im_end = engine.llm.tokenize(b"<|im_end|>", add_bos=False, special=True)
    assert im_end == [llama_cpp.llama_vocab_eos(engine.vocab)] == [2], im_end
    eog = {str(i): engine.llm.detokenize([i], special=True).decode("utf-8")
           for i in range(engine.n_vocab) if llama_cpp.llama_vocab_is_eog(engine.vocab, i)}
    all_logits = Engine(MODEL, logits_all=True)

    conversations, tensors = [], {}
    for case in reference["cases"]:
        i, prompt_ids, hf_reply = case["index"], case["prompt_ids"], case["reply_ids"]
        assert engine.llm.tokenize(case["prompt"].encode("utf-8"), add_bos=False, special=True) == prompt_ids
        ids, rows, gaps, stop = engine.greedy(prompt_ids)
        assert len(rows) == 2, "the reply ended after one id"
        all_logits.llm.reset()
        all_logits.llm.eval(prompt_ids)
        assert np.array_equal(np.asarray(all_logits.llm.scores[len(prompt_ids) - 1], dtype=np.float32), rows[0])
        text = engine.llm.detokenize(ids, special=True).decode("utf-8", errors="replace")
        assert text == hf_tokenizer.decode(ids, skip_special_tokens=False), (i, text)
        stacked = np.stack(rows).astype(np.float32)
        tensors[f"conv{i}.logits"] = stacked.astype(np.float16)
        one_at_a_time = engine.prompt(prompt_ids, one_at_a_time=True)
        conversations.append({
            "index": i, "name": case["name"], "messages": case["messages"], "prompt_ids": prompt_ids,
            "generated_ids": ids, "text": text, "stop": stop, "generated_count": len(ids),
            "top1_minus_top2_logit": gaps,
            "transformers_reply_ids": hf_reply,
            "agreement_with_transformers": agreement(ids, hf_reply),
            "logits_vs_transformers": compare(rows[0], reference_logits[f"case{i}.logits"]),
            "float16_max_abs_rounding_error": round(float(np.abs(stacked - stacked.astype(np.float16)).max()), 6),
            "top10": {"last_prompt_position": top10(rows[0]), "first_generated_position": top10(rows[1])},
            "ubatch_sensitivity": {
                "how": "last-prompt logits with the prompt fed one id at a time, against the stored row 0",
                "max_abs_diff": round(float(np.abs(one_at_a_time - rows[0]).max()), 6),
                "argmax": int(one_at_a_time.argmax()),
                "max_abs_diff_vs_transformers": round(float(np.abs(one_at_a_time - reference_logits[f"case{i}.logits"]).max()), 6)},
        })
    del engine, all_logits

    with tempfile.TemporaryDirectory() as scratch:
        f32 = Engine(make_f32(scratch))
        for conversation, case in zip(conversations, reference["cases"]):
            ids, rows, _, stop = f32.greedy(case["prompt_ids"], keep_rows=1)
            one_at_a_time = f32.prompt(case["prompt_ids"], one_at_a_time=True)
            conversation["f32_control"] = {
                "generated_ids": ids, "stop": stop,
                "agreement_with_transformers": agreement(ids, case["reply_ids"], ("f32", "transformers")),
                "agreement_with_q4_1": agreement(ids, conversation["generated_ids"], ("f32", "q4_1")),
                "logits_vs_transformers": compare(rows[0], reference_logits[f"case{case['index']}.logits"]),
                "ubatch_sensitivity_max_abs_diff": round(float(np.abs(one_at_a_time - rows[0]).max()), 6)}
        del f32

    logits_path = OUT / "smollm2-q4_1-logits.safetensors"
    save_file(tensors, str(logits_path), metadata={
        "rows": "conv<i>.logits [2, n_vocab] float16: row 0 last prompt position, row 1 first generated position"})
    json_path = OUT / "smollm2-q4_1.json"
    document = {
        "model": f"../shared/data/smollm2-135m-instruct/{MODEL.name} (sha256 {MODEL_SHA256})",
        "how": "llama_cpp.Llama(model_path, n_ctx=2048, n_batch=512, n_ubatch=512, n_threads=1, n_threads_batch=1, "
               "logits_all=False, seed=0); llm.reset(); llm.eval(prompt_ids) (Fixtures/smollm2/cases.json, one "
               "ubatch); greedy: next = argmax(llama_get_logits_ith(ctx, -1)), llm.eval([next]) until "
               f"llama_vocab_is_eog(next) (kept) or {MAX_NEW_TOKENS} ids; text = llm.detokenize(ids, special=True); "
               "logits in smollm2-q4_1-logits.safetensors (float16); transformers = Fixtures/smollm2 (float32 "
               "dequantized weights, greedy, 48 new tokens at most). See Fixtures/make_llamacpp_fixtures.py.",
        "settings": {**SETTINGS, "logits_all": False, "type_k": "f16 (default)", "type_v": "f16 (default)",
                     "flash_attn": False, "max_new_tokens": MAX_NEW_TOKENS, "OMP_NUM_THREADS": "1"},
        "vocab": {"n_vocab": tensors["conv0.logits"].shape[1], "im_end": im_end[0], "eog": eog},
        "logits_file": {"name": logits_path.name, "tensors": "conv<i>.logits F16 [2, 49152], i = conversation index",
                        "rows": ["last prompt position (predicts generated_ids[0])",
                                 "first generated position (after generated_ids[0], predicts generated_ids[1])"]},
        "versions": versions(),
        "conversations": conversations,
    }
    text = to_json(document)
    assert json.loads(text) == json.loads(json.dumps(document))
    json_path.write_text(text + "\n", encoding="utf-8")

    written = [json_path, logits_path]
    for stray in sorted(set(OUT.iterdir()) - set(written)):
        print(f"note: {stray} is not written by this script (not in {SUMS.name})")
    SUMS.write_text("".join(f"{sha256(p)}  {p.relative_to(ROOT)}\n" for p in sorted(written)))

    for c in conversations:
        a, f = c["agreement_with_transformers"], c["f32_control"]
        print(f"conv{c['index']} {c['name']}: {c['generated_count']} ids ({c['stop']}), common prefix with "
              f"transformers {a['common_prefix']}/{a['compared']}; last-prompt logits max|diff| "
              f"{c['logits_vs_transformers']['max_abs_diff']:.4f} (F32 control "
              f"{f['logits_vs_transformers']['max_abs_diff']:.4f}, its reply prefix "
              f"{f['agreement_with_transformers']['common_prefix']}/{f['agreement_with_transformers']['compared']}); "
              f"ubatch-1 prompt moves it {c['ubatch_sensitivity']['max_abs_diff']:.4f}")
        print(f"    {c['text']!r}")
    for p in written:
        print(f"{p.stat().st_size:9d}  {p.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
