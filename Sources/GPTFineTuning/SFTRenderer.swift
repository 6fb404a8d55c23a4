// Records rendered into tokens: chats through the model's template turn by turn, each token
// flagged as trained (the replies and completions) or not.
import Foundation
import GPTModel
import GPTTensor
import GPTTokenizers
import GPTTraining

/// Renders records into tokens and trained flags.
struct SFTRenderer {
    let tokenizer: any Tokenizer
    let chat: ChatFormat?
    let options: SFTDataOptions

    func example(_ record: SFTRecord, line: Int) throws -> SFTExample {
        var tokens: [Int32] = [], trained: [Bool] = []
        func append(_ ids: [Int], _ flag: Bool) {
            for id in ids { tokens.append(Int32(id)); trained.append(flag) }
        }
        let all = options.lossTokens == .all
        switch record {
        case .text(let text):
            append(bos, false)
            append(try tokenizer.encode(text), true)
            if options.appendsEOS, let eos = tokenizer.eosTokenID { append([eos], true) }
        case let .promptCompletion(prompt, completion):
            append(bos, false)
            append(try tokenizer.encode(prompt), all)
            append(try tokenizer.encode(completion), true)
            if options.appendsEOS, let eos = tokenizer.eosTokenID { append([eos], true) }
        case .messages(let messages):
            let chat = try requireChat()
            var rendered: [UInt8] = []
            var trainedAny = false
            for index in messages.indices where messages[index].role == "assistant" {
                let before = Array(try chat.render(Array(messages[..<index]), addGenerationPrompt: true).utf8)
                let through = Array(try chat.render(Array(messages[...index]), addGenerationPrompt: false).utf8)
                append(try pieceTokens(before, after: rendered), all)
                append(try pieceTokens(through, after: before), true)
                rendered = through
                trainedAny = true
            }
            let full = Array(try chat.render(messages, addGenerationPrompt: false).utf8)
            append(try pieceTokens(full, after: rendered), all)
            if !trainedAny && !all {
                throw TrainingError.invalidData("the conversation has no \"assistant\" message to train on")
            }
        case let .conversationalPromptCompletion(prompt, completion):
            let chat = try requireChat()
            let before = Array(try chat.render(prompt, addGenerationPrompt: true).utf8)
            let full = Array(try chat.render(prompt + completion, addGenerationPrompt: false).utf8)
            append(try pieceTokens(before, after: []), all)
            append(try pieceTokens(full, after: before), true)
        }
        for index in trained.indices where index == 0 || all { trained[index] = index > 0 }  // nothing predicts the first token
        return SFTExample(tokens: tokens, trained: trained, line: line)
    }

    /// The BOS id for plain text, when the tokenizer's own encoding starts with one.
    private var bos: [Int] {
        if let pieces = tokenizer as? SentencePieceTokenizer, pieces.addsBOSToken, let id = tokenizer.bosTokenID { return [id] }
        return []
    }

    private func requireChat() throws -> ChatFormat {
        guard let chat else { throw TrainingError.invalidData("a conversation needs the model's chat template, and it has none") }
        return chat
    }

    /// The tokens of `text` after its prefix `prefix` (UTF-8), which must be a prefix.
    private func pieceTokens(_ text: [UInt8], after prefix: [UInt8]) throws -> [Int] {
        guard text.count >= prefix.count, text[..<prefix.count].elementsEqual(prefix) else {
            throw TrainingError.invalidData("the chat template does not render the conversation's first turns as a prefix of the "
                                              + "whole, so the trained tokens cannot be marked")
        }
        let piece = String(decoding: text[prefix.count...], as: UTF8.self)
        return piece.isEmpty ? [] : try tokenizer.encodeParsingSpecialTokens(piece)
    }
}

extension ChatFormat {
    /// `messages` rendered with the template and this format's BOS and EOS strings.
    /// - Throws: `ChatTemplateError` from the template.
    public func render(_ messages: [ChatMessage], addGenerationPrompt: Bool) throws -> String {
        try template.render(messages: messages, addGenerationPrompt: addGenerationPrompt, bosToken: bosToken, eosToken: eosToken)
    }
}
