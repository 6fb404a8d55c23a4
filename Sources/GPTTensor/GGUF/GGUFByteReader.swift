// The bounds-checked cursor GGUFFile parses with: every read checks the bytes that remain, and
// every count is checked against them (times the smallest size of one element) before an
// array of that many is reserved.

struct GGUFByteReader {
    let bytes: UnsafeRawBufferPointer
    let file: String
    var position = 0
    /// Arrays nested deeper than this are refused (the format allows any depth; no real file nests).
    static let maximumDepth = 8

    init(bytes: UnsafeRawBufferPointer, file: String) {
        self.bytes = bytes
        self.file = file
    }

    var remaining: Int { bytes.count - position }

    mutating func take(_ count: Int, _ what: @autoclosure () -> String) throws -> Int {
        guard count <= remaining else { throw GGUFError.truncated(file: file, offset: bytes.count, reading: what()) }
        defer { position += count }
        return position
    }

    mutating func load<T: FixedWidthInteger>(_ type: T.Type, _ what: @autoclosure () -> String) throws -> T {
        let at = try take(MemoryLayout<T>.size, what())
        return T(littleEndian: bytes.loadUnaligned(fromByteOffset: at, as: T.self))
    }

    mutating func u32(_ what: @autoclosure () -> String) throws -> UInt32 { try load(UInt32.self, what()) }
    mutating func u64(_ what: @autoclosure () -> String) throws -> UInt64 { try load(UInt64.self, what()) }

    /// A u64 count of items, each at least `minimumBytesEach` long, that must fit in the rest.
    mutating func count(_ what: String, minimumBytesEach: Int) throws -> Int {
        let start = position
        let value = try u64(what)
        guard value <= UInt64(remaining / max(1, minimumBytesEach)) else {
            throw GGUFError.invalidHeader(file: file, offset: start,
                                          reason: "\(what) \(value) cannot fit in the \(remaining) bytes that remain")
        }
        return Int(value)
    }

    /// A u64-length UTF-8 string.
    mutating func string(_ what: @autoclosure () -> String) throws -> String {
        let start = position
        let length = try u64("the length of \(what())")
        guard length <= UInt64(remaining) else {
            throw GGUFError.truncated(file: file, offset: bytes.count, reading: "\(what()) (\(length) bytes announced at byte \(start))")
        }
        let at = try take(Int(length), what())
        let raw = UnsafeBufferPointer(start: (bytes.baseAddress! + at).assumingMemoryBound(to: UInt8.self), count: Int(length))
        // Decoding replaces invalid UTF-8 with U+FFFD; unchanged bytes mean it was valid. (This
        // path avoids the generic validating initialiser: the vocabulary has ~100k strings.)
        let text = String(decoding: raw, as: UTF8.self)
        guard text.utf8.elementsEqual(raw) else {
            throw GGUFError.invalidHeader(file: file, offset: at, reason: "\(what()) is not UTF-8")
        }
        return text
    }

    /// A typed value (its u32 type tag first) of metadata `key`.
    mutating func value(key: String, depth: Int) throws -> GGUFValue {
        let at = position
        let raw = try u32("the type of '\(key)'")
        guard let type = GGUFValueType(rawValue: raw) else {
            throw GGUFError.invalidMetadata(file: file, key: key, reason: "unknown value type \(raw) at byte \(at)")
        }
        return try value(of: type, key: key, depth: depth)
    }

    mutating func value(of type: GGUFValueType, key: String, depth: Int) throws -> GGUFValue {
        // The description is built only for a message (this runs once per array element).
        func what() -> String { "the value of '\(key)'" }
        switch type {
        case .uint8: return .uint8(try load(UInt8.self, what()))
        case .int8: return .int8(try load(Int8.self, what()))
        case .uint16: return .uint16(try load(UInt16.self, what()))
        case .int16: return .int16(try load(Int16.self, what()))
        case .uint32: return .uint32(try load(UInt32.self, what()))
        case .int32: return .int32(try load(Int32.self, what()))
        case .uint64: return .uint64(try load(UInt64.self, what()))
        case .int64: return .int64(try load(Int64.self, what()))
        case .float32: return .float32(Float(bitPattern: try load(UInt32.self, what())))
        case .float64: return .float64(Double(bitPattern: try load(UInt64.self, what())))
        case .bool:
            let at = position
            let byte = try load(UInt8.self, what())
            guard byte <= 1 else { throw GGUFError.invalidMetadata(file: file, key: key, reason: "bool byte \(byte) at byte \(at) is not 0 or 1") }
            return .bool(byte == 1)
        case .string: return .string(try string(what()))
        case .array:
            guard depth < Self.maximumDepth else {
                throw GGUFError.invalidMetadata(file: file, key: key, reason: "arrays nested more than \(Self.maximumDepth) deep")
            }
            let at = position
            let raw = try u32("the element type of '\(key)'")
            guard let element = GGUFValueType(rawValue: raw) else {
                throw GGUFError.invalidMetadata(file: file, key: key, reason: "unknown array element type \(raw) at byte \(at)")
            }
            // A string is at least its 8-byte length; a nested array its 12-byte header.
            let count = try self.count("the element count of '\(key)'", minimumBytesEach: element.fixedSize ?? (element == .string ? 8 : 12))
            var items: [GGUFValue] = []
            items.reserveCapacity(count)
            for _ in 0..<count { items.append(try value(of: element, key: key, depth: depth + 1)) }
            return .array(elementType: element, items)
        }
    }
}
