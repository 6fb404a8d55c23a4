import Foundation
import GPTLayers
@testable import GPTModel
import GPTTensor
import XCTest

/// The package root (three levels above this file).
let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
/// The repository's Fixtures folder.
let fixturesDirectory = packageRoot.appendingPathComponent("Fixtures")
/// `../shared/data` next to the package (may be absent: tests using it skip).
let sharedDataDirectory = packageRoot.deletingLastPathComponent().appendingPathComponent("shared/data")

/// numpy-style allclose, failing on the first bad element.
func assertClose(
    _ actual: [Float], _ expected: [Float], rtol: Float, atol: Float, _ message: String = "",
    file: StaticString = #filePath, line: UInt = #line
) {
    XCTAssertEqual(actual.count, expected.count, "count \(message)", file: file, line: line)
    for (index, (a, e)) in zip(actual, expected).enumerated() where !(abs(a - e) <= atol + rtol * abs(e)) {
        XCTFail("element \(index): \(a) vs expected \(e) \(message)", file: file, line: line)
        return
    }
}

/// The largest absolute difference of two equally long arrays.
func maximumDifference(_ a: [Float], _ b: [Float]) -> Float {
    precondition(a.count == b.count)
    return zip(a, b).reduce(0) { max($0, abs($1.0 - $1.1)) }
}

/// A temporary directory, removed at the end of the test.
func temporaryDirectory(_ test: XCTestCase) throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("gptkit-model-tests-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    test.addTeardownBlock { try? FileManager.default.removeItem(at: url) }
    return url
}

/// Asserts that `body` throws exactly `expected`.
func assertThrows<T>(
    _ expected: ModelError, file: StaticString = #filePath, line: UInt = #line, _ body: () throws -> T
) {
    XCTAssertThrowsError(try body(), file: file, line: line) { error in
        XCTAssertEqual(error as? ModelError, expected, "\(error)", file: file, line: line)
    }
}

/// Asserts that `body` throws a `ModelError` for which `matches` holds (messages name files, so
/// tests check the case and a fragment).
func assertThrows<T>(
    file: StaticString = #filePath, line: UInt = #line, _ body: () throws -> T, matches: (ModelError) -> Bool
) {
    XCTAssertThrowsError(try body(), file: file, line: line) { error in
        guard let modelError = error as? ModelError else { return XCTFail("not a ModelError: \(error)", file: file, line: line) }
        XCTAssertTrue(matches(modelError), "unexpected error: \(modelError.localizedDescription)", file: file, line: line)
        XCTAssertFalse(modelError.localizedDescription.isEmpty, file: file, line: line)
    }
}

/// A Llama-style configuration exercising RoPE, RMSNorm, SwiGLU, GQA and untied embeddings.
let llamaNano = GPTConfiguration(vocabularySize: 40, contextLength: 24, layerCount: 2, headCount: 4, keyValueHeadCount: 2,
                                 embeddingDimensions: 32, hiddenDimensions: 48, positionalEncoding: .rotary(theta: 10_000),
                                 normalization: .rmsNorm, feedForward: .swiGLU, usesBias: false, tiesEmbeddings: false)

/// A model whose every parameter (norms included) is random, so nothing is trivially 0 or 1.
func randomModel(_ configuration: GPTConfiguration, seed: UInt64) throws -> GPT {
    try GPT(configuration: configuration, parameters: randomParameters(configuration, seed: seed))
}

/// The parameters of `randomModel`, mutable.
func randomParameters(_ configuration: GPTConfiguration, seed: UInt64) throws -> ParameterBuffer {
    let parameters = try GPT(configuration: configuration, seed: seed).makeParameters()
    var generator = RandomGenerator(seed: seed &+ 1)
    for entry in parameters.layout.entries {
        Kernels.fillNormal(parameters.values + entry.slot.offset, count: entry.slot.count,
                           mean: entry.role == .norm && entry.name.hasSuffix("weight") ? 1 : 0, standardDeviation: 0.2,
                           generator: &generator)
    }
    return parameters
}

/// A workspace whose passes read `parameters` in place, so a test can perturb single weights
/// (finite differences) between passes, as a trainer does between steps.
func mutableWorkspace(_ configuration: GPTConfiguration, parameters: ParameterBuffer, recompute: RecomputePolicy = .none) throws
    -> GPTWorkspace
{
    let model = try GPT(configuration: configuration, parameters: parameters)
    return GPTWorkspace(model: GPT(borrowing: parameters, architectureOf: model), recompute: recompute)
}

/// Deterministic pseudo-random token ids below `vocabulary`.
func randomTokens(_ count: Int, vocabulary: Int, seed: UInt64) -> [Int] {
    var generator = RandomGenerator(seed: seed)
    return (0..<count).map { _ in Int(generator.next() % UInt64(vocabulary)) }
}

/// Compares `gradients` with central differences of `objective` (ε = 1e-2, perturbing
/// `parameters` in place) at two sampled coordinates of every parameter.
func checkFiniteDifferences(
    _ parameters: ParameterBuffer, gradients: GradientBuffer, seed: UInt64,
    file: StaticString = #filePath, line: UInt = #line, objective: () throws -> Double
) throws {
    var generator = RandomGenerator(seed: seed)
    let epsilon: Float = 1e-2
    for entry in parameters.layout.entries {
        let gradient = gradients.gradient(of: entry.slot).scalars
        for _ in 0..<2 {
            let index = Int(generator.next() % UInt64(entry.slot.count))
            let pointer = parameters.values + entry.slot.offset + index
            let saved = pointer.pointee
            pointer.pointee = saved + epsilon
            let plus = try objective()
            pointer.pointee = saved - epsilon
            let minus = try objective()
            pointer.pointee = saved
            let numeric = Float((plus - minus) / Double(2 * epsilon))
            XCTAssertEqual(gradient[index], numeric, accuracy: 2e-3 + 1e-2 * abs(numeric), "\(entry.name)[\(index)]",
                           file: file, line: line)
        }
    }
}
