// Learning-rate schedules as values.
import Foundation

/// A learning rate as a function of the 0-based step, built from simple pieces.
///
/// ```swift
/// // nanoGPT's get_lr: linear warmup, then cosine decay to a floor.
/// let schedule = LearningRateSchedule.warmupCosine(maximum: 6e-4, minimum: 6e-5, warmupSteps: 100, decaySteps: 5000)
/// let lr = schedule(step)   // a Float
/// ```
public indirect enum LearningRateSchedule: Sendable, Hashable, Codable {
    /// The same rate at every step.
    case constant(Float)
    /// Linear warmup over `steps` steps (step s gets maximum·(s+1)/(steps+1), as nanoGPT), then
    /// `then`, with its steps counted from the end of the warmup.
    case warmup(steps: Int, maximum: Float, then: LearningRateSchedule)
    /// Cosine decay from `maximum` at step 0 to `minimum` at step `steps`, then `minimum`.
    case cosineDecay(maximum: Float, minimum: Float, steps: Int)
    /// `first` for `steps` steps, then `then` (counted from 0).
    case sequence(first: LearningRateSchedule, steps: Int, then: LearningRateSchedule)

    /// nanoGPT's `get_lr`: warmup for `warmupSteps`, cosine decay until step `decaySteps`
    /// (counted from the start), `minimum` after.
    public static func warmupCosine(maximum: Float, minimum: Float, warmupSteps: Int, decaySteps: Int) -> LearningRateSchedule {
        // Sizes from a command line or a file may be anything: no arithmetic here may trap
        // (`validate()` rejects the impossible ones).
        let (remaining, overflow) = decaySteps.subtractingReportingOverflow(warmupSteps)
        return .warmup(steps: warmupSteps, maximum: maximum,
                       then: .cosineDecay(maximum: maximum, minimum: minimum, steps: overflow ? (decaySteps < 0 ? 0 : Int.max) : max(1, remaining)))
    }

    /// The learning rate at 0-based `step`.
    public func callAsFunction(_ step: Int) -> Float {
        switch self {
        case .constant(let rate):
            return rate
        case let .warmup(steps, maximum, then):
            // Float(step) + 1 equals Float(step + 1) wherever that is exact, and cannot overflow.
            if step < steps { return maximum * (Float(step) + 1) / (Float(steps) + 1) }
            return then(step &- steps)
        case let .cosineDecay(maximum, minimum, steps):
            if step >= steps { return minimum }
            let ratio = Double(step) / Double(steps)
            let coefficient = 0.5 * (1 + Foundation.cos(Double.pi * ratio))
            return Float(Double(minimum) + coefficient * Double(maximum - minimum))
        case let .sequence(first, steps, then):
            return step < steps ? first(step) : then(step &- steps)
        }
    }

    /// Throws `TrainingError.invalidConfiguration` for negative step counts, rates that are
    /// negative or not finite, and a cosine decay whose minimum exceeds its maximum.
    public func validate() throws {
        func fail(_ message: String) -> TrainingError { .invalidConfiguration(message) }
        func checkRate(_ rate: Float, _ name: String) throws {
            guard rate.isFinite, rate >= 0 else { throw fail("\(name) learning rate \(rate) must be finite and ≥ 0") }
        }
        switch self {
        case .constant(let rate):
            try checkRate(rate, "the")
        case let .warmup(steps, maximum, then):
            guard steps >= 0 else { throw fail("warmup steps must not be negative, got \(steps)") }
            try checkRate(maximum, "the peak")
            try then.validate()
        case let .cosineDecay(maximum, minimum, steps):
            guard steps > 0 else { throw fail("decay steps must be positive, got \(steps)") }
            try checkRate(maximum, "the peak")
            try checkRate(minimum, "the final")
            guard minimum <= maximum else { throw fail("the final learning rate \(minimum) exceeds the peak \(maximum)") }
        case let .sequence(first, steps, then):
            guard steps >= 0 else { throw fail("schedule steps must not be negative, got \(steps)") }
            try first.validate()
            try then.validate()
        }
    }
}
