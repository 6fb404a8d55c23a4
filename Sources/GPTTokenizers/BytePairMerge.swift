// BytePairMerge: the merge table of a byte-pair encoding and the merge loop that applies it
// to the symbols of one pre-token.
//
// GPT-2's rule (encoder.py `bpe`): repeatedly take the adjacent pair with the lowest merge rank
// and merge it (all its occurrences, left to right), until no adjacent pair has a rank. Merging
// the leftmost occurrence of the lowest-ranked pair one at a time gives the same result, since
// a merge never creates a pair of the same rank; that is what both loops below do.

// MARK: - MergeTable

/// A hash table from an adjacent token pair `(left, right)` to the pair's merge rank and the
/// id of the merged token.
struct MergeTable: Sendable {
    /// The value `lookup` returns for a pair without a merge; greater than every real value.
    static let absent = UInt64.max

    /// Slot `i` is `slots[2i]` (the key `left << 32 | right`, or ``absent``) and `slots[2i + 1]`
    /// (`rank << 32 | merged`, so comparing values compares ranks): one cache line per probe.
    private var slots: [UInt64]
    private let mask: Int
    private let shift: UInt64
    private(set) var count = 0

    /// Creates an empty table for up to `capacity` merges.
    init(capacity: Int) {
        var bits: UInt64 = 4
        while (1 << bits) < capacity * 2 { bits += 1 }
        slots = [UInt64](repeating: Self.absent, count: 2 << bits)
        mask = (1 << bits) - 1
        shift = 64 - bits
    }

    /// Records that `left right` merges into `merged` with `rank`, unless the pair already has
    /// a merge (the first, lowest-ranked line wins). Returns false for a repeated pair.
    @discardableResult
    mutating func insert(left: Int32, right: Int32, rank: Int32, merged: Int32) -> Bool {
        precondition(count < mask, "MergeTable: capacity exceeded")
        let key = Self.key(left, right)
        var slot = slot(of: key)
        while slots[2 * slot] != Self.absent {
            if slots[2 * slot] == key { return false }
            slot = (slot + 1) & mask
        }
        slots[2 * slot] = key
        slots[2 * slot + 1] = UInt64(UInt32(rank)) << 32 | UInt64(UInt32(merged))
        count += 1
        return true
    }

    /// Returns `rank << 32 | merged` for the pair, or ``absent``.
    @inline(__always)
    func lookup(_ left: Int32, _ right: Int32) -> UInt64 {
        let key = Self.key(left, right)
        return slots.withUnsafeBufferPointer { slots in
            var slot = slot(of: key)
            while true {
                let stored = slots[2 * slot]
                if stored == key { return slots[2 * slot + 1] }
                if stored == Self.absent { return Self.absent }
                slot = (slot + 1) & mask
            }
        }
    }

    @inline(__always)
    private static func key(_ left: Int32, _ right: Int32) -> UInt64 {
        UInt64(UInt32(bitPattern: left)) << 32 | UInt64(UInt32(bitPattern: right))
    }

    @inline(__always)
    private func slot(of key: UInt64) -> Int {
        Int(truncatingIfNeeded: (key &* 0x9E37_79B9_7F4A_7C15) >> shift)
    }
}

// MARK: - Merge loops

enum BytePairMerge {
    /// Words at least this long use the heap loop (O(n log n)) instead of the scan (O(n²)).
    static let heapThreshold = 64

    /// Merges `symbols` in place by rank order and returns how many symbols remain at the front.
    @inline(__always)
    static func apply(_ table: MergeTable, to symbols: UnsafeMutableBufferPointer<Int32>) -> Int {
        symbols.count < heapThreshold ? applyByScan(table, to: symbols) : applyByHeap(table, to: symbols)
    }

