// GPT2Tokenizer+HuggingFace: loading a Hugging Face `tokenizer.json` whose model is BPE with
// the ByteLevel pre-tokenizer (GPT-2 and its descendants). Settings that do not change how text
// becomes ids (offsets trimming, truncation, padding) are ignored; any other component or
// option is rejected with TokenizerError.unsupportedTokenizerJSON naming it, rather than being
// silently tokenized differently.

import Foundation

// MARK: - Loading tokenizer.json

extension GPT2Tokenizer {
    /// Loads a Hugging Face `tokenizer.json` with a byte-level BPE model.
    ///
    /// Supported: `model.type` "BPE" (no dropout, no subword prefix/suffix, no byte fallback,
    /// `ignore_merges` false), `pre_tokenizer` ByteLevel with `use_regex` true and
    /// `add_prefix_space` false, `normalizer` null, `decoder` and `post_processor` ByteLevel or
    /// null, and special added tokens without stripping. `truncation` and `padding` are ignored:
    /// they shape batches, not the ids of a text.
    /// ```swift
    /// let tokenizer = try GPT2Tokenizer(tokenizerJSON: URL(fileURLWithPath: "gpt2/tokenizer.json"))
    /// ```
    /// - Throws: ``TokenizerError/unsupportedTokenizerJSON(path:field:value:)`` for another
    ///   model, pre-tokenizer, normalizer or option; JSON and vocabulary errors as the other
    ///   initializers.
    public init(tokenizerJSON url: URL) throws {
        let path = url.path
        try self.init(tokenizerJSON: try TokenizerJSON.parse(url), path: path)
    }

    /// Creates the tokenizer from a parsed tokenizer.json.
    init(tokenizerJSON root: JSONValue, path: String) throws {
        let reader = TokenizerJSONReader(path: path)
        guard case .object(let top) = root else { throw reader.unexpected("the top level must be an object") }
        let (preTokenization, nfc) = try reader.checkComponents(top)
        let addedTokens = try reader.addedTokens(top["added_tokens"])
        guard case .object(let model)? = top["model"] else { throw reader.unexpected("missing object 'model'") }
        try reader.checkModel(model)
        guard case .object(let vocabulary)? = model["vocab"] else { throw reader.unexpected("missing object 'model.vocab'") }
        guard case .array(let merges)? = model["merges"] else { throw reader.unexpected("missing array 'model.merges'") }

        var builder = BytePairModelBuilder(
            vocabularyPath: path, specialTokenNames: Set(addedTokens.keys), expectedCount: vocabulary.count)
        // Add the vocabulary in id order so that error messages are deterministic.
        var entries: [(id: Int, token: String)] = []
        for (token, value) in vocabulary {
            guard case .integer(let id) = value else {
                throw reader.unexpected("model.vocab['\(token)'] must be an integer, found \(value.summary)")
            }
            entries.append((id, token))
        }
        entries.sort { $0.id < $1.id }
        var seen = Set(vocabulary.keys)
        for (name, id) in addedTokens.sorted(by: { $0.value < $1.value }) where !seen.contains(name) {
            entries.append((id, name))
            seen.insert(name)
        }
        for entry in entries {
            if let addedID = addedTokens[entry.token], addedID != entry.id {
                throw reader.unexpected("added token '\(entry.token)' has id \(addedID) but model.vocab gives \(entry.id)")
            }
            try builder.addToken(scalars: entry.token.unicodeScalars.map(\.value), id: entry.id)
        }
        try builder.finishVocabulary(mergeCapacity: merges.count)
        for (index, merge) in merges.enumerated() {
            let (left, right) = try reader.mergePair(merge, index: index)
            try builder.addMerge(left: left, right: right, path: path, line: index + 1)
        }
        // Hugging Face's BPE drops a byte that has no token (no unk_token): so does this one.
        self.init(model: try builder.build(allowingMissingBytes: true), preTokenization: preTokenization, normalizesToNFC: nfc)
    }
}

// MARK: - TokenizerJSONReader

/// Checks the parts of a `tokenizer.json` and extracts what the tokenizer needs.
struct TokenizerJSONReader {
    let path: String

    func unexpected(_ reason: String) -> TokenizerError {
        .unexpectedJSON(path: path, reason: reason)
    }

    func unsupported(_ field: String, _ value: JSONValue) -> TokenizerError {
        .unsupportedTokenizerJSON(path: path, field: field, value: value.summary)
    }

    /// The regular expressions of the `Split` pre-tokenizers GPTKit implements by hand.
    static let splitPatterns: [String: PreTokenization] = [
        #"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"#: .llama3,
        #"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"#: .qwen2,
    ]

