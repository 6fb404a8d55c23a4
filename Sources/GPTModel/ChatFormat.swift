// A model's prompt format: its chat template with the BOS/EOS strings it uses and the
// end-of-turn tokens that stop a reply (shared by evaluation, fine-tuning and serving).
import GPTTensor
import GPTTokenizers

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
