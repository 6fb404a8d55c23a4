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