    /// Checks normalizer, pre-tokenizer, post-processor and decoder, and returns the
    /// pre-tokenization — `ByteLevel` (GPT-2), `Sequence[Digits(individual_digits), ByteLevel]`
    /// (SmolLM, StarCoder), or `Sequence[Split(Regex: Llama 3's or Qwen2's pattern, Isolated),
    /// ByteLevel(use_regex: false)]` — and whether the normalizer is `NFC` (Qwen2) rather than null.
    func checkComponents(_ top: [String: JSONValue]) throws -> (PreTokenization, nfc: Bool) {
        var nfc = false
        if let normalizer = top["normalizer"], normalizer != .null {
            guard case .object(let object) = normalizer, object["type"] == .string("NFC"), object.count == 1 else {
                throw unsupported("normalizer", normalizer)
            }
            nfc = true
        }
        guard case .object(let preTokenizer)? = top["pre_tokenizer"] else {
            throw unsupported("pre_tokenizer", top["pre_tokenizer"] ?? .null)
        }
        var preTokenization = PreTokenization.gpt2
        var byteLevel = preTokenizer, field = "pre_tokenizer", usesRegex = true
        if preTokenizer["type"] == .string("Sequence") {
            guard case .array(let steps)? = preTokenizer["pretokenizers"], steps.count == 2,
                  case .object(let first) = steps[0], case .object(let second) = steps[1] else {
                throw unsupported("pre_tokenizer.pretokenizers", preTokenizer["pretokenizers"] ?? .null)
            }
            byteLevel = second
            field = "pre_tokenizer.pretokenizers[1]"
            switch first["type"] {
            case .string("Digits")?:
                try expect(first, "individual_digits", .bool(true), field: "pre_tokenizer.pretokenizers[0]", default: .bool(false))
                preTokenization = .gpt2IndividualDigits
            case .string("Split")?:
                guard case .object(let pattern)? = first["pattern"], case .string(let regex)? = pattern["Regex"],
                      let known = Self.splitPatterns[regex] else {
                    throw unsupported("pre_tokenizer.pretokenizers[0].pattern", first["pattern"] ?? .null)
                }
                try expect(first, "behavior", .string("Isolated"), field: "pre_tokenizer.pretokenizers[0]", default: .string("Isolated"))
                try expect(first, "invert", .bool(false), field: "pre_tokenizer.pretokenizers[0]", default: .bool(false))
                preTokenization = known
                usesRegex = false
            default:
                throw unsupported("pre_tokenizer.pretokenizers[0].type", first["type"] ?? .null)
            }
        }
        try expectType(byteLevel, "ByteLevel", field: field)
        try expect(byteLevel, "add_prefix_space", .bool(false), field: field, default: .bool(true))
        try expect(byteLevel, "use_regex", .bool(usesRegex), field: field, default: .bool(true))
        for component in ["post_processor", "decoder"] {
            guard let value = top[component], value != .null else { continue }
            guard case .object(let object) = value else { throw unsupported(component, value) }
            try expectType(object, "ByteLevel", field: component)
        }
        return (preTokenization, nfc)
    }

    /// Checks the BPE model's options; `byte_fallback` is allowed only with `allowsByteFallback`
    /// (SentencePiece-style vocabularies).
    func checkModel(_ model: [String: JSONValue], allowsByteFallback: Bool = false) throws {
        try expectType(model, "BPE", field: "model", default: .string("BPE"))
        if let dropout = model["dropout"], dropout != .null, dropout != .integer(0), dropout != .double(0) {
            throw unsupported("model.dropout", dropout)
        }
        for key in ["continuing_subword_prefix", "end_of_word_suffix"] {
            if let value = model[key], value != .null, value != .string("") { throw unsupported("model.\(key)", value) }
        }
        for key in allowsByteFallback ? ["ignore_merges"] : ["byte_fallback", "ignore_merges"] {
            if let value = model[key], value != .null, value != .bool(false) { throw unsupported("model.\(key)", value) }
        }
    }

    /// Returns the added tokens by content; each must be special and not strip or match words.
    func addedTokens(_ value: JSONValue?) throws -> [String: Int] {
        guard let value, value != .null else { return [:] }
        guard case .array(let items) = value else { throw unexpected("'added_tokens' must be an array") }
        var tokens: [String: Int] = [:]
        for (index, item) in items.enumerated() {
            guard case .object(let token) = item, case .string(let content)? = token["content"],
                  case .integer(let id)? = token["id"] else {
                throw unexpected("added_tokens[\(index)] needs a string 'content' and an integer 'id'")
            }
            let field = "added_tokens[\(index)] ('\(content)')"
            for key in ["single_word", "lstrip", "rstrip"] {
                if let option = token[key], option != .bool(false) { throw unsupported("\(field).\(key)", option) }
            }
            if let special = token["special"], special != .bool(true) { throw unsupported("\(field).special", special) }
            guard !content.isEmpty else { throw unexpected("\(field) has empty content") }
            tokens[content] = id
        }
        return tokens
    }

    /// Returns the two symbols of a merge given as `"left right"` or `["left", "right"]`.
    func mergePair(_ merge: JSONValue, index: Int) throws -> (String, String) {
        switch merge {
        case .string(let text):
            let parts = text.split(separator: " ", omittingEmptySubsequences: false)
            guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else {
                throw TokenizerError.malformedMerge(path: path, line: index + 1, text: text)
            }
            return (String(parts[0]), String(parts[1]))
        case .array(let parts):
            guard parts.count == 2, case .string(let left) = parts[0], case .string(let right) = parts[1] else {
                throw TokenizerError.malformedMerge(path: path, line: index + 1, text: merge.summary)
            }
            return (left, right)
        default:
            throw TokenizerError.malformedMerge(path: path, line: index + 1, text: merge.summary)
        }
    }

    func expectType(
        _ object: [String: JSONValue], _ type: String, field: String, default defaultValue: JSONValue? = nil
    ) throws {
        let value = object["type"] ?? defaultValue ?? .null
        guard value == .string(type) else { throw unsupported("\(field).type", value) }
    }

    func expect(
        _ object: [String: JSONValue], _ key: String, _ expected: JSONValue, field: String, default defaultValue: JSONValue
    ) throws {
        let value = object[key] ?? defaultValue
        guard value == expected else { throw unsupported("\(field).\(key)", value) }
    }
}
