// SentencePieceTokenizer: SentencePiece-style BPE over "▁"-marked pieces with byte fallback —
// the tokenizer of Llama 1/2, TinyLlama, Mistral, Gemma-style vocabularies. Two sources give it:
// a GGUF file with `tokenizer.ggml.model = llama` (pieces, scores, token types; merged by score
// as SentencePiece and llama.cpp do) and a Hugging Face tokenizer.json whose BPE model has
// `byte_fallback` (merged by the rank of its merge list, with the Prepend/Replace normalizer or
// the Metaspace pre-tokenizer).
//
// Encoding: the text is cut at added tokens (user-defined ones always, control ones when asked);
// each remaining segment gets the "▁" prefix where the prefix rule says so, its spaces become
// "▁", it is optionally split into "▁"-words, and each word starts as one symbol per Unicode
// scalar and is merged pair by pair (best pair first, the leftmost on ties). A symbol that is no
// piece becomes its bytes' `<0xNN>` pieces (byte fallback), else the unknown piece.
// Decoding: "▁" → space, `<0xNN>` → that byte, and one leading space of the text is dropped.

import Foundation

// MARK: - SentencePieceTokenizer

/// A SentencePiece BPE tokenizer with byte fallback (Llama 2, TinyLlama, Mistral v0.1–v0.3).
///
/// ```swift
/// let file = try GGUFFile(contentsOf: url)                  // tokenizer.ggml.model = llama
/// let tokenizer = try file.tokenizer()!                     // a SentencePieceTokenizer
/// let ids = try tokenizer.encode("Hello world")             // e.g. [15043, 3186]
/// let text = try tokenizer.decode(ids)                      // "Hello world"
/// ```
/// Ids equal Hugging Face `tokenizers` (for a tokenizer.json) and llama.cpp (for a GGUF).
public struct SentencePieceTokenizer: Tokenizer {
    /// What a piece is (GGUF `tokenizer.ggml.token_type`, SentencePiece's piece types).
    public enum PieceType: Int8, Sendable {
        /// Ordinary text: takes part in merges.
        case normal = 1
        /// The unknown piece (`<unk>`).
        case unknown = 2
        /// A control token (`<s>`, `</s>`): only produced from text when special tokens are parsed.
        case control = 3
        /// A user-defined symbol: always matched whole in the text, never merged into.
        case userDefined = 4
        /// A piece the model does not use.
        case unused = 5
        /// A byte-fallback piece `<0xNN>`.
        case byte = 6
    }

    /// Where a segment of text gets the "▁" prefix (SentencePiece's `add_dummy_prefix`).
    public enum SpacePrefix: Sendable, Equatable {
        /// Never.
        case none
        /// At the start of the text and after every added token (llama.cpp; HF's legacy
        /// `Prepend("▁")` normalizer, which runs on each segment between added tokens).
        case everySegment
        /// At the start of the text only (HF's `Metaspace` with `prepend_scheme: "first"`).
        case firstSegment
    }

    /// How adjacent symbols merge.
    enum MergeRule: Sendable {
        /// Any adjacent pair whose concatenation is a normal piece; the highest score first.
        case scores
        /// Only the pairs of a merge list; the lowest rank first. Key: left id << 32 | right id.
        case ranks([UInt64: (rank: UInt32, merged: Int32)])
    }

    let pieceBytes: [UInt8]
    let pieceOffsets: [Int32]
    let scores: [Float]
    let types: [PieceType]
    /// Piece bytes → id, for pieces that may come out of merging (normal pieces).
    let mergeablePieceIDs: ByteSequenceMap
    /// Piece bytes → id for single symbols (normal and user-defined pieces).
    let symbolPieceIDs: ByteSequenceMap
    let mergeRule: MergeRule
    /// `byteFallbackID[byte]` is the id of `<0xNN>`, or -1.
    let byteFallbackID: [Int32]
    /// Added tokens matched in the text, longest first: user-defined always, control and
    /// unknown ones only when special tokens are parsed.
    let addedTokens: [(bytes: [UInt8], id: Int, alwaysMatched: Bool)]

