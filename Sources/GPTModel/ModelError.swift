// The errors GPTModel throws for bad configurations, inputs and files.
import Foundation
import GPTFiles
import GPTLayers
import GPTTensor

/// Errors thrown by GPTModel. Every case carries a sentence naming the problem (and the file,
/// tensor or setting involved).
public enum ModelError: Error, LocalizedError, Equatable, Sendable {
    /// An impossible configuration (zero sizes, width not divisible by heads, ...).
    case invalidConfiguration(String)
    /// Input of the wrong size or form (token counts, batch shape, options).
    case invalidInput(String)
    /// A token id (or target) outside `0..<vocabularySize`.
    case tokenOutOfRange(token: Int, vocabularySize: Int)
    /// More positions than the context length (or the cache's capacity) allows.
    case contextOverflow(length: Int, limit: Int)
    /// A file could not be read or written.
    case io(String)
    /// A file's bytes do not follow its format (truncated, bad header, wrong sizes).
    case malformedFile(String)
    /// A tensor the configuration needs is not in the file.
    case missingTensor(String)
    /// A tensor in the file is not part of the model described by the configuration.
    case unexpectedTensor(String)
    /// A tensor's shape disagrees with the configuration.
    case shapeMismatch(String)
    /// A feature or format variant GPTKit does not support.
    case unsupported(String)
    /// An API called out of order (e.g. `backward()` without a forward pass with targets).
    case invalidState(String)

    /// A sentence describing the problem.
    public var errorDescription: String? {
        switch self {
        case .invalidConfiguration(let message): return "Invalid configuration: \(message)"
        case .invalidInput(let message): return "Invalid input: \(message)"
        case let .tokenOutOfRange(token, size): return "Token id \(token) is outside the vocabulary 0..<\(size)"
        case let .contextOverflow(length, limit): return "\(length) positions exceed the limit of \(limit)"
        case .io(let message): return "I/O error: \(message)"
        case .malformedFile(let message): return "Malformed file: \(message)"
        case .missingTensor(let message): return "Missing tensor: \(message)"
        case .unexpectedTensor(let message): return "Unexpected tensor: \(message)"
        case .shapeMismatch(let message): return "Shape mismatch: \(message)"
        case .unsupported(let message): return "Unsupported: \(message)"
        case .invalidState(let message): return "Invalid state: \(message)"
        }
    }

    /// Runs `body`, translating the errors of the modules below into `ModelError` so callers see
    /// one type; `context` (a file name, say) prefixes the message.
    static func wrap<R>(_ context: String, _ body: () throws -> R) throws -> R {
        do { return try body() } catch let error as ModelError {
            throw error
        } catch let error as TensorError {
            switch error {
            case .io(let message): throw ModelError.io(message)
            case .malformedFile(let message): throw ModelError.malformedFile(message)
            case .missingTensor(let name): throw ModelError.missingTensor("\(context): \(name)")
            case .unsupportedDataType(let message): throw ModelError.unsupported("\(context): data type \(message)")
            case .invalidShape(let message), .shapeMismatch(let message):
                throw ModelError.shapeMismatch("\(context): \(message)")
            }
        } catch let error as LayerError {
            switch error {
            case let .tokenOutOfRange(token, size): throw ModelError.tokenOutOfRange(token: token, vocabularySize: size)
            case let .positionOutOfRange(position, maximum): throw ModelError.contextOverflow(length: position + 1, limit: maximum)
            case .shapeMismatch(let message): throw ModelError.shapeMismatch("\(context): \(message)")
            case .invalidConfiguration(let message): throw ModelError.invalidConfiguration(message)
            }
        } catch {
            throw ModelError.io("\(context): \(Files.reason(for: error))")
        }
    }
}