    /// The merge loop for short words: scan the pair ranks for the lowest, merge, update the
    /// two neighbouring ranks.
    static func applyByScan(_ table: MergeTable, to symbols: UnsafeMutableBufferPointer<Int32>) -> Int {
        var count = symbols.count
        guard count > 1 else { return count }
        return withUnsafeTemporaryAllocation(of: UInt64.self, capacity: count - 1) { ranks in
            for index in 0..<(count - 1) { ranks[index] = table.lookup(symbols[index], symbols[index + 1]) }
            while count > 1 {
                var best = MergeTable.absent
                var bestIndex = -1
                for index in 0..<(count - 1) where ranks[index] < best {
                    best = ranks[index]
                    bestIndex = index
                }
                if bestIndex < 0 { break }
                symbols[bestIndex] = Int32(truncatingIfNeeded: best & 0xFFFF_FFFF)
                // Remove symbol bestIndex + 1 and the rank of the pair it started (pairs are
                // 0..<count - 1; the ranks at bestIndex - 1 and bestIndex are recomputed below).
                var index = bestIndex + 1
                while index < count - 1 {
                    symbols[index] = symbols[index + 1]
                    if index < count - 2 { ranks[index] = ranks[index + 1] }
                    index += 1
                }
                count -= 1
                if bestIndex > 0 {
                    ranks[bestIndex - 1] = table.lookup(symbols[bestIndex - 1], symbols[bestIndex])
                }
                if bestIndex < count - 1 {
                    ranks[bestIndex] = table.lookup(symbols[bestIndex], symbols[bestIndex + 1])
                }
            }
            return count
        }
    }

    /// The merge loop for long words: a min-heap of `(rank, position)` over a linked list of
    /// symbols; stale heap entries are skipped when popped.
    static func applyByHeap(_ table: MergeTable, to symbols: UnsafeMutableBufferPointer<Int32>) -> Int {
        let count = symbols.count
        guard count > 1 else { return count }
        var next = (0..<count).map { Int32($0 + 1) }
        var previous = (0..<count).map { Int32($0 - 1) }
        var heap = MinHeap()
        // Heap keys are rank << 32 | position: lowest rank first, then leftmost.
        func push(_ position: Int) {
            let right = Int(next[position])
            guard right < count else { return }
            let value = table.lookup(symbols[position], symbols[right])
            if value != MergeTable.absent { heap.push(value & 0xFFFF_FFFF_0000_0000 | UInt64(position)) }
        }
        for position in 0..<(count - 1) { push(position) }
        while let top = heap.pop() {
            let position = Int(top & 0xFFFF_FFFF)
            let right = Int(next[position])
            guard symbols[position] >= 0, right < count else { continue }
            let value = table.lookup(symbols[position], symbols[right])
            guard value != MergeTable.absent, value >> 32 == top >> 32 else { continue }
            symbols[position] = Int32(truncatingIfNeeded: value & 0xFFFF_FFFF)
            symbols[right] = -1
            let afterRight = Int(next[right])
            next[position] = Int32(afterRight)
            if afterRight < count { previous[afterRight] = Int32(position) }
            push(position)
            if previous[position] >= 0 { push(Int(previous[position])) }
        }
        var kept = 0
        for index in 0..<count where symbols[index] >= 0 {
            symbols[kept] = symbols[index]
            kept += 1
        }
        return kept
    }
}

// MARK: - MinHeap

/// A binary min-heap of `UInt64` keys.
struct MinHeap {
    private var items: [UInt64] = []

    /// Empties the heap, keeping its storage.
    mutating func removeAll() {
        items.removeAll(keepingCapacity: true)
    }

    mutating func push(_ item: UInt64) {
        items.append(item)
        var child = items.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            if items[parent] <= items[child] { break }
            items.swapAt(parent, child)
            child = parent
        }
    }

    mutating func pop() -> UInt64? {
        guard let last = items.popLast() else { return nil }
        guard !items.isEmpty else { return last }
        let top = items[0]
        items[0] = last
        var parent = 0
        while true {
            let left = 2 * parent + 1
            if left >= items.count { break }
            let right = left + 1
            let child = right < items.count && items[right] < items[left] ? right : left
            if items[parent] <= items[child] { break }
            items.swapAt(parent, child)
            parent = child
        }
        return top
    }
}