    /// Where "▁" is prepended to a segment of text.
    public let spacePrefix: SpacePrefix
    /// Whether each segment is split into words at "▁" before merging (HF `Metaspace` `split`).
    public let splitsWords: Bool
    /// Whether a segment that already begins with a space gets no "▁" prefix (HF `Metaspace`).
    let skipsPrefixBeforeSpace: Bool
    /// Whether decoding drops the text's leading space (the dummy prefix).
    public let stripsLeadingSpace: Bool
    /// Whether unknown symbols become `<0xNN>` byte pieces.
    public let byteFallback: Bool
    /// Whether consecutive unknown symbols give one unknown id (HF `fuse_unk`).
    public let fusesUnknown: Bool
    /// The id of the unknown piece, if any.
    public let unknownTokenID: Int?
    /// The id that begins a sequence, if any (`<s>`).
    public let bosTokenID: Int?
    /// The id that ends a sequence, if any (`</s>`).
    public let eosTokenID: Int?
    /// Whether the model expects BOS before a prompt (GGUF `tokenizer.ggml.add_bos_token`, HF's
    /// post-processor).
    public let addsBOSToken: Bool

    static let metaspace: [UInt8] = [0xE2, 0x96, 0x81]  // "▁" U+2581

    // MARK: Creating

    /// Creates a tokenizer that merges by score, as SentencePiece and llama.cpp do (GGUF
    /// `tokenizer.ggml.model = llama`).
    ///
    /// - Parameters:
    ///   - pieces: the pieces by id, spaces written "▁".
    ///   - scores: one score per piece (higher merges first).
    ///   - types: one type per piece.
    ///   - spacePrefix: `.everySegment` for llama.cpp's `add_space_prefix`, `.none` without it.
    /// - Throws: ``TokenizerError/invalidVocabulary(path:reason:)`` for mismatched counts, an
    ///   empty or repeated piece, or an id out of range.
    public init(pieces: [String], scores: [Float], types: [PieceType], unknownTokenID: Int?, bosTokenID: Int?,
                eosTokenID: Int?, addsBOSToken: Bool, spacePrefix: SpacePrefix = .everySegment, source: String = "tokenizer") throws {
        try self.init(pieces: pieces, scores: scores, types: types, mergeRule: .scores, unknownTokenID: unknownTokenID,
                      bosTokenID: bosTokenID, eosTokenID: eosTokenID, addsBOSToken: addsBOSToken, spacePrefix: spacePrefix,
                      splitsWords: false, skipsPrefixBeforeSpace: false, byteFallback: true, fusesUnknown: false,
                      stripsLeadingSpace: spacePrefix != .none, source: source)
    }

    init(pieces: [String], scores: [Float], types: [PieceType], mergeRule: MergeRule, unknownTokenID: Int?,
         bosTokenID: Int?, eosTokenID: Int?, addsBOSToken: Bool, spacePrefix: SpacePrefix, splitsWords: Bool,
         skipsPrefixBeforeSpace: Bool, byteFallback: Bool, fusesUnknown: Bool, stripsLeadingSpace: Bool, source: String) throws {
        let count = pieces.count
        func invalid(_ reason: String) -> TokenizerError { .invalidVocabulary(path: source, reason: reason) }
        guard count > 0, count < Int(Int32.max) else { throw invalid("\(count) pieces") }
        guard scores.count == count, types.count == count else {
            throw invalid("\(count) pieces but \(scores.count) scores and \(types.count) token types")
        }
        for (name, id) in [("unknown", unknownTokenID), ("BOS", bosTokenID), ("EOS", eosTokenID)] {
            if let id, !(0..<count).contains(id) { throw invalid("the \(name) token id \(id) is not below \(count)") }
        }
        var bytes: [UInt8] = []
        var offsets: [Int32] = [0]
        offsets.reserveCapacity(count + 1)
        var mergeable = ByteSequenceMap(capacity: count)
        var symbols = ByteSequenceMap(capacity: count)
        var fallback = [Int32](repeating: -1, count: 256)
        var added: [(bytes: [UInt8], id: Int, alwaysMatched: Bool)] = []
        for (id, piece) in pieces.enumerated() {
            let start = bytes.count
            bytes.append(contentsOf: piece.utf8)
            guard bytes.count - start > 0 else { throw invalid("piece \(id) is empty") }
            guard bytes.count < Int(Int32.max) else { throw invalid("the pieces exceed 2 GiB") }
            offsets.append(Int32(bytes.count))
            let pieceBytes = Array(bytes[start...])
            switch types[id] {
            case .normal:
                mergeable.insert(pieceBytes, value: Int32(id))
                symbols.insert(pieceBytes, value: Int32(id))
            case .userDefined:
                symbols.insert(pieceBytes, value: Int32(id))
                added.append((pieceBytes, id, true))
            case .control, .unknown:
                added.append((pieceBytes, id, false))
            case .byte:
                guard let value = LlamaTokenizer.byteFallbackValue(pieceBytes) else {
                    throw invalid("piece \(id) '\(piece)' has the byte type but is not of the form <0xNN>")
                }
                if fallback[Int(value)] < 0 { fallback[Int(value)] = Int32(id) }
            case .unused:
                break
            }
        }
        // Longest first, so that a token that begins another does not hide it.
        added.sort { $0.bytes.count != $1.bytes.count ? $0.bytes.count > $1.bytes.count : $0.id < $1.id }
        self.pieceBytes = bytes
        self.pieceOffsets = offsets
        self.scores = scores
        self.types = types
        self.mergeablePieceIDs = mergeable
        self.symbolPieceIDs = symbols
        self.mergeRule = mergeRule
        self.byteFallbackID = fallback
        self.addedTokens = added
        self.spacePrefix = spacePrefix
        self.splitsWords = splitsWords
        self.skipsPrefixBeforeSpace = skipsPrefixBeforeSpace
        self.byteFallback = byteFallback
        self.fusesUnknown = fusesUnknown
        self.stripsLeadingSpace = stripsLeadingSpace
        self.unknownTokenID = unknownTokenID
        self.bosTokenID = bosTokenID
        self.eosTokenID = eosTokenID
        self.addsBOSToken = addsBOSToken
    }

