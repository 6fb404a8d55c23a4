// How one weight tensor is stored: plain floats, half floats, or a block-quantized GGUF type.

/// The storage format of a weight tensor.
///
/// `float32` is computed on directly. The other formats are the seam for half-precision and
/// quantized weights: a `WeightStore` can hold them (their byte sizes are known, so files can be
/// checked), and a `WeightMatrix` of such a format reports `isComputable == false` until its
/// kernels exist; loaders refuse such tensors with a clear error instead of computing garbage.
public enum WeightFormat: String, Sendable, Hashable, Codable, CaseIterable {
    /// IEEE 754 single precision, 4 bytes an element.
    case float32 = "F32"
    /// IEEE 754 half precision, 2 bytes an element.
    case float16 = "F16"
    /// bfloat16 (the high half of a float32), 2 bytes an element.
    case bfloat16 = "BF16"
    /// GGUF Q8_0: blocks of 32 int8 with one F16 scale (34 bytes).
    case q8_0 = "Q8_0"
    /// GGUF Q4_0: blocks of 32 4-bit values with one F16 scale (18 bytes).
    case q4_0 = "Q4_0"
    /// GGUF Q4_1: blocks of 32 4-bit values with an F16 scale and minimum (20 bytes).
    case q4_1 = "Q4_1"
    /// GGUF Q5_0: blocks of 32 5-bit values with one F16 scale (22 bytes).
    case q5_0 = "Q5_0"
    /// GGUF Q5_1: blocks of 32 5-bit values with an F16 scale and minimum (24 bytes).
    case q5_1 = "Q5_1"
    /// GGUF Q4_K: super-blocks of 256 4-bit values, 8 sub-blocks with 6-bit scales and minima (144 bytes).
    case q4_K = "Q4_K"
    /// GGUF Q5_K: super-blocks of 256 5-bit values, 8 sub-blocks with 6-bit scales and minima (176 bytes).
    case q5_K = "Q5_K"
    /// GGUF Q6_K: super-blocks of 256 6-bit values, 16 sub-blocks with 8-bit scales (210 bytes).
    case q6_K = "Q6_K"

    /// Elements per block (1 for the float formats).
    public var blockSize: Int {
        switch self {
        case .float32, .float16, .bfloat16: return 1
        case .q8_0, .q4_0, .q4_1, .q5_0, .q5_1: return 32
        case .q4_K, .q5_K, .q6_K: return 256
        }
    }

    /// Bytes per block.
    public var bytesPerBlock: Int {
        switch self {
        case .float32: return 4
        case .float16, .bfloat16: return 2
        case .q8_0: return 34
        case .q4_0: return 18
        case .q4_1: return 20
        case .q5_0: return 22
        case .q5_1: return 24
        case .q4_K: return 144
        case .q5_K: return 176
        case .q6_K: return 210
        }
    }

    /// The `ggml_type` id of the format in GGUF files.
    public var ggmlType: UInt32 {
        switch self {
        case .float32: return 0
        case .float16: return 1
        case .q4_0: return 2
        case .q4_1: return 3
        case .q5_0: return 6
        case .q5_1: return 7
        case .q8_0: return 8
        case .q4_K: return 12
        case .q5_K: return 13
        case .q6_K: return 14
        case .bfloat16: return 30
        }
    }

    /// The format of a GGUF `ggml_type` id, or nil for a type GPTKit does not read.
    public init?(ggmlType: UInt32) {
        guard let format = Self.allCases.first(where: { $0.ggmlType == ggmlType }) else { return nil }
        self = format
    }

    /// The names of the `ggml_type` ids GPTKit does not read, for error messages.
    public static func ggmlTypeName(_ id: UInt32) -> String {
        let names: [UInt32: String] = [4: "Q4_2 (removed)", 5: "Q4_3 (removed)", 9: "Q8_1", 10: "Q2_K", 11: "Q3_K", 15: "Q8_K",
                                       16: "IQ2_XXS", 17: "IQ2_XS", 18: "IQ3_XXS", 19: "IQ1_S", 20: "IQ4_NL", 21: "IQ3_S",
                                       22: "IQ2_S", 23: "IQ4_XS", 24: "I8", 25: "I16", 26: "I32", 27: "I64", 28: "F64",
                                       29: "IQ1_M", 34: "TQ1_0", 35: "TQ2_0", 39: "MXFP4"]
        return Self(ggmlType: id)?.rawValue ?? names[id] ?? "unknown type \(id)"
    }

    /// Whether GPTKit has kernels that compute with this format today.
    public var isComputable: Bool { self == .float32 }

    /// The bytes `count` elements take, or nil if `count` is not a whole number of blocks or
    /// the size overflows.
    public func byteCount(elements count: Int) -> Int? {
        guard count >= 0, count % blockSize == 0 else { return nil }
        let (bytes, overflow) = (count / blockSize).multipliedReportingOverflow(by: bytesPerBlock)
        return overflow ? nil : bytes
    }
}
