// A conversation with a chat model: the messages rendered by the model's own chat template,
// each reply generated (and streamed) until an end-of-turn token, and the KV cache of the
// earlier turns kept, so that a turn runs only its new tokens.
import GPTTensor
import GPTTokenizers

/// A multi-turn conversation on one model.
///
/// Each `send(_:)` appends the user's message, renders the whole conversation with the template
/// (`add_generation_prompt` on), encodes it (special-token names in the rendering become those
/// tokens, as in transformers' `apply_chat_template`), and generates until a stop token. The
/// rendering of the next turn begins with this one's tokens, so only the new part is prefilled
/// (`reusedTokenCount`).
///
/// ```swift
/// let file = try GGUFFile(contentsOf: URL(fileURLWithPath: "SmolLM2-135M-Instruct.Q4_1.gguf"))
/// let chat = try ChatSession(gguf: file, model: GPT(gguf: file))
/// let answer = try chat.send("What is the capital of France?") { print($0, terminator: "") }
/// // "The capital of France is Paris."
/// ```
public final class ChatSession {
    /// The model.
    public let model: GPT
    /// The model's tokenizer.
    public let tokenizer: any Tokenizer
    /// The model's chat template.
    public let template: ChatTemplate
    /// The template's `bos_token` and `eos_token`.
    public let bosToken: String, eosToken: String
    /// The generation settings; their `stopTokens` end a reply.
    public let options: GenerationOptions
    /// The conversation so far (the system message first, if any).
    public private(set) var messages: [ChatMessage] = []
    private let session: GenerationSession

    /// How many tokens of the last turn's prompt came from the cache of the earlier turns.
    public var reusedTokenCount: Int { session.reusedTokenCount }

    /// A conversation rendered by `template`, generating with `options` (add the model's
    /// end-of-turn ids to its `stopTokens`), optionally opened by a system message.
    /// - Throws: `ModelError.invalidInput` for invalid options or an empty cache.
    public init(model: GPT, tokenizer: any Tokenizer, template: ChatTemplate, bosToken: String = "", eosToken: String = "",
                options: GenerationOptions, system: String? = nil, cacheCapacity: Int? = nil) throws {
        self.model = model
        self.tokenizer = tokenizer
        self.template = template
        self.bosToken = bosToken
        self.eosToken = eosToken
        self.options = options
        session = try GenerationSession(model: model, options: options, cacheCapacity: cacheCapacity)
        reset(system: system)
    }

    /// A conversation with a GGUF model: its tokenizer and `tokenizer.chat_template` from the
    /// metadata, and its EOS, EOT and end-of-turn tokens (`<|im_end|>`, `<|eot_id|>`,
    /// `<end_of_turn>`) as stop tokens added to `options`.
    /// - Throws: `ModelError.unsupported` if the file has no tokenizer or no chat template;
    ///   `ChatTemplateError` for a template that does not parse.
    public convenience init(gguf file: GGUFFile, model: GPT, options: GenerationOptions = GenerationOptions(maximumNewTokens: 512),
                            system: String? = nil, cacheCapacity: Int? = nil) throws {
        guard let tokenizer = try file.tokenizer() else { throw ModelError.unsupported("the GGUF file has no tokenizer") }
        guard let source = file.metadata["tokenizer.chat_template"]?.string else {
            throw ModelError.unsupported("the GGUF file has no chat template (tokenizer.chat_template)")
        }
        var options = options
        options.stopTokens.formUnion(Self.endOfTurnTokens(tokenizer, declared: [
            file.metadata["tokenizer.ggml.eos_token_id"]?.integer, file.metadata["tokenizer.ggml.eot_token_id"]?.integer,
        ].compactMap { $0 }))
        func text(_ id: Int?) -> String { id.flatMap { try? tokenizer.decode([$0]) } ?? "" }
        try self.init(model: model, tokenizer: tokenizer, template: ChatTemplate(source), bosToken: text(tokenizer.bosTokenID),
                      eosToken: text(tokenizer.eosTokenID), options: options, system: system, cacheCapacity: cacheCapacity)
    }

    /// `declared` ids plus the special tokens that end a turn in the common chat formats.
    public static func endOfTurnTokens(_ tokenizer: any Tokenizer, declared: [Int]) -> Set<Int> {
        let names = ["<|im_end|>", "<|eot_id|>", "<|end_of_turn|>", "<end_of_turn>", "<|end|>"]
        return Set(declared + names.compactMap { tokenizer.specialTokens[$0] })
    }

    // MARK: - Turns

    /// Forgets the conversation (the cache is reused where the next rendering still matches).
    public func reset(system: String? = nil) {
        messages = system.map { [ChatMessage(role: "system", content: $0)] } ?? []
    }

    /// The token ids of the conversation `messages` as the template renders it.
    /// - Throws: `ChatTemplateError` (e.g. the template's own `raise_exception`) or the
    ///   tokenizer's errors.
    public func promptTokens(for messages: [ChatMessage], addGenerationPrompt: Bool = true) throws -> [Int] {
        let text = try template.render(messages: messages, addGenerationPrompt: addGenerationPrompt, bosToken: bosToken, eosToken: eosToken)
        return try tokenizer.encodeParsingSpecialTokens(text)
    }

    /// Sends a user message and returns the reply (without its stop token), calling `onText`
    /// with each piece of text as soon as it is complete UTF-8. The user message and the reply
    /// join `messages`.
    /// - Throws: template, tokenizer and model errors; the conversation is unchanged then.
    @discardableResult
    public func send(_ text: String, onText: (String) throws -> Void = { _ in }) throws -> String {
        try respond(to: messages + [ChatMessage(role: "user", content: text)], onText: onText)
    }

    /// Replaces the conversation with `conversation` (a history ending with the user's turn)
    /// and returns the assistant's reply, streamed through `onText` as `send(_:onText:)` does.
    /// The cache of the previous turns is reused as far as the new rendering agrees with it.
    @discardableResult
    public func respond(to conversation: [ChatMessage], onText: (String) throws -> Void = { _ in }) throws -> String {
        let prompt = try promptTokens(for: conversation)
        try session.start(prompt: prompt, reusingCachedPrefix: true)
        var decoder = tokenizer.makeStreamingDecoder()
        var reply: [Int] = []
        while let token = try session.next() {
            reply.append(token)
            let piece = try decoder.append(token)
            if !piece.isEmpty { try onText(piece) }
        }
        let tail = decoder.finish()
        if !tail.isEmpty { try onText(tail) }
        let answer = try tokenizer.decode(reply)
        messages = conversation + [ChatMessage(role: "assistant", content: answer)]
        return answer
    }

    /// Why the last reply ended (a stop token, the token limit, or the context limit).
    public var finishReason: FinishReason? { session.finishReason }
}

extension Tokenizer {
    /// The ids of `text` with every special-token name in it parsed as that token (what
    /// transformers does to a rendered chat template); other tokenizers encode plain text.
    public func encodeParsingSpecialTokens(_ text: String) throws -> [Int] {
        if let bpe = self as? GPT2Tokenizer { return try bpe.encode(text, allowedSpecial: Set(bpe.specialTokens.keys)) }
        if let pieces = self as? SentencePieceTokenizer { return pieces.encode(text, parsingSpecialTokens: true) }
        return try encode(text)
    }
}