    // MARK: Tokenizer

    /// The number of pieces.
    public var vocabularySize: Int { scores.count }

    /// The control, unknown and user-defined pieces by name (`<s>`, `</s>`, `<unk>`, …).
    public var specialTokens: [String: Int] {
        var tokens: [String: Int] = [:]
        for token in addedTokens where tokens[String(decoding: token.bytes, as: UTF8.self)] == nil {
            tokens[String(decoding: token.bytes, as: UTF8.self)] = token.id
        }
        return tokens
    }

    /// The piece of `id` as stored (with "▁"); nil for an id outside the vocabulary.
    public func piece(for id: Int) -> String? {
        guard (0..<vocabularySize).contains(id) else { return nil }
        return String(decoding: piece(id), as: UTF8.self)
    }

    /// The type of piece `id`; nil for an id outside the vocabulary.
    public func type(of id: Int) -> PieceType? {
        (0..<vocabularySize).contains(id) ? types[id] : nil
    }

    func piece(_ id: Int) -> ArraySlice<UInt8> {
        pieceBytes[Int(pieceOffsets[id])..<Int(pieceOffsets[id + 1])]
    }

    // MARK: Encoding

    /// Returns the ids of `text` (no BOS or EOS). User-defined pieces in the text become their
    /// ids; the names of control tokens (`<s>`) are encoded as text.
    public func encode(_ text: String) throws -> [Int] {
        encode(text, parsingSpecialTokens: false)
    }

    /// Returns the ids of `text`; with `parsingSpecialTokens`, the names of control tokens in it
    /// (`<s>`, `</s>`, `<|im_start|>`) become those tokens, as in a rendered chat template.
    ///
    /// ```swift
    /// tokenizer.encode("<s>Hi", parsingSpecialTokens: true)   // [1, …ids of "▁Hi"]
    /// ```
    public func encode(_ text: String, parsingSpecialTokens: Bool) -> [Int] {
        var text = text
        return text.withUTF8 { utf8 -> [Int] in
            var output: [Int] = []
            output.reserveCapacity(utf8.count / 2 + 4)
            var scratch = EncodingScratch()
            var segmentStart = 0, position = 0
            while position < utf8.count {
                guard let match = addedTokens.first(where: { token in
                    (token.alwaysMatched || parsingSpecialTokens) && Self.matches(token.bytes, in: utf8, at: position)
                }) else {
                    position += 1
                    continue
                }
                if position > segmentStart {
                    encodeSegment(UnsafeBufferPointer(rebasing: utf8[segmentStart..<position]), isFirst: segmentStart == 0,
                                  into: &output, scratch: &scratch)
                }
                output.append(match.id)
                position += match.bytes.count
                segmentStart = position
            }
            if utf8.count > segmentStart {
                encodeSegment(UnsafeBufferPointer(rebasing: utf8[segmentStart..<utf8.count]), isFirst: segmentStart == 0,
                              into: &output, scratch: &scratch)
            }
            return output
        }
    }

    private static func matches(_ pattern: [UInt8], in text: UnsafeBufferPointer<UInt8>, at position: Int) -> Bool {
        guard position + pattern.count <= text.count else { return false }
        for index in pattern.indices where text[position + index] != pattern[index] { return false }
        return true
    }

