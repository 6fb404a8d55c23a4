import Foundation
import GPTLayers
import GPTTensor
import XCTest

/// Every layer against PyTorch (Fixtures/make_fixtures.py) and finite differences.
final class LayerFixtureTests: XCTestCase {
    func linear(_ fixture: String, input: Int, output: Int, rows: Int, bias: Bool) throws {
        var layer: Linear!
        try checkLayer(fixture: fixture, prefix: "lin.") { layer = Linear(inputSize: input, outputSize: output, bias: bias, name: "lin", layout: &$0) }
            run: { x, parameters, arena, dy, dx in
                let y = arena.allocate(rows * output)
                layer.forward(x, rows: rows, weights: parameters.weights, into: y)
                if let dy { layer.backward(outputGradient: dy, input: x, rows: rows, weights: parameters.weights, gradients: parameters.gradients, inputGradient: dx) }
                return array(y, rows * output)
            }
    }

    func testLinear() throws {
        try linear("linear_bias", input: 24, output: 20, rows: 14, bias: true)
        try linear("linear_nobias", input: 24, output: 20, rows: 14, bias: false)
        try linear("linear_odd", input: 17, output: 65, rows: 3, bias: true)
    }

    func testEmbedding() throws {
        let file = try SafetensorsFile(contentsOf: fixturesDirectory.appendingPathComponent("layers/embedding.safetensors"))
        let ids = try file.integers(named: "ids").map(Int32.init)
        var layout = ParameterLayout()
        let embedding = Embedding(vocabularySize: 11, dimensions: 24, name: "wte", layout: &layout)
        let parameters = TestParameters(layout: layout)
        try parameters.setValue(file.tensor(named: "weight"), of: embedding.weight)
        var y = [Float](repeating: 0, count: ids.count * 24)
        ids.withUnsafeBufferPointer { embedding.forward(ids: $0.baseAddress!, rows: ids.count, weights: parameters.weights, into: &y) }
        assertClose(y, try file.tensor(named: "y").scalars, rtol: 0, atol: 0)
        let dy = try file.tensor(named: "dy").scalars
        ids.withUnsafeBufferPointer { embedding.backward(outputGradient: dy, ids: $0.baseAddress!, rows: ids.count, gradients: parameters.gradients) }
        assertClose(parameters.gradient(of: embedding.weight).scalars, try file.tensor(named: "d_weight").scalars, rtol: 1e-5, atol: 1e-6)
    }

    func testLearnedPositionalEmbedding() throws {
        var layer: LearnedPositionalEmbedding!
        try checkLayer(fixture: "learned_position", prefix: "", rename: ["wpe.weight": "wpe"]) {
            layer = LearnedPositionalEmbedding(maximumPositions: 16, dimensions: 24, name: "wpe", layout: &$0)
        } run: { x, parameters, arena, dy, dx in
            let y = arena.allocate(14 * 24)
            y.update(from: x, count: 14 * 24)
            try layer.forward(y, batch: 2, time: 7, weights: parameters.weights)
            if let dy {
                layer.backward(outputGradient: dy, batch: 2, time: 7, gradients: parameters.gradients)
                dx?.update(from: dy, count: 14 * 24)
            }
            return array(y, 14 * 24)
        }
        var x = [Float](repeating: 0, count: 24 * 10)
        XCTAssertThrowsError(try layer.forward(&x, batch: 1, time: 10, positionOffset: 7, weights: TestParameters(layout: {
            var l = ParameterLayout(); _ = LearnedPositionalEmbedding(maximumPositions: 16, dimensions: 24, name: "wpe", layout: &l); return l }()).weights))
    }

    func testSinusoidalEncoding() throws {
        let file = try SafetensorsFile(contentsOf: fixturesDirectory.appendingPathComponent("layers/sinusoidal.safetensors"))
        let encoding = SinusoidalPositionalEncoding(maximumPositions: 7, dimensions: 24)
        assertClose(encoding.table, try file.tensor(named: "table").scalars, rtol: 0, atol: 1e-7)
        var x = try file.tensor(named: "x").scalars
        try encoding.forward(&x, batch: 2, time: 7)
        assertClose(x, try file.tensor(named: "y").scalars, rtol: 1e-6, atol: 1e-6)
        XCTAssertThrowsError(try encoding.forward(&x, batch: 1, time: 2, positionOffset: 6))
    }

    func testRotaryEmbedding() throws {
        for fixture in ["rope_offset0", "rope_offset5"] {
            let offset = try metadata(fixture, "position_offset")
            let rotary = RotaryEmbedding(headSize: 8, maximumPositions: 32, theta: 10_000)
            try checkLayer(fixture: fixture, prefix: "") { _ in } run: { x, _, arena, dy, dx in
                let y = arena.allocate(2 * 7 * 24)
                y.update(from: x, count: 2 * 7 * 24)
                rotary.apply(y, batch: 2, time: 7, heads: 3, rowStride: 24, positionOffset: offset)
                if let dy, let dx {
                    dx.update(from: dy, count: 2 * 7 * 24)
                    rotary.apply(dx, batch: 2, time: 7, heads: 3, rowStride: 24, positionOffset: offset, inverse: true)
                }
                return array(y, 2 * 7 * 24)
            }
        }
    }

