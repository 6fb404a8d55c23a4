// gpt-bench generate: prefill and decode speed of one generation session (batch 1), against
// this machine's memory bandwidth measured in the same run and, for a GGUF file, against
// llama.cpp (llama-cpp-python) on the same file, prompt ids and thread count.
//
// Decoding one token reads every weight once (in its stored format: 4 bytes a parameter in
// float32, 1.06 in Q8_0, 0.56–0.63 in Q4), so its speed is bounded by the DRAM read bandwidth;
// prefill is a batch of matrix products and runs at the SGEMM rate.
import Foundation
import GPTKit

let generateUsage = """
usage: gpt-bench generate [--preset nano|mini|gpt2-small|gpt2-medium | --model FILE.gguf|DIR] [--prompt N] [--tokens N]
                          [--threads N] [--repeats N] [--mapped] [--float-activations] [--kv-cache f32|f16]
                          [--quantize q8_0|q4_0|q4_1|q6_k|f16|bf16] [--no-python] [--json]
  --model               a GGUF file (stored formats, as `gpt generate` runs it; llama.cpp is run on the
                        same file unless --no-python) or a `gpt train` / Hugging Face folder; default: a
                        preset with random weights
  --float-activations   a GGUF's Q8_0/Q4 products with float32 activations instead of 8-bit ones
  --kv-cache            how GPTKit's KV cache stores keys and values (default f32; llama.cpp's is f16)
  --quantize            the model's matrices quantized in memory first (GPT.quantized(to:)), as
                        `gpt quantize` would store them
"""

