// SentencePieceTokenizer+HuggingFace: a tokenizer.json with a BPE model over "▁"-marked pieces
// (Hugging Face's conversion of a SentencePiece model: Llama 2, TinyLlama, Mistral). Two layouts
// exist: the legacy one (normalizer Sequence[Prepend("▁"), Replace(" ", "▁")], no
// pre-tokenizer) and the Metaspace one (pre_tokenizer Metaspace with a prepend scheme).
// Anything else that would change the ids is refused by name.

import Foundation

extension SentencePieceTokenizer {
    /// Loads a Hugging Face `tokenizer.json` whose BPE model works on "▁"-marked pieces.
    ///
    /// Supported: `model` BPE (merges as strings or pairs, `byte_fallback`, `fuse_unk`,
    /// `unk_token`; no dropout, prefixes or suffixes); `normalizer` null or
    /// `Sequence[Prepend("▁"), Replace(" " → "▁")]` (either order); `pre_tokenizer` null or
    /// `Metaspace` (`replacement` "▁", `prepend_scheme` first/always/never or the older
    /// `add_prefix_space`, `split`); `decoder` `Sequence` of `Replace("▁" → " ")`,
    /// `ByteFallback`, `Fuse`, `Strip(" ", 1, 0)`, or `Metaspace`; added tokens (special ones
    /// are matched only when special tokens are parsed, the others always). BOS/EOS are `<s>`
    /// and `</s>` when present; ``addsBOSToken`` follows a `TemplateProcessing` post-processor.
    /// ```swift
    /// let tokenizer = try SentencePieceTokenizer(tokenizerJSON: folder.appendingPathComponent("tokenizer.json"))
    /// ```
    /// - Throws: ``TokenizerError/unsupportedTokenizerJSON(path:field:value:)`` naming what is
    ///   not implemented; JSON and vocabulary errors naming what is malformed.
    public init(tokenizerJSON url: URL) throws {
        try self.init(tokenizerJSON: try TokenizerJSON.parse(url), path: url.path)
    }

