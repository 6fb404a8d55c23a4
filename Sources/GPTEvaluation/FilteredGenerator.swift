// Generation with content filters and an audit log: the prompt is reviewed first (a stop refuses
// without generating, a redaction is what the model sees), the reply streams through the filters
// (a stop ends generation at once), and every generation is written to the audit log.
import Foundation
import GPTModel
import GPTTokenizers
import GPTTensor

/// How prompts become tokens: plain text continued as is, or chat messages rendered by a template.
public struct ChatFormat: Sendable {
    /// The chat template.
    public var template: ChatTemplate
    /// The BOS and EOS strings the template may use.
    public var bosToken: String, eosToken: String
    /// End-of-turn ids added to the generation's stop tokens.
    public var stopTokens: Set<Int>

    /// A format from its parts.
    public init(template: ChatTemplate, bosToken: String = "", eosToken: String = "", stopTokens: Set<Int> = []) {
        self.template = template
        self.bosToken = bosToken
        self.eosToken = eosToken
        self.stopTokens = stopTokens
    }

    /// The GGUF file's chat template, BOS/EOS and end-of-turn tokens (nil without a template).
    /// - Throws: `ChatTemplateError` for a template that does not parse.
    public init?(gguf file: GGUFFile, tokenizer: any Tokenizer) throws {
        guard let source = file.metadata["tokenizer.chat_template"]?.string else { return nil }
        func text(_ id: Int?) -> String { id.flatMap { try? tokenizer.decode([$0]) } ?? "" }
        self.init(template: try ChatTemplate(source), bosToken: text(tokenizer.bosTokenID), eosToken: text(tokenizer.eosTokenID),
                  stopTokens: ChatSession.endOfTurnTokens(tokenizer, declared: [
                      file.metadata["tokenizer.ggml.eos_token_id"]?.integer, file.metadata["tokenizer.ggml.eot_token_id"]?.integer,
                  ].compactMap { $0 }))
    }
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
        var promptStream = FilteredTextStream(filters: filters, stage: .prompt)
        guard let shown = try promptStream.filterWhole(prompt) else {
            return try refused(promptStream.verdicts, hashing: prompt)
        }
        var ids = try tokenizer.encode(shown)
        if let sentencePiece = tokenizer as? SentencePieceTokenizer, sentencePiece.addsBOSToken, let bos = tokenizer.bosTokenID {
            ids.insert(bos, at: 0)
        }
        return try run(promptIDs: ids, hashing: prompt, promptVerdicts: promptStream.verdicts, stopTokens: [], onText: onText)
    }

    /// Answers `messages` (the conversation so far, ending with the user's turn) with the chat template.
    /// - Throws: `EvaluationError.invalidInput` without a chat format; template and model errors.
    public func respond(to messages: [ChatMessage], onText: (String) throws -> Void = { _ in }) throws -> FilteredGeneration {
        guard let chat else { throw EvaluationError.invalidInput("this model has no chat template: give a \"prompt\" instead of \"messages\"") }
        // The audit log hashes the conversation as sent, rendered, before any filtering.
        let sent = try chat.template.render(messages: messages, addGenerationPrompt: true, bosToken: chat.bosToken, eosToken: chat.eosToken)
        var verdicts: [FilterVerdict] = []
        var filtered: [ChatMessage] = []
        for message in messages {
            guard message.role == "user" else { filtered.append(message); continue }
            var stream = FilteredTextStream(filters: filters, stage: .prompt)
            let content = try stream.filterWhole(message.content)
            verdicts += stream.verdicts
            guard let content else { return try refused(verdicts, hashing: sent) }
            filtered.append(ChatMessage(role: message.role, content: content))
        }
        let rendered = try chat.template.render(messages: filtered, addGenerationPrompt: true, bosToken: chat.bosToken, eosToken: chat.eosToken)
        let ids = try tokenizer.encodeParsingSpecialTokens(rendered)
        return try run(promptIDs: ids, hashing: sent, promptVerdicts: verdicts, stopTokens: chat.stopTokens, onText: onText)
    }

    // MARK: - Running

    private struct StoppedByFilter: Error {}

    private func run(promptIDs: [Int], hashing prompt: String, promptVerdicts: [FilterVerdict], stopTokens: Set<Int>,
                     onText: (String) throws -> Void) throws -> FilteredGeneration {
        var options = self.options
        options.stopTokens.formUnion(stopTokens)
        let session = try GenerationSession(model: model, options: options)
        try session.start(prompt: promptIDs)
        var decoder = tokenizer.makeStreamingDecoder()
        for id in promptIDs { _ = try decoder.append(id) }  // the context for the first piece
        var stream = FilteredTextStream(filters: filters)
        var text = ""
        func show(_ piece: String) throws {
            let shown = try stream.append(piece)
            if !shown.isEmpty { text += shown; try onText(shown) }
            if stream.stopVerdict != nil { throw StoppedByFilter() }
        }
        var stopped = false
        do {
            while let token = try session.next() { try show(try decoder.append(token)) }
            try show(decoder.finish())
        } catch is StoppedByFilter {
            stopped = true
        }
        if !stopped {
            let rest = try stream.finish()
            if !rest.isEmpty { text += rest; try onText(rest) }
            stopped = stream.stopVerdict != nil
        }
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
        try record(result, prompt: prompt)
        return result
    }

    private func refused(_ verdicts: [FilterVerdict], hashing prompt: String) throws -> FilteredGeneration {
        let result = FilteredGeneration(text: "", promptTokens: 0, generatedTokens: 0, finishReason: "prompt_filtered", verdicts: verdicts)
        try record(result, prompt: prompt)
        return result
    }

    private func record(_ result: FilteredGeneration, prompt: String) throws {
        guard let auditLog else { return }
        try auditLog.append(AuditRecord(time: Date().formatted(.iso8601), model: modelName, promptSHA256: sha256Hex(Array(prompt.utf8)),
                                        promptTokens: result.promptTokens, generatedTokens: result.generatedTokens,
                                        finishReason: result.finishReason, verdicts: result.verdicts))
    }
}
