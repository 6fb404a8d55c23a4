// N-gram counting without hashing: a segment's tokens (or characters) get small local ids, each
// n-gram is packed into one UInt64 (n ids of `bits` bits), and a sorted array of packed keys with
// run lengths is the counter. Matching (Σ min), totals and the per-n-gram maximum over references
// are merges of sorted arrays. Used when n · bits ≤ 64 (nearly always); the slice-keyed
// dictionaries remain for the rest.

/// Sorted unique n-gram keys with their counts.
struct GramCounts {
    var keys: [UInt64] = []
    var counts: [Int32] = []

    /// Σ counts.
    var total: Int { counts.reduce(0) { $0 + Int($1) } }

    /// The n-grams of `ids` (each below 2^bits), packed and counted.
    init(_ ids: [UInt32], order n: Int, bits: Int) {
        guard ids.count >= n else { return }
        var packed = [UInt64](repeating: 0, count: ids.count - n + 1)
        for start in packed.indices {
            var key: UInt64 = 0
            for k in 0..<n { key = key << UInt64(bits) | UInt64(ids[start + k]) }
            packed[start] = key
        }
        packed.sort()
        keys.reserveCapacity(packed.count)
        counts.reserveCapacity(packed.count)
        for key in packed {
            if key == keys.last { counts[counts.count - 1] += 1 } else { keys.append(key); counts.append(1) }
        }
    }

    init() {}

    /// Σ over shared keys of min(count here, count there): the clipped matches.
    func matches(_ other: GramCounts) -> Int {
        var i = 0, j = 0, sum = 0
        while i < keys.count && j < other.keys.count {
            if keys[i] < other.keys[j] { i += 1 } else if keys[i] > other.keys[j] { j += 1 } else {
                sum += Int(min(counts[i], other.counts[j])); i += 1; j += 1
            }
        }
        return sum
    }

    /// The per-key maximum of the two counters.
    func maximum(_ other: GramCounts) -> GramCounts {
        var result = GramCounts()
        result.keys.reserveCapacity(keys.count + other.keys.count)
        result.counts.reserveCapacity(keys.count + other.keys.count)
        var i = 0, j = 0
        while i < keys.count || j < other.keys.count {
            if j == other.keys.count || (i < keys.count && keys[i] < other.keys[j]) {
                result.keys.append(keys[i]); result.counts.append(counts[i]); i += 1
            } else if i == keys.count || other.keys[j] < keys[i] {
                result.keys.append(other.keys[j]); result.counts.append(other.counts[j]); j += 1
            } else {
                result.keys.append(keys[i]); result.counts.append(max(counts[i], other.counts[j])); i += 1; j += 1
            }
        }
        return result
    }
}

/// The bits an id below `count` needs (at least 1).
@inline(__always)
func idBits(_ count: Int) -> Int { max(1, Int.bitWidth - max(0, count - 1).leadingZeroBitCount) }

/// Local ids for code points: a direct table for ASCII, a dictionary beyond.
struct CodePointIDs {
    private var ascii = [UInt32](repeating: .max, count: 128)
    private var others: [UInt32: UInt32] = [:]
    private(set) var count = 0

    mutating func id(_ point: UInt32) -> UInt32 {
        if point < 128 {
            if ascii[Int(point)] == .max { ascii[Int(point)] = UInt32(count); count += 1 }
            return ascii[Int(point)]
        }
        if let id = others[point] { return id }
        let id = UInt32(count)
        others[point] = id
        count += 1
        return id
    }
}
