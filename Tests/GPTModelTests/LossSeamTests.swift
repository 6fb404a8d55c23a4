import Dispatch
import Foundation
import GPTLayers
@testable import GPTModel
import GPTTensor
import XCTest

/// The loss seam (per-token weights, dLogits, dHidden and score-head seeds) and the separation
/// of immutable weights from each workspace's gradients.
final class LossSeamTests: XCTestCase {
    let (batch, time) = (2, 6)

    func data(_ vocabulary: Int) -> (tokens: [Int], targets: [Int]) {
        var targets = randomTokens(batch * time, vocabulary: vocabulary, seed: 12)
        targets[4] = -100
        return (randomTokens(batch * time, vocabulary: vocabulary, seed: 11), targets)
    }

    func allGradients(_ workspace: GPTWorkspace) -> [Float] {
        Array(UnsafeBufferPointer(start: workspace.gradients.values, count: workspace.gradients.count))
    }

    func testTokenWeightsOfOneOverNReproduceCrossEntropyExactly() throws {
        for configuration in [GPTConfiguration.nano, llamaNano] {
            let model = try randomModel(configuration, seed: 3)
            let (tokens, targets) = data(configuration.vocabularySize)
            let reference = GPTWorkspace(model: model)
            let loss = try XCTUnwrap(try reference.forward(tokens: tokens, targets: targets, batch: batch, time: time))
            try reference.backward()
            let seeded = GPTWorkspace(model: model)
            let again = try XCTUnwrap(try seeded.forward(tokens: tokens, targets: targets, batch: batch, time: time))
            XCTAssertEqual(again, loss)
            let counted = Float(targets.filter { $0 != -100 }.count)
            try seeded.backward(seed: .tokenWeights(targets.map { $0 == -100 ? 0 : 1 / counted }))
            XCTAssertEqual(allGradients(seeded), allGradients(reference), "bit-identical gradients")
            // The per-token log-probabilities are the losses' negatives, and average to the loss.
            let logProbabilities = try XCTUnwrap(seeded.tokenLogProbabilities)
            XCTAssertEqual(logProbabilities[4], 0)
            XCTAssertEqual(-logProbabilities.reduce(0, +) / counted, loss, accuracy: 1e-5)
        }
    }

    func testLogitGradientSeedOfSoftmaxMinusOneHotReproducesCrossEntropy() throws {
        let model = try randomModel(llamaNano, seed: 4)
        let (tokens, targets) = data(llamaNano.vocabularySize)
        let reference = GPTWorkspace(model: model)
        try reference.forward(tokens: tokens, targets: targets, batch: batch, time: time)
        try reference.backward()
        let seeded = GPTWorkspace(model: model)
        try seeded.forward(tokens: tokens, batch: batch, time: time)
        let counted = Double(targets.filter { $0 != -100 }.count), vocabulary = llamaNano.vocabularySize
        try seeded.backward(seed: .logitGradient { logits in
            // dL/dlogits of the mean cross-entropy, computed here in Double: (softmax − onehot) / N.
            for row in 0..<(logits.count / vocabulary) {
                let values = (0..<vocabulary).map { Double(logits[row * vocabulary + $0]) }
                let maximum = values.max()!, total = values.reduce(0) { $0 + exp($1 - maximum) }
                for j in 0..<vocabulary {
                    let target = targets[row]
                    let softmax = exp(values[j] - maximum) / total
                    logits[row * vocabulary + j] = target == -100 ? 0 : Float((softmax - (j == target ? 1 : 0)) / counted)
                }
            }
        })
        assertClose(allGradients(seeded), allGradients(reference), rtol: 1e-4, atol: 1e-7, "dLogits seed")
    }

    func testCombinedSeedsAddUp() throws {
        let model = try randomModel(GPTConfiguration.nano, seed: 5)
        let (tokens, targets) = data(64)
        let weights = (0..<(batch * time)).map { Float($0 % 3) - 0.7 }  // signed, unnormalised
        let hidden = (0..<(2 * 32)).map { Float($0 % 5) * 0.01 - 0.02 }
        func run(_ seed: BackwardSeed) throws -> [Float] {
            let workspace = GPTWorkspace(model: model)
            try workspace.forward(tokens: tokens, targets: targets, batch: batch, time: time)
            try workspace.backward(seed: seed)
            return allGradients(workspace)
        }
        let a = try run(.tokenWeights(weights)), b = try run(.hiddenGradient(rows: [3, 11], values: hidden))
        let both = try run(BackwardSeed(tokenWeights: weights, hiddenGradient: ([3, 11], hidden)))
        assertClose(both, zip(a, b).map(+), rtol: 1e-4, atol: 2e-6, "token weights + dHidden")
        // Bad seeds are errors, not traps.
        let workspace = GPTWorkspace(model: model)
        try workspace.forward(tokens: tokens, targets: targets, batch: batch, time: time)
        XCTAssertThrowsError(try workspace.backward(seed: .tokenWeights([1])))
        XCTAssertThrowsError(try workspace.backward(seed: .hiddenGradient(rows: [12], values: [Float](repeating: 0, count: 32))))
        XCTAssertThrowsError(try workspace.backward(seed: .scoreGradient(rows: [0], values: [1])), "no score head")
    }

