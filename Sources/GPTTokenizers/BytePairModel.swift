// BytePairModel: the tables of a byte-level BPE vocabulary (token bytes, byte → initial token,
// merge ranks) and the builder that fills them from any file format, checking as it goes.

// MARK: - BytePairModel

/// The immutable tables of a byte-level BPE vocabulary with ids `0..<count`.
struct BytePairModel: Sendable {
    /// The bytes of every token, concatenated in id order.
    let tokenBytes: [UInt8]
    /// Token `id`'s bytes are `tokenBytes[tokenOffsets[id]..<tokenOffsets[id + 1]]`.
    let tokenOffsets: [Int32]
    /// `initialTokens[byte]` is the id of the one-byte token that starts every merge, or -1
    /// when the vocabulary has none (such bytes are dropped, as Hugging Face's BPE without an
    /// unknown token drops them; SmolLM2 lacks a few control bytes).
    let initialTokens: [Int32]
    /// The merge ranks.
    let merges: MergeTable
    /// Special tokens by name.
    let specialTokens: [String: Int]

    /// The number of ids.
    var count: Int { tokenOffsets.count - 1 }

    /// The bytes of token `id` (which must be valid).
    @inline(__always)
    func bytes(of id: Int) -> ArraySlice<UInt8> {
        tokenBytes[Int(tokenOffsets[id])..<Int(tokenOffsets[id + 1])]
    }

    /// Appends the BPE ids of one pre-token (its UTF-8 bytes) to `symbols`, starting from one
    /// token per byte and merging by rank.
    @inline(__always)
    func encodePiece(_ piece: UnsafeBufferPointer<UInt8>, appendingTo symbols: inout [Int32]) {
        let start = symbols.count
        for byte in piece {
            let id = initialTokens[Int(byte)]
            if id >= 0 { symbols.append(id) }
        }
        let appended = symbols.count - start
        let kept = symbols.withUnsafeMutableBufferPointer { buffer in
            BytePairMerge.apply(merges, to: UnsafeMutableBufferPointer(rebasing: buffer[start...]))
        }
        symbols.removeLast(appended - kept)
    }
}

// MARK: - Builder

/// Collects a vocabulary (token text in the byte-level alphabet → id) and then merges, and
/// checks them: ids must be exactly `0..<count`, every symbol must be byte-level text (special
/// tokens excepted), every byte must have a token, and every merge must name known tokens.
///
/// Merges are looked up by their UTF-8 text, as written in the files: the text of a merged
/// token is the concatenation of its parts' texts, so no conversion to bytes is needed.
struct BytePairModelBuilder {
    private let vocabularyPath: String
    private let specialNames: [(name: String, scalars: [UInt32])]
    /// Token bytes and token texts (UTF-8 of the byte-level text), in insertion order.
    private var arena: [UInt8] = []
    private var textArena: [UInt8] = []
    private var entries: [(id: Int, start: Int32, end: Int32, textStart: Int32, textEnd: Int32)] = []
    private var specialTokens: [String: Int] = [:]
    /// Token text (UTF-8) → id, for every token except the special ones.
    private var idsByText = ByteSequenceMap()
    private var orderedBytes: [UInt8] = []
    private var orderedOffsets: [Int32] = []
    private var merges: MergeTable?
    private var mergeScratch: [UInt8] = []
    /// `producedByMerge[id]`: some merge so far yields token `id`.
    private var producedByMerge: [Bool] = []
    private var specialIDs: Set<Int> = []

    /// Starts a builder; tokens whose text equals one of `specialTokenNames` become special
    /// tokens (decoded as their UTF-8 text rather than through the byte-level alphabet).
    init(vocabularyPath: String, specialTokenNames: Set<String>, expectedCount: Int = 0) {
        self.vocabularyPath = vocabularyPath
        self.specialNames = specialTokenNames.sorted().map { ($0, $0.unicodeScalars.map(\.value)) }
        entries.reserveCapacity(expectedCount)
        arena.reserveCapacity(expectedCount * 8)
        textArena.reserveCapacity(expectedCount * 10)
    }

    // MARK: Vocabulary

