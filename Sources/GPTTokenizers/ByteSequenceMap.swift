// ByteSequenceMap: a compact hash map from byte strings to Int32 values, looked up directly
// from a slice of a buffer (no String or Array is made per lookup). Used for vocabularies
// (token bytes → id) and for the merge cache (pre-token bytes → cached ids).

// MARK: - ByteSequenceMap

/// An open-addressing (linear probing) hash map from byte strings to `Int32` values. All keys
/// live in one byte arena; entries are numbered in insertion order.
struct ByteSequenceMap: Sendable {
    private var keyBytes: [UInt8] = []
    /// Entry `i`'s key is `keyBytes[keyOffsets[i]..<keyOffsets[i + 1]]`.
    private var keyOffsets: [Int32] = [0]
    private var keyHashes: [UInt64] = []
    private(set) var values: [Int32] = []
    /// Entry index + 1 for each slot; 0 means empty.
    private var slots: [Int32]
    private var mask: Int

    /// Creates an empty map sized for `capacity` entries before it grows.
    init(capacity: Int = 16) {
        var slotCount = 16
        while slotCount < capacity * 2 { slotCount *= 2 }
        slots = [Int32](repeating: 0, count: slotCount)
        mask = slotCount - 1
        keyHashes.reserveCapacity(capacity)
        values.reserveCapacity(capacity)
        keyOffsets.reserveCapacity(capacity + 1)
    }

    /// The number of entries.
    var count: Int { values.count }

    /// The total number of key bytes stored (a measure of the map's memory).
    var keyByteCount: Int { keyBytes.count }

    // MARK: Lookup

    /// Returns the value stored for `key`, or nil.
    @inline(__always)
    func value(for key: UnsafeBufferPointer<UInt8>) -> Int32? {
        let hash = Self.hash(key)
        return keyBytes.withUnsafeBufferPointer { arena -> Int32? in
            slots.withUnsafeBufferPointer { slots -> Int32? in
                var slot = Int(truncatingIfNeeded: hash) & mask
                while true {
                    let entry = Int(slots[slot]) - 1
                    if entry < 0 { return nil }
                    if keyHashes[entry] == hash
                        && Self.equal(key, arena, Int(keyOffsets[entry]), Int(keyOffsets[entry + 1])) {
                        return values[entry]
                    }
                    slot = (slot + 1) & mask
                }
            }
        }
    }

    /// Returns the value stored for `key`, or nil.
    func value(for key: [UInt8]) -> Int32? {
        key.withUnsafeBufferPointer { value(for: $0) }
    }

    // MARK: Insertion

    /// Inserts `key` → `value` unless `key` is present; returns false if it was present.
    @discardableResult
    mutating func insert(_ key: UnsafeBufferPointer<UInt8>, value newValue: Int32) -> Bool {
        if value(for: key) != nil { return false }
        if (count + 1) * 2 > slots.count { grow() }
        let hash = Self.hash(key)
        keyBytes.append(contentsOf: key)
        keyOffsets.append(Int32(keyBytes.count))
        keyHashes.append(hash)
        values.append(newValue)
        place(entry: count - 1, hash: hash)
        return true
    }

    /// Inserts `key` → `value` unless `key` is present; returns false if it was present.
    @discardableResult
    mutating func insert(_ key: [UInt8], value: Int32) -> Bool {
        key.withUnsafeBufferPointer { insert($0, value: value) }
    }

    /// Removes every entry, keeping the allocated capacity.
    mutating func removeAll() {
        keyBytes.removeAll(keepingCapacity: true)
        keyOffsets.removeAll(keepingCapacity: true)
        keyOffsets.append(0)
        keyHashes.removeAll(keepingCapacity: true)
        values.removeAll(keepingCapacity: true)
        for index in slots.indices { slots[index] = 0 }
    }

    private mutating func place(entry: Int, hash: UInt64) {
        var slot = Int(truncatingIfNeeded: hash) & mask
        while slots[slot] != 0 { slot = (slot + 1) & mask }
        slots[slot] = Int32(entry + 1)
    }

    private mutating func grow() {
        slots = [Int32](repeating: 0, count: slots.count * 2)
        mask = slots.count - 1
        for entry in 0..<count { place(entry: entry, hash: keyHashes[entry]) }
    }

    // MARK: Hashing

    /// A fast 64-bit hash of a short byte string (8 bytes per multiply, then a final mix).
    @inline(__always)
    static func hash(_ key: UnsafeBufferPointer<UInt8>) -> UInt64 {
        var hash: UInt64 = 0x9E37_79B9_7F4A_7C15 ^ UInt64(key.count)
        guard let base = key.baseAddress else { return hash }
        let raw = UnsafeRawPointer(base)
        var index = 0
        while index + 8 <= key.count {
            let word = raw.loadUnaligned(fromByteOffset: index, as: UInt64.self)
            hash = (hash ^ word) &* 0xBF58_476D_1CE4_E5B9
            hash ^= hash >> 29
            index += 8
        }
        var tail: UInt64 = 0
        var shift: UInt64 = 0
        while index < key.count {
            tail |= UInt64(base[index]) << shift
            shift += 8
            index += 1
        }
        hash = (hash ^ tail) &* 0x94D0_49BB_1331_11EB
        return hash ^ (hash >> 31)
    }

    @inline(__always)
    private static func equal(
        _ key: UnsafeBufferPointer<UInt8>, _ arena: UnsafeBufferPointer<UInt8>, _ start: Int, _ end: Int
    ) -> Bool {
        guard end - start == key.count else { return false }
        for index in 0..<key.count where key[index] != arena[start + index] { return false }
        return true
    }
}
