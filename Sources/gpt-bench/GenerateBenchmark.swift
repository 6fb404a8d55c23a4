// gpt-bench generate: prefill and decode speed of one generation session (batch 1, random
// weights), against this machine's memory bandwidth measured in the same run.
//
// Decoding one token reads every weight once (≈ 4 bytes per parameter), so its speed is bounded
// by the DRAM read bandwidth; prefill is a batch of matrix products and runs at the SGEMM rate.
import Foundation
import GPTKit

let generateUsage = """
usage: gpt-bench generate [--preset nano|mini|gpt2-small|gpt2-medium] [--prompt N] [--tokens N]
                          [--threads N] [--repeats N] [--mapped] [--json]
"""

func runGenerateBenchmark(arguments: [String]) throws {
    let options = try BenchmarkOptions(arguments, flagNames: ["json", "mapped"])
    let presets: [String: GPTConfiguration] = ["nano": .nano, "mini": .mini, "gpt2-small": .gpt2Small, "gpt2-medium": .gpt2Medium]
    let presetName = options.values["preset"] ?? "gpt2-small"
    guard let configuration = presets[presetName] else { throw BenchmarkError.usage("unknown preset '\(presetName)'\n\(generateUsage)") }
    let promptLength = try options.integer("prompt", default: 256)
    let newTokens = try options.integer("tokens", default: 128)
    let repeats = try options.integer("repeats", default: 3)
    Parallel.threadCount = try options.integer("threads", default: Parallel.defaultThreadCount)
    guard promptLength >= 1, newTokens >= 2, repeats >= 1, promptLength + newTokens <= configuration.contextLength else {
        throw BenchmarkError.usage("need prompt ≥ 1, tokens ≥ 2, prompt + tokens ≤ \(configuration.contextLength)\n\(generateUsage)")
    }

    // MARK: - Model, session and the same matrix products alone

    var model = try GPT(configuration: configuration, seed: 1)
    let mappedDirectory = FileManager.default.temporaryDirectory.appendingPathComponent("gptkit-generate-\(UUID().uuidString)")
    defer { try? FileManager.default.removeItem(at: mappedDirectory) }
    if options.flags.contains("mapped") {
        // As a user runs a checkpoint: saved, then loaded by mmap (GPT-2's Conv1D weights are
        // then used transposed, as they lie in the file).
        try model.save(directory: mappedDirectory)
        model = try GPT(directory: mappedDirectory)
    }
    var generator = RandomGenerator(seed: 2)
    let prompt = (0..<promptLength).map { _ in Int(generator.next() % UInt64(configuration.vocabularySize)) }
    let session = try GenerationSession(model: model, options: GenerationOptions(maximumNewTokens: newTokens))
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

    // Bytes read per decoded token: every parameter once, except the position table (one row)
    // and, when untied, the token table (one row; the output projection is read in full).
    let skipped = model.layout.entries.filter { $0.name == "wpe.weight" || (!configuration.tiesEmbeddings && $0.name == "wte.weight") }
    let weightBytes = 4 * (model.parameterCount - skipped.reduce(0) { $0 + $1.slot.count })
    let decodeBandwidth = Double(weightBytes) * decodeRate / 1e9, gemvBandwidth = Double(weightBytes) * decodeBound / 1e9
    let readBandwidth = measureReadBandwidth()

    if options.flags.contains("json") {
        print(jsonLine([
            ("preset", presetName), ("prompt", promptLength), ("tokens", newTokens), ("threads", Parallel.threadCount),
            ("kernels", Kernels.instructionSet.rawValue), ("prefill_tokens_per_s", prefillRate),
            ("prefill_sgemm_bound_tokens_per_s", prefillBound), ("decode_tokens_per_s", decodeRate),
            ("decode_gemv_bound_tokens_per_s", decodeBound), ("weight_bytes_per_token", weightBytes),
            ("decode_gb_per_s", decodeBandwidth), ("gemv_gb_per_s", gemvBandwidth), ("read_gb_per_s", readBandwidth),
            ("read_bound_tokens_per_s", readBandwidth * 1e9 / Double(weightBytes)), ("peak_rss_mb", peakRSS),
        ]))
        return
    }
    print("generate: \(presetName) (\(model.parameterCount) parameters), prompt \(promptLength), \(newTokens) new tokens, "
          + "batch 1, \(Parallel.threadCount) threads, kernels \(Kernels.instructionSet.rawValue), median of \(repeats)")
    printTable(header: ["measure", "GPTKit", "bound", "fraction", "bound measured as"], rows: [
        ["prefill tokens/s", format(prefillRate), format(prefillBound), format(prefillRate / prefillBound, digits: 2),
         "the prefill's matrix products alone (SGEMM)"],
        ["decode tokens/s", format(decodeRate), format(decodeBound), format(decodeRate / decodeBound, digits: 2),
         "one pass of GEMVs over every weight"],
        ["decode GB/s", format(decodeBandwidth), format(readBandwidth), format(decodeBandwidth / readBandwidth, digits: 2),
         "DRAM read probe (sum of squares, 512 MB)"],
        ["weight MB per token", format(Double(weightBytes) / 1e6), "", "", ""],
        ["peak RSS MB", format(peakRSS), "", "", "VmHWM"],
    ])
}

/// Every matrix product of one forward pass of `model` (the blocks' projections and the
/// vocabulary projection), run on the model's own weights with the kernels' default threads.
struct MatrixProducts {
    let matrices: [WeightMatrix]
    let vocabularyMatrix: WeightMatrix, vocabulary: Int, width: Int
    let input: UnsafeMutablePointer<Float>, output: UnsafeMutablePointer<Float>

    init(model: GPT, rows: Int) {
        let head = model.layout.entry(named: model.configuration.tiesEmbeddings ? "wte.weight" : "lm_head.weight")!
        matrices = model.layout.entries.filter { $0.role == .matrix && $0.name != head.name }.map { model.weights.matrix($0.slot) }
        vocabularyMatrix = model.weights.matrix(head.slot)
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
