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
    /// GGUF Q4_K: super-blocks of 256 with 6-bit sub-block scales (144 bytes).
    case q4_K = "Q4_K"
    /// GGUF Q6_K: super-blocks of 256 6-bit values (210 bytes).
    case q6_K = "Q6_K"

    /// Elements per block (1 for the float formats).
    public var blockSize: Int {
        switch self {
        case .float32, .float16, .bfloat16: return 1
        case .q8_0, .q4_0, .q4_1: return 32
        case .q4_K, .q6_K: return 256
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
        case .q4_K: return 144
        case .q6_K: return 210
        }
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
