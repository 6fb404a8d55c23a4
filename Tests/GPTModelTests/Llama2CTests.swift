import Foundation
import GPTModel
import GPTTensor
import XCTest

/// A llama2.c checkpoint built in memory: header and random weights.
struct Llama2CCheckpoint {
    var dim = 16, hidden = 24, layers = 2, heads = 4, kvHeads = 2, vocab = 12, seqLen = 8
    var shared = true

    var headSize: Int { dim / heads }
    var kvDim: Int { kvHeads * headSize }
    /// The weight arrays in file order, with their element counts.
    var sections: [(String, Int)] {
        [("emb", vocab * dim), ("rms_att", layers * dim), ("wq", layers * dim * dim), ("wk", layers * kvDim * dim),
         ("wv", layers * kvDim * dim), ("wo", layers * dim * dim), ("rms_ffn", layers * dim), ("w1", layers * hidden * dim),
         ("w2", layers * dim * hidden), ("w3", layers * hidden * dim), ("rms_final", dim), ("freq", seqLen * headSize),
         ("wcls", shared ? 0 : vocab * dim)]
    }

    func weights(seed: UInt64) -> [String: [Float]] {
        var generator = RandomGenerator(seed: seed)
        var result: [String: [Float]] = [:]
        for (name, count) in sections {
            let isNorm = name.hasPrefix("rms")
            result[name] = (0..<count).map { _ in (isNorm ? 1 : 0) + 0.3 * generator.nextNormal() }
        }
        return result
    }

    func data(_ weights: [String: [Float]], header: [Int32]? = nil) -> Data {
        var data = Data()
        let fields = header ?? [dim, hidden, layers, heads, kvHeads, shared ? vocab : -vocab, seqLen].map(Int32.init)
        for value in fields { withUnsafeBytes(of: value.littleEndian) { data.append(contentsOf: $0) } }
        for (name, _) in sections {
            for value in weights[name]! { withUnsafeBytes(of: value.bitPattern.littleEndian) { data.append(contentsOf: $0) } }
        }
        return data
    }

    /// run.c's forward pass for `tokens` (positions 0...), in Double: the logits of every position.
    func runC(_ w: [String: [Float]], tokens: [Int]) -> [[Double]] {
        let hs = headSize, kvMul = heads / kvHeads
        func matmul(_ name: String, _ layer: Int, rows: Int, columns: Int, _ x: [Double]) -> [Double] {
            let base = layer * rows * columns, m = w[name]!
            return (0..<rows).map { r in (0..<columns).reduce(0.0) { $0 + Double(m[base + r * columns + $1]) * x[$1] } }
        }
        func rmsnorm(_ x: [Double], _ name: String, _ layer: Int) -> [Double] {
            let scale = 1 / ((x.map { $0 * $0 }.reduce(0, +) / Double(dim)) + 1e-5).squareRoot()
            return (0..<dim).map { x[$0] * scale * Double(w[name]![layer * dim + $0]) }
        }
        var keys = [[[Double]]](repeating: [], count: layers), values = keys
        var logits: [[Double]] = []
        for (pos, token) in tokens.enumerated() {
            var x = (0..<dim).map { Double(w["emb"]![token * dim + $0]) }
            for l in 0..<layers {
                let xb = rmsnorm(x, "rms_att", l)
                var q = matmul("wq", l, rows: dim, columns: dim, xb), k = matmul("wk", l, rows: kvDim, columns: dim, xb)
                let v = matmul("wv", l, rows: kvDim, columns: dim, xb)
                for i in stride(from: 0, to: dim, by: 2) {
                    let freq = 1 / Foundation.pow(10000.0, Double(i % hs) / Double(hs)), angle = Double(pos) * freq
                    let (c, s) = (Foundation.cos(angle), Foundation.sin(angle))
                    (q[i], q[i + 1]) = (q[i] * c - q[i + 1] * s, q[i] * s + q[i + 1] * c)
                    if i < kvDim { (k[i], k[i + 1]) = (k[i] * c - k[i + 1] * s, k[i] * s + k[i + 1] * c) }
                }
                keys[l].append(k); values[l].append(v)
                var attended = [Double](repeating: 0, count: dim)
                for h in 0..<heads {
                    let g = h / kvMul
                    let scores = (0...pos).map { t in (0..<hs).reduce(0.0) { $0 + q[h * hs + $1] * keys[l][t][g * hs + $1] } / Double(hs).squareRoot() }
                    let m = scores.max()!, e = scores.map { Foundation.exp($0 - m) }, total = e.reduce(0, +)
                    for t in 0...pos { for i in 0..<hs { attended[h * hs + i] += e[t] / total * values[l][t][g * hs + i] } }
                }
                x = zip(x, matmul("wo", l, rows: dim, columns: dim, attended)).map(+)
                let xn = rmsnorm(x, "rms_ffn", l)
                let h1 = matmul("w1", l, rows: hidden, columns: dim, xn), h3 = matmul("w3", l, rows: hidden, columns: dim, xn)
                let gated = zip(h1, h3).map { $0 / (1 + Foundation.exp(-$0)) * $1 }
                x = zip(x, matmul("w2", l, rows: dim, columns: hidden, gated)).map(+)
            }
            logits.append(matmul(shared ? "emb" : "wcls", 0, rows: vocab, columns: dim, rmsnorm(x, "rms_final", 0)))
        }
        return logits
    }
}

