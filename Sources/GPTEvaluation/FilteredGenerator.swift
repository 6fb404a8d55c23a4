// Generation with content filters and an audit log: the prompt is reviewed first (a stop refuses
// without generating, a redaction is what the model sees), the reply streams through the filters
// (a stop ends generation at once), and every generation is written to the audit log.
import Foundation
import GPTModel
import GPTTokenizers
import GPTTensor

/// One prompt for `FilteredGenerator.generate(_:batchSize:onFinish:)`.
public enum GenerationRequest: Sendable, Hashable {
    /// Plain text, continued as is.
    case prompt(String)
    /// A conversation ending with the user's turn, rendered with the chat template.
    case messages([ChatMessage])
}

/// One filtered generation: what was shown, and why it ended.
public struct FilteredGeneration: Sendable, Hashable, Codable {
    /// The reply as shown (redactions applied; up to the stop if a filter stopped it).
    public var text: String
    /// Tokens in the prompt (0 when the prompt was refused).
    public var promptTokens: Int
    /// Tokens generated.
    public var generatedTokens: Int
    /// `stop` (a stop token), `length`, `context`, `filtered` (a filter stopped the reply) or
    /// `prompt_filtered` (a filter refused the prompt; nothing was generated).
    public var finishReason: String
    /// Every verdict, prompt and output.
    public var verdicts: [FilterVerdict]

    /// Whether a filter stopped the prompt or the reply.
    public var wasStoppedByFilter: Bool { finishReason == "filtered" || finishReason == "prompt_filtered" }

    enum CodingKeys: String, CodingKey {
        case text, verdicts
        case promptTokens = "prompt_tokens", generatedTokens = "generated_tokens", finishReason = "finish_reason"
    }
}

/// A model, its tokenizer and prompt format, generation options, content filters and an
/// optional audit log: generates for prompts and conversations.
///
/// ```swift
/// let generator = FilteredGenerator(model: model, tokenizer: tokenizer, chat: try ChatFormat(gguf: file, tokenizer: tokenizer),
///                                   options: GenerationOptions(maximumNewTokens: 64), filters: [try BlocklistFilter.standard()])
/// let reply = try generator.respond(to: [ChatMessage(role: "user", content: "Hi!")]) { print($0, terminator: "") }
/// print(reply.finishReason, reply.verdicts)
/// ```
public struct FilteredGenerator: Sendable {
    /// The model.
    public var model: GPT
    /// Its tokenizer.
    public var tokenizer: any Tokenizer
    /// The chat format (nil: plain continuation only).
    public var chat: ChatFormat?
    /// Generation settings (greedy by default).
    public var options: GenerationOptions
    /// Filters for prompts and replies.
    public var filters: [any ContentFilter]
    /// Where generations are recorded, if anywhere.
    public var auditLog: AuditLog?
    /// The model's name in the audit log.
    public var modelName: String

    /// A generator; see the type's properties.
    public init(model: GPT, tokenizer: any Tokenizer, chat: ChatFormat? = nil, options: GenerationOptions = GenerationOptions(),
                filters: [any ContentFilter] = [], auditLog: AuditLog? = nil, modelName: String = "model") {
        self.model = model
        self.tokenizer = tokenizer
        self.chat = chat
        self.options = options
        self.filters = filters
        self.auditLog = auditLog
        self.modelName = modelName
    }

    /// Continues `prompt` (plain text), streaming the shown text to `onText`.
    public func generate(prompt: String, onText: (String) throws -> Void = { _ in }) throws -> FilteredGeneration {
        try run(try prepare(.prompt(prompt)), onText: onText)
    }

    /// Answers `messages` (the conversation so far, ending with the user's turn) with the chat template.
    /// - Throws: `EvaluationError.invalidInput` without a chat format; template and model errors.
    public func respond(to messages: [ChatMessage], onText: (String) throws -> Void = { _ in }) throws -> FilteredGeneration {
        try run(try prepare(.messages(messages)), onText: onText)
    }