    init(tokenizerJSON root: JSONValue, path: String) throws {
        let reader = TokenizerJSONReader(path: path)
        guard case .object(let top) = root else { throw reader.unexpected("the top level must be an object") }
        guard case .object(let model)? = top["model"] else { throw reader.unexpected("missing object 'model'") }
        try reader.checkModel(model, allowsByteFallback: true)
        func flag(_ key: String) throws -> Bool {
            switch model[key] {
            case nil, .null?: return false
            case .bool(let value)?: return value
            case let value?: throw reader.unexpected("model.\(key) must be a boolean, found \(value.summary)")
            }
        }
        let byteFallback = try flag("byte_fallback"), fusesUnknown = try flag("fuse_unk")

        // Where "▁" comes from: the normalizer or the Metaspace pre-tokenizer.
        var spacePrefix = SpacePrefix.none, splitsWords = false, replacesSpaces = false, usesMetaspace = false
        if let normalizer = top["normalizer"], normalizer != .null {
            (spacePrefix, replacesSpaces) = try Self.checkNormalizer(normalizer, reader: reader)
        }
        if let pre = top["pre_tokenizer"], pre != .null {
            guard case .object(let metaspace) = pre, metaspace["type"] == .string("Metaspace"), !replacesSpaces, spacePrefix == .none else {
                throw reader.unsupported("pre_tokenizer", pre)
            }
            (spacePrefix, splitsWords) = try Self.checkMetaspace(metaspace, field: "pre_tokenizer", reader: reader)
            replacesSpaces = true
            usesMetaspace = true
        }
        guard replacesSpaces else { throw reader.unsupported("normalizer", top["normalizer"] ?? .null) }
        let stripsLeadingSpace = try Self.checkDecoder(top["decoder"] ?? .null, byteFallback: byteFallback, reader: reader)

        // The vocabulary, then the added tokens over it.
        guard case .object(let vocabulary)? = model["vocab"] else { throw reader.unexpected("missing object 'model.vocab'") }
        var byID: [String?] = []
        var ids: [String: Int] = [:]
        ids.reserveCapacity(vocabulary.count)
        func place(_ token: String, _ id: Int, _ what: String) throws {
            guard id >= 0, id < 16_777_216 else { throw reader.unexpected("\(what) '\(token)' has id \(id), outside 0..<2^24") }
            if id >= byID.count { byID.append(contentsOf: repeatElement(nil, count: id + 1 - byID.count)) }
            if let existing = byID[id], existing != token {
                throw reader.unexpected("id \(id) is both '\(existing)' and '\(token)'")
            }
            byID[id] = token
            ids[token] = id
        }
        for (token, value) in vocabulary.sorted(by: { $0.key < $1.key }) {
            guard case .integer(let id) = value else {
                throw reader.unexpected("model.vocab['\(token)'] must be an integer, found \(value.summary)")
            }
            try place(token, id, "model.vocab")
        }
        var types: [PieceType] = []
        var addedTypes: [Int: PieceType] = [:]
        if let added = top["added_tokens"], added != .null {
            guard case .array(let items) = added else { throw reader.unexpected("'added_tokens' must be an array") }
            for (index, item) in items.enumerated() {
                guard case .object(let token) = item, case .string(let content)? = token["content"],
                      case .integer(let id)? = token["id"] else {
                    throw reader.unexpected("added_tokens[\(index)] needs a string 'content' and an integer 'id'")
                }
                let field = "added_tokens[\(index)] ('\(content)')"
                guard !content.isEmpty else { throw reader.unexpected("\(field) has empty content") }
                for key in ["single_word", "lstrip", "rstrip"] {
                    if let option = token[key], option != .bool(false) { throw reader.unsupported("\(field).\(key)", option) }
                }
                try place(content, id, field)
                addedTypes[id] = token["special"] == .bool(true) ? .control : .userDefined
            }
        }
        guard !byID.isEmpty else { throw reader.unexpected("model.vocab is empty") }
        if let missing = byID.firstIndex(where: { $0 == nil }) {
            throw reader.unexpected("no token has id \(missing) (the ids must be 0..<\(byID.count) without gaps)")
        }
        let pieces = byID.map { $0! }
        var unknownID: Int?
        switch model["unk_token"] {
        case nil, .null?: break
        case .string(let name)?:
            guard let id = ids[name] else { throw reader.unexpected("model.unk_token '\(name)' is not in the vocabulary") }
            unknownID = id
        case let value?: throw reader.unexpected("model.unk_token must be a string, found \(value.summary)")
        }
        types.reserveCapacity(pieces.count)
        for (id, piece) in pieces.enumerated() {
            if id == unknownID { types.append(.unknown) } else if let type = addedTypes[id] { types.append(type) } else if byteFallback,
                LlamaTokenizer.byteFallbackValue(Array(piece.utf8)) != nil { types.append(.byte) } else { types.append(.normal) }
        }

        // Merges: rank = position in the list.
        guard case .array(let merges)? = model["merges"] else { throw reader.unexpected("missing array 'model.merges'") }
        var table: [UInt64: (rank: UInt32, merged: Int32)] = [:]
        table.reserveCapacity(merges.count)
        for (index, merge) in merges.enumerated() {
            let (left, right) = try reader.mergePair(merge, index: index)
            guard let leftID = ids[left] else { throw TokenizerError.unknownMergeSymbol(path: path, line: index + 1, symbol: left) }
            guard let rightID = ids[right] else { throw TokenizerError.unknownMergeSymbol(path: path, line: index + 1, symbol: right) }
            guard let merged = ids[left + right] else {
                throw TokenizerError.unknownMergeSymbol(path: path, line: index + 1, symbol: left + right)
            }
            let key = UInt64(leftID) << 32 | UInt64(rightID)
            if table[key] == nil { table[key] = (UInt32(index), Int32(merged)) }
        }
        let bos = ids["<s>"], eos = ids["</s>"]
        try self.init(pieces: pieces, scores: [Float](repeating: 0, count: pieces.count), types: types, mergeRule: .ranks(table),
                      unknownTokenID: unknownID, bosTokenID: bos, eosTokenID: eos,
                      addsBOSToken: Self.postProcessorAddsBOS(top["post_processor"], bos: bos.map { pieces[$0] }),
                      spacePrefix: spacePrefix, splitsWords: splitsWords, skipsPrefixBeforeSpace: usesMetaspace, byteFallback: byteFallback, fusesUnknown: fusesUnknown,
                      stripsLeadingSpace: stripsLeadingSpace, source: path)
    }