    /// Reused buffers of one `encode` call.
    struct EncodingScratch {
        var normalized: [UInt8] = []
        /// Per symbol: start byte in `normalized`, end byte, piece id (-1: none), next, previous.
        var starts: [Int32] = [], ends: [Int32] = [], ids: [Int32] = []
        var next: [Int32] = [], previous: [Int32] = []
        var heap = MinHeap()
    }

    /// Encodes text between added tokens (every segment begins the text or follows an added token).
    private func encodeSegment(_ segment: UnsafeBufferPointer<UInt8>, isFirst: Bool,
                               into output: inout [Int], scratch: inout EncodingScratch) {
        guard !segment.isEmpty else { return }
        var normalized = scratch.normalized
        normalized.removeAll(keepingCapacity: true)
        var prefixed = spacePrefix == .everySegment || spacePrefix == .firstSegment && isFirst
        if prefixed && skipsPrefixBeforeSpace {
            let startsMarked = segment[0] == 0x20 || segment.count >= 3 && segment[0] == 0xE2 && segment[1] == 0x96 && segment[2] == 0x81
            prefixed = !startsMarked
        }
        if prefixed { normalized.append(contentsOf: Self.metaspace) }
        for byte in segment {
            if byte == 0x20 { normalized.append(contentsOf: Self.metaspace) } else { normalized.append(byte) }
        }
        scratch.normalized = []
        normalized.withUnsafeBufferPointer { text in
            guard splitsWords else { return encodeWord(text, into: &output, scratch: &scratch) }
            // Words begin at each "▁" (HF Metaspace split: MergedWithNext).
            var wordStart = 0, index = 0
            while index < text.count {
                if index > wordStart, text[index] == 0xE2, index + 2 < text.count, text[index + 1] == 0x96, text[index + 2] == 0x81 {
                    encodeWord(UnsafeBufferPointer(rebasing: text[wordStart..<index]), into: &output, scratch: &scratch)
                    wordStart = index
                }
                index += 1
            }
            encodeWord(UnsafeBufferPointer(rebasing: text[wordStart..<text.count]), into: &output, scratch: &scratch)
        }
        scratch.normalized = normalized
    }

    /// Merges one word (valid UTF-8, "▁" for spaces) and appends its ids.
    private func encodeWord(_ word: UnsafeBufferPointer<UInt8>, into output: inout [Int], scratch: inout EncodingScratch) {
        guard !word.isEmpty else { return }
        scratch.starts.removeAll(keepingCapacity: true)
        scratch.ends.removeAll(keepingCapacity: true)
        scratch.ids.removeAll(keepingCapacity: true)
        var index = 0
        while index < word.count {
            let length = UTF8Completion.sequenceLength(lead: word[index])
            let end = min(index + max(length, 1), word.count)
            scratch.starts.append(Int32(index))
            scratch.ends.append(Int32(end))
            scratch.ids.append(symbolPieceIDs.value(for: UnsafeBufferPointer(rebasing: word[index..<end])) ?? -1)
            index = end
        }
        let n = scratch.ids.count
        if n > 1 { merge(word, count: n, scratch: &scratch) }
        // Emit the symbols left in the list, with byte fallback for the unknown ones.
        var symbol = 0
        var lastWasUnknown = false
        while symbol < n {
            let id = scratch.ids[symbol]
            if id >= 0 {
                output.append(Int(id))
                lastWasUnknown = false
            } else {
                appendUnknown(UnsafeBufferPointer(rebasing: word[Int(scratch.starts[symbol])..<Int(scratch.ends[symbol])]),
                              lastWasUnknown: &lastWasUnknown, into: &output)
            }
            symbol = n > 1 ? Int(scratch.next[symbol]) : n
        }
    }

    /// Appends the byte pieces of a symbol that is no piece, else the unknown id.
    private func appendUnknown(_ bytes: UnsafeBufferPointer<UInt8>, lastWasUnknown: inout Bool, into output: inout [Int]) {
        if byteFallback, bytes.allSatisfy({ byteFallbackID[Int($0)] >= 0 }) {
            for byte in bytes { output.append(Int(byteFallbackID[Int(byte)])) }
            lastWasUnknown = false
            return
        }
        guard let unknown = unknownTokenID else { return }  // HF drops it when there is no unknown piece
        if fusesUnknown && lastWasUnknown { return }
        output.append(unknown)
        lastWasUnknown = true
    }

