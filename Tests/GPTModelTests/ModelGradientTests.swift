import Foundation
import GPTLayers
import GPTModel
import GPTTensor
import XCTest

/// Whole-model gradients of the architectures the PyTorch fixture does not cover (RoPE,
/// RMSNorm, SwiGLU, grouped-query heads, an untied output projection, sinusoidal positions),
/// checked with central differences.
final class ModelGradientTests: XCTestCase {
    func checkFiniteDifferences(_ configuration: GPTConfiguration, seed: UInt64, file: StaticString = #filePath, line: UInt = #line) throws {
        let parameters = try randomParameters(configuration, seed: seed)
        let workspace = try mutableWorkspace(configuration, parameters: parameters)
        let model = workspace.model
        let (batch, time) = (2, 6)
        let tokens = randomTokens(batch * time, vocabulary: configuration.vocabularySize, seed: seed + 1)
        var targets = randomTokens(batch * time, vocabulary: configuration.vocabularySize, seed: seed + 2)
        targets[3] = -100
        workspace.gradients.zero()
        try workspace.forward(tokens: tokens, targets: targets, batch: batch, time: time)
        try workspace.backward()
        var generator = RandomGenerator(seed: seed + 3)
        let epsilon: Float = 1e-2
        for entry in model.layout.entries {
            let gradient = workspace.gradients.gradient(of: entry.slot).scalars
            for _ in 0..<2 {
                let index = Int(generator.next() % UInt64(entry.slot.count))
                let pointer = parameters.values + entry.slot.offset + index
                let saved = pointer.pointee
                pointer.pointee = saved + epsilon
                let plus = try XCTUnwrap(try workspace.forward(tokens: tokens, targets: targets, batch: batch, time: time))
                pointer.pointee = saved - epsilon
                let minus = try XCTUnwrap(try workspace.forward(tokens: tokens, targets: targets, batch: batch, time: time))
                pointer.pointee = saved
                let numeric = (plus - minus) / (2 * epsilon)
                XCTAssertEqual(gradient[index], numeric, accuracy: 2e-3 + 1e-2 * abs(numeric), "\(entry.name)[\(index)]",
                               file: file, line: line)
            }
        }
    }

    func testLlamaStyleGradients() throws {
        try checkFiniteDifferences(llamaNano, seed: 41)
    }

    func testSinusoidalMultiQueryGradients() throws {
        var configuration = GPTConfiguration.nano
        configuration.positionalEncoding = .sinusoidal
        configuration.keyValueHeadCount = 1
        configuration.tiesEmbeddings = false
        configuration.layerCount = 1
        try checkFiniteDifferences(configuration, seed: 42)
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
