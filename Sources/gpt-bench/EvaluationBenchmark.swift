// gpt-bench score: BLEU, chrF and ROUGE throughput (segments/s) against sacrebleu and
// rouge-score on the same generated corpus, scores compared; gpt-bench perplexity: sliding-window
// perplexity tokens/s against PyTorch (transformers) on the same model, text, windows and threads.
import Foundation
import GPTKit

/// The usage of `gpt-bench score` (also in the main usage).
let scoreUsage = """
usage: gpt-bench score [--text FILE] [--segments N] [--json] [--no-python]
  A corpus of N (default 3000) segments: lines of FILE (default ../shared/data/tinyshakespeare/input.txt)
  as references, seeded perturbations of them as hypotheses. GPTKit's BLEU, chrF2 and ROUGE-1/2/L/Lsum
  (stemmed) on all threads and on one, against sacrebleu and rouge-score (one thread) in the same run.
"""

func runScoreBenchmark(arguments: [String]) throws {
    let options = try BenchmarkOptions(arguments, flagNames: ["json", "no-python"])
    let textPath = options.values["text"] ?? "../shared/data/tinyshakespeare/input.txt"
    let count = try options.integer("segments", default: 3000)
    let text = try String(contentsOf: URL(fileURLWithPath: textPath), encoding: .utf8)
    let lines = text.split(separator: "\n").map(String.init).filter { $0.split(separator: " ").count >= 4 }
    guard !lines.isEmpty else { throw BenchmarkError.usage("\(textPath) has no lines of four words or more") }
    var generator = RandomGenerator(seed: 1)
    var references: [String] = [], hypotheses: [String] = []
    for i in 0..<count {
        let reference = lines[i % lines.count] + " " + lines[(i * 7 + 3) % lines.count]
        var words = reference.split(separator: " ").map(String.init)
        for _ in 0..<max(1, words.count / 5) {
            let k = Int.random(in: 0..<words.count, using: &generator)
            switch Int.random(in: 0..<3, using: &generator) {
            case 0: words.remove(at: k); if words.isEmpty { words = ["the"] }
            case 1: words.insert(words[Int.random(in: 0..<words.count, using: &generator)], at: k)
            default: words[k] = words[k].uppercased()
            }
        }
        references.append(reference)
        hypotheses.append(words.joined(separator: " "))
    }
    let referenceSets = references.map { [$0] }
    func best(_ repeats: Int, _ body: () throws -> Void) rethrows -> Double {
        var times: [Double] = []
        for _ in 0..<repeats {
            let start = DispatchTime.now().uptimeNanoseconds
            try body()
            times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
        }
        return times.min()!
    }
    var bleuScore = 0.0, chrfScore = 0.0, rougeF = [Double](repeating: 0, count: 4)
    func measure() throws -> [Double] {
        let bleu = try best(3) { bleuScore = try BLEU().corpusScore(hypotheses: hypotheses, referenceSets: referenceSets).score }
        let chrf = try best(3) { chrfScore = try CHRF().corpusScore(hypotheses: hypotheses, referenceSets: referenceSets).score }
        let rouge = try best(3) {
            let mean = try ROUGE.mean(try ROUGE(stemming: true).scores(predictions: hypotheses, references: referenceSets))
            rougeF = ROUGEType.standard.map { mean[$0]!.fmeasure }
        }
        return [bleu, chrf, rouge]
    }
    let all = try measure()
    let saved = Parallel.threadCount
    Parallel.threadCount = 1
    let one = try measure()
    Parallel.threadCount = saved
    var peer: [String: Any]?
    if !options.flags.contains("no-python") {
        let input = try JSONSerialization.data(withJSONObject: ["hypotheses": hypotheses, "references": references])
        if let output = runPython(script: scorePeerScript, input: String(decoding: input, as: UTF8.self)),
           let object = try? JSONSerialization.jsonObject(with: Data(output.utf8)) as? [String: Any] {
            peer = object
        }
    }
    let names = ["BLEU", "chrF2", "ROUGE (4 types, stemmed)"]
    let peerKeys = ["bleu", "chrf", "rouge"]
    let ours = [bleuScore, chrfScore, rougeF[0]]
    if options.flags.contains("json") {
        var pairs: [(String, Any?)] = [("segments", count), ("threads", saved)]
        for (k, key) in peerKeys.enumerated() {
            pairs.append(("\(key)_segments_per_s", Double(count) / all[k]))
            pairs.append(("\(key)_segments_per_s_1_thread", Double(count) / one[k]))
            if let seconds = peer?["\(key)_seconds"] as? Double {
                pairs.append(("\(key)_peer_segments_per_s", Double(count) / seconds))
                pairs.append(("\(key)_ratio", seconds / all[k]))
                pairs.append(("\(key)_ratio_1_thread", seconds / one[k]))
            }
        }
        print(jsonLine(pairs))
        return
    }
    print("corpus: \(count) segments from \(textPath); GPTKit on \(saved) threads and on 1; peers on 1")
    var rows: [[String]] = []
    for k in 0..<3 {
        let peerSeconds = peer?["\(peerKeys[k])_seconds"] as? Double
        let peerScore = peer?["\(peerKeys[k])_score"] as? Double
        rows.append([names[k], String(format: "%.0f", Double(count) / all[k]), String(format: "%.0f", Double(count) / one[k]),
                     peerSeconds.map { String(format: "%.0f", Double(count) / $0) } ?? "-",
                     peerSeconds.map { String(format: "%.1f× / %.1f×", $0 / all[k], $0 / one[k]) } ?? "-",
                     String(format: "%.6f", ours[k]) + (peerScore.map { String(format: " vs %.6f", $0) } ?? "")])
    }
    printTable(header: ["metric", "GPTKit seg/s", "1 thread", "peer seg/s", "ratio (all / 1 thread)", "score (GPTKit vs peer)"], rows: rows)
    if peer == nil { print("peers not measured: pip install sacrebleu rouge-score (GPTKIT_BENCH_VERBOSE=1 says why)") }
    else { print("peers: sacrebleu \(peer?["sacrebleu"] ?? "?"), rouge-score \(peer?["rouge_score_version"] ?? "?"); ROUGE score column: rouge1 F") }
}

