// GPT2Tokenizer+Vocabulary: a byte-level BPE tokenizer from its vocabulary and merges given as
// arrays (GGUF's `tokenizer.ggml.tokens` and `tokenizer.ggml.merges`, read by GPTModel).

// MARK: - Loading from arrays

extension GPT2Tokenizer {
    /// A byte-level BPE tokenizer from its tokens in id order (byte-level text, `Ġ` for a
    /// space, as GGUF and `tokenizer.json` store them) and its merges (`"left right"`, lowest
    /// rank first).
    ///
    /// - Parameters:
    ///   - specialTokenIDs: the ids of control tokens (GGUF token type 3, and user-defined type
    ///     4): their text is matched whole where special tokens are allowed and decoded as is.
    ///   - bosTokenID, eosTokenID: the ids the file declares, if any.
    ///   - source: the file, for error messages.
    /// ```swift
    /// let tokenizer = try GPT2Tokenizer(tokens: ["a", "b", "ab", …], merges: ["a b"], specialTokenIDs: [],
    ///                                   bosTokenID: nil, eosTokenID: nil, preTokenization: .gpt2, source: "model.gguf")
    /// ```
    /// Bytes without a one-byte token (SmolLM2 has none for a few control bytes) are dropped
    /// when encoding, as Hugging Face's BPE drops them.
    /// - Throws: `TokenizerError.invalidVocabulary` (a token outside the byte-level alphabet, a
    ///   duplicate, a bad special id) or `.malformedMerge`/`.unknownMergeSymbol`.
    public init(tokens: [String], merges: [String], specialTokenIDs: Set<Int>, bosTokenID: Int?, eosTokenID: Int?,
                preTokenization: PreTokenization, source: String) throws {
        for id in specialTokenIDs.union([bosTokenID, eosTokenID].compactMap { $0 }) where !(0..<tokens.count).contains(id) {
            throw TokenizerError.invalidVocabulary(path: source, reason: "special token id \(id) is outside 0..<\(tokens.count)")
        }
        var builder = BytePairModelBuilder(vocabularyPath: source, specialTokenNames: Set(specialTokenIDs.map { tokens[$0] }),
                                           expectedCount: tokens.count)
        var scalars: [UInt32] = []  // reused: one buffer for every token
        for (id, token) in tokens.enumerated() {
            scalars.removeAll(keepingCapacity: true)
            for scalar in token.unicodeScalars { scalars.append(scalar.value) }
            try builder.addToken(scalars: scalars, id: id)
        }
        try builder.finishVocabulary(mergeCapacity: merges.count)
        for (index, merge) in merges.enumerated() {
            var merge = merge
            try merge.withUTF8 { try builder.addMerge(line: $0, path: source, lineNumber: index + 1) }
        }
        self.init(model: try builder.build(allowingMissingBytes: true), preTokenization: preTokenization, bosTokenID: bosTokenID, eosTokenID: eosTokenID)
    }
}
