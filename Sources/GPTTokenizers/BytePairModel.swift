// BytePairModel: the tables of a byte-level BPE vocabulary (token bytes, byte → initial token,
// merge ranks) and the builder that fills them from any file format, checking as it goes.

// MARK: - BytePairModel

/// The immutable tables of a byte-level BPE vocabulary with ids `0..<count`.
struct BytePairModel: Sendable {
    /// The bytes of every token, concatenated in id order.
    let tokenBytes: [UInt8]
    /// Token `id`'s bytes are `tokenBytes[tokenOffsets[id]..<tokenOffsets[id + 1]]`.
    let tokenOffsets: [Int32]
    /// `initialTokens[byte]` is the id of the one-byte token that starts every merge.
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
        for byte in piece { symbols.append(initialTokens[Int(byte)]) }
        let kept = symbols.withUnsafeMutableBufferPointer { buffer in
            BytePairMerge.apply(merges, to: UnsafeMutableBufferPointer(rebasing: buffer[start...]))
        }
        symbols.removeLast(piece.count - kept)
    }
}

// MARK: - Builder

/// Collects a vocabulary (token text in the byte-level alphabet → id) and then merges, and
/// checks them: ids must be exactly `0..<count`, every symbol must be byte-level text (special
/// tokens excepted), every byte must have a token, and every merge must name known tokens.
struct BytePairModelBuilder {
    private let vocabularyPath: String
    private let specialNames: [(name: String, scalars: [UInt32])]
    private var arena: [UInt8] = []
    private var entries: [(id: Int, start: Int32, end: Int32)] = []
    private var specialTokens: [String: Int] = [:]
    private var tokenIDs = ByteSequenceMap()
    private var orderedBytes: [UInt8] = []
    private var orderedOffsets: [Int32] = []
    private var merges: MergeTable?
    private var mergeScratch: [UInt8] = []

    /// Starts a builder; tokens whose text equals one of `specialTokenNames` become special
    /// tokens (decoded as their UTF-8 text rather than through the byte-level alphabet).
    init(vocabularyPath: String, specialTokenNames: Set<String>, expectedCount: Int = 0) {
        self.vocabularyPath = vocabularyPath
        self.specialNames = specialTokenNames.sorted().map { ($0, $0.unicodeScalars.map(\.value)) }
        entries.reserveCapacity(expectedCount)
        arena.reserveCapacity(expectedCount * 8)
    }

    // MARK: Vocabulary

    /// Adds a token given as the scalar values of its byte-level text.
    mutating func addToken(scalars: [UInt32], id: Int) throws {
        let start = Int32(arena.count)
        if let special = specialNames.first(where: { $0.scalars == scalars }) {
            arena.append(contentsOf: Array(special.name.utf8))
            specialTokens[special.name] = id
        } else {
            for value in scalars {
                guard let byte = ByteLevelAlphabet.byte(for: value) else {
                    arena.removeLast(arena.count - Int(start))
                    throw TokenizerError.invalidVocabulary(
                        path: vocabularyPath,
                        reason: "token '\(Self.text(scalars))' (id \(id)) contains U+\(String(value, radix: 16, uppercase: true)), "
                            + "which is not in the GPT-2 byte-level alphabet")
                }
                arena.append(byte)
            }
        }
        entries.append((id, start, Int32(arena.count)))
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
        tokenIDs = ByteSequenceMap(capacity: count)
        let specialIDs = Set(specialTokens.values)
        for id in 0..<count {
            let entry = entries[order[id]]
            let bytes = arena[Int(entry.start)..<Int(entry.end)]
            orderedBytes.append(contentsOf: bytes)
            orderedOffsets.append(Int32(orderedBytes.count))
            guard !specialIDs.contains(id) else { continue }
            let isNew = bytes.withUnsafeBufferPointer { tokenIDs.insert($0, value: Int32(id)) }
            guard isNew else {
                throw TokenizerError.invalidVocabulary(
                    path: vocabularyPath, reason: "token '\(ByteLevelAlphabet.text(of: bytes))' appears twice")
            }
        }
        arena = []
        entries = []
        merges = MergeTable(capacity: mergeCapacity)
    }

    // MARK: Merges

    /// Adds the merge `left right` with the next rank. `line` is used in error messages.
    mutating func addMerge(left: [UInt32], right: [UInt32], path: String, line: Int) throws {
        guard merges != nil else { preconditionFailure("finishVocabulary must be called before addMerge") }
        let leftID = try id(of: left, path: path, line: line)
        let rightID = try id(of: right, path: path, line: line)
        mergeScratch.removeAll(keepingCapacity: true)
        mergeScratch.append(contentsOf: bytes(of: leftID))
        mergeScratch.append(contentsOf: bytes(of: rightID))
        guard let mergedID = tokenIDs.value(for: mergeScratch) else {
            throw TokenizerError.unknownMergeSymbol(path: path, line: line, symbol: Self.text(left + right))
        }
        merges!.insert(left: leftID, right: rightID, rank: Int32(merges!.count), merged: mergedID)
    }

    private func id(of scalars: [UInt32], path: String, line: Int) throws -> Int32 {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(scalars.count)
        for value in scalars {
            guard let byte = ByteLevelAlphabet.byte(for: value) else {
                throw TokenizerError.unknownMergeSymbol(path: path, line: line, symbol: Self.text(scalars))
            }
            bytes.append(byte)
        }
        guard let id = tokenIDs.value(for: bytes) else {
            throw TokenizerError.unknownMergeSymbol(path: path, line: line, symbol: Self.text(scalars))
        }
        return id
    }

    private func bytes(of id: Int32) -> ArraySlice<UInt8> {
        orderedBytes[Int(orderedOffsets[Int(id)])..<Int(orderedOffsets[Int(id) + 1])]
    }

    // MARK: Result

    /// Returns the model; throws if a byte has no one-byte token.
    func build() throws -> BytePairModel {
        guard let merges else { preconditionFailure("finishVocabulary must be called before build") }
        var initialTokens = [Int32](repeating: -1, count: 256)
        for byte in 0..<256 {
            guard let id = tokenIDs.value(for: [UInt8(byte)]) else {
                throw TokenizerError.invalidVocabulary(
                    path: vocabularyPath,
                    reason: "no token for byte 0x\(String(byte, radix: 16, uppercase: true)) "
                        + "('\(ByteLevelAlphabet.text(of: [UInt8(byte)]))'); a byte-level vocabulary needs all 256")
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
