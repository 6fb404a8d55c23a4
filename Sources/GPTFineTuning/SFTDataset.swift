// Supervised fine-tuning data in trl's formats: each example rendered (a chat through the
// model's template), tokenized, with a flag per token saying whether predicting it is part of
// the loss (assistant or completion tokens by default), then truncated or dropped to a length.
import Foundation
import GPTFiles
import GPTModel
import GPTTensor
import GPTTokenizers
import GPTTraining

/// One record of a fine-tuning data set, in one of trl's dataset formats.
public enum SFTRecord: Sendable, Hashable {
    /// Language modelling: `{"text": …}`, every token trained.
    case text(String)
    /// Conversational language modelling: `{"messages": [{"role", "content"}…]}`, rendered with
    /// the chat template; the assistant messages are what is trained.
    case messages([ChatMessage])
    /// Prompt–completion: `{"prompt": "…", "completion": "…"}`; the completion is trained.
    case promptCompletion(prompt: String, completion: String)
    /// Conversational prompt–completion: `{"prompt": [messages], "completion": [messages]}`,
    /// the prompt rendered with the generation prompt, the completion after it trained.
    case conversationalPromptCompletion(prompt: [ChatMessage], completion: [ChatMessage])
}

/// Which tokens the fine-tuning loss counts.
public enum SFTLossTokens: String, Sendable, Hashable, Codable {
    /// The assistant messages' and completions' tokens only (trl's `assistant_only_loss` and
    /// `completion_only_loss`); text records train every token.
    case completions
    /// Every token after the first.
    case all
}

/// What happens to an example longer than the maximum length.
public enum SFTOverlong: String, Sendable, Hashable, Codable {
    /// Keep its first tokens (trl's `truncation_mode="keep_start"`).
    case truncate
    /// Leave it out.
    case drop
}

/// How records become examples.
public struct SFTDataOptions: Sendable, Hashable {
    /// The most tokens an example keeps (typically the context length).
    public var maximumLength: Int
    /// What happens to longer examples.
    public var overlong: SFTOverlong
    /// Which tokens are trained.
    public var lossTokens: SFTLossTokens
    /// Whether plain-text records (text, prompt–completion) end with the EOS token (as trl adds
    /// it), so the model learns to stop.
    public var appendsEOS: Bool

    /// Options; by default examples are truncated and only completions are trained.
    public init(maximumLength: Int, overlong: SFTOverlong = .truncate, lossTokens: SFTLossTokens = .completions, appendsEOS: Bool = true) {
        self.maximumLength = maximumLength
        self.overlong = overlong
        self.lossTokens = lossTokens
        self.appendsEOS = appendsEOS
    }
}

/// One tokenized example: the whole rendered record, and per token whether predicting it is
/// part of the loss (`trained[0]` is always false: nothing predicts the first token).
public struct SFTExample: Sendable, Hashable {
    /// The token ids.
    public var tokens: [Int32]
    /// Per token: whether its prediction counts in the loss.
    public var trained: [Bool]
    /// The line of the file (or the index + 1 of the record) it came from.
    public var line: Int

    /// An example; `trained` has one flag per token.
    public init(tokens: [Int32], trained: [Bool], line: Int) {
        precondition(tokens.count == trained.count, "SFTExample: one flag per token")
        self.tokens = tokens
        self.trained = trained
        self.line = line
    }

    /// Positions it takes in a batch row: one input per token but the last.
    public var inputCount: Int { max(0, tokens.count - 1) }
    /// The targets the loss counts.
    public var trainedCount: Int { trained.dropFirst().reduce(0) { $0 + ($1 ? 1 : 0) } }
}

/// What building a data set did, for the report.
public struct SFTDataReport: Sendable, Hashable, Codable {
    /// Records read (non-blank lines).
    public var records = 0
    /// Blank lines of the file, which hold no record.
    public var blankLines = 0
    /// Examples longer than the maximum length that were truncated.
    public var truncated = 0
    /// Examples longer than the maximum length that were dropped, and their lines.
    public var dropped = 0, droppedLines: [Int] = []
    /// Examples kept.
    public var examples = 0
    /// Tokens of the examples kept, and the targets their loss counts.
    public var tokens = 0, trainedTokens = 0

