// gpt-bench gguf: a real GGUF model (SmolLM2-135M-Instruct by default): the time from the file
// to the first token (parse, dequantize to float32, one forward), and greedy decode tokens/s in
// the float32 (dequantized) mode against Hugging Face transformers float32 on the same file;
// then the stored-format mode (the file's own formats, quantized kernels): load, prefill and
// decode tokens/s against llama.cpp (llama-cpp-python) on the same file, prompt and thread
// count. Peers are measured in the same run.
import Foundation
import GPTKit

let ggufUsage = """
usage: gpt-bench gguf [--model FILE.gguf] [--repeats N] [--tokens N] [--json] [--no-python]
  default model: ../shared/data/smollm2-135m-instruct/SmolLM2-135M-Instruct.Q4_1.gguf
"""

func runGGUFBenchmark(arguments: [String]) throws {
    let options = try BenchmarkOptions(arguments, flagNames: ["json", "no-python"])
    let path = options.values["model"] ?? "../shared/data/smollm2-135m-instruct/SmolLM2-135M-Instruct.Q4_1.gguf"
    let url = URL(fileURLWithPath: path)
    guard FileManager.default.fileExists(atPath: url.path) else { throw BenchmarkError.usage("no such model: \(path)\n\(ggufUsage)") }
    let repeats = try options.integer("repeats", default: 5), tokens = try options.integer("tokens", default: 64)
    guard repeats >= 1, tokens >= 2 else { throw BenchmarkError.usage("need repeats ≥ 1 and tokens ≥ 2\n\(ggufUsage)") }

    // Load: the page cache is warmed by run 0.
    var parse: [Double] = [], dequantize: [Double] = [], firstToken: [Double] = []
    var model: GPT?
    for run in 0...repeats {
        let t0 = DispatchTime.now().uptimeNanoseconds
        let file = try GGUFFile(contentsOf: url)
        let t1 = DispatchTime.now().uptimeNanoseconds
        let loaded = try GPT(gguf: file, name: url.lastPathComponent, weights: .dequantized)
        let t2 = DispatchTime.now().uptimeNanoseconds
        _ = try loaded.forward(tokens: [1], cache: loaded.makeCache(capacity: 8))
        let t3 = DispatchTime.now().uptimeNanoseconds
        if run > 0 {
            parse.append(Double(t1 - t0) * 1e-9)
            dequantize.append(Double(t2 - t1) * 1e-9)
            firstToken.append(Double(t3 - t0) * 1e-9)
        }
        model = loaded
    }
    guard let model else { return }
    // The tokenizer from the metadata (tokens, merges, types): parse plus build.
    var tokenizerLoad: [Double] = []
    for _ in 0..<repeats {
        let t0 = DispatchTime.now().uptimeNanoseconds
        _ = try GGUFFile(contentsOf: url).tokenizer(name: url.lastPathComponent)
        tokenizerLoad.append(Double(DispatchTime.now().uptimeNanoseconds - t0) * 1e-9)
    }

    // Decode: greedy, no stop token, after an 8-token prompt.
    let prompt = [1, 9690, 198, 2683, 359, 253, 5356, 5646].map { $0 % model.configuration.vocabularySize }
    var decodeRates: [Double] = []
    for _ in 0..<3 {
        let session = try GenerationSession(model: model, options: GenerationOptions(maximumNewTokens: tokens), cacheCapacity: prompt.count + tokens + 1)
        try session.start(prompt: prompt)
        let start = DispatchTime.now().uptimeNanoseconds
        var produced = 0
        while try session.next() != nil { produced += 1 }
        decodeRates.append(Double(produced) / (Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-9))
    }
    let ours = median(decodeRates)

    // The peer: transformers float32 from the same GGUF (dequantized), decode rate from the
    // difference of two greedy generations (1 and N new tokens), the best of three each.
    var peer: Double?
    if !options.flags.contains("no-python") {
        let script = """
        import sys, time, os, torch
        from transformers import AutoModelForCausalLM
        torch.set_num_threads(\(Parallel.threadCount))
        path = sys.stdin.readline().strip(); n = int(sys.stdin.readline())
        model = AutoModelForCausalLM.from_pretrained(os.path.dirname(path), gguf_file=os.path.basename(path), dtype=torch.float32).eval()
        ids = torch.tensor([[\(prompt.map(String.init).joined(separator: ", "))]])
        def run(k):
            best = 1e9
            for _ in range(3):
                t = time.perf_counter()
                with torch.no_grad(): model.generate(ids, max_new_tokens=k, min_new_tokens=k, do_sample=False)
                best = min(best, time.perf_counter() - t)
            return best
        one, many = run(1), run(n)
        print((n - 1) / (many - one))
        """
        peer = runPython(script: script, input: "\(url.path)\n\(tokens)\n")?.split(separator: "\n").last.flatMap { Double($0) }
    }
    let stored = try measureStoredFormat(url: url, tokens: tokens, repeats: repeats, python: !options.flags.contains("no-python"))
    if options.flags.contains("json") {
        print(jsonLine([
            ("model", url.lastPathComponent), ("threads", Parallel.threadCount), ("parse_ms", median(parse) * 1e3),
            ("dequantize_ms", median(dequantize) * 1e3), ("first_token_ms", median(firstToken) * 1e3),
            ("tokenizer_load_ms", median(tokenizerLoad) * 1e3),
            ("decode_tokens_per_s", ours), ("transformers_decode_tokens_per_s", peer), ("speedup", peer.map { ours / $0 }),
            ("stored_first_token_ms", stored.firstToken * 1e3), ("stored_prefill_tokens_per_s", stored.prefill),
            ("stored_decode_tokens_per_s", stored.decode), ("llama_cpp_prefill_tokens_per_s", stored.peerPrefill),
            ("llama_cpp_decode_tokens_per_s", stored.peerDecode), ("decode_speedup_over_llama_cpp", stored.peerDecode.map { stored.decode / $0 }),
            ("prefill_speedup_over_llama_cpp", stored.peerPrefill.map { stored.prefill / $0 }),
        ]))
        return
    }
    print("gguf: \(url.lastPathComponent), \(model.parameterCount) parameters, \(Parallel.threadCount) threads, median of \(repeats) (page cache warm)")
    printTable(header: ["measure", "GPTKit", "peer", "peer is"], rows: [
        ["parse ms (mmap, metadata, tensor infos)", format(median(parse) * 1e3, digits: 2), "", ""],
        ["dequantize to float32 ms", format(median(dequantize) * 1e3), "", ""],
        ["file to first token ms", format(median(firstToken) * 1e3), "", ""],
        ["tokenizer from the metadata ms (parse + build)", format(median(tokenizerLoad) * 1e3), "", ""],
        ["decode tokens/s (float32, greedy, \(tokens) tokens)", format(ours), format(peer), "transformers float32, same GGUF"],
        ["speed-up", peer.map { format(ours / $0) + "×" } ?? "", "", ""],
        ["stored formats: file to first token ms", format(stored.firstToken * 1e3), "", ""],
        ["stored formats: prefill tokens/s (\(stored.promptLength)-token prompt)", format(stored.prefill), format(stored.peerPrefill),
         "llama.cpp, same file and threads"],
        ["stored formats: decode tokens/s (greedy, \(tokens) tokens)", format(stored.decode), format(stored.peerDecode),
         "llama.cpp, same file and threads"],
        ["decode speed-up over llama.cpp", stored.peerDecode.map { format(stored.decode / $0) + "×" } ?? "", "", ""],
        ["prefill speed-up over llama.cpp", stored.peerPrefill.map { format(stored.prefill / $0) + "×" } ?? "", "", ""],
    ])
}
/// The stored-format mode's load, prefill and decode rates, and llama.cpp's on the same file.
struct StoredFormatMeasurement {
    var firstToken: Double, prefill: Double, decode: Double, promptLength: Int
    var peerPrefill: Double?, peerDecode: Double?
}

