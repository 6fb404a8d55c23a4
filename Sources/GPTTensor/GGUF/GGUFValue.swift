// GGUF metadata values: the thirteen value types of llama.cpp's format (integers of four widths,
// both signs, float32/float64, bool, string, and arrays of any of them, arrays included).

/// The type tag of a GGUF metadata value (`gguf_type` in llama.cpp).
public enum GGUFValueType: UInt32, Sendable, Hashable, CaseIterable {
    case uint8 = 0, int8 = 1, uint16 = 2, int16 = 3, uint32 = 4, int32 = 5, float32 = 6, bool = 7, string = 8, array = 9
    case uint64 = 10, int64 = 11, float64 = 12

    /// Bytes of one value of a fixed-size type; nil for `string` and `array`.
    public var fixedSize: Int? {
        switch self {
        case .uint8, .int8, .bool: return 1
        case .uint16, .int16: return 2
        case .uint32, .int32, .float32: return 4
        case .uint64, .int64, .float64: return 8
        case .string, .array: return nil
        }
    }

    /// The name llama.cpp and gguf-py use, e.g. `UINT32`.
    public var name: String { "\(self)".uppercased() }
}

/// One GGUF metadata value.
///
/// ```swift
/// let file = try GGUFFile(contentsOf: url)
/// let layers = file.metadata["llama.block_count"]?.integer        // 30
/// let tokens = file.metadata["tokenizer.ggml.tokens"]?.strings    // [String]
/// ```
public enum GGUFValue: Sendable, Hashable {
    case uint8(UInt8), int8(Int8), uint16(UInt16), int16(Int16), uint32(UInt32), int32(Int32), uint64(UInt64), int64(Int64)
    case float32(Float), float64(Double)
    case bool(Bool)
    case string(String)
    /// An array whose elements all have `elementType` (an empty array keeps its type).
    case array(elementType: GGUFValueType, [GGUFValue])

    /// The value's type tag.
    public var type: GGUFValueType {
        switch self {
        case .uint8: return .uint8
        case .int8: return .int8
        case .uint16: return .uint16
        case .int16: return .int16
        case .uint32: return .uint32
        case .int32: return .int32
        case .uint64: return .uint64
        case .int64: return .int64
        case .float32: return .float32
        case .float64: return .float64
        case .bool: return .bool
        case .string: return .string
        case .array: return .array
        }
    }

    /// An integer value of any width, if it fits in `Int`.
    public var integer: Int? {
        switch self {
        case .uint8(let v): return Int(v)
        case .int8(let v): return Int(v)
        case .uint16(let v): return Int(v)
        case .int16(let v): return Int(v)
        case .uint32(let v): return Int(v)
        case .int32(let v): return Int(v)
        case .uint64(let v): return Int(exactly: v)
        case .int64(let v): return Int(v)
        default: return nil
        }
    }

    /// An integer or floating-point value as a `Double`.
    public var number: Double? {
        switch self {
        case .float32(let v): return Double(v)
        case .float64(let v): return v
        default: return integer.map(Double.init)
        }
    }

    /// A `bool` value.
    public var bool: Bool? { if case .bool(let v) = self { v } else { nil } }

    /// A `string` value.
    public var string: String? { if case .string(let v) = self { v } else { nil } }

    /// An array's elements.
    public var array: [GGUFValue]? { if case .array(_, let v) = self { v } else { nil } }

    /// An array of strings.
    public var strings: [String]? { array?.compactMap(\.string).countMatching(array) }

    /// An array of numbers (any integer or float type) as `Float`.
    public var floats: [Float]? { array?.compactMap { $0.number.map(Float.init) }.countMatching(array) }

    /// An array of integers.
    public var integers: [Int]? { array?.compactMap(\.integer).countMatching(array) }
}

extension Array {
    /// `self` if it has as many elements as `other` (nothing was dropped by a `compactMap`).
    fileprivate func countMatching<T>(_ other: [T]?) -> [Element]? { count == other?.count ? self : nil }
}
