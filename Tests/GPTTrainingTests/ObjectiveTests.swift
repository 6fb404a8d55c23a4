import Foundation
import GPTModel
import GPTTensor
import GPTTraining
import XCTest

/// The Trainer runs any objective through the loss seam.
final class ObjectiveTests: XCTestCase {
    /// Cross-entropy written as per-token weights on −log p: the same step, bit for bit.
    struct WeightedTokens: Objective {
        func accumulate(_ batch: TokenBatch, in workspace: GPTWorkspace, scale: Float, dropoutSeed: UInt64?) throws -> Float {
            let loss = try workspace.forward(tokens: batch.inputs, targets: batch.targets, batch: batch.batchSize,
                                             time: batch.sequenceLength, dropoutSeed: dropoutSeed) ?? 0
            let counted = Float(batch.targets.filter { $0 != -100 }.count)
            try workspace.backward(seed: .tokenWeights(batch.targets.map { $0 == -100 ? 0 : scale / counted }))
            return loss
        }
    }

    /// Raise the scalar head's score at each sequence's last position (loss = −mean score).
    struct RaiseLastScore: Objective {
        func accumulate(_ batch: TokenBatch, in workspace: GPTWorkspace, scale: Float, dropoutSeed: UInt64?) throws -> Float {
            try workspace.forward(tokens: batch.inputs, batch: batch.batchSize, time: batch.sequenceLength,
                                  dropoutSeed: dropoutSeed, computeLogits: false)
            let rows = (1...batch.batchSize).map { $0 * batch.sequenceLength - 1 }
            let scores = try XCTUnwrap(workspace.scores).scalars
            let n = Float(rows.count)
            try workspace.backward(seed: .scoreGradient(rows: rows, values: rows.map { _ in -scale / n }))
            return -rows.reduce(0) { $0 + scores[$1] } / n
        }
    }

    func makeTrainer(_ configuration: GPTConfiguration) throws -> Trainer {
        var settings = TrainingConfiguration(batchSize: 4, sequenceLength: 16, steps: 10)
        settings.schedule = .warmupCosine(maximum: 3e-3, minimum: 3e-4, warmupSteps: 2, decaySteps: 10)
        return try Trainer(model: GPT(configuration: configuration, seed: 3), configuration: settings,
                           training: TrainerTests.data().0)
    }

    func batches() throws -> [TokenBatch] {
        let tokens = (0..<64).map { Int32(($0 * 7) % 64) }
        var targets = tokens.map { ($0 + 1) % 64 }
        targets[5] = -100
        return [try TokenBatch(inputs: tokens, targets: targets, batchSize: 4, sequenceLength: 16),
                try TokenBatch(inputs: tokens.reversed(), targets: targets, batchSize: 4, sequenceLength: 16)]
    }

    func testTokenWeightsThroughTheTrainerEqualCrossEntropy() throws {
        let reference = try makeTrainer(.nano), weighted = try makeTrainer(.nano)
        for _ in 0..<3 {
            let a = try reference.step(on: batches()), b = try weighted.step(WeightedTokens(), on: batches())
            XCTAssertEqual(a.loss, b.loss)
            XCTAssertEqual(a.gradientNorm, b.gradientNorm)
        }
        XCTAssertEqual(Array(UnsafeBufferPointer(start: reference.parameters.values, count: reference.parameters.layout.count)),
                       Array(UnsafeBufferPointer(start: weighted.parameters.values, count: weighted.parameters.layout.count)))
    }

    func testAScalarHeadObjectiveTrains() throws {
        var configuration = GPTConfiguration.nano
        configuration.scoreCount = 1
        let trainer = try makeTrainer(configuration)
        let first = try trainer.step(RaiseLastScore(), on: batches()).loss
        var last = first
        for _ in 0..<5 { last = try trainer.step(RaiseLastScore(), on: batches()).loss }
        XCTAssertLessThan(last, first - 0.01, "the score rises (its negative, the loss, falls)")
        XCTAssertEqual(trainer.step, 6)
        // The published model carries the trained head.
        XCTAssertNotEqual(trainer.model.parameter(named: "score.weight"), try GPT(configuration: configuration, seed: 3)
            .parameter(named: "score.weight"))
    }
}
