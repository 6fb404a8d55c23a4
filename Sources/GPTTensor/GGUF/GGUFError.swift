// GGUFError: every way a GGUF file can be refused, each naming the place and the problem.
import Foundation

/// An error reading or writing a GGUF file. Every case says where (the byte offset, the
/// metadata key or the tensor name) and what is wrong, so the message alone locates the fault.
///
/// ```swift
/// do { _ = try GGUFFile(contentsOf: url) } catch let error as GGUFError {
///     print(error.localizedDescription)  // e.g. "model.gguf: file ends at byte 812 while reading the key of metadata entry 7"
/// }
/// ```
public enum GGUFError: Error, LocalizedError, Equatable, Sendable {
    /// The file cannot be read or written.
    case io(file: String, reason: String)
    /// The first four bytes are not "GGUF".
    case notGGUF(file: String)
    /// A version other than 2 and 3 (1 has 32-bit counts; a byte-swapped version is a
    /// big-endian file).
    case unsupportedVersion(file: String, version: UInt32)
    /// The file ends inside a structure.
    case truncated(file: String, offset: Int, reading: String)
    /// A count, a length or a value is impossible (too large for the file, out of range, not UTF-8).
    case invalidHeader(file: String, offset: Int, reason: String)
    /// A metadata entry is malformed or has the wrong type for its key.
    case invalidMetadata(file: String, key: String, reason: String)
    /// A tensor's shape, type, offset or size is impossible.
    case invalidTensor(file: String, name: String, reason: String)
    /// A tensor has a `ggml_type` GPTKit does not read.
    case unsupportedTensorType(file: String, name: String, type: String)

    /// A description naming the file, the place and the problem.
    public var errorDescription: String? {
        switch self {
        case .io(let file, let reason): return "\(file): \(reason)"
        case .notGGUF(let file): return "\(file): not a GGUF file (it does not start with 'GGUF')"
        case .unsupportedVersion(let file, let version):
            if version.byteSwapped == 2 || version.byteSwapped == 3 {
                return "\(file): a big-endian GGUF file (version \(version.byteSwapped) byte-swapped); GPTKit reads little-endian files"
            }
            return "\(file): GGUF version \(version) is not supported (versions 2 and 3 are)"
        case .truncated(let file, let offset, let reading): return "\(file): file ends at byte \(offset) while reading \(reading)"
        case .invalidHeader(let file, let offset, let reason): return "\(file): at byte \(offset): \(reason)"
        case .invalidMetadata(let file, let key, let reason): return "\(file): metadata '\(key)': \(reason)"
        case .invalidTensor(let file, let name, let reason): return "\(file): tensor '\(name)': \(reason)"
        case .unsupportedTensorType(let file, let name, let type):
            return "\(file): tensor '\(name)' has type \(type), which GPTKit does not read"
        }
    }
}
