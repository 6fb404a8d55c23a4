import Foundation
import GPTLayers
import GPTModel
import GPTTensor
import XCTest

/// Decoding through the KV cache gives the logits of the full forward pass.
final class CachedDecodingTests: XCTestCase {
    /// Feeds the sequence in chunks of `chunks` (then one token at a time) and compares every
    /// position's logits with the full forward pass. Chunks of 8 or more take the blocked
    /// attention path, smaller ones the row-by-row path.
    func checkCachedEqualsFull(_ model: GPT, chunks: [Int], file: StaticString = #filePath, line: UInt = #line) throws {
        let c = model.configuration, time = c.contextLength
        let tokens = randomTokens(time, vocabulary: c.vocabularySize, seed: 3)
        let full = try model.forward(tokens: tokens, batch: 1, time: time).scalars
        let cache = model.makeCache()
        var cached: [Float] = [], position = 0
        for chunk in chunks {
            cached += try model.forward(tokens: Array(tokens[position..<(position + chunk)]), cache: cache, allLogits: true).scalars
            position += chunk
        }
        for t in position..<time {
            cached += try model.forward(tokens: [tokens[t]], cache: cache).scalars
        }
        XCTAssertEqual(cache.length, time, file: file, line: line)
        XCTAssertLessThanOrEqual(maximumDifference(full, cached), 1e-5, "chunks \(chunks)", file: file, line: line)
        // Only the last row by default: equal to the last row of the full pass.
        cache.reset()
        let last = try model.forward(tokens: tokens, cache: cache).scalars
        XCTAssertLessThanOrEqual(maximumDifference(Array(full.suffix(c.vocabularySize)), last), 1e-5, file: file, line: line)
        // The cache is full now: one more token is an error, and nothing changes.
        assertThrows(.contextOverflow(length: time + 1, limit: time), file: file, line: line) {
            try model.forward(tokens: [0], cache: cache)
        }
        XCTAssertEqual(cache.length, time, file: file, line: line)
    }

    func testTinyGPT2() throws {
        let model = try GPT(directory: fixturesDirectory.appendingPathComponent("tiny-gpt2"))
        try checkCachedEqualsFull(model, chunks: [1])
        try checkCachedEqualsFull(model, chunks: [7])
        try checkCachedEqualsFull(model, chunks: [12, 9])
    }

    func testLlamaStyleGroupedQueryRoPE() throws {
        let model = try randomModel(llamaNano, seed: 11)
        try checkCachedEqualsFull(model, chunks: [1])
        try checkCachedEqualsFull(model, chunks: [5, 3, 10])
    }

    func testSinusoidalMultiQuery() throws {
        var configuration = GPTConfiguration.nano
        configuration.positionalEncoding = .sinusoidal
        configuration.keyValueHeadCount = 1
        try checkCachedEqualsFull(try randomModel(configuration, seed: 12), chunks: [3, 16])
    }

    func testTruncateRollsBack() throws {
        let model = try randomModel(.nano, seed: 4)
        let cache = model.makeCache(capacity: 10)
        XCTAssertEqual(cache.capacity, 10)
        let first = try model.forward(tokens: [1, 2, 3], cache: cache)
        _ = try model.forward(tokens: [4, 5], cache: cache)
        try cache.truncate(to: 2)
        // One token through the matrix-vector path vs three through SGEMM: equal to rounding.
        XCTAssertLessThanOrEqual(maximumDifference(try model.forward(tokens: [3], cache: cache).scalars, first.scalars), 1e-5)
        assertThrows(.invalidInput("cannot truncate a cache of 3 positions to 5")) { try cache.truncate(to: 5) }
        assertThrows(.invalidInput("no tokens to decode")) { try model.forward(tokens: [], cache: cache) }
        assertThrows(.tokenOutOfRange(token: 64, vocabularySize: 64)) { try model.forward(tokens: [64], cache: cache) }
        XCTAssertEqual(model.makeCache(capacity: 1000).capacity, 32, "capped at the context length")
        // The call forms.
        let fresh = model.makeCache()
        XCTAssertEqual(try model([1, 2, 3], cache: fresh), first)
        XCTAssertEqual(try model([1, 2, 3]).shape, [1, 3, 64])
    }
}

/// Generation with a half-precision KV cache on a model: close to the float32 cache, same
/// greedy tokens on a short run, half the cache memory.
final class HalfCacheDecodingTests: XCTestCase {
    func testHalfCacheDecodingStaysCloseToFloat32() throws {
        let model = try randomModel(llamaNano, seed: 11)
        let c = model.configuration
        let tokens = randomTokens(c.contextLength, vocabulary: c.vocabularySize, seed: 3)
        let single = model.makeCache(), half = model.makeCache(precision: .float16)
        XCTAssertEqual(half.precision, .float16)
        XCTAssertEqual(half.bytesPerPosition * 2, single.bytesPerPosition)
        var worst: Float = 0, scale: Float = 0
        for token in tokens {
            let a = try model.forward(tokens: [token], cache: single).scalars, b = try model.forward(tokens: [token], cache: half).scalars
            worst = max(worst, maximumDifference(a, b))
            scale = max(scale, a.map(abs).max()!)
        }
        XCTAssertLessThanOrEqual(worst, 5e-3 * scale)
        XCTAssertGreaterThan(worst, 0)
        let options = GenerationOptions(maximumNewTokens: 6, cachePrecision: .float16)
        let session = try GenerationSession(model: model, options: options)
        let reference = try GenerationSession(model: model, options: GenerationOptions(maximumNewTokens: 6))
        XCTAssertEqual(try session.generate(prompt: Array(tokens.prefix(5))), try reference.generate(prompt: Array(tokens.prefix(5))))
    }
}
