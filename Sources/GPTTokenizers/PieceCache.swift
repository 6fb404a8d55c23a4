// PieceCache: remembers the ids of pre-tokens already encoded, so a repeated word costs one
// hash lookup instead of a merge loop.
//
// The cache lives for one `encode` call and belongs to that call, so no lock is needed and a
// tokenizer can be used from many tasks at once. (Measured on tinyshakespeare, 2-core x86-64:
// a shared cache behind a lock was no faster for whole-file encodes, and made concurrent
// encodes contend; see Fixtures/tokenizers/README.md.)

// MARK: - PieceCache

/// A map from pre-token bytes to their token ids, for the duration of one encode.
struct PieceCache {
    /// Pieces longer than this are not cached (they rarely repeat).
    static let maximumPieceLength = 64
    /// The cache is cleared when it holds this many pieces, bounding its memory.
    static let maximumEntries = 1 << 18

    private var map = ByteSequenceMap(capacity: 4096)
    /// For each entry: its id count, then its ids.
    private var ids: [Int32] = []

    /// Appends the cached ids of `piece` to `output` and returns true, or returns false.
    @inline(__always)
    func appendIDs(of piece: UnsafeBufferPointer<UInt8>, to output: inout [Int]) -> Bool {
        guard let start = map.value(for: piece) else { return false }
        let start32 = Int(start)
        ids.withUnsafeBufferPointer { ids in
            let count = Int(ids[start32])
            for index in (start32 + 1)..<(start32 + 1 + count) { output.append(Int(ids[index])) }
        }
        return true
    }

    /// Records the ids of `piece`.
    @inline(__always)
    mutating func insert(_ piece: UnsafeBufferPointer<UInt8>, ids pieceIDs: ArraySlice<Int32>) {
        guard piece.count <= Self.maximumPieceLength else { return }
        if map.count >= Self.maximumEntries {
            map.removeAll()
            ids.removeAll(keepingCapacity: true)
        }
        let start = Int32(ids.count)
        ids.append(Int32(pieceIDs.count))
        ids.append(contentsOf: pieceIDs)
        map.insert(piece, value: start)
    }
}
