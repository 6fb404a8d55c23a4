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

    // Each case alternates `rounds` times between our product and numpy's (a long-lived child
    // per thread count), 0.1 s each, and compares the medians of all samples: on a shared host
    // whose speed drifts, both sides then see the same load.
    let rounds = max(1, try options.integer("rounds", default: 3))
    var generator = RandomGenerator(seed: 1)
    var ours: [MatmulCase: Double] = [:]
    var numpy: [MatmulCase: Double] = [:]
    for threads in threadCounts {
        let peer = options.flags.contains("no-numpy") ? nil : NumpyPeer(threads: threads)
        defer { peer?.close() }
        for item in cases where item.threads == threads {
            let aCount = item.m * item.k, bCount = item.n * item.k
            let a = Tensor(randomNormal: [aCount], generator: &generator)
            let b = Tensor(randomNormal: [bCount], generator: &generator)
            var c = Tensor(zeros: [item.m * item.n])
            var ourSamples: [Double] = [], peerSamples: [Double] = []
            for _ in 0..<rounds {
                ourSamples += a.withUnsafeBufferPointer { pa in
                    b.withUnsafeBufferPointer { pb in
                        c.withUnsafeMutableBufferPointer { pc in
                            measureSamples(minimumSeconds: 0.1) {
                                Kernels.sgemm(m: item.m, n: item.n, k: item.k, a: pa.baseAddress!, transposeA: item.op == "aTb",
                                              b: pb.baseAddress!, transposeB: item.op == "abT" || item.op == "gemv",
                                              c: pc.baseAddress!, threads: item.threads)
                            }
                        }
                    }
                }
                if let peer, let samples = peer.time(item, seconds: 0.1) { peerSamples += samples }
            }
            ours[item] = median(ourSamples)
            if !peerSamples.isEmpty { numpy[item] = median(peerSamples) }
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

/// A long-lived `python3` child that times numpy products on request, so that each of our
/// measurements and numpy's of the same shape alternate within seconds of each other and see the
/// same machine load (this host's speed drifts by ±30% over a minute).
final class NumpyPeer {
    private let process = Process()
    private let input: FileHandle
    private let output: FileHandle
    private var buffer = Data()

    static let script = #"""
import json, sys, time
import numpy as np
rng = np.random.default_rng(0)
arrays = {}
for line in sys.stdin:
    c = json.loads(line)
    m, n, k, op = c["m"], c["n"], c["k"], c["op"]
    key = (op, m, n, k)
    if key not in arrays:
        arrays.clear()
        a = rng.standard_normal((k, m) if op == "aTb" else (m, k), dtype=np.float32)
        b = rng.standard_normal((n, k) if op in ("abT", "gemv") else (k, n), dtype=np.float32)
        arrays[key] = (a.T if op == "aTb" else a, b.T if op in ("abT", "gemv") else b,
                       np.empty((m, n), dtype=np.float32))
    A, B, C = arrays[key]
    np.matmul(A, B, out=C)
    samples = []
    start = time.perf_counter()
    while len(samples) < 3 or time.perf_counter() - start < c["seconds"]:
        t0 = time.perf_counter(); np.matmul(A, B, out=C); samples.append(time.perf_counter() - t0)
        if len(samples) >= 1000: break
    # OpenBLAS's idle workers spin for a while after a call; let them park before we answer, so
    # they never steal cycles from the measurement that follows.
    time.sleep(0.2)
    print(json.dumps(samples), flush=True)
"""#

    /// Starts `python3` with numpy limited to `threads` threads, or returns nil if that fails.
    init?(threads: Int) {
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", Self.script]
        process.environment = pythonEnvironment(
            ["OPENBLAS_NUM_THREADS": "\(threads)", "OMP_NUM_THREADS": "\(threads)", "MKL_NUM_THREADS": "\(threads)"])
        let stdinPipe = Pipe(), stdoutPipe = Pipe()
        process.standardInput = stdinPipe
        process.standardOutput = stdoutPipe
        process.standardError = FileHandle.nullDevice
        input = stdinPipe.fileHandleForWriting
        output = stdoutPipe.fileHandleForReading
        do { try process.run() } catch { return nil }
        // A first tiny product proves numpy imports.
        guard time(MatmulCase(op: "ab", m: 8, n: 8, k: 8, threads: threads), seconds: 0) != nil else {
            close()
            return nil
        }
    }

    /// numpy's seconds per call for `item`, one sample per call, timed for about `seconds`.
    func time(_ item: MatmulCase, seconds: Double) -> [Double]? {
        let request = "{\"op\": \"\(item.op)\", \"m\": \(item.m), \"n\": \(item.n), \"k\": \(item.k), \"seconds\": \(seconds)}\n"
        do { try input.write(contentsOf: Data(request.utf8)) } catch { return nil }
        while true {
            if let newline = buffer.firstIndex(of: UInt8(ascii: "\n")) {
                let line = buffer[..<newline]
                buffer.removeSubrange(...newline)
                return (try? JSONSerialization.jsonObject(with: Data(line))) as? [Double]
            }
            let chunk = output.availableData
            if chunk.isEmpty { return nil }
            buffer.append(chunk)
        }
    }

    /// Ends the child.
    func close() {
        try? input.close()
        process.waitUntilExit()
    }
}