    /// Generates for every request, decoding up to `batchSize` of them together: each step runs
    /// the active replies' next tokens through the model in one batched pass
    /// (`GenerationSession.next(_:)`), and a finished reply's place goes to the next request
    /// before the following step (continuous batching). Each result is the one `generate(prompt:)`
    /// or `respond(to:)` gives for its request alone (see `GenerationSession.next(_:)` for the
    /// rounding caveat of float32 products); results come in the order of `requests`, and
    /// `onFinish` sees each as it completes, with its index.
    ///
    /// ```swift
    /// let replies = try generator.generate([.prompt("Once upon a time"), .messages([ChatMessage(role: "user", content: "Hi!")])],
    ///                                      batchSize: 8) { index, reply in print(index, reply.finishReason) }
    /// ```
    /// - Throws: `EvaluationError.invalidInput` for a batch size below 1 or messages without a
    ///   chat format; template, model and audit-log errors.
    public func generate(
        _ requests: [GenerationRequest], batchSize: Int = 8, onFinish: (Int, FilteredGeneration) throws -> Void = { _, _ in }
    ) throws -> [FilteredGeneration] {
        guard batchSize >= 1 else { throw EvaluationError.invalidInput("the batch size must be at least 1, not \(batchSize)") }
        var results = [FilteredGeneration?](repeating: nil, count: requests.count)
        var active: [(index: Int, run: Run)] = []
        var nextRequest = 0
        func finish(_ index: Int, _ result: FilteredGeneration) throws {
            results[index] = result
            try onFinish(index, result)
        }
        while nextRequest < requests.count || !active.isEmpty {
            while active.count < batchSize && nextRequest < requests.count {
                let index = nextRequest
                nextRequest += 1
                switch try prepare(requests[index]) {
                case .refused(let result): try finish(index, result)
                case let .ready(ids, hashing, verdicts, stopTokens):
                    active.append((index, try Run(self, promptIDs: ids, hashing: hashing, promptVerdicts: verdicts, stopTokens: stopTokens)))
                }
            }
            guard !active.isEmpty else { continue }
            let tokens = try GenerationSession.next(active.map(\.run.session))
            var still: [(index: Int, run: Run)] = []
            for (entry, token) in zip(active, tokens) {
                if try entry.run.accept(token, onText: { _ in }) {
                    try finish(entry.index, try entry.run.result())
                } else {
                    still.append(entry)
                }
            }
            active = still
        }
        return results.map { $0! }
    }

    // MARK: - Running

    /// A request's prompt reviewed and tokenized, or refused by a filter.
    private enum Prepared {
        case refused(FilteredGeneration)
        case ready(ids: [Int], hashing: String, verdicts: [FilterVerdict], stopTokens: Set<Int>)
    }

    /// Reviews the prompt (a stop refuses it, a redaction is what the model sees) and tokenizes
    /// it; the audit log hashes the prompt as sent.
    private func prepare(_ request: GenerationRequest) throws -> Prepared {
        switch request {
        case .prompt(let prompt):
            var promptStream = FilteredTextStream(filters: filters, stage: .prompt)
            guard let shown = try promptStream.filterWhole(prompt) else {
                return .refused(try refused(promptStream.verdicts, hashing: prompt))
            }
            var ids = try tokenizer.encode(shown)
            if let sentencePiece = tokenizer as? SentencePieceTokenizer, sentencePiece.addsBOSToken, let bos = tokenizer.bosTokenID {
                ids.insert(bos, at: 0)
            }
            return .ready(ids: ids, hashing: prompt, verdicts: promptStream.verdicts, stopTokens: [])
        case .messages(let messages):
            guard let chat else {
                throw EvaluationError.invalidInput("this model has no chat template: give a \"prompt\" instead of \"messages\"")
            }
            let sent = try chat.template.render(messages: messages, addGenerationPrompt: true, bosToken: chat.bosToken,
                                                eosToken: chat.eosToken)
            var verdicts: [FilterVerdict] = []
            var filtered: [ChatMessage] = []
            for message in messages {
                guard message.role == "user" else { filtered.append(message); continue }
                var stream = FilteredTextStream(filters: filters, stage: .prompt)
                let content = try stream.filterWhole(message.content)
                verdicts += stream.verdicts
                guard let content else { return .refused(try refused(verdicts, hashing: sent)) }
                filtered.append(ChatMessage(role: message.role, content: content))
            }
            let rendered = try chat.template.render(messages: filtered, addGenerationPrompt: true, bosToken: chat.bosToken,
                                                    eosToken: chat.eosToken)
            return .ready(ids: try tokenizer.encodeParsingSpecialTokens(rendered), hashing: sent, verdicts: verdicts,
                          stopTokens: chat.stopTokens)
        }
    }