final class Llama2CTests: XCTestCase {
    func write(_ data: Data) throws -> URL {
        let url = try temporaryDirectory(self).appendingPathComponent("model.bin")
        try data.write(to: url)
        return url
    }

    func testMatchesRunCIncludingThePermutedRoPE() throws {
        for shared in [true, false] {
            var checkpoint = Llama2CCheckpoint()
            checkpoint.shared = shared
            let weights = checkpoint.weights(seed: shared ? 1 : 2)
            let url = try write(checkpoint.data(weights))
            let model = try GPT(llama2cCheckpointAt: url)
            XCTAssertEqual(try GPTConfiguration(llama2cCheckpointAt: url), model.configuration)
            XCTAssertEqual(model.configuration.tiesEmbeddings, shared)
            XCTAssertEqual(model.layout.entry(named: "lm_head.weight") == nil, shared)
            let tokens = [1, 5, 11, 0, 7, 3, 3, 9]
            let ours = try model.forward(tokens: tokens, batch: 1, time: tokens.count).scalars
            let expected = checkpoint.runC(weights, tokens: tokens).flatMap { $0.map(Float.init) }
            assertClose(ours, expected, rtol: 1e-4, atol: 1e-4, "shared \(shared)")
        }
    }

    func testStories260KGreedyMatchesRunC() throws {
        let directory = sharedDataDirectory.appendingPathComponent("stories260K")
        let url = directory.appendingPathComponent("stories260K.bin")
        guard FileManager.default.fileExists(atPath: url.path) else { throw XCTSkip("\(url.path) is absent") }
        let model = try GPT(llama2cCheckpointAt: url)
        let c = model.configuration
        XCTAssertEqual([c.embeddingDimensions, c.hiddenDimensions, c.layerCount, c.headCount, c.keyValueHeadCount,
                        c.vocabularySize, c.contextLength], [64, 172, 5, 8, 4, 512, 512])
        // PROVENANCE.md: run.c -t 0 -n 64 from BOS + "Once upon a time".
        let prompt = [1, 403, 407, 261, 378]
        let expected = """
            432 383 286 261 376 298 315 421 395 317 426 338 401 396 267 337 410 408 419 292 411 322 265 282 295 433 426 385 \
            328 432 358 394 261 370 432 352 266 268 388 426 338 391 266 267 337 335 312 432 398 312 286 267 414 270 333 415 \
            426 13 438 310
            """.split(separator: " ").map { Int($0)! }
        XCTAssertEqual(expected.count, 60)
        let produced = try GenerationSession(model: model, options: GenerationOptions(maximumNewTokens: 60)).generate(prompt: prompt)
        XCTAssertEqual(produced, expected)
    }

    func testMalformedCheckpointsThrow() throws {
        let checkpoint = Llama2CCheckpoint()
        let good = checkpoint.data(checkpoint.weights(seed: 3))
        XCTAssertNoThrow(try GPT(llama2cCheckpointAt: try write(good)))
        func header(_ fields: [Int32]) -> Data { checkpoint.data(checkpoint.weights(seed: 3), header: fields) }
        let cases: [(String, Data, (ModelError) -> Bool)] = [
            ("truncated", good.dropLast(4), { if case .malformedFile(let m) = $0 { m.contains("implies") } else { false } }),
            ("trailing bytes", good + Data([0, 0, 0, 0]), { if case .malformedFile(let m) = $0 { m.contains("implies") } else { false } }),
            ("no header", good.prefix(20), { if case .malformedFile(let m) = $0 { m.contains("28-byte") } else { false } }),
            ("zero layers", header([16, 24, 0, 4, 2, 12, 8]), { if case .malformedFile(let m) = $0 { m.contains("n_layers") } else { false } }),
            ("negative dim", header([-16, 24, 2, 4, 2, 12, 8]), { if case .malformedFile(let m) = $0 { m.contains("dim") } else { false } }),
            ("heads do not divide", header([16, 24, 2, 3, 1, 12, 8]), { if case .malformedFile(let m) = $0 { m.contains("divisible") } else { false } }),
            ("kv heads", header([16, 24, 2, 4, 3, 12, 8]), { if case .malformedFile(let m) = $0 { m.contains("multiple") } else { false } }),
            ("wrong sizes", header([16, 24, 2, 4, 2, 13, 8]), { if case .malformedFile(let m) = $0 { m.contains("implies") } else { false } }),
            ("version 1 magic", header([0x616b_3432, 1, 16, 24, 2, 4, 2]), { if case .unsupported = $0 { true } else { false } }),
        ]
        for (name, data, matches) in cases {
            let url = try write(data)
            XCTAssertThrowsError(try GPT(llama2cCheckpointAt: url), name) { error in
                guard let error = error as? ModelError else { return XCTFail("\(name): \(error)") }
                XCTAssertTrue(matches(error), "\(name): \(error.localizedDescription)")
            }
        }
        assertThrows(file: #filePath, line: #line, { try GPT(llama2cCheckpointAt: URL(fileURLWithPath: "/nonexistent/model.bin")) }) {
            if case .io = $0 { true } else { false }
        }
    }
}