    /// One line for people.
    public var summary: String {
        var text = "\(records) records → \(examples) examples, \(tokens) tokens (\(trainedTokens) trained)"
        if truncated > 0 { text += ", \(truncated) truncated" }
        if dropped > 0 { text += ", \(dropped) dropped as too long (lines \(droppedLines.prefix(10).map(String.init).joined(separator: ", "))\(dropped > 10 ? ", …" : ""))" }
        if blankLines > 0 { text += ", \(blankLines) blank lines" }
        return text
    }
}

/// A fine-tuning data set: records in trl's formats rendered with the model's chat template and
/// tokenized, each token flagged as trained or not, ready to batch (padded or packed).
///
/// ```swift
/// let data = try SFTDataset(contentsOf: URL(fileURLWithPath: "chats.jsonl"), tokenizer: tokenizer, chat: chat,
///                           options: SFTDataOptions(maximumLength: 512))
/// print(data.report.summary)
/// let batches = try data.batches(batchSize: 4, sequenceLength: 512, packing: true, padTokenID: 0)
/// ```
public struct SFTDataset: Sendable {
    /// The examples, in file order.
    public var examples: [SFTExample]
    /// What building it did.
    public var report: SFTDataReport

    /// A data set of `examples` as they are.
    public init(examples: [SFTExample]) {
        self.examples = examples
        report = SFTDataReport()
        report.records = examples.count
        report.examples = examples.count
        report.tokens = examples.reduce(0) { $0 + $1.tokens.count }
        report.trainedTokens = examples.reduce(0) { $0 + $1.trainedCount }
    }

    /// Renders and tokenizes `records` (record i reported as line i + 1).
    /// - Throws: `TrainingError.invalidData` naming the record for a conversation without a
    ///   chat format, one whose template does not render its turns as prefixes of each other,
    ///   or a record with nothing to train; tokenizer errors.
    public init(records: [SFTRecord], tokenizer: any Tokenizer, chat: ChatFormat?, options: SFTDataOptions) throws {
        try self.init(numbered: records.enumerated().map { ($0.offset + 1, $0.element) }, tokenizer: tokenizer, chat: chat,
                      options: options, source: "record")
    }

    /// Reads a JSON Lines file of records (see `SFTRecord`; `"messages"`, `"prompt"` with
    /// `"completion"`, or `"text"`), every malformed line named by its number.
    /// - Throws: `TrainingError.invalidData` for an unreadable file, invalid UTF-8, a line that
    ///   is not a JSON object of one of the formats, or no record at all; and as `init(records:…)`.
    public init(contentsOf url: URL, tokenizer: any Tokenizer, chat: ChatFormat?, options: SFTDataOptions) throws {
        let (numbered, blank) = try SFTDataset.records(in: url)
        try self.init(numbered: numbered, tokenizer: tokenizer, chat: chat, options: options, source: "\(url.lastPathComponent) line")
        report.blankLines = blank
    }

    private init(numbered: [(line: Int, record: SFTRecord)], tokenizer: any Tokenizer, chat: ChatFormat?, options: SFTDataOptions,
                 source: String) throws {
        guard options.maximumLength >= 2 else {
            throw TrainingError.invalidConfiguration("the maximum example length must be at least 2 tokens, not \(options.maximumLength)")
        }
        var report = SFTDataReport()
        var examples: [SFTExample] = []
        let renderer = SFTRenderer(tokenizer: tokenizer, chat: chat, options: options)
        for (line, record) in numbered {
            report.records += 1
            var example: SFTExample
            do { example = try renderer.example(record, line: line) } catch {
                throw TrainingError.invalidData("\(source) \(line): \(Self.reason(error))")
            }
            if example.tokens.count > options.maximumLength {
                switch options.overlong {
                case .drop:
                    report.dropped += 1
                    report.droppedLines.append(line)
                    continue
                case .truncate:
                    report.truncated += 1
                    example.tokens.removeLast(example.tokens.count - options.maximumLength)
                    example.trained.removeLast(example.trained.count - options.maximumLength)
                }
            }
            guard example.tokens.count >= 2 else {
                throw TrainingError.invalidData("\(source) \(line): the example has \(example.tokens.count) token(s); it needs at least 2")
            }
            examples.append(example)
            report.tokens += example.tokens.count
            report.trainedTokens += example.trainedCount
        }
        report.examples = examples.count
        self.examples = examples
        self.report = report
    }

    // MARK: - Splitting