    /// Merges the symbols of `word` in place: while a pair can merge, merge the best (highest
    /// score or lowest rank; the leftmost on ties), in O(n log n) with a heap of candidate pairs
    /// keyed by (priority, position). A popped key whose pair changed since is stale.
    private func merge(_ word: UnsafeBufferPointer<UInt8>, count n: Int, scratch: inout EncodingScratch) {
        scratch.next.removeAll(keepingCapacity: true)
        scratch.previous.removeAll(keepingCapacity: true)
        for index in 0..<n {
            scratch.next.append(Int32(index + 1))
            scratch.previous.append(Int32(index - 1))
        }
        var heap = scratch.heap
        scratch.heap = MinHeap()
        heap.removeAll()
        /// The merged id and heap key of the pair starting at symbol `left`, if it can merge.
        func candidate(_ left: Int) -> (merged: Int32, key: UInt64)? {
            guard left >= 0 else { return nil }
            let right = Int(scratch.next[left])
            guard right < n, right >= 0 else { return nil }
            let priority: UInt32, merged: Int32
            switch mergeRule {
            case .scores:
                let range = Int(scratch.starts[left])..<Int(scratch.ends[right])
                guard let id = mergeablePieceIDs.value(for: UnsafeBufferPointer(rebasing: word[range])) else { return nil }
                // Float bits made to sort as the float does, then inverted: higher scores first.
                let bits = scores[Int(id)].bitPattern
                priority = ~(bits & 0x8000_0000 != 0 ? ~bits : bits | 0x8000_0000)
                merged = id
            case .ranks(let table):
                let leftID = scratch.ids[left], rightID = scratch.ids[right]
                guard leftID >= 0, rightID >= 0,
                      let entry = table[UInt64(UInt32(leftID)) << 32 | UInt64(UInt32(rightID))] else { return nil }
                priority = entry.rank
                merged = entry.merged
            }
            return (merged, UInt64(priority) << 32 | UInt64(left))
        }
        for left in 0..<(n - 1) { if let found = candidate(left) { heap.push(found.key) } }
        while let key = heap.pop() {
            let left = Int(key & 0xFFFF_FFFF)
            guard scratch.next[left] != -2, let current = candidate(left), current.key == key else { continue }  // stale
            let right = Int(scratch.next[left])
            scratch.ids[left] = current.merged
            scratch.ends[left] = scratch.ends[right]
            scratch.next[left] = scratch.next[right]
            if Int(scratch.next[right]) < n { scratch.previous[Int(scratch.next[right])] = Int32(left) }
            scratch.next[right] = -2
            if let found = candidate(left) { heap.push(found.key) }
            let before = Int(scratch.previous[left])
            if before >= 0, let found = candidate(before) { heap.push(found.key) }
        }
        scratch.heap = heap
    }

    // MARK: Decoding

    /// Returns the text of `ids`: "▁" becomes a space, `<0xNN>` pieces become their bytes,
    /// control pieces give their names (as Hugging Face's `decode` with special tokens kept), and
    /// the text's leading space (the dummy prefix) is dropped. Invalid UTF-8 becomes U+FFFD.
    /// - Throws: ``TokenizerError/unknownTokenID(_:vocabularySize:)``.
    public func decode(_ ids: [Int]) throws -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(ids.count * 4)
        var previous: Int?
        for id in ids {
            try appendBytes(of: id, isFirst: previous == nil, to: &bytes)
            previous = id
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Returns a decoder that emits text as soon as its UTF-8 is complete.
    public func makeStreamingDecoder() -> StreamingDecoder {
        let tokenizer = self
        return StreamingDecoder { id, previous in
            var bytes: [UInt8] = []
            try tokenizer.appendBytes(of: id, isFirst: previous == nil, to: &bytes)
            return bytes
        }
    }

    func appendBytes(of id: Int, isFirst: Bool, to bytes: inout [UInt8]) throws {
        try validate(id)
        let start = bytes.count
        switch types[id] {
        case .byte:
            bytes.append(UInt8(LlamaTokenizer.byteFallbackValue(Array(piece(id))) ?? 0))
        case .control, .unknown:
            bytes.append(contentsOf: piece(id))
        case .normal, .userDefined, .unused:
            let text = piece(id)
            var index = text.startIndex
            while index < text.endIndex {
                if text[index] == 0xE2, index + 2 < text.endIndex, text[index + 1] == 0x96, text[index + 2] == 0x81 {
                    bytes.append(0x20)
                    index += 3
                } else {
                    bytes.append(text[index])
                    index += 1
                }
            }
        }
        if isFirst, stripsLeadingSpace, bytes.count > start, bytes[start] == 0x20 { bytes.remove(at: start) }
    }
}