    func normalization(_ fixture: String, kind: NormalizationKind, finiteDifferences: Bool = true) throws {
        var layer: Normalization!
        try checkLayer(fixture: fixture, prefix: "ln.", finiteDifferences: finiteDifferences) {
            layer = Normalization(kind: kind, dimensions: 24, epsilon: 1e-5, name: "ln", layout: &$0)
        } run: { x, parameters, arena, dy, dx in
            let saved = layer.forward(x, rows: 14, weights: parameters.weights, arena: arena)
            if let dy, let dx { layer.backward(outputGradient: dy, saved: saved, weights: parameters.weights, gradients: parameters.gradients, inputGradient: dx) }
            return array(saved.output, 14 * 24)
        }
    }

    func testLayerNorm() throws { try normalization("layernorm", kind: .layerNorm) }
    // Rows of constant input: variance 0, rstd = 1/√ε, gradients ~600 and too curved for ε = 1e-2.
    func testLayerNormConstantRows() throws { try normalization("layernorm_constant_rows", kind: .layerNorm, finiteDifferences: false) }
    func testRMSNorm() throws { try normalization("rmsnorm", kind: .rmsNorm) }

    func feedForward(_ fixture: String, kind: FeedForwardKind, hidden: Int, bias: Bool) throws {
        var layer: FeedForward!
        try checkLayer(fixture: fixture, prefix: "mlp.") {
            layer = FeedForward(kind: kind, dimensions: 24, hiddenSize: hidden, bias: bias, name: "mlp", layout: &$0)
        } run: { x, parameters, arena, dy, dx in
            let saved = layer.forward(x, rows: 14, weights: parameters.weights, arena: arena)
            if let dy, let dx { layer.backward(outputGradient: dy, saved: saved, weights: parameters.weights, gradients: parameters.gradients, arena: arena, inputGradient: dx) }
            return array(saved.output, 14 * 24)
        }
    }

    func testGELUFeedForward() throws { try feedForward("ffn_gelu", kind: .gelu, hidden: 96, bias: true) }
    func testSwiGLUFeedForward() throws { try feedForward("ffn_swiglu", kind: .swiGLU, hidden: 40, bias: false) }

    func attention(_ fixture: String) throws {
        let heads = try metadata(fixture, "heads"), kvHeads = try metadata(fixture, "kv_heads")
        let bias = try metadata(fixture, "bias") == 1, rope = try metadata(fixture, "rope") == 1
        var layer: CausalSelfAttention!
        try checkLayer(fixture: fixture, prefix: "attn.") {
            layer = try CausalSelfAttention(dimensions: 24, heads: heads, keyValueHeads: kvHeads, bias: bias,
                                            rotary: rope ? RotaryEmbedding(headSize: 24 / heads, maximumPositions: 16) : nil,
                                            name: "attn", layout: &$0)
        } run: { x, parameters, arena, dy, dx in
            let saved = layer.forward(x, batch: 2, time: 7, weights: parameters.weights, arena: arena)
            if let dy, let dx { layer.backward(outputGradient: dy, saved: saved, weights: parameters.weights, gradients: parameters.gradients, arena: arena, inputGradient: dx) }
            return array(saved.output, 14 * 24)
        }
    }

    func testMultiHeadAttention() throws { try attention("attn_mha") }
    func testMultiQueryAttention() throws { try attention("attn_mqa") }
    func testGroupedQueryAttention() throws { try attention("attn_gqa") }
    func testGroupedQueryAttentionWithRoPE() throws { try attention("attn_gqa_rope") }

    func block(_ fixture: String, llama: Bool) throws {
        var layer: TransformerBlock!
        let rename = llama ? ["ln_1.weight": "attention_norm.weight", "ln_2.weight": "ffn_norm.weight"] : [:]
        try checkLayer(fixture: fixture, prefix: "h.0.", rename: rename) {
            layer = try TransformerBlock(dimensions: 24, heads: llama ? 4 : 3, keyValueHeads: llama ? 2 : 3, hiddenSize: llama ? 40 : 96,
                                         normalization: llama ? .rmsNorm : .layerNorm, feedForward: llama ? .swiGLU : .gelu,
                                         bias: !llama, rotary: llama ? RotaryEmbedding(headSize: 6, maximumPositions: 16) : nil,
                                         name: "h.0", layout: &$0)
        } run: { x, parameters, arena, dy, dx in
            let saved = layer.forward(x, batch: 2, time: 7, weights: parameters.weights, arena: arena)
            if let dy, let dx { layer.backward(outputGradient: dy, saved: saved, weights: parameters.weights, gradients: parameters.gradients, arena: arena, inputGradient: dx) }
            return array(saved.output, 14 * 24)
        }
    }

    func testGPT2Block() throws { try block("block_gpt2", llama: false) }
    func testLlamaBlock() throws { try block("block_llama", llama: true) }
}
