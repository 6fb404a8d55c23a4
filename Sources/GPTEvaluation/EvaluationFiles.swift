// Reading what `gpt score` and `gpt eval --task` score: one segment a line, or JSON Lines of
// prediction/reference pairs and of prompts with references. Strict: invalid UTF-8, a bad line
// or a missing field is an error naming the file and line, never a crash or a silent skip.
import Foundation
import GPTFiles
import GPTTokenizers

/// A prediction and the references it is scored against.
public struct ScoredPair: Sendable, Hashable, Codable {
    /// The system's output (for ROUGE-Lsum, newlines separate its sentences).
    public var prediction: String
    /// One or more references.
    public var references: [String]

    /// A pair.
    public init(prediction: String, references: [String]) {
        self.prediction = prediction
        self.references = references
    }
}

/// One item of a generation task: a prompt (plain text, or chat messages) and its references.
public struct TaskExample: Sendable, Hashable {
    /// The plain-text prompt, continued as is (nil when `messages` is given).
    public var prompt: String?
    /// The conversation, rendered with the model's chat template (nil when `prompt` is given).
    public var messages: [ChatMessage]?
    /// One or more references.
    public var references: [String]

    /// An example; exactly one of `prompt` and `messages` must be set.
    public init(prompt: String? = nil, messages: [ChatMessage]? = nil, references: [String]) {
        self.prompt = prompt
        self.messages = messages
        self.references = references
    }
}

/// Readers for the files of `gpt score` and `gpt eval --task`.
public enum EvaluationFiles {
    /// The largest file read (256 MiB): anything bigger is refused, not loaded.
    public static let maximumFileSize = 256 << 20

    /// The text of `url`, which must be valid UTF-8 and not empty (read through GPTFiles, so
    /// a missing file, a folder or a device is named in words).
    public static func text(of url: URL) throws -> String {
        if let size = (try? FileManager.default.attributesOfItem(atPath: url.path))?[.size] as? Int, size > maximumFileSize {
            throw EvaluationError.invalidFile(path: url.path, reason: "larger than 256 MiB")
        }
        let data: Data
        do { data = try Files.read(url) } catch { throw EvaluationError.invalidFile(path: url.path, reason: error.reason) }
        let text: String
        do { text = try Files.utf8Text(data, path: url.path) } catch {
            throw EvaluationError.invalidFile(path: url.path, reason: "invalid UTF-8: the file \(error.reason)")
        }
        guard !text.isEmpty else { throw EvaluationError.invalidFile(path: url.path, reason: "is empty") }
        return text
    }

    /// The lines of `url` (one segment each: "\n" or "\r\n" ends a line; a final line break
    /// adds no segment).
    public static func lines(of url: URL) throws -> [String] {
        splitLines(try text(of: url))
    }

    /// The pairs of a JSON Lines file: objects with `"prediction"` and `"reference"` (a string,
    /// or an array of strings; `"references"` is accepted too). Blank lines are skipped.
    public static func pairs(of url: URL) throws -> [ScoredPair] {
        try jsonLines(of: url).map { line, object in
            let prediction = try field(object, "prediction", line: line, url: url)
            return ScoredPair(prediction: prediction, references: try references(object, line: line, url: url))
        }
    }

    /// The examples of a task file: objects with `"prompt"` (a string) or `"messages"` (an array
    /// of `{"role", "content"}`), and `"reference"`/`"references"`.
    public static func taskExamples(of url: URL) throws -> [TaskExample] {
        try jsonLines(of: url).map { line, object in
            let refs = try references(object, line: line, url: url)
            switch (object["prompt"], object["messages"]) {
            case (let prompt as String, nil):
                return TaskExample(prompt: prompt, references: refs)
            case (nil, let messages as [Any]):
                let parsed = try messages.map { item -> ChatMessage in
                    guard let message = item as? [String: Any], let role = message["role"] as? String,
                          let content = message["content"] as? String else {
                        throw EvaluationError.invalidFile(path: url.path, reason: "line \(line): each message needs a \"role\" and a \"content\" string")
                    }
                    return ChatMessage(role: role, content: content)
                }
                guard !parsed.isEmpty else { throw EvaluationError.invalidFile(path: url.path, reason: "line \(line): \"messages\" is empty") }
                return TaskExample(messages: parsed, references: refs)
            default:
                throw EvaluationError.invalidFile(path: url.path, reason: "line \(line): needs a \"prompt\" string or a \"messages\" array (one of them)")
            }
        }
    }

    // MARK: - Pieces

    /// The lines of `text`: split on "\n" as code points ("\r\n" is one Swift Character), a
    /// trailing "\r" dropped from each, and no segment after a final line break.
    static func splitLines(_ text: String) -> [String] {
        var lines = text.unicodeScalars.split(separator: "\n", omittingEmptySubsequences: false).map { scalars in
            String(String.UnicodeScalarView(scalars.last == "\r" ? scalars.dropLast() : scalars))
        }
        if lines.last == "" { lines.removeLast() }
        return lines
    }

    private static func jsonLines(of url: URL) throws -> [(line: Int, object: [String: Any])] {
        var result: [(line: Int, object: [String: Any])] = []
        for (index, line) in splitLines(try text(of: url)).enumerated() where !line.allSatisfy(\.isWhitespace) {
            let object: Any
            do {
                object = try JSONSerialization.jsonObject(with: Data(line.utf8))
            } catch {
                throw EvaluationError.invalidFile(path: url.path, reason: "line \(index + 1) is not JSON")
            }
            guard let dictionary = object as? [String: Any] else {
                throw EvaluationError.invalidFile(path: url.path, reason: "line \(index + 1) is not a JSON object")
            }
            result.append((index + 1, dictionary))
        }
        guard !result.isEmpty else { throw EvaluationError.invalidFile(path: url.path, reason: "has no JSON lines") }
        return result
    }

    private static func field(_ object: [String: Any], _ name: String, line: Int, url: URL) throws -> String {
        guard let value = object[name] as? String else {
            throw EvaluationError.invalidFile(path: url.path, reason: "line \(line): \"\(name)\" must be a string")
        }
        return value
    }

    private static func references(_ object: [String: Any], line: Int, url: URL) throws -> [String] {
        let value = object["reference"] ?? object["references"]
        if let single = value as? String { return [single] }
        if let many = value as? [Any], !many.isEmpty, let strings = many as? [String], strings.count == many.count { return strings }
        throw EvaluationError.invalidFile(path: url.path, reason: "line \(line): \"reference\" must be a string or a non-empty array of strings")
    }
}
