// The audit log of generations: one JSON line per generation (time, model, prompt hash, token
// counts, finish reason, filter verdicts), appended with a single write so a reader never sees a
// half line, from any number of threads.
import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One generation as the audit log records it (the prompt only as its SHA-256).
public struct AuditRecord: Sendable, Hashable, Codable {
    /// When the generation finished (ISO 8601, UTC).
    public var time: String
    /// The model's name.
    public var model: String
    /// SHA-256 of the prompt's UTF-8 as sent, before any filtering (for chat: the conversation
    /// rendered with the template).
    public var promptSHA256: String
    /// Tokens in the prompt.
    public var promptTokens: Int
    /// Tokens generated.
    public var generatedTokens: Int
    /// `stop`, `length`, `context`, `filtered` or `prompt_filtered`.
    public var finishReason: String
    /// Every filter verdict, prompt and output.
    public var verdicts: [FilterVerdict]

    enum CodingKeys: String, CodingKey {
        case time, model, verdicts
        case promptSHA256 = "prompt_sha256", promptTokens = "prompt_tokens", generatedTokens = "generated_tokens"
        case finishReason = "finish_reason"
    }
}

/// An append-only JSON Lines audit log, safe to share between threads and tasks.
///
/// ```swift
/// let log = try AuditLog(url: URL(fileURLWithPath: "audit.jsonl"))
/// let generator = FilteredGenerator(model: model, tokenizer: tokenizer, filters: [blocklist], auditLog: log)
/// ```
public final class AuditLog: Sendable {
    /// The file appended to.
    public let url: URL
    private let handle: Mutex<FileHandle>

    /// Opens (creating if needed) `url` for appending (O_APPEND: every write lands at the end,
    /// also with other logs or processes writing the same file).
    /// - Throws: `EvaluationError.invalidFile` if it cannot be created or opened.
    public init(url: URL) throws {
        self.url = url
        let descriptor = url.withUnsafeFileSystemRepresentation { path -> Int32 in
            guard let path else { return -1 }
            return open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o644)
        }
        guard descriptor >= 0 else { throw EvaluationError.invalidFile(path: url.path, reason: "cannot be opened for appending") }
        handle = Mutex(FileHandle(fileDescriptor: descriptor, closeOnDealloc: true))
    }

    /// Appends `record` as one line.
    /// - Throws: `EvaluationError.invalidFile` if the write fails.
    public func append(_ record: AuditRecord) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        var line = try encoder.encode(record)
        line.append(0x0A)
        try handle.withLock { file in
            do {
                try file.write(contentsOf: line)
            } catch {
                throw EvaluationError.invalidFile(path: url.path, reason: "the audit record could not be written")
            }
        }
    }

    /// The records in the log at `url` (none for an empty log; blank lines are skipped).
    /// - Throws: `EvaluationError.invalidFile` for a line that is not a record.
    public static func records(at url: URL) throws -> [AuditRecord] {
        let data: Data
        do { data = try Data(contentsOf: url) } catch { throw EvaluationError.invalidFile(path: url.path, reason: "cannot be read") }
        guard !data.isEmpty else { return [] }
        let decoder = JSONDecoder()
        return try EvaluationFiles.splitLines(try EvaluationFiles.text(of: url)).enumerated()
            .filter { !$0.element.allSatisfy(\.isWhitespace) }
            .map { index, line in
                do { return try decoder.decode(AuditRecord.self, from: Data(line.utf8)) } catch {
                    throw EvaluationError.invalidFile(path: url.path, reason: "line \(index + 1) is not an audit record")
                }
            }
    }

}