private let scorePeerScript = #"""
import json, sys, time, importlib.metadata
import sacrebleu
from rouge_score import rouge_scorer
data = json.load(sys.stdin)
h, r = data["hypotheses"], data["references"]
def best(n, f):
    times, value = [], None
    for _ in range(n):
        t = time.perf_counter(); value = f(); times.append(time.perf_counter() - t)
    return min(times), value
out = {"sacrebleu": sacrebleu.__version__, "rouge_score_version": importlib.metadata.version("rouge-score")}
out["bleu_seconds"], s = best(3, lambda: sacrebleu.metrics.BLEU().corpus_score(h, [r])); out["bleu_score"] = s.score
out["chrf_seconds"], s = best(3, lambda: sacrebleu.metrics.CHRF().corpus_score(h, [r])); out["chrf_score"] = s.score
scorer = rouge_scorer.RougeScorer(["rouge1", "rouge2", "rougeL", "rougeLsum"], use_stemmer=True)
def rouge():
    scores = [scorer.score(ref, hyp) for hyp, ref in zip(h, r)]
    return sum(s["rouge1"].fmeasure for s in scores) / len(scores)
out["rouge_seconds"], out["rouge_score"] = best(1, rouge)
print(json.dumps(out))
"""#

let perplexityUsage = """
usage: gpt-bench perplexity [--model FILE.gguf] [--text FILE] [--characters N] [--window N] [--stride N] [--batch N] [--json] [--no-python]
  Sliding-window perplexity tokens/s of GPTKit (the GGUF dequantized to float32, as transformers
  loads it) against transformers/PyTorch float32 on the same tokens, windows, stride and threads.
  Defaults: SmolLM2-135M from ../shared/data, the first 20000 characters of tiny Shakespeare,
  window 512, stride 256, batch 4.