func measureStoredFormat(url: URL, tokens: Int, repeats: Int, python: Bool) throws -> StoredFormatMeasurement {
    var firstTokens: [Double] = []
    var model: GPT?
    for run in 0...repeats {
        let t0 = DispatchTime.now().uptimeNanoseconds
        let loaded = try GPT(gguf: GGUFFile(contentsOf: url), name: url.lastPathComponent)
        _ = try loaded.forward(tokens: [1], cache: loaded.makeCache(capacity: 8))
        if run > 0 { firstTokens.append(Double(DispatchTime.now().uptimeNanoseconds - t0) * 1e-9) }
        model = loaded
    }
    guard let model else { throw BenchmarkError.usage("no model") }
    // A 128-token prompt of ordinary ids, then greedy decoding with no stop token.
    let vocabulary = model.configuration.vocabularySize
    let prompt = (0..<128).map { (1 + $0 * 7919) % vocabulary }
    var prefillRates: [Double] = [], decodeRates: [Double] = []
    for _ in 0..<3 {
        let session = try GenerationSession(model: model, options: GenerationOptions(maximumNewTokens: tokens),
                                            cacheCapacity: prompt.count + tokens + 1)
        let t0 = DispatchTime.now().uptimeNanoseconds
        try session.start(prompt: prompt)
        _ = try session.next()
        let t1 = DispatchTime.now().uptimeNanoseconds
        var produced = 0
        while try session.next() != nil { produced += 1 }
        let t2 = DispatchTime.now().uptimeNanoseconds
        prefillRates.append(Double(prompt.count) / (Double(t1 - t0) * 1e-9))
        decodeRates.append(Double(produced) / (Double(t2 - t1) * 1e-9))
    }
    var result = StoredFormatMeasurement(firstToken: median(firstTokens), prefill: median(prefillRates), decode: median(decodeRates),
                                         promptLength: prompt.count)
    guard python else { return result }
    // llama.cpp: the same prompt ids and thread count, greedy from its logits.
    if let peer = measureLlamaCpp(url: url, prompt: prompt, tokens: tokens - 1, threads: Parallel.threadCount) {
        (result.peerPrefill, result.peerDecode) = (peer.prefill, peer.decode)
    }
    return result
}
