import Foundation
import GPTLayers
import GPTModel
import GPTTensor
import XCTest

/// Whole-model gradients of the architectures the PyTorch fixture does not cover (RoPE,
/// RMSNorm, SwiGLU, grouped-query heads, an untied output projection, sinusoidal positions),
/// checked with central differences.
final class ModelGradientTests: XCTestCase {
    func checkModelGradients(_ configuration: GPTConfiguration, seed: UInt64, file: StaticString = #filePath, line: UInt = #line) throws {
        let parameters = try randomParameters(configuration, seed: seed)
        let workspace = try mutableWorkspace(configuration, parameters: parameters)
        let (batch, time) = (2, 6)
        let tokens = randomTokens(batch * time, vocabulary: configuration.vocabularySize, seed: seed + 1)
        var targets = randomTokens(batch * time, vocabulary: configuration.vocabularySize, seed: seed + 2)
        targets[3] = -100
        workspace.gradients.zero()
        try workspace.forward(tokens: tokens, targets: targets, batch: batch, time: time)
        try workspace.backward()
        try checkFiniteDifferences(parameters, gradients: workspace.gradients, seed: seed + 3, file: file, line: line) {
            Double(try XCTUnwrap(try workspace.forward(tokens: tokens, targets: targets, batch: batch, time: time)))
        }
    }

    func testLlamaStyleGradients() throws {
        try checkModelGradients(llamaNano, seed: 41)
    }

    func testSinusoidalMultiQueryGradients() throws {
        var configuration = GPTConfiguration.nano
        configuration.positionalEncoding = .sinusoidal
        configuration.keyValueHeadCount = 1
        configuration.tiesEmbeddings = false
        configuration.layerCount = 1
        try checkModelGradients(configuration, seed: 42)
    }

    func testPerBlockRecomputationKeepsLessMemory() throws {
        var configuration = GPTConfiguration.nano
        configuration.layerCount = 3
        let model = try randomModel(configuration, seed: 43)
        let tokens = randomTokens(32, vocabulary: 64, seed: 1), targets = randomTokens(32, vocabulary: 64, seed: 2)
        var floats: [RecomputePolicy: Int] = [:]
        var gradients: [RecomputePolicy: [Float]] = [:]
        for policy in [RecomputePolicy.none, .perBlock] {
            let workspace = GPTWorkspace(model: model, recompute: policy)
            try workspace.forward(tokens: tokens, targets: targets, batch: 2, time: 16)
            try workspace.backward()
            floats[policy] = workspace.activationFloats
            gradients[policy] = workspace.gradient(named: "h.0.attn.c_attn.weight")!.scalars
        }
        XCTAssertLessThan(floats[.perBlock]!, floats[.none]! * 3 / 4)
        XCTAssertEqual(gradients[.perBlock], gradients[.none])
    }
}
