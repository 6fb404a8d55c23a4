// LlamaTokenizer: the SentencePiece-style BPE of Karpathy's llama2.c, read from its `tok*.bin`
// export and applied exactly as run.c's `encode` and `decode` do.
//
// File format (little-endian): int32 max_token_length, then per token: float32 score,
// int32 length, `length` bytes (the piece, with SentencePiece's "▁" already turned into " ").
// Ids 0, 1, 2 are <unk>, <s> (BOS), </s> (EOS); pieces "<0x00>"..."<0xFF>" are byte fallbacks.

import Foundation

// MARK: - LlamaTokenizer

/// The tokenizer of llama2.c models (e.g. stories260K with `tok512.bin`).
///
/// ```swift
/// let tokenizer = try LlamaTokenizer(contentsOf: URL(fileURLWithPath: "tok512.bin"))
/// let prompt = try tokenizer.encode("Once upon a time", bos: true, eos: false)
/// // [1, 403, 407, 261, 378]
/// let text = try tokenizer.decode(prompt)   // "Once upon a time"
/// ```
public struct LlamaTokenizer: Tokenizer {
    /// The id of `<unk>`.
    public static let unknownTokenID = 0
    /// The id of `<s>`, which begins a sequence (run.c's BOS).
    public static let beginTokenID = 1
    /// The id of `</s>`, which ends a sequence (run.c's EOS).
    public static let endTokenID = 2

    /// The bytes of every piece, concatenated; piece `id` is `pieceBytes[pieceOffsets[id]..<pieceOffsets[id + 1]]`.
    let pieceBytes: [UInt8]
    let pieceOffsets: [Int32]
    /// Each piece's merge score (higher merges first).
    let scores: [Float]
    /// Piece bytes → id (the first id if a piece repeats).
    let pieceIDs: ByteSequenceMap
    /// `rawByte[id]` is the byte a `<0xNN>` piece stands for, or -1.
    let rawByte: [Int16]
    /// `byteFallbackID[byte]` is the id of the piece `<0xNN>` for that byte, or -1.
    let byteFallbackID: [Int32]

    /// The longest piece in bytes, as recorded in the file header.
    public let maximumTokenLength: Int

    // MARK: Loading

    /// Loads a llama2.c tokenizer file.
    ///
    /// - Parameter vocabularySize: the number of tokens to read (run.c takes it from the model
    ///   header); nil reads tokens until the end of the file.
    /// - Throws: ``TokenizerError/truncatedFile(path:offset:expected:)`` if the file ends inside
    ///   a token or before `vocabularySize` tokens; ``TokenizerError/invalidVocabulary(path:reason:)``
    ///   for a negative length or fewer than 3 tokens.
    public init(contentsOf url: URL, vocabularySize: Int? = nil) throws {
        let data = try FileIO.read(url)
        let path = url.path
        if let vocabularySize, vocabularySize < 3 {
            throw TokenizerError.invalidArgument("vocabularySize must be at least 3 (<unk>, <s>, </s>), got \(vocabularySize)")
        }
        var reader = LittleEndianReader(data: data, path: path)
        let maximumLength = try reader.int32("the header (max_token_length)")
        var bytes: [UInt8] = []
        var offsets: [Int32] = [0]
        var scores: [Float] = []
        while vocabularySize.map({ scores.count < $0 }) ?? !reader.isAtEnd {
            let id = scores.count
            let score = try reader.float32("the score of token \(id)")
            let length = try reader.int32("the length of token \(id)")
            guard length >= 0 else {
                throw TokenizerError.invalidVocabulary(path: path, reason: "token \(id) has negative length \(length)")
            }
            bytes.append(contentsOf: try reader.bytes(Int(length), "the \(length) bytes of token \(id)"))
            offsets.append(Int32(bytes.count))
            scores.append(score)
        }
        guard scores.count >= 3 else {
            throw TokenizerError.invalidVocabulary(path: path, reason: "only \(scores.count) tokens; <unk>, <s> and </s> are required")
        }
        self.init(pieceBytes: bytes, pieceOffsets: offsets, scores: scores, maximumTokenLength: Int(maximumLength))
    }

