import Dispatch
import Foundation
import GPTModel
import GPTTensor
import GPTTraining
import XCTest

/// A trainer and generation sessions on one model: the sessions read published snapshots that
/// never change, while the trainer updates only its own master copy.
final class TrainingConcurrencyTests: XCTestCase {
    func testSessionsRunOnSnapshotsWhileTheTrainerTrains() throws {
        var settings = TrainingConfiguration(batchSize: 4, sequenceLength: 16, steps: 12)
        settings.schedule = .warmupCosine(maximum: 3e-3, minimum: 3e-4, warmupSteps: 2, decaySteps: 12)
        let (train, _) = TrainerTests.data()
        let trainer = try Trainer(model: GPT(configuration: .nano, seed: 3), configuration: settings, training: train)
        try trainer.trainStep()
        let snapshot = trainer.model
        let options = GenerationOptions(maximumNewTokens: 16, sampling: SamplingParameters(temperature: 0.8), seed: 5)
        let expected = try GenerationSession(model: snapshot, options: options).generate(prompt: [1, 2, 3])
        let before = snapshot.parameter(named: "wte.weight")

        // Two sessions decode on the snapshot on other threads while this thread keeps training.
        let group = DispatchGroup()
        let outputs = Outputs()
        for index in 0..<2 {
            DispatchQueue.global().async(group: group) {
                let result = Result { try GenerationSession(model: snapshot, options: options).generate(prompt: [1, 2, 3]) }
                outputs.append(index, result)
            }
        }
        for _ in 0..<6 { try trainer.trainStep() }
        group.wait()

        for (_, result) in outputs.all { XCTAssertEqual(try result.get(), expected) }
        XCTAssertEqual(outputs.all.count, 2)
        XCTAssertEqual(snapshot.parameter(named: "wte.weight"), before, "a published model never changes")
        XCTAssertNotEqual(trainer.model.parameter(named: "wte.weight"), before, "the trainer published new weights")
        XCTAssertFalse(trainer.model === snapshot)
    }
}

/// Session outputs collected from several threads.
final class Outputs: @unchecked Sendable {
    // @unchecked: `results` is only touched under `lock`.
    private var results: [(Int, Result<[Int], Error>)] = []
    private let lock = NSLock()
    func append(_ index: Int, _ result: Result<[Int], Error>) { lock.lock(); results.append((index, result)); lock.unlock() }
    var all: [(Int, Result<[Int], Error>)] { lock.lock(); defer { lock.unlock() }; return results }
}
