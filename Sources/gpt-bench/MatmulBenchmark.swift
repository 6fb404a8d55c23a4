// gpt-bench matmul: SGEMM GFLOP/s in the three forms against numpy on the same shapes.
import Foundation
import GPTKit

/// One product to time: C[m, n] = op(A)[m, k] · op(B)[k, n].
struct MatmulCase: Hashable {
    /// "ab" (A·B), "abT" (A·Bᵀ, nn.Linear forward), "aTb" (Aᵀ·B, weight gradient), "gemv" (x·Wᵀ, M = 1).
    var op: String
    var m: Int, n: Int, k: Int
    var threads: Int
    var flops: Double { 2 * Double(m) * Double(n) * Double(k) }
}

let numpyMatmulScript = #"""
import json, sys, time
import numpy as np
cases = json.loads(sys.stdin.read())
rng = np.random.default_rng(0)
out = []
for c in cases:
    m, n, k, op = c["m"], c["n"], c["k"], c["op"]
    a = rng.standard_normal((k, m) if op == "aTb" else (m, k), dtype=np.float32)
    b = rng.standard_normal((n, k) if op in ("abT", "gemv") else (k, n), dtype=np.float32)
    A = a.T if op == "aTb" else a
    B = b.T if op in ("abT", "gemv") else b
    C = np.empty((m, n), dtype=np.float32)
    np.matmul(A, B, out=C)
    samples = []
    start = time.perf_counter()
    while len(samples) < 3 or time.perf_counter() - start < 0.3:
        t0 = time.perf_counter(); np.matmul(A, B, out=C); samples.append(time.perf_counter() - t0)
        if len(samples) >= 1000: break
    samples.sort()
    out.append(samples[len(samples) // 2])
print(json.dumps(out))
"""#

func runMatmulBenchmark(arguments: [String]) throws {
    let options = try BenchmarkOptions(arguments, flagNames: ["json", "no-numpy", "quick", "no-gemv"])
    let allThreads = Parallel.defaultThreadCount
    let threadCounts = Array(Set([1, allThreads])).sorted()
    var shapes: [(Int, Int, Int)] = options.flags.contains("quick")
        ? [(256, 256, 256), (512, 512, 512)]
        : [128, 256, 512, 1024, 2048].map { ($0, $0, $0) }
    // GPT-2 small with 256 rows: qkv, attention projection, MLP up, MLP down, logits (K × N).
    shapes += [(256, 2304, 768), (256, 768, 768), (256, 3072, 768), (256, 768, 3072), (256, 50257, 768)]
    if let only = options.values["shapes"] {
        // --shapes "MxNxK;MxNxK": time only these.
        shapes = try only.split(separator: ";").map { item in
            let sizes = item.split(separator: "x").compactMap { Int($0) }
            guard sizes.count == 3 else { throw BenchmarkError.usage("--shapes expects MxNxK;MxNxK, got '\(item)'") }
            return (sizes[0], sizes[1], sizes[2])
        }
    }
    var cases: [MatmulCase] = []
    for threads in threadCounts {
        for (m, n, k) in shapes {
            for op in ["ab", "abT", "aTb"] { cases.append(MatmulCase(op: op, m: m, n: n, k: k, threads: threads)) }
        }
        // Decoding: one row against GPT-2 weights (in cache) and against the tied logits matrix
        // (154 MB, far larger than the cache: memory-bound).
        for (n, k) in options.flags.contains("no-gemv") ? [] : [(2304, 768), (3072, 768), (768, 3072), (50257, 768)] {
            cases.append(MatmulCase(op: "gemv", m: 1, n: n, k: k, threads: threads))
        }
    }

    var generator = RandomGenerator(seed: 1)
    var ours: [MatmulCase: Double] = [:]
    for item in cases {
        let aCount = item.m * item.k, bCount = item.n * item.k
        let a = Tensor(randomNormal: [aCount], generator: &generator)
        let b = Tensor(randomNormal: [bCount], generator: &generator)
        var c = Tensor(zeros: [item.m * item.n])
        let seconds = a.withUnsafeBufferPointer { pa in
            b.withUnsafeBufferPointer { pb in
                c.withUnsafeMutableBufferPointer { pc in
                    measureSeconds {
                        Kernels.sgemm(m: item.m, n: item.n, k: item.k, a: pa.baseAddress!, transposeA: item.op == "aTb",
                                      b: pb.baseAddress!, transposeB: item.op == "abT" || item.op == "gemv",
                                      c: pc.baseAddress!, threads: item.threads)
                    }
                }
            }
        }
        ours[item] = seconds
    }

    var numpy: [MatmulCase: Double] = [:]
    if !options.flags.contains("no-numpy") {
        for threads in threadCounts {
            let subset = cases.filter { $0.threads == threads }
            let input = "[" + subset.map { "{\"op\": \"\($0.op)\", \"m\": \($0.m), \"n\": \($0.n), \"k\": \($0.k)}" }
                .joined(separator: ", ") + "]"
            let env = ["OPENBLAS_NUM_THREADS": "\(threads)", "OMP_NUM_THREADS": "\(threads)", "MKL_NUM_THREADS": "\(threads)"]
            if let output = runPython(script: numpyMatmulScript, input: input, environment: env),
               let data = output.data(using: .utf8),
               let times = try? JSONSerialization.jsonObject(with: data) as? [Double], times.count == subset.count {
                for (item, time) in zip(subset, times) { numpy[item] = time }
            }
        }
    }

    var rows: [[String]] = []
    for item in cases {
        let gflops = item.flops / ours[item]! / 1e9
        let numpyGflops = numpy[item].map { item.flops / $0 / 1e9 }
        let ratio = numpyGflops.map { gflops / $0 }
        let bytes = Double(item.n * item.k) * 4
        let gbPerSecond = item.op == "gemv" ? bytes / ours[item]! / 1e9 : nil
        if options.flags.contains("json") {
            print(jsonLine([("op", item.op), ("m", item.m), ("n", item.n), ("k", item.k), ("threads", item.threads),
                            ("gflops", gflops), ("numpy_gflops", numpyGflops), ("ratio", ratio),
                            ("weight_gb_per_s", gbPerSecond)]))
        }
        rows.append([item.op, "\(item.m)", "\(item.n)", "\(item.k)", "\(item.threads)", format(gflops),
                     format(numpyGflops), format(ratio, digits: 2), format(gbPerSecond)])
    }
    if !options.flags.contains("json") {
        print("SGEMM, kernels: \(Kernels.instructionSet.rawValue), threads: \(threadCounts)")
        printTable(header: ["op", "m", "n", "k", "threads", "GFLOP/s", "numpy", "ratio", "GB/s"], rows: rows)
        print(String(format: "parallel call overhead (empty %d-task region): %.1f µs back to back, %.1f µs after 1 ms idle", allThreads,
                     measureSeconds { Parallel.forEachTask(allThreads) { _ in } } * 1e6, coldParallelOverhead(tasks: allThreads) * 1e6))
    }
}

/// The median cost of an empty parallel region when the workers have been idle for 1 ms (parked).
func coldParallelOverhead(tasks: Int) -> Double {
    var samples: [Double] = []
    for _ in 0..<50 {
        usleep(1000)
        let t0 = DispatchTime.now().uptimeNanoseconds
        Parallel.forEachTask(tasks) { _ in }
        samples.append(Double(DispatchTime.now().uptimeNanoseconds - t0) * 1e-9)
    }
    return samples.sorted()[samples.count / 2]
}
