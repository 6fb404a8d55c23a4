import Foundation
import GPTLayers
import GPTTensor
import XCTest

final class CachedAttentionTests: XCTestCase {
    /// Decoding one token at a time through the cache equals attention over the whole sequence.
    func checkCachedEqualsFull(heads: Int, kvHeads: Int, rope: Bool, prefill: Int) throws {
        let C = 24, T = 11
        var layout = ParameterLayout()
        let block = try TransformerBlock(dimensions: C, heads: heads, keyValueHeads: kvHeads, hiddenSize: 40,
                                         normalization: rope ? .rmsNorm : .layerNorm, feedForward: rope ? .swiGLU : .gelu, bias: !rope,
                                         rotary: rope ? RotaryEmbedding(headSize: C / heads, maximumPositions: T) : nil,
                                         name: "h.0", layout: &layout)
        let parameters = TestParameters(layout: layout)
        var generator = RandomGenerator(seed: 5)
        for entry in layout.entries {
            try parameters.setValue(Tensor(randomNormal: entry.slot.shape, mean: entry.role == .norm ? 1 : 0,
                                           standardDeviation: 0.3, generator: &generator), of: entry.slot)
        }
        let x = Tensor(randomNormal: [T, C], generator: &generator).scalars
        let arena = Arena()
        let full = x.withUnsafeBufferPointer { array(block.forward($0.baseAddress!, batch: 1, time: T, weights: parameters.weights, arena: arena).output, T * C) }

        let cache = AttentionCache(capacity: T, width: kvHeads * (C / heads))
        var cached = [Float](repeating: 0, count: T * C)
        try x.withUnsafeBufferPointer { xp in
            try cached.withUnsafeMutableBufferPointer { out in
                // A prompt of `prefill` tokens in one call, then one token per call.
                try block.forward(xp.baseAddress!, newTokens: prefill, cache: cache, weights: parameters.weights, arena: arena, into: out.baseAddress!)
                for t in prefill..<T {
                    try block.forward(xp.baseAddress! + t * C, newTokens: 1, cache: cache, weights: parameters.weights, arena: arena,
                                      into: out.baseAddress! + t * C)
                }
            }
        }
        XCTAssertEqual(cache.length, T)
        let difference = zip(full, cached).map { abs($0 - $1) }.max()!
        XCTAssertLessThanOrEqual(difference, 1e-5, "heads \(heads)/\(kvHeads) rope \(rope) prefill \(prefill)")
        // The cache is full: one more token is an error, not a crash.
        XCTAssertThrowsError(try x.withUnsafeBufferPointer { xp in
            try cached.withUnsafeMutableBufferPointer {
                try block.forward(xp.baseAddress!, newTokens: 1, cache: cache, weights: parameters.weights, arena: arena, into: $0.baseAddress!)
            }
        }) { XCTAssertEqual($0 as? LayerError, .positionOutOfRange(position: T, maximum: T)) }
    }

    func testCachedDecodingEqualsFullAttention() throws {
        try checkCachedEqualsFull(heads: 3, kvHeads: 3, rope: false, prefill: 1)
        try checkCachedEqualsFull(heads: 4, kvHeads: 2, rope: true, prefill: 4)
        try checkCachedEqualsFull(heads: 4, kvHeads: 1, rope: true, prefill: 1)
    }

    func testInvalidHeadCountsThrow() {
        var layout = ParameterLayout()
        XCTAssertThrowsError(try CausalSelfAttention(dimensions: 24, heads: 5, name: "a", layout: &layout))
        XCTAssertThrowsError(try CausalSelfAttention(dimensions: 24, heads: 4, keyValueHeads: 3, name: "b", layout: &layout))
    }

    func testArenaReusesMemoryAfterTheFirstPass() {
        let arena = Arena(capacity: 16)
        for _ in 0..<3 {
            arena.reset()
            let a = arena.allocate(1000), b = arena.allocate(5000)
            a.initialize(repeating: 1, count: 1000); b.initialize(repeating: 2, count: 5000)
            XCTAssertEqual(a[999], 1)  // blocks never move under earlier allocations
        }
        XCTAssertEqual(arena.capacity, arena.highWater)  // merged into one block of the high-water size
    }
}

