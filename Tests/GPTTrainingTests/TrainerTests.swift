import Foundation
import GPTLayers
import GPTModel
import GPTTensor
import GPTTraining
import XCTest

final class TrainerTests: XCTestCase {
    var directory: URL!

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("gptkit-trainer-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: directory) }

    /// Ten steps of the tiny Hugging Face GPT-2 against torch.optim.AdamW with warmup + cosine
    /// and clipping (Fixtures/tiny-gpt2-training.safetensors).
    func testTenStepsMatchPyTorch() throws {
        let fixture = try SafetensorsFile(contentsOf: fixturesDirectory.appendingPathComponent("tiny-gpt2-training.safetensors"))
        let model = try GPT(directory: fixturesDirectory.appendingPathComponent("tiny-gpt2"))
        var settings = TrainingConfiguration(batchSize: 2, sequenceLength: 8, steps: 10)
        settings.schedule = .warmupCosine(maximum: 1e-3, minimum: 1e-4, warmupSteps: 3, decaySteps: 10)
        (settings.beta1, settings.beta2, settings.epsilon, settings.weightDecay) = (0.9, 0.95, 1e-8, 0.1)
        settings.decayEmbeddings = true
        settings.gradientClip = 1
        let trainer = try Trainer(model: model, configuration: settings, training: TokenDataset(tokens: (0..<96).map(Int32.init)))
        let losses = try fixture.tensor(named: "losses").scalars, norms = try fixture.tensor(named: "grad_norms").scalars
        let rates = try fixture.tensor(named: "lrs").scalars
        for k in 0..<10 {
            let batch = try TokenBatch(inputs: fixture.integers(named: "batch.\(k).inputs").map(Int32.init),
                                   targets: try fixture.integers(named: "batch.\(k).targets").map(Int32.init), batchSize: 2, sequenceLength: 8)
            let result = try trainer.step(on: [batch])
            XCTAssertEqual(result.loss, losses[k], accuracy: 1e-4 * losses[k], "loss at step \(k)")
            XCTAssertEqual(result.gradientNorm, norms[k], accuracy: 1e-4 * norms[k], "gradient norm at step \(k)")
            XCTAssertEqual(result.learningRate, rates[k], accuracy: 1e-9)
        }
        // The model the trainer was given is unchanged: the trainer trained its own copy.
        XCTAssertEqual(model.parameter(named: "wte.weight"), try GPT(directory: fixturesDirectory.appendingPathComponent("tiny-gpt2"))
            .parameter(named: "wte.weight"))
        // Final parameters (the published snapshot), compared in Hugging Face names and layouts.
        let saved = directory.appendingPathComponent("final.safetensors")
        try trainer.model.saveSafetensors(to: saved)
        let ours = try SafetensorsFile(contentsOf: saved)
        var compared = 0
        for name in ours.tensorNames {
            let expected = try fixture.tensor(named: "final.transformer." + name).scalars
            let actual = try ours.tensor(named: name).scalars
            for (a, e) in zip(actual, expected) where abs(a - e) > 1e-5 + 1e-4 * abs(e) {
                XCTFail("\(name): \(a) vs \(e)")
                break
            }
            compared += 1
        }
        XCTAssertEqual(compared, ours.tensorNames.count)
        XCTAssertGreaterThan(compared, 10)
    }

    func makeTrainer(steps: Int = 20, recompute: RecomputePolicy = .none, dropout: Float = 0) throws -> Trainer {
        var settings = TrainingConfiguration(batchSize: 4, sequenceLength: 16, steps: steps)
        settings.schedule = .warmupCosine(maximum: 3e-3, minimum: 3e-4, warmupSteps: 4, decaySteps: steps)
        settings.evaluationInterval = 5
        settings.evaluationBatches = 2
        settings.accumulationSteps = 2
        settings.recompute = recompute
        let (train, validation) = Self.data()
        var configuration = GPTConfiguration.nano
        configuration.dropout = dropout
        return try Trainer(model: GPT(configuration: configuration, seed: 3), configuration: settings, training: train, validation: validation)
    }

    static func data() -> (TokenDataset, TokenDataset) {
        let text: [Int32] = (0..<3000).map { (i: Int) -> Int32 in Int32((i * 7 + i / 13) % 64) }
        return TokenDataset(tokens: text).split(validationFraction: 0.1)
    }

    func parameters(_ trainer: Trainer) -> [Float] {
        Array(UnsafeBufferPointer(start: trainer.parameters.values, count: trainer.parameters.layout.count))
    }

    func testResumedRunIsBitIdenticalToAnUninterruptedOne() throws {
        try checkResume(dropout: 0)
    }

    func testResumedRunWithDropoutIsBitIdentical() throws {
        try checkResume(dropout: 0.2)
    }

    func checkResume(dropout: Float) throws {
        let straight = try makeTrainer(dropout: dropout)
        try straight.run()

        let first = try makeTrainer(dropout: dropout)
        try first.run(until: 10)
        let checkpoint = directory.appendingPathComponent("checkpoint")
        try first.saveCheckpoint(to: checkpoint)
        try first.saveCheckpoint(to: checkpoint)  // replacing an existing checkpoint works too
        let (train, validation) = Self.data()
        let resumed = try Trainer(resumingFrom: checkpoint, training: train, validation: validation)
        XCTAssertEqual(resumed.step, 10)
        try resumed.run()

        XCTAssertEqual(parameters(straight), parameters(resumed))
        XCTAssertEqual(straight.trainingLosses.map(\.loss), resumed.trainingLosses.map(\.loss))
        XCTAssertEqual(straight.validationLosses.map(\.loss), resumed.validationLosses.map(\.loss))
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: directory.path), ["checkpoint"])  // no partial directories left
    }

    func testRecomputationGivesIdenticalTraining() throws {
        for dropout: Float in [0, 0.1] {
            let plain = try makeTrainer(steps: 3, dropout: dropout), recomputed = try makeTrainer(steps: 3, recompute: .perBlock, dropout: dropout)
            try plain.run(); try recomputed.run()
            XCTAssertEqual(parameters(plain), parameters(recomputed))
            XCTAssertLessThan(recomputed.activationBytes, plain.activationBytes)
        }
    }

    func testDropoutIsOnInTrainingAndOffInEvaluation() throws {
        let withDropout = try makeTrainer(steps: 2, dropout: 0.3), without = try makeTrainer(steps: 2, dropout: 0)
        // Same weights: evaluation ignores dropout, so the losses agree exactly...
        XCTAssertEqual(try withDropout.evaluate(), try without.evaluate())
        XCTAssertEqual(try withDropout.evaluate(), try withDropout.evaluate())
        // ...while a training step's loss differs.
        XCTAssertNotEqual(try withDropout.trainStep().loss, try without.trainStep().loss)
    }

    func testMaskedTargetsContributeNothing() throws {
        let inputs: [Int32] = (0..<32).map { Int32($0 % 64) }
        var targets: [Int32] = (0..<32).map { Int32(($0 * 5 + 1) % 64) }
        for i in [0, 1, 2, 17, 30] { targets[i] = -100 }
        var other = targets
        let results = try [targets, other].map { t -> (Float, [Float]) in
            let trainer = try makeTrainer(steps: 1)
            let result = try trainer.step(on: [TokenBatch(inputs: inputs, targets: t, batchSize: 2, sequenceLength: 16)])
            return (result.loss, parameters(trainer))
        }
        // Changing the inputs' targets only where they are masked changes nothing...
        other = targets
        XCTAssertEqual(results[0].0, results[1].0)
        XCTAssertEqual(results[0].1, results[1].1)
        // ...while unmasking one position changes the loss.
        other[17] = 3
        let unmasked = try makeTrainer(steps: 1).step(on: [TokenBatch(inputs: inputs, targets: other, batchSize: 2, sequenceLength: 16)])
        XCTAssertNotEqual(unmasked.loss, results[0].0)
    }

    func testNonFiniteLossStopsWithAClearError() throws {
        let trainer = try makeTrainer(steps: 2)
        let slot = try XCTUnwrap(trainer.model.layout.entry(named: "ln_f.weight")).slot
        trainer.parameters.values[slot.offset] = .nan
        XCTAssertThrowsError(try trainer.trainStep()) { XCTAssertEqual($0 as? TrainingError, .nonFiniteValue(step: 1, what: "the loss")) }
        XCTAssertEqual(trainer.step, 0)
    }

    func testNanoModelLearnsARepeatingText() throws {
        // A deterministic text with a short period: a 2-layer model must drive its loss far below
        // the uniform ln(64) ≈ 4.16.
        var settings = TrainingConfiguration(batchSize: 8, sequenceLength: 32, steps: 60)
        settings.schedule = .warmupCosine(maximum: 1e-2, minimum: 1e-3, warmupSteps: 5, decaySteps: 60)
        settings.evaluationInterval = 0
        let pattern: [Int32] = [5, 9, 1, 33, 2, 2, 60, 17, 41, 9, 0, 12]
        let data = TokenDataset(tokens: (0..<2000).map { pattern[$0 % pattern.count] })
        let trainer = try Trainer(model: GPT(configuration: .nano, seed: 11), configuration: settings, training: data, validation: data)
        try trainer.run()
        let loss = try trainer.evaluate(batches: 4)
        XCTAssertLessThan(loss, 0.5, "validation loss after 60 steps")
    }

    func testCheckpointNeverReplacesADirectoryWithOtherFiles() throws {
        let trainer = try makeTrainer(steps: 1)
        let folder = directory.appendingPathComponent("project")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try Data("precious".utf8).write(to: folder.appendingPathComponent("input.txt"))
        XCTAssertThrowsError(try trainer.saveCheckpoint(to: folder)) { XCTAssertTrue("\($0)".contains("refusing to replace"), "\($0)") }
        XCTAssertEqual(try String(contentsOf: folder.appendingPathComponent("input.txt"), encoding: .utf8), "precious")
    }

    func testEvaluationRejectsZeroBatchesAndBadValidationTokens() throws {
        let trainer = try makeTrainer(steps: 1)
        XCTAssertThrowsError(try trainer.evaluate(batches: 0))
        let model = try GPT(configuration: .nano, seed: 1)
        let good = TokenDataset(tokens: (0..<500).map { Int32($0 % 64) })
        for bad: Int32 in [64, -1, -100] {
            XCTAssertThrowsError(try Trainer(model: model, configuration: TrainingConfiguration(batchSize: 1, sequenceLength: 8, steps: 1),
                                             training: good, validation: TokenDataset(tokens: [Int32](repeating: 1, count: 20) + [bad]))) {
                XCTAssertTrue("\($0)".contains("validation token \(bad)"), "\($0)")
            }
        }
    }

    func testInvalidSettingsAreRejected() throws {
        let model = try GPT(configuration: .nano, seed: 1)
        let data = TokenDataset(tokens: (0..<500).map { Int32($0 % 64) })
        XCTAssertThrowsError(try Trainer(model: model, configuration: TrainingConfiguration(batchSize: 1, sequenceLength: 1000, steps: 1), training: data))
        XCTAssertThrowsError(try Trainer(model: model, configuration: TrainingConfiguration(batchSize: 0, sequenceLength: 8, steps: 1), training: data))
        XCTAssertThrowsError(try Trainer(model: model, configuration: TrainingConfiguration(batchSize: 1, sequenceLength: 8, steps: 1),
                                         training: TokenDataset(tokens: [1, 2, 500, 4, 5, 6, 7, 8, 9, 10])))
        XCTAssertThrowsError(try Trainer(resumingFrom: directory.appendingPathComponent("missing"), training: data)) {
            guard case .invalidCheckpoint = $0 as? TrainingError else { return XCTFail("\($0)") }
        }
    }
}
