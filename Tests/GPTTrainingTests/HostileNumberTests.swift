import Foundation
import GPTModel
import GPTTraining
import XCTest

/// Numbers from files and arguments that used to trap are errors.
final class HostileNumberTests: XCTestCase {
    func testSchedulesNeverTrapAndImpossibleOnesAreRefused() throws {
        for schedule in [LearningRateSchedule.warmupCosine(maximum: 1e-3, minimum: 1e-4, warmupSteps: Int.min, decaySteps: 10),
                         .warmupCosine(maximum: 1e-3, minimum: 1e-4, warmupSteps: 10, decaySteps: Int.min),
                         .warmupCosine(maximum: 1e-3, minimum: 1e-2, warmupSteps: 1, decaySteps: 10),
                         .constant(.nan), .sequence(first: .constant(1), steps: -1, then: .constant(1))] {
            XCTAssertThrowsError(try schedule.validate(), "\(schedule)")
            _ = schedule(0)
            _ = schedule(Int.max)  // evaluating it never traps either
        }
        let long = LearningRateSchedule.warmupCosine(maximum: 1e-3, minimum: 1e-4, warmupSteps: Int.max, decaySteps: Int.max)
        XCTAssertNoThrow(try long.validate())
        XCTAssertGreaterThan(long(Int.max - 1), 0)
        // Unchanged values for ordinary steps: Float(step) + 1 is Float(step + 1).
        let ordinary = LearningRateSchedule.warmupCosine(maximum: 3e-3, minimum: 3e-4, warmupSteps: 30, decaySteps: 2000)
        XCTAssertEqual(ordinary(4), 3e-3 * Float(5) / Float(31))
    }

    func testConfigurationsBeyondCountsAndMemoryAreRefused() throws {
        var settings = TrainingConfiguration(batchSize: Int.max, sequenceLength: 2, steps: 1)
        XCTAssertThrowsError(try settings.validate(contextLength: 32))
        settings = TrainingConfiguration(batchSize: 2, sequenceLength: 2, steps: 1)
        settings.evaluationBatches = 1 << 62
        XCTAssertThrowsError(try settings.validate(contextLength: 32))
        let model = try GPT(configuration: .nano, seed: 1)
        XCTAssertThrowsError(try model.forward(tokens: [1], batch: Int.max, time: 2))
        // A pass far beyond this machine's memory is refused before the arena grows.
        let workspace = GPTWorkspace(model: try GPT(configuration: .mini, seed: 1))
        let rows = 1 << 20
        XCTAssertThrowsError(try workspace.forward(tokens: [Int](repeating: 1, count: rows * 4), batch: rows, time: 4)) { error in
            XCTAssertTrue(error.localizedDescription.contains("GB of memory"), error.localizedDescription)
        }
        XCTAssertEqual(workspace.activationFloats, 0)
    }
}
