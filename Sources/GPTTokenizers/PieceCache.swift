// PieceCache: remembers the ids of pre-tokens already encoded, so a repeated word costs one
// hash lookup instead of a merge loop.
//
// Two levels: an encode of a long text has its own PieceCache (no lock: most pieces of a long
// text are found there) and falls back to the tokenizer's SharedPieceCache (behind a lock)
// before running the merge loop; a short text (< 4 KB) uses only the shared cache.
//
// Measured (release build, tinyshakespeare, 2 shared and busy cores, so figures are rough):
//                                  whole 1.1 MB text    40,001 one-line encodes
//   per-call cache only              26 MB/s                7 MB/s
//   shared cache, lock per piece     16 MB/s               11 MB/s
//   two levels                       36 MB/s                9 MB/s
//   two levels, none per call < 4 KB 36 MB/s               13-15 MB/s   <- this code
// (MB/s over 3 encodes with one tokenizer, so the shared cache is warm after the first.)

import Foundation

// MARK: - PieceCache

/// A map from pre-token bytes to their token ids, for the duration of one encode.
struct PieceCache {
    /// Pieces longer than this are not cached (they rarely repeat).
    static let maximumPieceLength = 64
    /// The cache is cleared when it holds this many pieces, bounding its memory.
    static let maximumEntries = 1 << 18

    /// A piece of one token maps to that id (≥ 0); a longer piece maps to `-1 - start`, where
    /// `ids[start]` is its id count, followed by its ids.
    private var map = ByteSequenceMap()
    private var ids: [Int32] = []

    /// Appends the cached ids of `piece` to `output` and returns true, or returns false.
    @inline(__always)
    func appendIDs(of piece: UnsafeBufferPointer<UInt8>, to output: inout [Int]) -> Bool {
        guard let value = map.value(for: piece) else { return false }
        if value >= 0 {
            output.append(Int(value))
            return true
        }
        let start = Int(-1 - value)
        ids.withUnsafeBufferPointer { ids in
            let count = Int(ids[start])
            for index in (start + 1)..<(start + 1 + count) { output.append(Int(ids[index])) }
        }
        return true
    }

    /// Appends the cached ids of `piece` to `symbols` and returns true, or returns false.
    func appendIDs(of piece: UnsafeBufferPointer<UInt8>, to symbols: inout [Int32]) -> Bool {
        guard let value = map.value(for: piece) else { return false }
        if value >= 0 {
            symbols.append(value)
        } else {
            let start = Int(-1 - value)
            symbols.append(contentsOf: ids[(start + 1)..<(start + 1 + Int(ids[start]))])
        }
        return true
    }

    /// The number of cached pieces.
    var count: Int { map.count }

    /// Records the ids of `piece`.
    @inline(__always)
    mutating func insert(_ piece: UnsafeBufferPointer<UInt8>, ids pieceIDs: ArraySlice<Int32>) {
        guard piece.count <= Self.maximumPieceLength else { return }
        if map.count >= Self.maximumEntries {
            map = ByteSequenceMap()
            ids.removeAll(keepingCapacity: true)
        }
        if pieceIDs.count == 1 {
            map.insert(piece, value: pieceIDs.first!)
            return
        }
        let start = Int32(ids.count)
        ids.append(Int32(pieceIDs.count))
        ids.append(contentsOf: pieceIDs)
        map.insert(piece, value: -1 - start)
    }
}

// MARK: - SharedPieceCache

/// A piece cache shared by every encode of one tokenizer (and its copies), behind a lock, so
/// that words seen in earlier calls are cheap in later ones (many short texts, e.g. one line
/// or one prompt per call). An encode consults it only for pieces missing from its own
/// per-call cache, so concurrent encodes rarely wait for the lock. It stops growing at
/// ``maximumEntries`` pieces.
final class SharedPieceCache: @unchecked Sendable {
    /// The most pieces the shared cache holds (a few MB).
    static let maximumEntries = 1 << 16

    private let lock = NSLock()
    private var cache = PieceCache()

    /// Appends the cached ids of `piece` to `symbols` and returns true, or returns false.
    func appendIDs(of piece: UnsafeBufferPointer<UInt8>, to symbols: inout [Int32]) -> Bool {
        lock.lock()
        defer { lock.unlock() }
        return cache.appendIDs(of: piece, to: &symbols)
    }

    /// Records the ids of `piece` unless the cache is full.
    func insert(_ piece: UnsafeBufferPointer<UInt8>, ids: ArraySlice<Int32>) {
        lock.lock()
        defer { lock.unlock() }
        guard cache.count < Self.maximumEntries else { return }
        cache.insert(piece, ids: ids)
    }
}
