import Foundation

/// Errors thrown by training: bad settings, bad data, broken numerics, bad checkpoints.
public enum TrainingError: Error, LocalizedError, Equatable, Sendable {
    /// A setting that cannot work (e.g. a batch larger than the data).
    case invalidConfiguration(String)
    /// Training data that cannot be used (too short, malformed shard, ...).
    case invalidData(String)
    /// The loss or a gradient became NaN or infinite at `step`; nothing was written.
    case nonFiniteValue(step: Int, what: String)
    /// A checkpoint that cannot be read or does not match the model.
    case invalidCheckpoint(String)
    /// A file that could not be read or written.
    case io(String)

    /// A sentence describing the problem.
    public var errorDescription: String? {
        switch self {
        case .invalidConfiguration(let message): return "Invalid training configuration: \(message)"
        case .invalidData(let message): return "Invalid training data: \(message)"
        case let .nonFiniteValue(step, what): return "Training stopped at step \(step): \(what) is not finite"
        case .invalidCheckpoint(let message): return "Invalid checkpoint: \(message)"
        case .io(let message): return "I/O error: \(message)"
        }
    }
}