    /// Adds a token given as the scalar values of its byte-level text.
    mutating func addToken(scalars: [UInt32], id: Int) throws {
        let start = Int32(arena.count)
        let textStart = Int32(textArena.count)
        if let special = specialNames.first(where: { $0.scalars == scalars }) {
            arena.append(contentsOf: Array(special.name.utf8))
            specialTokens[special.name] = id
        } else {
            let byteForScalar = ByteLevelAlphabet.byteForScalar
            for value in scalars {
                let byte = value < UInt32(byteForScalar.count) ? byteForScalar[Int(value)] : -1
                guard byte >= 0 else {
                    arena.removeLast(arena.count - Int(start))
                    throw TokenizerError.invalidVocabulary(
                        path: vocabularyPath,
                        reason: "token '\(Self.text(scalars))' (id \(id)) contains U+\(String(value, radix: 16, uppercase: true)), "
                            + "which is not in the GPT-2 byte-level alphabet")
                }
                arena.append(UInt8(byte))
                // The byte-level alphabet is U+0021...U+0143: one or two UTF-8 bytes.
                if value < 0x80 {
                    textArena.append(UInt8(value))
                } else {
                    textArena.append(UInt8(0xC0 | value >> 6))
                    textArena.append(UInt8(0x80 | value & 0x3F))
                }
            }
        }
        entries.append((id, start, Int32(arena.count), textStart, Int32(textArena.count)))
    }

    /// Checks the ids and lays the tokens out in id order; call after the last `addToken`.
    mutating func finishVocabulary(mergeCapacity: Int) throws {
        let count = entries.count
        guard count > 0 else {
            throw TokenizerError.invalidVocabulary(path: vocabularyPath, reason: "the vocabulary is empty")
        }
        var order = [Int](repeating: -1, count: count)
        for (index, entry) in entries.enumerated() {
            guard entry.id >= 0 && entry.id < count else {
                throw TokenizerError.invalidVocabulary(
                    path: vocabularyPath,
                    reason: "id \(entry.id) is outside 0..<\(count) (ids must be 0..<count without gaps)")
            }
            guard order[entry.id] < 0 else {
                throw TokenizerError.invalidVocabulary(path: vocabularyPath, reason: "id \(entry.id) is used twice")
            }
            order[entry.id] = index
        }
        orderedBytes.reserveCapacity(arena.count)
        orderedOffsets = [0]
        orderedOffsets.reserveCapacity(count + 1)
        idsByText = ByteSequenceMap(capacity: count)
        specialIDs = Set(specialTokens.values)
        for id in 0..<count {
            let entry = entries[order[id]]
            orderedBytes.append(contentsOf: arena[Int(entry.start)..<Int(entry.end)])
            orderedOffsets.append(Int32(orderedBytes.count))
            guard !specialIDs.contains(id) else { continue }
            let text = textArena[Int(entry.textStart)..<Int(entry.textEnd)]
            let isNew = text.withUnsafeBufferPointer { idsByText.insert($0, value: Int32(id)) }
            guard isNew else {
                throw TokenizerError.invalidVocabulary(
                    path: vocabularyPath, reason: "token '\(String(decoding: text, as: UTF8.self))' appears twice")
            }
        }
        arena = []
        textArena = []
        entries = []
        merges = MergeTable(capacity: mergeCapacity)
        producedByMerge = [Bool](repeating: false, count: count)
    }

    // MARK: Merges

    /// Adds the merge `left right` (each the UTF-8 of a token's byte-level text) with the next
    /// rank. `line` is used in error messages.
    mutating func addMerge(left: UnsafeBufferPointer<UInt8>, right: UnsafeBufferPointer<UInt8>, path: String, line: Int) throws {
        guard merges != nil else { preconditionFailure("finishVocabulary must be called before addMerge") }
        guard let leftID = idsByText.value(for: left) else {
            throw TokenizerError.unknownMergeSymbol(path: path, line: line, symbol: String(decoding: left, as: UTF8.self))
        }
        guard let rightID = idsByText.value(for: right) else {
            throw TokenizerError.unknownMergeSymbol(path: path, line: line, symbol: String(decoding: right, as: UTF8.self))
        }
        mergeScratch.removeAll(keepingCapacity: true)
        mergeScratch.append(contentsOf: left)
        mergeScratch.append(contentsOf: right)
        guard let mergedID = mergeScratch.withUnsafeBufferPointer({ idsByText.value(for: $0) }) else {
            throw TokenizerError.unknownMergeSymbol(
                path: path, line: line, symbol: String(decoding: mergeScratch, as: UTF8.self))
        }
        merges!.insert(left: leftID, right: rightID, rank: Int32(merges!.count), merged: mergedID)
        producedByMerge[Int(mergedID)] = true
    }