/// The half-precision KV cache: exact against the float32 kernel on the rounded values, close
/// to the float32 cache, half its memory.
final class HalfCacheTests: XCTestCase {
    func testHalfKernelEqualsTheFloatKernelOnTheWidenedCache() {
        var generator = RandomGenerator(seed: 8)
        for (heads, kvHeads, headSize, past, newTokens) in [(9, 3, 64, 37, 1), (4, 4, 20, 5, 3), (6, 2, 40, 0, 7), (2, 1, 8, 100, 2)] {
            let width = kvHeads * headSize, total = past + newTokens, qWidth = (heads + 2 * kvHeads) * headSize
            let q = Tensor(randomNormal: [newTokens, qWidth], generator: &generator).scalars
            let keys = Tensor(randomNormal: [total, width], generator: &generator).scalars
            let values = Tensor(randomNormal: [total, width], generator: &generator).scalars
            var halfKeys = [UInt16](repeating: 0, count: keys.count), halfValues = halfKeys
            var widenedKeys = keys, widenedValues = values
            keys.withUnsafeBufferPointer { Kernels.quantize(.float16, $0.baseAddress!, count: keys.count, into: &halfKeys) }
            values.withUnsafeBufferPointer { Kernels.quantize(.float16, $0.baseAddress!, count: values.count, into: &halfValues) }
            halfKeys.withUnsafeBytes { Kernels.dequantize(.float16, $0.baseAddress!, count: keys.count, into: &widenedKeys) }
            halfValues.withUnsafeBytes { Kernels.dequantize(.float16, $0.baseAddress!, count: values.count, into: &widenedValues) }
            XCTAssertNotEqual(widenedKeys, keys, "half rounding changes random floats")
            var fromHalf = [Float](repeating: 0, count: newTokens * heads * headSize), fromFloat = fromHalf
            var scratch = [Float](repeating: 0, count: heads * total)
            Kernels.cachedAttentionHalf(q: q, qStride: qWidth, keys: halfKeys, values: halfValues, cacheStride: width, newTokens: newTokens,
                                        pastLength: past, heads: heads, keyValueHeads: kvHeads, headSize: headSize, out: &fromHalf,
                                        outStride: heads * headSize, scratch: &scratch)
            Kernels.cachedAttention(q: q, qStride: qWidth, keys: widenedKeys, values: widenedValues, cacheStride: width, newTokens: newTokens,
                                    pastLength: past, heads: heads, keyValueHeads: kvHeads, headSize: headSize, out: &fromFloat,
                                    outStride: heads * headSize, scratch: &scratch)
            XCTAssertEqual(fromHalf, fromFloat, "heads \(heads)/\(kvHeads), head size \(headSize), past \(past), new \(newTokens)")
        }
    }

    func testHalfCacheStaysCloseToTheFloatCacheAndHalvesItsMemory() throws {
        let C = 32, T = 20, heads = 4, kvHeads = 2
        var layout = ParameterLayout()
        let block = try TransformerBlock(dimensions: C, heads: heads, keyValueHeads: kvHeads, hiddenSize: 48, normalization: .rmsNorm,
                                         feedForward: .swiGLU, bias: false,
                                         rotary: RotaryEmbedding(headSize: C / heads, maximumPositions: T), name: "h.0", layout: &layout)
        let parameters = TestParameters(layout: layout)
        var generator = RandomGenerator(seed: 6)
        for entry in layout.entries {
            try parameters.setValue(Tensor(randomNormal: entry.slot.shape, mean: entry.role == .norm ? 1 : 0,
                                           standardDeviation: 0.3, generator: &generator), of: entry.slot)
        }
        let x = Tensor(randomNormal: [T, C], generator: &generator).scalars
        let arena = Arena()
        func run(_ precision: KVCachePrecision, prefill: Int) throws -> [Float] {
            let cache = AttentionCache(capacity: T, width: kvHeads * (C / heads), precision: precision)
            var out = [Float](repeating: 0, count: T * C)
            try x.withUnsafeBufferPointer { xp in
                try out.withUnsafeMutableBufferPointer { o in
                    // A prompt (blocked path from 8 tokens on), then one token per call.
                    try block.forward(xp.baseAddress!, newTokens: prefill, cache: cache, weights: parameters.weights, arena: arena,
                                      into: o.baseAddress!)
                    for t in prefill..<T {
                        try block.forward(xp.baseAddress! + t * C, newTokens: 1, cache: cache, weights: parameters.weights, arena: arena,
                                          into: o.baseAddress! + t * C)
                    }
                }
            }
            XCTAssertEqual(cache.length, T)
            return out
        }
        let reference = try run(.float32, prefill: 1)
        for prefill in [1, 12] {
            let half = try run(.float16, prefill: prefill)
            let difference = zip(reference, half).map { abs($0 - $1) }.max()!
            let scale = reference.map(abs).max()!
            // Each cached value is rounded by at most 2⁻¹¹ relative.
            XCTAssertLessThanOrEqual(difference, 4e-3 * scale, "prefill \(prefill)")
            XCTAssertGreaterThan(difference, 0, "prefill \(prefill): half rounding must show")
        }
        let float32 = AttentionCache(capacity: T, width: 16), float16 = AttentionCache(capacity: T, width: 16, precision: .float16)
        XCTAssertEqual(float16.bytesPerPosition * 2, float32.bytesPerPosition)
    }
}
