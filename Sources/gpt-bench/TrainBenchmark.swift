// gpt-bench train: milliseconds per training step (forward, backward, clip, AdamW) on random
// tokens, peak memory, and the same step in PyTorch (eager, CPU) in the same run when torch is
// installed.
import Foundation
import GPTKit

let torchTrainScript = #"""
import json, math, resource, sys, time
import torch, torch.nn as nn, torch.nn.functional as F
cfg = json.loads(sys.stdin.read())
torch.manual_seed(0)
torch.set_num_threads(cfg["threads"])
L, H, C, V, Tctx = cfg["layers"], cfg["heads"], cfg["width"], cfg["vocab"], cfg["context"]
class Block(nn.Module):
    def __init__(s):
        super().__init__()
        s.ln_1, s.ln_2 = nn.LayerNorm(C), nn.LayerNorm(C)
        s.c_attn, s.c_proj = nn.Linear(C, 3 * C), nn.Linear(C, C)
        s.c_fc, s.mlp_proj = nn.Linear(C, 4 * C), nn.Linear(4 * C, C)
    def forward(s, x):
        B, T, _ = x.shape
        q, k, v = s.c_attn(s.ln_1(x)).split(C, dim=2)
        q, k, v = [t.view(B, T, H, C // H).transpose(1, 2) for t in (q, k, v)]
        y = F.scaled_dot_product_attention(q, k, v, is_causal=True).transpose(1, 2).reshape(B, T, C)
        x = x + s.c_proj(y)
        return x + s.mlp_proj(F.gelu(s.c_fc(s.ln_2(x)), approximate="tanh"))
class GPT(nn.Module):
    def __init__(s):
        super().__init__()
        s.wte, s.wpe = nn.Embedding(V, C), nn.Embedding(Tctx, C)
        s.h = nn.ModuleList([Block() for _ in range(L)])
        s.ln_f = nn.LayerNorm(C)
    def forward(s, idx, targets):
        x = s.wte(idx) + s.wpe(torch.arange(idx.shape[1]))
        for b in s.h: x = b(x)
        logits = s.ln_f(x) @ s.wte.weight.T
        return F.cross_entropy(logits.view(-1, V), targets.view(-1))
model = GPT()
decay = [p for p in model.parameters() if p.dim() >= 2]
other = [p for p in model.parameters() if p.dim() < 2]
opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.1}, {"params": other, "weight_decay": 0.0}], lr=1e-4, betas=(0.9, 0.95))
B, T = cfg["batch"], cfg["seq"]
times = []
for step in range(cfg["warmup"] + cfg["steps"]):
    idx = torch.randint(0, V, (B, T)); tgt = torch.randint(0, V, (B, T))
    t0 = time.perf_counter()
    loss = model(idx, tgt)
    opt.zero_grad(set_to_none=True)
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    opt.step()
    if step >= cfg["warmup"]: times.append(time.perf_counter() - t0)
times.sort()
print(json.dumps({"ms": 1000 * times[len(times) // 2], "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, "torch": torch.__version__}))
"""#

func runTrainBenchmark(arguments: [String]) throws {
    let options = try BenchmarkOptions(arguments, flagNames: ["json", "no-torch"])
    let presetName = options.values["preset"] ?? "mini"
    let presets: [String: GPTConfiguration] = ["gpt2-small": .gpt2Small, "mini": .mini, "nano": .nano]
    guard let configuration = presets[presetName] else {
        throw BenchmarkError.usage("--preset must be one of \(presets.keys.sorted().joined(separator: ", "))")
    }
    let batch = try options.integer("batch", default: 8), seq = try options.integer("seq", default: 64)
    let steps = try options.integer("steps", default: 10), warmup = try options.integer("warmup", default: 2)
    let recomputeName = options.values["recompute"] ?? "none"
    let policies: [String: RecomputePolicy] = ["none": .none, "block": .perBlock]
    guard let recompute = policies[recomputeName] else { throw BenchmarkError.usage("--recompute must be none or block") }

    var settings = TrainingConfiguration(batchSize: batch, sequenceLength: seq, steps: warmup + steps)
    settings.schedule = .constant(1e-4)
    settings.recompute = recompute
    settings.evaluationInterval = 0
    var generator = RandomGenerator(seed: 2)
    let data = TokenDataset(tokens: (0..<max(100_000, 4 * batch * seq)).map { _ in Int32(generator.next() % UInt64(configuration.vocabularySize)) })
    // The initial model is not kept: the trainer's master copy is the only one (as in PyTorch).
    let trainer = try Trainer(model: GPT(configuration: configuration, seed: 1), configuration: settings, training: data)
    var times: [Double] = []
    for step in 0..<(warmup + steps) {
        let t0 = DispatchTime.now().uptimeNanoseconds
        try trainer.trainStep()
        if step >= warmup { times.append(Double(DispatchTime.now().uptimeNanoseconds - t0) * 1e-6) }
    }
    times.sort()
    let milliseconds = times[times.count / 2]
    let tokensPerSecond = Double(batch * seq) / (milliseconds / 1000)
    let peakRSS = peakResidentMegabytes()
    let activationMB = Double(trainer.activationBytes) / 1_048_576

    var torch: (ms: Double, rss: Double, version: String)?
    if !options.flags.contains("no-torch") {
        let input = jsonLine([("layers", configuration.layerCount), ("heads", configuration.headCount),
                              ("width", configuration.embeddingDimensions), ("vocab", configuration.vocabularySize),
                              ("context", configuration.contextLength), ("batch", batch), ("seq", seq), ("steps", steps),
                              ("warmup", warmup), ("threads", Parallel.threadCount)])
        if configuration.positionalEncoding == .learned, configuration.feedForward == .gelu,
           let output = runPython(script: torchTrainScript, input: input),
           let object = try? JSONSerialization.jsonObject(with: Data(output.utf8)) as? [String: Any],
           let ms = object["ms"] as? Double, let rss = object["rss_mb"] as? Double {
            torch = (ms, rss, object["torch"] as? String ?? "?")
        }
    }
    if options.flags.contains("json") {
        print(jsonLine([("preset", presetName), ("batch", batch), ("seq", seq), ("recompute", recomputeName),
                        ("ms_per_step", milliseconds), ("tokens_per_s", tokensPerSecond), ("peak_rss_mb", peakRSS),
                        ("activation_mb", activationMB), ("torch_ms_per_step", torch?.ms), ("torch_peak_rss_mb", torch?.rss),
                        ("speedup_vs_torch", torch.map { $0.ms / milliseconds })]))
    } else {
        print("train step: preset \(presetName) (\(trainer.parameters.layout.parameterCount) parameters), batch \(batch), seq \(seq), recompute \(recomputeName), "
              + "\(Parallel.threadCount) threads, kernels \(Kernels.instructionSet.rawValue); median of \(steps) steps after \(warmup) warm-up")
        printTable(header: ["", "GPTKit", torch.map { "PyTorch \($0.version)" } ?? "PyTorch"], rows: [
            ["ms/step", format(milliseconds), format(torch?.ms)],
            ["tokens/s", format(tokensPerSecond, digits: 0), format(torch.map { Double(batch * seq) / ($0.ms / 1000) }, digits: 0)],
            ["peak RSS MB", format(peakRSS, digits: 0), format(torch?.rss, digits: 0)],
            ["activation MB", format(activationMB, digits: 0), "-"],
            ["speed-up", torch.map { String(format: "%.2f×", $0.ms / milliseconds) } ?? "-", ""],
        ])
    }
}