    func testScoreHeadGradientMatchesFiniteDifferences() throws {
        var configuration = llamaNano
        configuration.scoreCount = 1
        let parameters = try randomParameters(configuration, seed: 6)
        XCTAssertEqual(parameters.layout.entry(named: "score.weight")?.slot.shape, [1, 32])
        let workspace = try mutableWorkspace(configuration, parameters: parameters)
        let tokens = data(configuration.vocabularySize).tokens
        // A reward model's objective: the score at each sequence's last position, weighted.
        let rows = [time - 1, 2 * time - 1], coefficients: [Float] = [1, -0.5]
        func reward() throws -> Double {
            try workspace.forward(tokens: tokens, batch: batch, time: time, computeLogits: false)
            let scores = try XCTUnwrap(workspace.scores).scalars
            return zip(rows, coefficients).reduce(0) { $0 + Double(scores[$1.0]) * Double($1.1) }
        }
        _ = try reward()
        XCTAssertNil(workspace.logits, "no vocabulary projection was asked for")
        workspace.gradients.zero()
        try workspace.backward(seed: .scoreGradient(rows: rows, values: coefficients))
        try checkFiniteDifferences(parameters, gradients: workspace.gradients, seed: 9, objective: reward)
        XCTAssertNotEqual(workspace.gradients.gradient(of: parameters.layout.entry(named: "score.weight")!.slot).scalars.max(), 0)
    }

    func testTwoWorkspacesOnOneModelInParallelGiveTheSequentialGradients() throws {
        let model = try randomModel(llamaNano, seed: 7)
        let inputs = (0..<2).map { k in data(llamaNano.vocabularySize).tokens.map { ($0 + 7 * k) % 40 } }
        let targets = data(llamaNano.vocabularySize).targets
        let (batch, time) = (self.batch, self.time)
        // Each task makes its own workspace on the shared model (a workspace is not Sendable:
        // the compiler refuses to share one between tasks).
        @Sendable func gradients(of tokens: [Int]) throws -> [Float] {
            let workspace = GPTWorkspace(model: model)
            try workspace.forward(tokens: tokens, targets: targets, batch: batch, time: time)
            try workspace.backward()
            return Array(UnsafeBufferPointer(start: workspace.gradients.values, count: workspace.gradients.count))
        }
        let sequential = try inputs.map { try gradients(of: $0) }
        let results = Results<[Float]>(count: 2)
        DispatchQueue.concurrentPerform(iterations: 2) { index in
            results.set(index, Result { try gradients(of: inputs[index]) })
        }
        for index in 0..<2 { XCTAssertEqual(try results.get(index).get(), sequential[index]) }
        XCTAssertNotEqual(sequential[0], sequential[1])
    }

    func testSessionsOnTheSnapshotAreUnaffectedByLaterChanges() throws {
        // A model never changes; a new one (here an edited copy) does not disturb sessions on the old.
        let model = try randomModel(GPTConfiguration.nano, seed: 8)
        let alone = try GenerationSession(model: model, options: GenerationOptions(maximumNewTokens: 12)).generate(prompt: [1, 2, 3])
        let results = Results<[Int]>(count: 3)
        DispatchQueue.concurrentPerform(iterations: 3) { index in
            results.set(index, Result {
                if index == 0 {
                    // Meanwhile: derive edited models from the same one.
                    for step in 0..<5 { _ = try model.replacingParameters(["ln_f.bias": Tensor(shape: [32], repeating: Float(step))]) }
                    return []
                }
                return try GenerationSession(model: model, options: GenerationOptions(maximumNewTokens: 12)).generate(prompt: [1, 2, 3])
            })
        }
        XCTAssertEqual(try results.get(1).get(), alone)
        XCTAssertEqual(try results.get(2).get(), alone)
    }
}

/// Results written by concurrent iterations, each index by one iteration only.
final class Results<Value>: @unchecked Sendable {
    // @unchecked: every index is written by exactly one iteration of concurrentPerform, and read
    // only after it returns; the lock makes the array's storage accesses safe.
    private var values: [Result<Value, Error>?]
    private let lock = NSLock()
    init(count: Int) { values = Array(repeating: nil, count: count) }
    func set(_ index: Int, _ value: Result<Value, Error>) { lock.lock(); values[index] = value; lock.unlock() }
    func get(_ index: Int) throws -> Result<Value, Error> {
        lock.lock(); defer { lock.unlock() }
        return try XCTUnwrap(values[index])
    }
}

/// A scalar head, an explicit head size and mixed biases survive `config.json` and a save.
final class ConfigurationExtrasTests: XCTestCase {
    func testScoreHeadAndExplicitSizesRoundTripThroughSaveAndLoad() throws {
        var gpt2 = GPTConfiguration.nano
        gpt2.scoreCount = 1
        gpt2.explicitHeadSize = 4  // 4 heads of 4 in a width of 32
        gpt2.biases = BlockBiases(qkv: true, attentionOutput: false, feedForward: true, norm: true)
        var llama = llamaNano
        llama.scoreCount = 3
        llama.modelType = "llama"
        for configuration in [gpt2, llama] {
            let model = try randomModel(configuration, seed: 21)
            XCTAssertEqual(model.layout.entry(named: "score.weight")?.slot.shape, [configuration.scoreCount, 32])
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("gptkit-score-\(UUID().uuidString)")
            defer { try? FileManager.default.removeItem(at: directory) }
            try model.save(directory: directory)
            let json = try String(contentsOf: directory.appendingPathComponent("config.json"), encoding: .utf8)
            XCTAssertTrue(json.contains("ForSequenceClassification"), json)
            let loaded = try GPT(directory: directory)
            XCTAssertEqual(loaded.configuration, configuration)
            XCTAssertEqual(loaded.parameter(named: "score.weight"), model.parameter(named: "score.weight"))
            let workspace = GPTWorkspace(model: loaded)
            try workspace.forward(tokens: [1, 2, 3], batch: 1, time: 3, computeLogits: false)
            XCTAssertEqual(workspace.scores?.shape, [1, 3, configuration.scoreCount])
        }
    }
}