func runGenerateBenchmark(arguments: [String]) throws {
    let options = try BenchmarkOptions(arguments, flagNames: ["json", "mapped", "no-python", "float-activations"])
    let presets: [String: GPTConfiguration] = ["nano": .nano, "mini": .mini, "gpt2-small": .gpt2Small, "gpt2-medium": .gpt2Medium]
    let presetName = options.values["preset"] ?? "gpt2-small"
    let modelPath = options.values["model"]
    let promptLength = try options.integer("prompt", default: 256)
    let newTokens = try options.integer("tokens", default: 128)
    let repeats = try options.integer("repeats", default: 3)
    Parallel.threadCount = try options.integer("threads", default: Parallel.defaultThreadCount)
    let cachePrecision: KVCachePrecision
    switch options.values["kv-cache"] ?? "f32" {
    case "f32": cachePrecision = .float32
    case "f16": cachePrecision = .float16
    case let other: throw BenchmarkError.usage("--kv-cache: '\(other)' is not f32 or f16\n\(generateUsage)")
    }

    // MARK: - Model, session and the same matrix products alone

    var model: GPT
    var name = presetName
    var ggufURL: URL?
    if let modelPath {
        let url = URL(fileURLWithPath: modelPath)
        name = url.lastPathComponent
        if url.pathExtension.lowercased() == "gguf" {
            model = try GPT(ggufAt: url, activations: options.flags.contains("float-activations") ? .float32 : .int8)
            ggufURL = url
        } else {
            model = try GPT(directory: url)
        }
    } else {
        guard let configuration = presets[presetName] else { throw BenchmarkError.usage("unknown preset '\(presetName)'\n\(generateUsage)") }
        model = try GPT(configuration: configuration, seed: 1)
    }
    if let formatName = options.values["quantize"] {
        let formats: [String: WeightFormat] = ["q8_0": .q8_0, "q4_0": .q4_0, "q4_1": .q4_1, "q4_k": .q4_K, "q6_k": .q6_K, "f16": .float16, "bf16": .bfloat16]
        guard let format = formats[formatName] else {
            throw BenchmarkError.usage("--quantize: '\(formatName)' is not a format\n\(generateUsage)")
        }
        model = try model.quantized(to: format, activations: options.flags.contains("float-activations") ? .float32 : .int8)
        name += " as \(formatName)"
    }
    let configuration = model.configuration
    guard promptLength >= 1, newTokens >= 2, repeats >= 1, promptLength + newTokens <= configuration.contextLength else {
        throw BenchmarkError.usage("need prompt ≥ 1, tokens ≥ 2, prompt + tokens ≤ \(configuration.contextLength)\n\(generateUsage)")
    }
    let mappedDirectory = FileManager.default.temporaryDirectory.appendingPathComponent("gptkit-generate-\(UUID().uuidString)")
    defer { try? FileManager.default.removeItem(at: mappedDirectory) }
    if options.flags.contains("mapped") && modelPath == nil {
        // As a user runs a checkpoint: saved, then loaded by mmap (GPT-2's Conv1D weights are
        // then used transposed, as they lie in the file).
        try model.save(directory: mappedDirectory)
        model = try GPT(directory: mappedDirectory)
    }
    var generator = RandomGenerator(seed: 2)
    let prompt = (0..<promptLength).map { _ in Int(generator.next() % UInt64(configuration.vocabularySize)) }
    let session = try GenerationSession(model: model, options: GenerationOptions(maximumNewTokens: newTokens, cachePrecision: cachePrecision),
                                        cacheCapacity: promptLength + newTokens + 1)
    let products = MatrixProducts(model: model, rows: promptLength)
    defer { products.deallocate() }
    var prefill: [Double] = [], decode: [Double] = [], prefillProducts: [Double] = [], decodeProducts: [Double] = []
    for run in 0...repeats {  // run 0 warms up; the four measures alternate so load changes hit all alike
        let t0 = DispatchTime.now().uptimeNanoseconds
        try session.start(prompt: prompt)
        let t1 = DispatchTime.now().uptimeNanoseconds
        var produced = 0
        while try session.next() != nil { produced += 1 }
        let t2 = DispatchTime.now().uptimeNanoseconds
        precondition(produced == newTokens, "generation stopped early: \(String(describing: session.finishReason))")
        products.run(rows: promptLength, vocabularyRows: 1)
        let t3 = DispatchTime.now().uptimeNanoseconds
        for _ in 0..<8 { products.run(rows: 1, vocabularyRows: 1) }
        let t4 = DispatchTime.now().uptimeNanoseconds
        if run > 0 {
            prefill.append(Double(t1 - t0) * 1e-9)
            // The first token comes from the prefill's logits: decoding runs tokens − 1 forward passes.
            decode.append(Double(t2 - t1) * 1e-9 / Double(newTokens - 1))
            prefillProducts.append(Double(t3 - t2) * 1e-9)
            decodeProducts.append(Double(t4 - t3) * 1e-9 / 8)
        }
    }
    let peakRSS = peakResidentMegabytes()  // before the bandwidth probe allocates its buffer
    let prefillRate = Double(promptLength) / median(prefill), decodeRate = 1 / median(decode)
    let prefillBound = Double(promptLength) / median(prefillProducts), decodeBound = 1 / median(decodeProducts)

    let weightBytes = model.weightBytesReadPerToken
    let decodeBandwidth = Double(weightBytes) * decodeRate / 1e9, gemvBandwidth = Double(weightBytes) * decodeBound / 1e9
    let readBandwidth = measureReadBandwidth()
    let fileMB = ggufURL.flatMap { try? FileManager.default.attributesOfItem(atPath: $0.path)[.size] as? Int }.map { Double($0) / 1e6 }
    let cacheMB = Double(model.makeCache(capacity: 1, precision: cachePrecision).bytesPerPosition * (promptLength + newTokens + 1)) / 1e6
    let peer = ggufURL.flatMap { url in
        options.flags.contains("no-python") ? nil
            : measureLlamaCpp(url: url, prompt: prompt, tokens: newTokens - 1, threads: Parallel.threadCount)
    }

    if options.flags.contains("json") {
        print(jsonLine([
            ("preset", modelPath == nil ? presetName : nil), ("model", modelPath == nil ? nil : name),
            ("prompt", promptLength), ("tokens", newTokens), ("threads", Parallel.threadCount),
            ("kernels", Kernels.instructionSet.rawValue), ("kv_cache", cachePrecision.rawValue),
            ("prefill_tokens_per_s", prefillRate),
            ("prefill_sgemm_bound_tokens_per_s", prefillBound), ("decode_tokens_per_s", decodeRate),
            ("decode_gemv_bound_tokens_per_s", decodeBound), ("weight_bytes_per_token", weightBytes),
            ("decode_gb_per_s", decodeBandwidth), ("gemv_gb_per_s", gemvBandwidth), ("read_gb_per_s", readBandwidth),
            ("read_bound_tokens_per_s", readBandwidth * 1e9 / Double(weightBytes)),
            ("bandwidth_fraction", decodeBandwidth / readBandwidth), ("peak_rss_mb", peakRSS),
            ("file_mb", fileMB), ("kv_cache_mb", cacheMB),
            ("llama_cpp_prefill_tokens_per_s", peer?.prefill), ("llama_cpp_decode_tokens_per_s", peer?.decode),
            ("llama_cpp_peak_rss_mb", peer?.peakRSS),
            ("decode_speedup_over_llama_cpp", peer.map { decodeRate / $0.decode }),
            ("prefill_speedup_over_llama_cpp", peer.map { prefillRate / $0.prefill }),
        ]))
        return
    }
    print("generate: \(name) (\(model.parameterCount) parameters), prompt \(promptLength), \(newTokens) new tokens, "
          + "batch 1, \(Parallel.threadCount) threads, kernels \(Kernels.instructionSet.rawValue), \(cachePrecision) KV cache, median of \(repeats)")
    var rows = [
        ["prefill tokens/s", format(prefillRate), format(prefillBound), format(prefillRate / prefillBound, digits: 2),
         "the prefill's matrix products alone (SGEMM)"],
        ["decode tokens/s", format(decodeRate), format(decodeBound), format(decodeRate / decodeBound, digits: 2),
         "one pass of GEMVs over every weight"],
        ["decode GB/s", format(decodeBandwidth), format(readBandwidth), format(decodeBandwidth / readBandwidth, digits: 2),
         "DRAM read probe (sum of squares, 512 MB)"],
        ["weight MB per token", format(Double(weightBytes) / 1e6), "", "", "in the stored formats"],
        ["peak RSS MB", format(peakRSS), "", "", "VmHWM" + (fileMB.map { "; file \(format($0)) MB" } ?? "")
            + ", KV cache \(format(cacheMB)) MB"],
    ]
    if let peer {
        rows += [
            ["llama.cpp prefill tokens/s", format(peer.prefill), "", format(prefillRate / peer.prefill, digits: 2),
             "GPTKit ÷ llama.cpp, same file, prompt ids, threads"],
            ["llama.cpp decode tokens/s", format(peer.decode), "", format(decodeRate / peer.decode, digits: 2),
             "GPTKit ÷ llama.cpp (greedy from its logits)"],
            ["llama.cpp peak RSS MB", format(peer.peakRSS), "", "", "its Python process (ru_maxrss)"],
        ]
    } else if ggufURL != nil && !options.flags.contains("no-python") {
        rows.append(["llama.cpp", "-", "", "", "not measured: pip install llama-cpp-python (GPTKIT_BENCH_VERBOSE=1 says why)"])
    }
    printTable(header: ["measure", "GPTKit", "bound", "fraction", "bound measured as"], rows: rows)
}