    /// The examples split into training and validation sets: a seeded shuffle, then the last
    /// `validationFraction` (at least one example when the fraction is positive and there are two
    /// or more) held out.
    public func split(validationFraction: Double, seed: UInt64 = 0) -> (train: SFTDataset, validation: SFTDataset) {
        guard validationFraction > 0, examples.count >= 2 else { return (self, SFTDataset(examples: [])) }
        var order = Array(examples.indices)
        var generator = RandomGenerator(seed: seed)
        order.shuffle(using: &generator)
        let held = min(examples.count - 1, max(1, Int((Double(examples.count) * validationFraction).rounded())))
        var train = SFTDataset(examples: order.dropLast(held).sorted().map { examples[$0] })
        train.report = report
        train.report.examples = train.examples.count
        train.report.tokens = train.examples.reduce(0) { $0 + $1.tokens.count }
        train.report.trainedTokens = train.examples.reduce(0) { $0 + $1.trainedCount }
        return (train, SFTDataset(examples: order.suffix(held).sorted().map { examples[$0] }))
    }

    // MARK: - Reading

    /// The records of a JSON Lines file, with their line numbers, and the count of blank lines.
    static func records(in url: URL) throws -> ([(line: Int, record: SFTRecord)], blank: Int) {
        let data: Data
        do { data = try Files.read(url) } catch { throw TrainingError.invalidData("\(url.path): \(error.reason)") }
        let text: String
        do { text = try Files.utf8Text(data, path: url.path) } catch {
            throw TrainingError.invalidData("\(url.path): invalid UTF-8: the file \(error.reason)")
        }
        var records: [(line: Int, record: SFTRecord)] = [], blank = 0
        var lines = text.utf8.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
        if lines.last?.isEmpty == true { lines.removeLast() }  // the final line break ends a line, it does not start one
        for (index, bytes) in lines.enumerated() {
            let number = index + 1
            let line = bytes.last == UInt8(ascii: "\r") ? bytes.dropLast() : bytes
            guard line.contains(where: { !($0 == 0x20 || $0 == 0x09 || $0 == 0x0D) }) else {
                blank += 1
                continue
            }
            let object: Any
            do { object = try JSONSerialization.jsonObject(with: Data(line)) } catch {
                throw TrainingError.invalidData("\(url.lastPathComponent) line \(number) is not JSON")
            }
            guard let dictionary = object as? [String: Any] else {
                throw TrainingError.invalidData("\(url.lastPathComponent) line \(number) is not a JSON object")
            }
            do { records.append((number, try record(dictionary))) } catch {
                throw TrainingError.invalidData("\(url.lastPathComponent) line \(number): \(reason(error))")
            }
        }
        guard !records.isEmpty else { throw TrainingError.invalidData("\(url.path) holds no records") }
        return (records, blank)
    }

    /// An error's message without the "Invalid training data:" prefix of `TrainingError`.
    static func reason(_ error: any Error) -> String {
        if case .invalidData(let message) = error as? TrainingError { return message }
        return error.localizedDescription
    }

    /// One record from its JSON object.
    static func record(_ object: [String: Any]) throws -> SFTRecord {
        switch (object["messages"], object["prompt"], object["completion"], object["text"]) {
        case (let messages?, nil, nil, nil):
            return .messages(try chatMessages(messages, field: "messages"))
        case (nil, let prompt as String, let completion as String, nil):
            return .promptCompletion(prompt: prompt, completion: completion)
        case (nil, let prompt as [Any], let completion as [Any], nil):
            return .conversationalPromptCompletion(prompt: try chatMessages(prompt, field: "prompt"),
                                                   completion: try chatMessages(completion, field: "completion"))
        case (nil, .some, .some, nil):
            throw TrainingError.invalidData("\"prompt\" and \"completion\" must both be strings or both be message arrays")
        case (nil, nil, nil, let text as String):
            return .text(text)
        default:
            throw TrainingError.invalidData(
                "needs \"messages\", \"prompt\" with \"completion\", or \"text\" (one format; found \(object.keys.sorted().joined(separator: ", ")))")
        }
    }

    private static func chatMessages(_ value: Any, field: String) throws -> [ChatMessage] {
        guard let array = value as? [Any], !array.isEmpty else {
            throw TrainingError.invalidData("\"\(field)\" must be a non-empty array of messages")
        }
        return try array.enumerated().map { index, item in
            guard let message = item as? [String: Any], let role = message["role"] as? String, let content = message["content"] as? String else {
                throw TrainingError.invalidData("\(field)[\(index)] needs a \"role\" and a \"content\" string")
            }
            return ChatMessage(role: role, content: content)
        }
    }
}