    init(pieceBytes: [UInt8], pieceOffsets: [Int32], scores: [Float], maximumTokenLength: Int) {
        self.pieceBytes = pieceBytes
        self.pieceOffsets = pieceOffsets
        self.scores = scores
        self.maximumTokenLength = maximumTokenLength
        var pieceIDs = ByteSequenceMap(capacity: scores.count)
        var rawByte = [Int16](repeating: -1, count: scores.count)
        var byteFallbackID = [Int32](repeating: -1, count: 256)
        for id in 0..<scores.count {
            let piece = Array(pieceBytes[Int(pieceOffsets[id])..<Int(pieceOffsets[id + 1])])
            pieceIDs.insert(piece, value: Int32(id))
            if let byte = Self.byteFallbackValue(piece) {
                rawByte[id] = Int16(byte)
                if byteFallbackID[Int(byte)] < 0 { byteFallbackID[Int(byte)] = Int32(id) }
            }
        }
        self.pieceIDs = pieceIDs
        self.rawByte = rawByte
        self.byteFallbackID = byteFallbackID
    }

    /// The byte of a piece of the form `<0xNN>` (hexadecimal digits in either case), or nil.
    static func byteFallbackValue(_ piece: [UInt8]) -> UInt8? {
        guard piece.count == 6, piece[0] == UInt8(ascii: "<"), piece[1] == UInt8(ascii: "0"),
              piece[2] == UInt8(ascii: "x"), piece[5] == UInt8(ascii: ">") else { return nil }
        return UInt8(String(decoding: piece[3...4], as: UTF8.self), radix: 16)
    }

    // MARK: Tokenizer

    /// The number of pieces (512 for tok512.bin).
    public var vocabularySize: Int { scores.count }

    /// `<unk>`, `<s>` and `</s>` with their ids 0, 1, 2.
    public var specialTokens: [String: Int] {
        ["<unk>": Self.unknownTokenID, "<s>": Self.beginTokenID, "</s>": Self.endTokenID]
    }

    /// 1 (`<s>`).
    public var bosTokenID: Int? { Self.beginTokenID }

    /// 2 (`</s>`).
    public var eosTokenID: Int? { Self.endTokenID }

    /// Returns the ids of `text` without BOS or EOS (run.c's `encode(text, 0, 0)`).
    public func encode(_ text: String) throws -> [Int] {
        try encode(text, bos: false, eos: false)
    }

    /// The bytes of piece `id` (which must be valid).
    func piece(_ id: Int) -> ArraySlice<UInt8> {
        pieceBytes[Int(pieceOffsets[id])..<Int(pieceOffsets[id + 1])]
    }
}

// MARK: - LittleEndianReader

/// Reads little-endian values from a file's bytes, throwing on truncation.
struct LittleEndianReader {
    let data: Data
    let path: String
    private(set) var offset = 0

    init(data: Data, path: String) {
        self.data = data
        self.path = path
    }

    var isAtEnd: Bool { offset >= data.count }

    mutating func bytes(_ count: Int, _ what: String) throws -> [UInt8] {
        guard count <= data.count - offset else {
            throw TokenizerError.truncatedFile(path: path, offset: data.count, expected: what)
        }
        let start = data.startIndex + offset
        offset += count
        return Array(data[start..<(start + count)])
    }

    mutating func int32(_ what: String) throws -> Int32 {
        let raw = try bytes(4, what)
        return Int32(bitPattern: UInt32(raw[0]) | UInt32(raw[1]) << 8 | UInt32(raw[2]) << 16 | UInt32(raw[3]) << 24)
    }

    mutating func float32(_ what: String) throws -> Float {
        Float(bitPattern: UInt32(bitPattern: try int32(what)))
    }
}
