// The tokenizer a GGUF file carries in its metadata: `tokenizer.ggml.model` `gpt2` (byte-level
// BPE: tokens, merges, token types, and a pre-tokenizer named by `tokenizer.ggml.pre`) or `llama`
// (SentencePiece BPE: pieces, scores, token types, byte fallback).
import GPTTensor
import GPTTokenizers

extension GGUFFile {
    /// GGUF token types (`tokenizer.ggml.token_type`): 1 normal, 2 unknown, 3 control, 4 user
    /// defined, 5 unused, 6 byte.
    static let controlTokenType = 3, userDefinedTokenType = 4

    /// Names llama.cpp treats as end-of-turn (end-of-generation) control tokens by their text.
    static let endOfTurnNames: Set<String> = [
        "<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>", "<|endoftext|>", "<EOT>", "<|end_of_text|>", "<end_of_utterance>",
    ]

    /// The `tokenizer.ggml.pre` names GPTKit reads, and their pre-tokenization.
    public static let preTokenizations: [String: PreTokenization] = [
        "default": .gpt2, "gpt2": .gpt2, "smollm": .gpt2IndividualDigits, "starcoder": .gpt2IndividualDigits,
        "refact": .gpt2IndividualDigits, "llama-bpe": .llama3, "llama3": .llama3, "qwen2": .qwen2,
    ]

    /// The file's tokenizer, or nil if its metadata has none (`tokenizer.ggml.model` absent or
    /// `none`).
    ///
    /// ```swift
    /// let file = try GGUFFile(contentsOf: url)
    /// let tokenizer = try file.tokenizer()!              // SmolLM2: byte-level BPE, 49,152 ids
    /// let ids = try tokenizer.encode("Hello")
    /// ```
    /// A `gpt2` model gives a `GPT2Tokenizer`, a `llama` model a `SentencePieceTokenizer`
    /// (with `tokenizer.ggml.add_space_prefix`, default true, and `add_bos_token`, default true);
    /// nil when the file has no vocabulary.
    /// - Throws: `ModelError.invalidConfiguration` for missing or mistyped keys,
    ///   `.unsupported` for tokenizer models and pre-tokenizers GPTKit does not implement, and
    ///   the tokenizer's own errors for an inconsistent vocabulary.
    public func tokenizer(name: String = "GGUF") throws -> (any Tokenizer)? {
        // `none` and `no_vocab` (llama.cpp's vocabulary-less models; GPT.writeGGUF writes it).
        guard let kind = metadata["tokenizer.ggml.model"]?.string, kind != "none", kind != "no_vocab" else { return nil }
        func fail(_ key: String, _ problem: String) -> ModelError { .invalidConfiguration("\(name): '\(key)' \(problem)") }
        guard kind == "gpt2" || kind == "llama" else {
            throw ModelError.unsupported("\(name): tokenizer.ggml.model '\(kind)' (GPTKit reads 'gpt2', byte-level BPE, and 'llama', SentencePiece BPE)")
        }
        guard let tokens = metadata["tokenizer.ggml.tokens"]?.strings else { throw fail("tokenizer.ggml.tokens", "must be an array of strings") }
        if kind == "llama" { return try sentencePieceTokenizer(tokens: tokens, name: name) }
        guard let merges = metadata["tokenizer.ggml.merges"]?.strings else { throw fail("tokenizer.ggml.merges", "must be an array of strings") }
        let pre = metadata["tokenizer.ggml.pre"]?.string ?? "default"
        guard let preTokenization = Self.preTokenizations[pre] else {
            throw ModelError.unsupported("\(name): tokenizer.ggml.pre '\(pre)' (GPTKit implements \(Self.preTokenizations.keys.sorted().joined(separator: ", ")))")
        }
        var special = Set<Int>()
        if let value = metadata["tokenizer.ggml.token_type"] {
            guard let types = value.integers, types.count == tokens.count else {
                throw fail("tokenizer.ggml.token_type", "must be an integer array as long as the tokens (\(tokens.count))")
            }
            for (id, type) in types.enumerated() where type == Self.controlTokenType || type == Self.userDefinedTokenType { special.insert(id) }
        }
        func id(_ key: String) throws -> Int? { try tokenID(key, tokenCount: tokens.count, name: name) }
        let bos = try id("tokenizer.ggml.bos_token_id"), eos = try id("tokenizer.ggml.eos_token_id")
        return try GPT2Tokenizer(tokens: tokens, merges: merges, specialTokenIDs: special, bosTokenID: bos, eosTokenID: eos,
                                 preTokenization: preTokenization, source: name)
    }

    /// The SentencePiece tokenizer of a `tokenizer.ggml.model = llama` file.
    private func sentencePieceTokenizer(tokens: [String], name: String) throws -> SentencePieceTokenizer {
        func fail(_ key: String, _ problem: String) -> ModelError { .invalidConfiguration("\(name): '\(key)' \(problem)") }
        guard let scores = metadata["tokenizer.ggml.scores"]?.floats, scores.count == tokens.count else {
            throw fail("tokenizer.ggml.scores", "must be a float array as long as the tokens (\(tokens.count))")
        }
        guard let rawTypes = metadata["tokenizer.ggml.token_type"]?.integers, rawTypes.count == tokens.count else {
            throw fail("tokenizer.ggml.token_type", "must be an integer array as long as the tokens (\(tokens.count))")
        }
        let types = try rawTypes.enumerated().map { id, raw -> SentencePieceTokenizer.PieceType in
            guard let type = Int8(exactly: raw).flatMap(SentencePieceTokenizer.PieceType.init(rawValue:)) else {
                throw fail("tokenizer.ggml.token_type", "gives token \(id) the unknown type \(raw) (1 normal … 6 byte)")
            }
            // As llama.cpp: a piece named like an end-of-turn token is a control token, whatever
            // the converter wrote (it writes a model's added tokens as normal pieces).
            if type == .normal || type == .userDefined, Self.endOfTurnNames.contains(tokens[id]) { return .control }
            return type
        }
        func id(_ key: String) throws -> Int? { try tokenID(key, tokenCount: tokens.count, name: name) }
        func flag(_ key: String, default value: Bool) throws -> Bool {
            guard let entry = metadata[key] else { return value }
            guard let flag = entry.bool else { throw fail(key, "must be a boolean") }
            return flag
        }
        return try SentencePieceTokenizer(
            pieces: tokens, scores: scores, types: types, unknownTokenID: try id("tokenizer.ggml.unknown_token_id"),
            bosTokenID: try id("tokenizer.ggml.bos_token_id"), eosTokenID: try id("tokenizer.ggml.eos_token_id"),
            addsBOSToken: try flag("tokenizer.ggml.add_bos_token", default: true),
            spacePrefix: try flag("tokenizer.ggml.add_space_prefix", default: true) ? .everySegment : .none, source: name)
    }

    /// The token id stored under `key`, nil if absent.
    /// - Throws: `ModelError.invalidConfiguration` if it is no id below `tokenCount`.
    private func tokenID(_ key: String, tokenCount: Int, name: String) throws -> Int? {
        guard let value = metadata[key] else { return nil }
        guard let id = value.integer, (0..<tokenCount).contains(id) else {
            throw ModelError.invalidConfiguration("\(name): '\(key)' must be a token id below \(tokenCount)")
        }
        return id
    }
}