    /// `Sequence[Prepend("▁"), Replace(" ", "▁")]`, either order, or one of them alone.
    private static func checkNormalizer(_ normalizer: JSONValue, reader: TokenizerJSONReader) throws -> (SpacePrefix, replacesSpaces: Bool) {
        guard case .object(let object) = normalizer else { throw reader.unsupported("normalizer", normalizer) }
        var steps: [[String: JSONValue]] = [object]
        if object["type"] == .string("Sequence") {
            guard case .array(let items)? = object["normalizers"] else { throw reader.unsupported("normalizer.normalizers", object["normalizers"] ?? .null) }
            steps = try items.map { item in
                guard case .object(let step) = item else { throw reader.unsupported("normalizer.normalizers", item) }
                return step
            }
        }
        var prefix = SpacePrefix.none, replaces = false
        for (index, step) in steps.enumerated() {
            let field = steps.count == 1 && object["type"] != .string("Sequence") ? "normalizer" : "normalizer.normalizers[\(index)]"
            switch step["type"] {
            case .string("Prepend")? where step["prepend"] == .string("▁") && prefix == .none:
                prefix = .everySegment
            case .string("Replace")? where step["content"] == .string("▁") && !replaces:
                guard case .object(let pattern)? = step["pattern"], pattern["String"] == .string(" ") else {
                    throw reader.unsupported("\(field).pattern", step["pattern"] ?? .null)
                }
                replaces = true
            default:
                throw reader.unsupported(field, .object(step))
            }
        }
        return (prefix, replaces)
    }

    /// A Metaspace pre-tokenizer or decoder: its prefix rule and whether it splits words.
    private static func checkMetaspace(_ object: [String: JSONValue], field: String,
                                       reader: TokenizerJSONReader) throws -> (SpacePrefix, splits: Bool) {
        guard object["replacement"] == .string("▁") else { throw reader.unsupported("\(field).replacement", object["replacement"] ?? .null) }
        let prefix: SpacePrefix
        switch object["prepend_scheme"] ?? object["add_prefix_space"].map({ $0 == .bool(false) ? .string("never") : .string("always") }) {
        case .string("first")?: prefix = .firstSegment
        case .string("always")?, nil: prefix = .everySegment
        case .string("never")?: prefix = .none
        case let value?: throw reader.unsupported("\(field).prepend_scheme", value)
        }
        switch object["split"] {
        case nil, .null?: return (prefix, true)
        case .bool(let split)?: return (prefix, split)
        case let value?: throw reader.unsupported("\(field).split", value)
        }
    }

    /// Checks the decoder undoes the encoding as ``decode(_:)`` does; returns whether it strips
    /// the leading space.
    private static func checkDecoder(_ decoder: JSONValue, byteFallback: Bool, reader: TokenizerJSONReader) throws -> Bool {
        guard case .object(let object) = decoder else { throw reader.unsupported("decoder", decoder) }
        var steps: [[String: JSONValue]] = [object]
        if object["type"] == .string("Sequence") {
            guard case .array(let items)? = object["decoders"] else { throw reader.unsupported("decoder.decoders", object["decoders"] ?? .null) }
            steps = try items.map { item in
                guard case .object(let step) = item else { throw reader.unsupported("decoder.decoders", item) }
                return step
            }
        }
        var replaces = false, bytes = false, strips = false
        for (index, step) in steps.enumerated() {
            let field = object["type"] == .string("Sequence") ? "decoder.decoders[\(index)]" : "decoder"
            switch step["type"] {
            case .string("Replace")?:
                guard case .object(let pattern)? = step["pattern"], pattern["String"] == .string("▁"), step["content"] == .string(" ") else {
                    throw reader.unsupported(field, .object(step))
                }
                replaces = true
            case .string("Metaspace")?:
                let (prefix, _) = try checkMetaspace(step, field: field, reader: reader)
                replaces = true
                strips = strips || prefix != .none
            case .string("ByteFallback")?: bytes = true
            case .string("Fuse")?: break
            case .string("Strip")?:
                guard step["content"] == .string(" "), step["start"] == .integer(1), step["stop"] == .integer(0) else {
                    throw reader.unsupported(field, .object(step))
                }
                strips = true
            default:
                throw reader.unsupported(field, .object(step))
            }
        }
        // Without these the Hugging Face decoder would print "▁" or "<0x0A>" where GPTKit prints text.
        guard replaces, bytes || !byteFallback else { throw reader.unsupported("decoder", decoder) }
        return strips
    }

    /// Whether a `TemplateProcessing` post-processor puts BOS first in a single sequence.
    private static func postProcessorAddsBOS(_ value: JSONValue?, bos: String?) -> Bool {
        guard let bos, case .object(let processor)? = value, processor["type"] == .string("TemplateProcessing"),
              case .array(let single)? = processor["single"], case .object(let first)? = single.first,
              case .object(let special)? = first["SpecialToken"] else { return false }
        return special["id"] == .string(bos)
    }
}
