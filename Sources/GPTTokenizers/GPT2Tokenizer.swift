// GPT2Tokenizer: OpenAI GPT-2's byte-level byte-pair encoding (as in encoder.py, tiktoken's
// `gpt2` and Hugging Face's GPT-2 tokenizer): pre-tokenize with GPT-2's pattern, map each
// pre-token's UTF-8 bytes to one-byte tokens, merge by rank.

import Foundation

// MARK: - GPT2Tokenizer

/// GPT-2's byte-level BPE tokenizer, loaded from OpenAI's `encoder.json` + `vocab.bpe` or from a
/// Hugging Face `tokenizer.json`.
///
/// Any text encodes (every byte has a token) and decodes back exactly. `<|endoftext|>` is a
/// special token only where allowed; elsewhere it is encoded as the plain text it is.
///
/// ```swift
/// let tokenizer = try GPT2Tokenizer(directory: URL(fileURLWithPath: "data/gpt2-tokenizer"))
/// let ids = try tokenizer.encode("Hello world")                       // [15496, 995]
/// let withEnd = try tokenizer.encode("Hi<|endoftext|>", allowedSpecial: ["<|endoftext|>"])
/// // [17250, 50256]
/// print(try tokenizer.decode(ids))                                    // "Hello world"
/// ```
/// The tokenizer is an immutable value: share it freely across tasks (its internal merge cache
/// is thread-safe).
public struct GPT2Tokenizer: Tokenizer {
    let model: BytePairModel
    /// Pieces already merged by earlier encodes (shared by copies of this tokenizer).
    let sharedCache = SharedPieceCache()
    /// Special tokens sorted longest first, so the longest match wins at a position.
    private let specialsByLength: [(bytes: [UInt8], id: Int)]
    /// How text is split into pieces before merging.
    public let preTokenization: PreTokenization
    /// Whether text is put in Unicode normalization form C before it is split (the `NFC`
    /// normalizer of Qwen2's tokenizer.json).
    public let normalizesToNFC: Bool
    private let declaredBOS: Int?
    private let declaredEOS: Int?

    /// The conventional name of GPT-2's end-of-text token.
    public static let endOfText = "<|endoftext|>"

    /// Creates a tokenizer from a checked model.
    init(model: BytePairModel, preTokenization: PreTokenization = .gpt2, normalizesToNFC: Bool = false,
         bosTokenID: Int? = nil, eosTokenID: Int? = nil) {
        self.model = model
        self.preTokenization = preTokenization
        self.normalizesToNFC = normalizesToNFC
        declaredBOS = bosTokenID
        declaredEOS = eosTokenID
        self.specialsByLength = model.specialTokens
            .map { (Array($0.key.utf8), $0.value) }
            .sorted { $0.0.count != $1.0.count ? $0.0.count > $1.0.count : $0.0.lexicographicallyPrecedes($1.0) }
    }

    // MARK: Tokenizer

    /// The number of token ids (50,257 for GPT-2).
    public var vocabularySize: Int { model.count }

    /// The special tokens by name (for GPT-2, `["<|endoftext|>": 50256]`).
    public var specialTokens: [String: Int] { model.specialTokens }

    /// The id that begins a sequence: the one the file declares (GGUF
    /// `tokenizer.ggml.bos_token_id`), else `<|endoftext|>` as GPT-2; nil if absent.
    public var bosTokenID: Int? { declaredBOS ?? model.specialTokens[Self.endOfText] }

    /// The id that ends a sequence: the one the file declares (GGUF
    /// `tokenizer.ggml.eos_token_id`), else `<|endoftext|>`; nil if absent.
    public var eosTokenID: Int? { declaredEOS ?? model.specialTokens[Self.endOfText] }

    /// Returns the ids of `text`, with special-token names in it encoded as plain text (as
    /// tiktoken's `encode_ordinary`). Never throws.
    public func encode(_ text: String) throws -> [Int] {
        try encode(text, allowedSpecial: [])
    }

    /// Returns the ids of `text`; where one of `allowedSpecial` occurs it becomes that special
    /// token, and all other text is encoded as text.
    ///
    /// ```swift
    /// try tokenizer.encode("a<|endoftext|>b", allowedSpecial: [GPT2Tokenizer.endOfText])
    /// // [64, 50256, 65]
    /// ```
    /// - Throws: ``TokenizerError/unknownSpecialToken(_:)`` if a name is not a special token.
    public func encode(_ text: String, allowedSpecial: Set<String>) throws -> [Int] {
        for name in allowedSpecial where model.specialTokens[name] == nil {
            throw TokenizerError.unknownSpecialToken(name)
        }
        var text = text
        return text.withUTF8 { utf8 in
            var output: [Int] = []
            output.reserveCapacity(utf8.count / 3 + 16)
            var encoder = PieceEncoder(
                model: model, sharedCache: sharedCache, usesLocalCache: utf8.count >= PieceEncoder.localCacheThreshold,
                preTokenization: preTokenization, normalizesToNFC: normalizesToNFC)
            if allowedSpecial.isEmpty {
                encoder.encode(utf8, into: &output)
            } else {
                let allowed = specialsByLength.filter { special in
                    allowedSpecial.contains(where: { Array($0.utf8) == special.bytes })
                }
                encodeSplittingSpecials(utf8, allowed: allowed, encoder: &encoder, into: &output)
            }
            return output
        }
    }