/// llama.cpp's prefill and decode rates (medians of three) and peak RSS on a GGUF file, from
/// `prompt` and then `tokens` greedy steps, with `threads` threads; nil without llama-cpp-python.
func measureLlamaCpp(url: URL, prompt: [Int], tokens: Int, threads: Int) -> (prefill: Double, decode: Double, peakRSS: Double)? {
    let script = """
    import sys, time, resource
    import numpy as np
    from llama_cpp import Llama
    path = sys.stdin.readline().strip(); n = int(sys.stdin.readline()); threads = int(sys.stdin.readline())
    prompt = [int(t) for t in sys.stdin.readline().split()]
    llm = Llama(model_path=path, n_ctx=len(prompt) + n + 8, n_threads=threads, n_threads_batch=threads, n_batch=512, verbose=False)
    pre, dec = [], []
    for _ in range(4):
        llm.reset()
        t0 = time.perf_counter(); llm.eval(prompt); t1 = time.perf_counter()
        for _ in range(n):
            llm.eval([int(np.argmax(llm.scores[llm.n_tokens - 1]))])
        t2 = time.perf_counter()
        pre.append(len(prompt) / (t1 - t0)); dec.append(n / (t2 - t1))
    pre, dec = pre[1:], dec[1:]  # the first run warms up, as GPTKit's does
    print(sorted(pre)[1], sorted(dec)[1], resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    """
    let input = "\(url.path)\n\(tokens)\n\(threads)\n\(prompt.map(String.init).joined(separator: " "))\n"
    guard let line = runPython(script: script, input: input)?.split(separator: "\n").last else { return nil }
    let values = line.split(separator: " ").compactMap { Double($0) }
    return values.count == 3 ? (values[0], values[1], values[2]) : nil
}

/// Every matrix product of one forward pass of `model` (the blocks' projections and the
/// vocabulary projection), run on the model's own weights with the kernels' default threads.
struct MatrixProducts {
    let matrices: [WeightMatrix]
    let vocabularyMatrix: WeightMatrix, vocabulary: Int, width: Int
    let input: UnsafeMutablePointer<Float>, output: UnsafeMutablePointer<Float>

    init(model: GPT, rows: Int) {
        let head = model.outputProjection
        matrices = model.layout.entries.filter { $0.role == .matrix && $0.slot.index != head.index }.map { model.weights.matrix($0.slot) }
        vocabularyMatrix = model.weights.matrix(head)
        vocabulary = model.configuration.vocabularySize
        width = model.configuration.embeddingDimensions
        let largest = max(matrices.map { max($0.outputs, $0.inputs) }.max() ?? 1, width)
        input = .allocate(capacity: rows * largest)
        input.initialize(repeating: 0.5, count: rows * largest)
        output = .allocate(capacity: max(rows * largest, vocabulary))
    }

    func run(rows: Int, vocabularyRows: Int) {
        for matrix in matrices { matrix.multiply(input, rows: rows, into: output) }
        vocabularyMatrix.multiply(input, rows: vocabularyRows, into: output)
    }

    func deallocate() {
        input.deallocate()
        output.deallocate()
    }
}

// MARK: - Helpers


/// DRAM read bandwidth in GB/s: a parallel sum of squares over 512 MB (far beyond the caches).
private func measureReadBandwidth() -> Double {
    let count = 128 << 20
    let buffer = UnsafeMutablePointer<Float>.allocate(capacity: count)
    defer { buffer.deallocate() }
    buffer.initialize(repeating: 1, count: count)
    var sink = 0.0
    let seconds = measureSeconds(minimumSeconds: 0.5) { sink += Kernels.squaredNorm(buffer, count: count) }
    precondition(sink > 0)
    return Double(count * 4) / seconds / 1e9
}
