import Foundation

/// Errors thrown by GPTTensor for bad input: shapes, files and formats.
public enum TensorError: Error, LocalizedError, Equatable, Sendable {
    /// A shape had a negative dimension or did not match the element count.
    case invalidShape(String)
    /// Two shapes that must agree did not.
    case shapeMismatch(String)
    /// A file could not be read or written.
    case io(String)
    /// A file's contents do not follow its format.
    case malformedFile(String)
    /// A tensor named in a request is not in the file.
    case missingTensor(String)
    /// The file uses a data type this library does not read.
    case unsupportedDataType(String)

    /// A sentence describing the problem.
    public var errorDescription: String? {
        switch self {
        case .invalidShape(let message): return "Invalid shape: \(message)"
        case .shapeMismatch(let message): return "Shape mismatch: \(message)"
        case .io(let message): return "I/O error: \(message)"
        case .malformedFile(let message): return "Malformed file: \(message)"
        case .missingTensor(let name): return "Missing tensor: \(name)"
        case .unsupportedDataType(let type): return "Unsupported data type: \(type)"
        }
    }
}
