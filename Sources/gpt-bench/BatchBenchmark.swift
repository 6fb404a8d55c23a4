// gpt-bench batch: several sequences decoded together (GenerationSession.next(_:): one batched
// pass per step) on a GGUF model in its stored formats — aggregate greedy decode tokens/s for
// each batch size, against llama.cpp decoding the same number of sequences together in one
// context (llama_decode on a batch with one token per sequence), same file, prompts and threads.
// --dequantize measures the float32 weights instead (no peer).
import Foundation
import GPTKit

func runBatchBenchmark(arguments: [String]) throws {
    let options = try BenchmarkOptions(arguments, flagNames: ["json", "no-python", "dequantize"])
    let dequantize = options.flags.contains("dequantize")
    let path = options.values["model"] ?? "../shared/data/smollm2-135m-instruct/SmolLM2-135M-Instruct.Q4_1.gguf"
    let url = URL(fileURLWithPath: path)
    guard FileManager.default.fileExists(atPath: url.path) else { throw BenchmarkError.usage("no such model: \(path)") }
    let tokens = try options.integer("tokens", default: 32)
    let sizes = try (options.values["sizes"] ?? "1,2,4,8").split(separator: ",").map { part -> Int in
        guard let size = Int(part), size >= 1, size <= 64 else { throw BenchmarkError.usage("--sizes: batch sizes from 1 to 64") }
        return size
    }
    guard tokens >= 2 else { throw BenchmarkError.usage("--tokens must be at least 2") }
    let model = try GPT(gguf: GGUFFile(contentsOf: url), name: url.lastPathComponent, weights: dequantize ? .dequantized : .stored)
    let vocabulary = model.configuration.vocabularySize
    // Sequence s: 8 ordinary ids, different for every sequence; greedy, no stop token.
    func prompt(_ s: Int) -> [Int] { (0..<8).map { 1 + (7919 * (s * 8 + $0)) % (vocabulary - 1) } }
    var rows: [[String]] = []
    var json: [(String, Any?)] = [("model", url.lastPathComponent), ("threads", Parallel.threadCount), ("tokens", tokens)]
    var single: Double?
    for size in sizes {
        var rates: [Double] = []
        for _ in 0..<3 {
            let sessions = try (0..<size).map { s in
                let session = try GenerationSession(model: model, options: GenerationOptions(maximumNewTokens: tokens), cacheCapacity: 8 + tokens + 1)
                try session.start(prompt: prompt(s))
                return session
            }
            _ = try GenerationSession.next(sessions)   // the first tokens come from the prompts' logits
            let start = DispatchTime.now().uptimeNanoseconds
            var produced = 0
            while case let step = try GenerationSession.next(sessions), step.contains(where: { $0 != nil }) {
                produced += step.reduce(0) { $0 + ($1 == nil ? 0 : 1) }
            }
            rates.append(Double(produced) / (Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-9))
        }
        let ours = median(rates)
        if single == nil { single = ours }
        let peer = options.flags.contains("no-python") || dequantize ? nil
            : llamaCppBatchedDecode(url: url, prompts: (0..<size).map(prompt), tokens: tokens - 1, threads: Parallel.threadCount)
        rows.append(["\(size)", format(ours), format(single.map { ours / $0 }, digits: 2) + "×", format(peer),
                     peer.map { format(ours / $0, digits: 2) + "×" } ?? "-"])
        json += [("b\(size)_tokens_per_s", ours), ("b\(size)_llama_cpp_tokens_per_s", peer), ("b\(size)_speedup_over_llama_cpp", peer.map { ours / $0 })]
    }
    if options.flags.contains("json") {
        print(jsonLine(json))
        return
    }
    print("batch: \(url.lastPathComponent) \(dequantize ? "dequantized to float32 (no peer)" : "as stored"), \(Parallel.threadCount) threads, greedy decode of \(tokens) tokens per sequence "
          + "after an 8-token prompt, median of 3")
    printTable(header: ["sequences", "GPTKit tokens/s (all sequences)", "over 1 sequence", "llama.cpp tokens/s", "GPTKit over llama.cpp"],
               rows: rows)
}

/// llama.cpp's aggregate greedy decode rate for `prompts.count` sequences decoded together in one
/// context (a unified KV cache, one llama_decode per step with a token of each sequence): the
/// median of three runs after a warm-up; nil without llama-cpp-python.
func llamaCppBatchedDecode(url: URL, prompts: [[Int]], tokens: Int, threads: Int) -> Double? {
    let script = """
    import sys, time
    import numpy as np
    import llama_cpp
    from llama_cpp import Llama
    path = sys.stdin.readline().strip(); n = int(sys.stdin.readline()); threads = int(sys.stdin.readline())
    prompts = [[int(t) for t in line.split()] for line in sys.stdin.read().strip().split("\\n")]
    B = len(prompts); longest = max(len(p) for p in prompts)
    llm = Llama(model_path=path, n_ctx=64, n_threads=threads, n_threads_batch=threads, verbose=False)
    params = llama_cpp.llama_context_default_params()
    params.n_ctx = B * (longest + n + 8); params.n_batch = 512; params.n_ubatch = 512
    params.n_seq_max = B; params.kv_unified = True; params.n_threads = threads; params.n_threads_batch = threads
    ctx = llama_cpp.llama_init_from_model(llm._model.model, params)
    V = llm.n_vocab()
    batch = llama_cpp.llama_batch_init(max(B * longest, 512), 0, B)
    def add(i, token, pos, seq, logits):
        batch.token[i] = token; batch.pos[i] = pos; batch.n_seq_id[i] = 1; batch.seq_id[i][0] = seq; batch.logits[i] = logits
    def argmax(i):
        return int(np.argmax(np.ctypeslib.as_array(llama_cpp.llama_get_logits_ith(ctx, i), shape=(V,))))
    rates = []
    for _ in range(4):
        llama_cpp.llama_memory_clear(llama_cpp.llama_get_memory(ctx), True)
        k, last = 0, []
        for s, p in enumerate(prompts):
            for j, t in enumerate(p):
                add(k, t, j, s, 1 if j == len(p) - 1 else 0); k += 1
            last.append(k - 1)
        batch.n_tokens = k
        assert llama_cpp.llama_decode(ctx, batch) == 0
        tokens = [argmax(i) for i in last]
        t0 = time.perf_counter()
        for step in range(n):
            for s in range(B): add(s, tokens[s], len(prompts[s]) + step, s, 1)
            batch.n_tokens = B
            assert llama_cpp.llama_decode(ctx, batch) == 0
            tokens = [argmax(s) for s in range(B)]
        rates.append(B * n / (time.perf_counter() - t0))
    print(sorted(rates[1:])[1])
    """
    let input = "\(url.path)\n\(tokens)\n\(threads)\n" + prompts.map { $0.map(String.init).joined(separator: " ") }.joined(separator: "\n") + "\n"
    return runPython(script: script, input: input)?.split(separator: "\n").last.flatMap { Double($0) }
}