    /// Returns the text of `ids` (special tokens as their names); invalid UTF-8 (e.g. half of
    /// an emoji) becomes U+FFFD.
    /// - Throws: ``TokenizerError/unknownTokenID(_:vocabularySize:)``.
    public func decode(_ ids: [Int]) throws -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(ids.count * 4)
        for id in ids {
            try validate(id)
            bytes.append(contentsOf: model.bytes(of: id))
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Returns a decoder that emits text as soon as its UTF-8 is complete.
    public func makeStreamingDecoder() -> StreamingDecoder {
        let model = self.model
        return StreamingDecoder { id, _ in
            guard id >= 0 && id < model.count else {
                throw TokenizerError.unknownTokenID(id, vocabularySize: model.count)
            }
            return Array(model.bytes(of: id))
        }
    }

    // MARK: Special tokens

    private func encodeSplittingSpecials(
        _ utf8: UnsafeBufferPointer<UInt8>, allowed: [(bytes: [UInt8], id: Int)],
        encoder: inout PieceEncoder, into output: inout [Int]
    ) {
        guard !allowed.isEmpty else { return encoder.encode(utf8, into: &output) }
        var firstBytes = [Bool](repeating: false, count: 256)
        for special in allowed { firstBytes[Int(special.bytes[0])] = true }
        var segmentStart = 0
        var position = 0
        while position < utf8.count {
            guard firstBytes[Int(utf8[position])],
                  let match = allowed.first(where: { Self.matches($0.bytes, in: utf8, at: position) })
            else {
                position += 1
                continue
            }
            encoder.encode(UnsafeBufferPointer(rebasing: utf8[segmentStart..<position]), into: &output)
            output.append(match.id)
            position += match.bytes.count
            segmentStart = position
        }
        encoder.encode(UnsafeBufferPointer(rebasing: utf8[segmentStart..<utf8.count]), into: &output)
    }

    private static func matches(_ pattern: [UInt8], in text: UnsafeBufferPointer<UInt8>, at position: Int) -> Bool {
        guard position + pattern.count <= text.count else { return false }
        for index in pattern.indices where text[position + index] != pattern[index] { return false }
        return true
    }
}

// MARK: - PieceEncoder

/// Encodes text without special tokens: pre-tokenize, then look each piece up in the call's
/// cache, then in the shared cache, else merge it. One encoder serves one `encode` call.
struct PieceEncoder {
    /// Texts shorter than this (in UTF-8 bytes) skip the per-call cache: few of their pieces
    /// repeat, so filling it costs more than it saves (see PieceCache.swift).
    static let localCacheThreshold = 4096

    let model: BytePairModel
    let sharedCache: SharedPieceCache?
    private let usesLocalCache: Bool
    private let preTokenization: PreTokenization
    private let normalizesToNFC: Bool
    private var cache = PieceCache()
    private var symbols: [Int32] = []

    init(model: BytePairModel, sharedCache: SharedPieceCache?, usesLocalCache: Bool = true, preTokenization: PreTokenization = .gpt2,
         normalizesToNFC: Bool = false) {
        self.model = model
        self.normalizesToNFC = normalizesToNFC
        self.preTokenization = preTokenization
        self.sharedCache = sharedCache
        self.usesLocalCache = usesLocalCache
        symbols.reserveCapacity(64)
    }

    /// Appends the ids of `text` (valid UTF-8, no special tokens) to `output`; with NFC, a
    /// segment with non-ASCII text is normalized first (ASCII is already in NFC). Segments are
    /// normalized apart, as Hugging Face normalizes the text between added tokens (">" and
    /// U+0338 would compose to "≯" across a boundary).
    mutating func encode(_ text: UnsafeBufferPointer<UInt8>, into output: inout [Int]) {
        if normalizesToNFC, text.contains(where: { $0 >= 0x80 }) {
            var normalized = String(decoding: text, as: UTF8.self).precomposedStringWithCanonicalMapping
            normalized.withUTF8 { encodePieces($0, into: &output) }
        } else {
            encodePieces(text, into: &output)
        }
    }

    private mutating func encodePieces(_ text: UnsafeBufferPointer<UInt8>, into output: inout [Int]) {
        GPT2PreTokenizer.forEachPiece(in: text, mode: preTokenization) { start, end in
            let piece = UnsafeBufferPointer(rebasing: text[start..<end])
            if usesLocalCache && cache.appendIDs(of: piece, to: &output) { return }
            symbols.removeAll(keepingCapacity: true)
            if sharedCache?.appendIDs(of: piece, to: &symbols) != true {
                model.encodePiece(piece, appendingTo: &symbols)
                if piece.count <= PieceCache.maximumPieceLength { sharedCache?.insert(piece, ids: symbols[...]) }
            }
            for id in symbols { output.append(Int(id)) }
            if usesLocalCache { cache.insert(piece, ids: symbols[...]) }
        }
    }
}