"""

func runPerplexityBenchmark(arguments: [String]) throws {
    let options = try BenchmarkOptions(arguments, flagNames: ["json", "no-python"])
    let modelPath = options.values["model"] ?? "../shared/data/smollm2-135m-instruct/SmolLM2-135M-Instruct.Q4_1.gguf"
    let textPath = options.values["text"] ?? "../shared/data/tinyshakespeare/input.txt"
    let characters = try options.integer("characters", default: 20_000)
    let window = try options.integer("window", default: 512), stride = try options.integer("stride", default: 256)
    let batch = try options.integer("batch", default: 4)
    let file = try GGUFFile(contentsOf: URL(fileURLWithPath: modelPath))
    let model = try GPT(gguf: file, weights: .dequantized)
    guard let tokenizer = try file.tokenizer() else { throw BenchmarkError.usage("\(modelPath) has no tokenizer") }
    let full = try String(contentsOf: URL(fileURLWithPath: textPath), encoding: .utf8)
    let text = String(String.UnicodeScalarView(full.unicodeScalars.prefix(characters)))
    let tokens = try tokenizer.encode(text)
    let start = DispatchTime.now().uptimeNanoseconds
    let result = try model.perplexity(tokens: tokens, windowLength: window, stride: stride, batchSize: batch, byteCount: text.utf8.count)
    let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
    var peer: [String: Any]?
    if !options.flags.contains("no-python") {
        let input = try JSONSerialization.data(withJSONObject: [
            "model": URL(fileURLWithPath: modelPath).standardizedFileURL.path, "tokens": tokens, "window": window, "stride": stride,
            "batch": batch, "threads": Parallel.threadCount,
        ])
        if let output = runPython(script: perplexityPeerScript, input: String(decoding: input, as: UTF8.self)),
           let object = try? JSONSerialization.jsonObject(with: Data(output.utf8)) as? [String: Any] { peer = object }
    }
    let ours = Double(result.tokenCount) / seconds
    let theirs = (peer?["seconds"] as? Double).map { Double(result.tokenCount) / $0 }
    if options.flags.contains("json") {
        print(jsonLine([("tokens", result.tokenCount), ("perplexity", result.perplexity), ("tokens_per_s", ours),
                        ("torch_tokens_per_s", theirs), ("torch_perplexity", peer?["perplexity"] as? Double),
                        ("ratio", theirs.map { ours / $0 })]))
        return
    }
    print("\(URL(fileURLWithPath: modelPath).lastPathComponent), \(tokens.count) tokens, window \(window), stride \(stride), batch \(batch), \(Parallel.threadCount) threads")
    printTable(header: ["", "tokens/s", "perplexity"], rows: [
        ["GPTKit (float32)", String(format: "%.0f", ours), String(format: "%.6f", result.perplexity)],
        ["PyTorch \(peer?["torch"] ?? "") (float32)", theirs.map { String(format: "%.0f", $0) } ?? "not measured",
         (peer?["perplexity"] as? Double).map { String(format: "%.6f", $0) } ?? "-"],
    ])
    if let theirs { print(String(format: "ratio GPTKit / PyTorch: %.2f×", ours / theirs)) }
}

private let perplexityPeerScript = #"""
import json, math, sys, time, os
import torch, transformers
from transformers import AutoModelForCausalLM
cfg = json.load(sys.stdin)
torch.set_num_threads(cfg["threads"])
path = cfg["model"]
model = AutoModelForCausalLM.from_pretrained(os.path.dirname(path), gguf_file=os.path.basename(path), dtype=torch.float32).eval()
t, W, S, B = cfg["tokens"], cfg["window"], cfg["stride"], cfg["batch"]
windows, begin, prev = [], 0, 0
while True:
    end = min(begin + W, len(t)); first = max(prev, begin + 1)
    if first < end: windows.append((begin, end, first))
    prev = end
    if end == len(t): break
    begin += S
nll, count = 0.0, 0
start = time.perf_counter()
with torch.no_grad():
    i = 0
    while i < len(windows):
        L = windows[i][1] - windows[i][0]; j = i + 1
        while j < len(windows) and j - i < B and windows[j][1] - windows[j][0] == L: j += 1
        ids = torch.tensor([t[b:e - 1] for b, e, _ in windows[i:j]])
        logp = torch.log_softmax(model(ids).logits.float(), dim=-1)
        for k, (b, e, f) in enumerate(windows[i:j]):
            for p in range(f, e):
                nll -= logp[k, p - 1 - b, t[p]].item(); count += 1
        i = j
seconds = time.perf_counter() - start
print(json.dumps({"seconds": seconds, "perplexity": math.exp(nll / count), "torch": torch.__version__}))
"""#