    /// Runs a prepared request alone, streaming the shown text to `onText`.
    private func run(_ prepared: Prepared, onText: (String) throws -> Void) throws -> FilteredGeneration {
        switch prepared {
        case .refused(let result): return result
        case let .ready(ids, hashing, verdicts, stopTokens):
            let run = try Run(self, promptIDs: ids, hashing: hashing, promptVerdicts: verdicts, stopTokens: stopTokens)
            while try !run.accept(try run.session.next(), onText: onText) {}
            return try run.result()
        }
    }

    /// One reply in progress: its session, the streaming decoder and the output filters.
    private final class Run {
        let generator: FilteredGenerator
        let session: GenerationSession
        let promptIDs: [Int], hashing: String, promptVerdicts: [FilterVerdict]
        var decoder: StreamingDecoder
        var stream: FilteredTextStream
        var text = ""
        var stopped = false

        /// Starts the session on the prompt.
        init(_ generator: FilteredGenerator, promptIDs: [Int], hashing: String, promptVerdicts: [FilterVerdict], stopTokens: Set<Int>) throws {
            var options = generator.options
            options.stopTokens.formUnion(stopTokens)
            self.generator = generator
            session = try GenerationSession(model: generator.model, options: options)
            try session.start(prompt: promptIDs)
            self.promptIDs = promptIDs
            self.hashing = hashing
            self.promptVerdicts = promptVerdicts
            decoder = generator.tokenizer.makeStreamingDecoder()
            for id in promptIDs { _ = try decoder.append(id) }  // the context for the first piece
            stream = FilteredTextStream(filters: generator.filters)
        }

        /// Takes the session's next token (nil: it has finished) and returns whether the reply is
        /// complete: the session finished, or a filter stopped it (the session is then abandoned).
        func accept(_ token: Int?, onText: (String) throws -> Void) throws -> Bool {
            if let token {
                return try show(try decoder.append(token), onText: onText)
            }
            if try show(decoder.finish(), onText: onText) { return true }
            let rest = try stream.finish()
            if !rest.isEmpty { text += rest; try onText(rest) }
            stopped = stream.stopVerdict != nil
            return true
        }

        /// Shows a decoded piece through the filters; true once a filter has stopped the reply.
        private func show(_ piece: String, onText: (String) throws -> Void) throws -> Bool {
            let shown = try stream.append(piece)
            if !shown.isEmpty { text += shown; try onText(shown) }
            stopped = stream.stopVerdict != nil
            return stopped
        }

        /// The finished reply, recorded in the audit log.
        func result() throws -> FilteredGeneration {
            let reason: String
            if stopped {
                reason = "filtered"
            } else {
                switch session.finishReason {
                case .stopToken: reason = "stop"
                case .contextFull: reason = "context"
                case .maximumNewTokens, nil: reason = "length"
                }
            }
            let result = FilteredGeneration(text: text, promptTokens: promptIDs.count, generatedTokens: session.generatedCount,
                                            finishReason: reason, verdicts: promptVerdicts + stream.verdicts)
            try generator.record(result, prompt: hashing)
            return result
        }
    }

    private func refused(_ verdicts: [FilterVerdict], hashing prompt: String) throws -> FilteredGeneration {
        let result = FilteredGeneration(text: "", promptTokens: 0, generatedTokens: 0, finishReason: "prompt_filtered", verdicts: verdicts)
        try record(result, prompt: prompt)
        return result
    }

    fileprivate func record(_ result: FilteredGeneration, prompt: String) throws {
        guard let auditLog else { return }
        try auditLog.append(AuditRecord(time: Date().formatted(.iso8601), model: modelName, promptSHA256: sha256Hex(Array(prompt.utf8)),
                                        promptTokens: result.promptTokens, generatedTokens: result.generatedTokens,
                                        finishReason: result.finishReason, verdicts: result.verdicts))
    }
}