    /// The number of merges added so far.
    var mergeCount: Int { merges?.count ?? 0 }

    /// The ids of the tokens longer than one byte that are not special and that no merge
    /// yields: tokens the encoder can never produce. A complete BPE file has none; a truncated
    /// merges file leaves the tail of the vocabulary unreachable.
    func tokensNotProducedByMerges() -> [Int] {
        var result: [Int] = []
        for id in 0..<producedByMerge.count where !producedByMerge[id] && !specialIDs.contains(id) {
            if orderedOffsets[id + 1] - orderedOffsets[id] > 1 { result.append(id) }
        }
        return result
    }

    /// The byte-level text of token `id`, for error messages.
    func tokenText(_ id: Int) -> String {
        ByteLevelAlphabet.text(of: Array(orderedBytes[Int(orderedOffsets[id])..<Int(orderedOffsets[id + 1])]))
    }

    /// Adds the merge written as one line `left right` (exactly one space, text on both sides),
    /// as vocab.bpe and GGUF's `tokenizer.ggml.merges` hold it.
    /// - Throws: `TokenizerError.malformedMerge` for another shape, or `addMerge`'s errors.
    mutating func addMerge(line: UnsafeBufferPointer<UInt8>, path: String, lineNumber: Int) throws {
        guard let space = line.firstIndex(of: 0x20), space > 0, space < line.count - 1,
              line[(space + 1)...].firstIndex(of: 0x20) == nil else {
            throw TokenizerError.malformedMerge(path: path, line: lineNumber, text: String(decoding: line, as: UTF8.self))
        }
        try addMerge(left: UnsafeBufferPointer(rebasing: line[..<space]), right: UnsafeBufferPointer(rebasing: line[(space + 1)...]),
                     path: path, line: lineNumber)
    }

    /// Adds the merge `left right` given as strings.
    mutating func addMerge(left: String, right: String, path: String, line: Int) throws {
        var left = left
        var right = right
        try left.withUTF8 { left in
            try right.withUTF8 { right in try addMerge(left: left, right: right, path: path, line: line) }
        }
    }

    // MARK: Result

    /// Returns the model; throws if a byte has no one-byte token, unless `allowingMissingBytes`
    /// (vocabularies that omit a few bytes, whose encoders drop them).
    func build(allowingMissingBytes: Bool = false) throws -> BytePairModel {
        guard let merges else { preconditionFailure("finishVocabulary must be called before build") }
        var initialTokens = [Int32](repeating: -1, count: 256)
        for byte in 0..<256 {
            let text = ByteLevelAlphabet.text(of: [UInt8(byte)])
            guard let id = idsByText.value(for: Array(text.utf8)) else {
                if allowingMissingBytes { continue }
                throw TokenizerError.invalidVocabulary(
                    path: vocabularyPath,
                    reason: "no token for byte 0x\(String(byte, radix: 16, uppercase: true)) ('\(text)'); a byte-level vocabulary needs all 256")
            }
            initialTokens[byte] = id
        }
        return BytePairModel(
            tokenBytes: orderedBytes, tokenOffsets: orderedOffsets, initialTokens: initialTokens,
            merges: merges, specialTokens: specialTokens)
    }

    /// The text of scalar values, for error messages.
    static func text(_ scalars: [UInt32]) -> String {
        var view = String.UnicodeScalarView()
        for value in scalars { view.append(Unicode.Scalar(value) ?? "\u{FFFD}") }
        return String(view)
    }
}
