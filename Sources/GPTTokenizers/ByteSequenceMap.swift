// ByteSequenceMap: a compact hash map from byte strings to Int32 values, looked up directly
// from a slice of a buffer (no String or Array is made per lookup). Used for vocabularies
// (token bytes → id) and for the merge cache (pre-token bytes → cached ids).

// MARK: - ByteSequenceMap

/// An open-addressing (linear probing) hash map from byte strings to `Int32` values.
///
/// Layout for few cache misses per lookup: a slot is two words. Keys of at most 8 bytes (most
/// tokens and words) are stored in the slot itself, so a lookup touches one cache line. Longer
/// keys live in a byte arena; their slot holds the upper half of the hash and the key's entry.
///   word 0: the key's bytes, little-endian, zero-padded  (length ≤ 8)
///           hash >> 32 << 32 | long-key entry             (length > 8)
///   word 1: (length + 1) << 32 | value as UInt32; 0 marks an empty slot
struct ByteSequenceMap: Sendable {
    private static let inlineLength = 8

    private var slots: [UInt64]
    private var mask: Int
    private(set) var count = 0
    /// Long keys: bytes in an arena, start offset and full hash per long-key entry.
    private var longKeyBytes: [UInt8] = []
    private var longKeyStarts: [Int32] = []
    private var longKeyHashes: [UInt64] = []

    /// Creates an empty map sized for `capacity` entries before it grows.
    init(capacity: Int = 8) {
        var slotCount = 16
        while slotCount < capacity * 2 { slotCount *= 2 }
        slots = [UInt64](repeating: 0, count: 2 * slotCount)
        mask = slotCount - 1
    }

    // MARK: Lookup

    /// Returns the value stored for `key`, or nil.
    @inline(__always)
    func value(for key: UnsafeBufferPointer<UInt8>) -> Int32? {
        let hash = Self.hash(key)
        let lengthTag = UInt64(key.count + 1) << 32
        return slots.withUnsafeBufferPointer { slots -> Int32? in
            var slot = Int(truncatingIfNeeded: hash) & mask
            if key.count <= Self.inlineLength {
                let packed = Self.pack(key)
                while true {
                    let meta = slots[2 * slot + 1]
                    if meta == 0 { return nil }
                    if meta & 0xFFFF_FFFF_0000_0000 == lengthTag && slots[2 * slot] == packed {
                        return Int32(truncatingIfNeeded: meta)
                    }
                    slot = (slot + 1) & mask
                }
            }
            let tag = hash & 0xFFFF_FFFF_0000_0000
            while true {
                let meta = slots[2 * slot + 1]
                if meta == 0 { return nil }
                let word = slots[2 * slot]
                if meta & 0xFFFF_FFFF_0000_0000 == lengthTag && word & 0xFFFF_FFFF_0000_0000 == tag
                    && equalsLongKey(key, entry: Int(word & 0xFFFF_FFFF)) {
                    return Int32(truncatingIfNeeded: meta)
                }
                slot = (slot + 1) & mask
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
        if (count + 1) * 2 > slots.count / 2 { grow() }
        let hash = Self.hash(key)
        let word: UInt64
        if key.count <= Self.inlineLength {
            word = Self.pack(key)
        } else {
            word = hash & 0xFFFF_FFFF_0000_0000 | UInt64(longKeyStarts.count)
            longKeyStarts.append(Int32(longKeyBytes.count))
            longKeyBytes.append(contentsOf: key)
            longKeyHashes.append(hash)
        }
        place(word: word, meta: UInt64(key.count + 1) << 32 | UInt64(UInt32(bitPattern: newValue)), hash: hash)
        count += 1
        return true
    }

    /// Inserts `key` → `value` unless `key` is present; returns false if it was present.
    @discardableResult
    mutating func insert(_ key: [UInt8], value: Int32) -> Bool {
        key.withUnsafeBufferPointer { insert($0, value: value) }
    }

    /// Removes every entry, keeping the allocated capacity.
    mutating func removeAll() {
        for index in slots.indices { slots[index] = 0 }
        longKeyBytes.removeAll(keepingCapacity: true)
        longKeyStarts.removeAll(keepingCapacity: true)
        longKeyHashes.removeAll(keepingCapacity: true)
        count = 0
    }

    private mutating func place(word: UInt64, meta: UInt64, hash: UInt64) {
        var slot = Int(truncatingIfNeeded: hash) & mask
        while slots[2 * slot + 1] != 0 { slot = (slot + 1) & mask }
        slots[2 * slot] = word
        slots[2 * slot + 1] = meta
    }

    private mutating func grow() {
        let old = slots
        slots = [UInt64](repeating: 0, count: old.count * 2)
        mask = slots.count / 2 - 1
        for slot in 0..<(old.count / 2) where old[2 * slot + 1] != 0 {
            let word = old[2 * slot]
            let meta = old[2 * slot + 1]
            let length = Int(meta >> 32) - 1
            let hash = length <= Self.inlineLength
                ? Self.hashInline(word, count: length) : longKeyHashes[Int(word & 0xFFFF_FFFF)]
            place(word: word, meta: meta, hash: hash)
        }
    }

    private func equalsLongKey(_ key: UnsafeBufferPointer<UInt8>, entry: Int) -> Bool {
        let start = Int(longKeyStarts[entry])
        return longKeyBytes.withUnsafeBufferPointer { arena in
            for index in 0..<key.count where key[index] != arena[start + index] { return false }
            return true
        }
    }

    // MARK: Hashing

    /// The bytes of a key of at most 8 bytes as a little-endian word, zero-padded.
    @inline(__always)
    private static func pack(_ key: UnsafeBufferPointer<UInt8>) -> UInt64 {
        var packed: UInt64 = 0
        for index in 0..<key.count { packed |= UInt64(key[index]) << (8 * UInt64(index)) }
        return packed
    }

    /// A fast 64-bit hash of a byte string (8 bytes per multiply, then a final mix).
    @inline(__always)
    static func hash(_ key: UnsafeBufferPointer<UInt8>) -> UInt64 {
        if key.count <= inlineLength { return hashInline(pack(key), count: key.count) }
        var hash: UInt64 = 0x9E37_79B9_7F4A_7C15 ^ UInt64(key.count)
        let raw = UnsafeRawPointer(key.baseAddress!)
        var index = 0
        while index + 8 <= key.count {
            hash = (hash ^ raw.loadUnaligned(fromByteOffset: index, as: UInt64.self)) &* 0xBF58_476D_1CE4_E5B9
            hash ^= hash >> 29
            index += 8
        }
        var tail: UInt64 = 0
        var shift: UInt64 = 0
        while index < key.count {
            tail |= UInt64(key[index]) << shift
            shift += 8
            index += 1
        }
        return finalMix(hash ^ tail)
    }

    /// The hash of a key of at most 8 bytes from its packed word.
    @inline(__always)
    private static func hashInline(_ packed: UInt64, count: Int) -> UInt64 {
        finalMix((0x9E37_79B9_7F4A_7C15 ^ UInt64(count)) ^ packed)
    }

    @inline(__always)
    private static func finalMix(_ value: UInt64) -> UInt64 {
        var hash = value &* 0xBF58_476D_1CE4_E5B9
        hash ^= hash >> 31
        hash = hash &* 0x94D0_49BB_1331_11EB
        return hash ^ (hash >> 29)
    }
}
