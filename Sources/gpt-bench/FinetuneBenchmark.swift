// gpt-bench finetune: LoRA fine-tuning steps of a GGUF model (SmolLM2-135M-Instruct by default):
// milliseconds per optimizer step (forward, backward into the adapters only, AdamW) on a batch of
// random tokens, and peak RSS — over the file's own quantized weights (QLoRA) and over them
// dequantized to float32, and over the quantized weights with per-block recomputation (the
// smallest memory) — against PyTorch eager + peft in float32 (the same file through
// transformers, the same rank, targets, batch and thread count), measured in the same run.
import Foundation
import GPTKit

private let peftStepScript = #"""
import json, resource, sys, time, os
import torch
from transformers import AutoModelForCausalLM
from peft import LoraConfig, get_peft_model
cfg = json.loads(sys.stdin.read())
torch.manual_seed(0)
torch.set_num_threads(cfg["threads"])
path = cfg["model"]
model = AutoModelForCausalLM.from_pretrained(os.path.dirname(path), gguf_file=os.path.basename(path), dtype=torch.float32)
model = get_peft_model(model, LoraConfig(r=cfg["rank"], lora_alpha=2 * cfg["rank"], lora_dropout=0.0, target_modules=cfg["targets"],
                                         task_type="CAUSAL_LM"))
model.train()
optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-4, betas=(0.9, 0.999), weight_decay=0.0)
ids = torch.randint(0, model.config.vocab_size, (cfg["batch"], cfg["seq"]))
times = []
for step in range(cfg["steps"] + 1):
    t = time.perf_counter()
    optimizer.zero_grad()
    loss = model(ids, labels=ids).loss
    loss.backward()
    optimizer.step()
    if step > 0: times.append(time.perf_counter() - t)
times.sort()
print(json.dumps({"ms": 1000 * times[len(times) // 2], "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""#

func runFinetuneBenchmark(arguments: [String]) throws {
    let options = try BenchmarkOptions(arguments, flagNames: ["json", "no-python"])
    let path = options.values["model"] ?? "../shared/data/smollm2-135m-instruct/SmolLM2-135M-Instruct.Q4_1.gguf"
    let url = URL(fileURLWithPath: path)
    guard FileManager.default.fileExists(atPath: url.path) else { throw BenchmarkError.usage("no such model: \(path)") }
    let batch = try options.integer("batch", default: 4), sequence = try options.integer("seq", default: 256)
    let rank = try options.integer("rank", default: 8), steps = try options.integer("steps", default: 3)
    guard batch >= 1, sequence >= 2, rank >= 1, steps >= 1 else { throw BenchmarkError.usage("batch, seq, rank and steps must be positive") }
    let targets = ["q_proj", "k_proj", "v_proj", "o_proj"]
    let file = try GGUFFile(contentsOf: url)
    var rows: [[String]] = []
    var json: [(String, Any?)] = [("model", url.lastPathComponent), ("threads", Parallel.threadCount), ("batch", batch), ("seq", sequence),
                                  ("rank", rank)]
    // Peak RSS is the process's, so the settings go from the smallest (quantized weights,
    // activations recomputed per block, as QLoRA recipes run) to the largest.
    for (name, weights, recompute) in [("q4_1", GGUFWeightMode.stored, RecomputePolicy.perBlock), ("q4_1", .stored, .none),
                                        ("float32", .dequantized, .none)] {
        let base = try GPT(gguf: file, name: url.lastPathComponent, weights: weights)
        guard sequence <= base.configuration.contextLength else { throw BenchmarkError.usage("--seq exceeds the context") }
        let model = try base.addingAdapters(LoRAConfiguration(rank: rank, alpha: Float(2 * rank), targets: targets), seed: 1)
        var settings = TrainingConfiguration(batchSize: batch, sequenceLength: sequence, steps: steps + 1)
        settings.schedule = .constant(1e-4)
        settings.beta2 = 0.999
        settings.weightDecay = 0
        settings.recompute = recompute
        let trainer = try Trainer(model: model, configuration: settings, training: nil)
        var generator = RandomGenerator(seed: 3)
        let vocabulary = UInt64(base.configuration.vocabularySize)
        let tokens = (0..<(batch * sequence)).map { _ in Int32(generator.next() % vocabulary) }
        let targetsIDs = Array(tokens.dropFirst()) + [-100]
        let microBatch = try TokenBatch(inputs: tokens, targets: targetsIDs, batchSize: batch, sequenceLength: sequence)
        var times: [Double] = []
        for step in 0...steps {
            let start = DispatchTime.now().uptimeNanoseconds
            try trainer.step(on: [microBatch])
            if step > 0 { times.append(Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-6) }
        }
        let ms = median(times), rss = peakResidentMegabytes()
        let label = recompute == .perBlock ? "\(name)_recompute" : name
        rows.append(["GPTKit LoRA over \(name) weights" + (recompute == .perBlock ? ", per-block recomputation" : ""), format(ms, digits: 0),
                     format(rss, digits: 0), format(Double(trainer.parameters.layout.count) / 1e6, digits: 2)])
        json += [("\(label)_ms", ms), ("\(label)_peak_rss_mb", rss)]
    }
    var peer: (ms: Double, rss: Double)?
    if !options.flags.contains("no-python") {
        let config: [String: Any] = ["model": url.path, "threads": Parallel.threadCount, "batch": batch, "seq": sequence, "rank": rank,
                                     "steps": steps, "targets": targets]
        let input = String(decoding: try JSONSerialization.data(withJSONObject: config), as: UTF8.self)
        if let line = runPython(script: peftStepScript, input: input)?.split(separator: "\n").last,
           let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
           let ms = object["ms"] as? Double, let rss = object["rss_mb"] as? Double {
            peer = (ms, rss)
        }
    }
    if let peer {
        rows.append(["PyTorch eager + peft, float32", format(peer.ms, digits: 0), format(peer.rss, digits: 0), ""])
        json += [("peft_ms", peer.ms), ("peft_peak_rss_mb", peer.rss)]
    } else {
        rows.append(["PyTorch + peft", "-", "-", "not measured: pip install torch transformers peft gguf (GPTKIT_BENCH_VERBOSE=1 says why)"])
    }
    if options.flags.contains("json") {
        print(jsonLine(json))
        return
    }
    print("finetune: \(url.lastPathComponent), LoRA rank \(rank) on q,k,v,o, batch \(batch) × \(sequence) tokens, \(Parallel.threadCount) threads, median of \(steps) steps")
    printTable(header: ["setting", "ms/step", "peak RSS MB (process so far)", "trained M parameters"], rows: rows)
    if let peer, let quantized = json.first(where: { $0.0 == "q4_1_ms" })?.1 as? Double,
       let float = json.first(where: { $0.0 == "float32_ms" })?.1 as? Double {
        print(String(format: "GPTKit over peft: %.2f× (Q4_1 base), %.2f× (float32 base)", peer.ms / quantized, peer.ms / float))
    }
}
