import Foundation

/// Errors thrown by layers for bad input.
public enum LayerError: Error, LocalizedError, Equatable, Sendable {
    /// A token id outside `0..<vocabularySize`.
    case tokenOutOfRange(token: Int, vocabularySize: Int)
    /// A position beyond the layer's maximum (context length).
    case positionOutOfRange(position: Int, maximum: Int)
    /// Sizes that do not fit together.
    case shapeMismatch(String)
    /// An impossible layer setting (e.g. channels not divisible by heads).
    case invalidConfiguration(String)

    /// A sentence describing the problem.
    public var errorDescription: String? {
        switch self {
        case let .tokenOutOfRange(token, size): return "Token id \(token) is outside the vocabulary 0..<\(size)"
        case let .positionOutOfRange(position, maximum): return "Position \(position) exceeds the context length \(maximum)"
        case .shapeMismatch(let message): return "Shape mismatch: \(message)"
        case .invalidConfiguration(let message): return "Invalid configuration: \(message)"
        }
    }
}
