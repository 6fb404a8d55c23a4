// Widening stored tensors to float32: little-endian F32 bytes (possibly unaligned), IEEE half
// precision, and bfloat16. Split across threads in fixed ranges (the results are exact, so the
// split does not matter).
import GPTKernelCore

extension Kernels {
    /// The storage types `widen` reads.
    public enum StoredFloat: Sendable {
        /// Little-endian IEEE single precision.
        case float32
        /// Little-endian IEEE half precision.
        case float16
        /// Little-endian bfloat16 (the high 16 bits of a float32).
        case bfloat16

        /// Bytes per element.
        public var byteCount: Int { self == .float32 ? 4 : 2 }
    }

    /// `out[i] = Float(element i of bytes)` for `count` elements of `type` at `bytes` (any
    /// alignment), exactly (half-precision subnormals, infinities and NaNs included).
    public static func widen(_ bytes: UnsafeRawPointer, type: StoredFloat, count: Int, into out: UnsafeMutablePointer<Float>) {
        forEachRange(count, grain: elementwiseParallelThreshold) { range in
            switch type {
            case .float32:
                #if _endian(little)
                UnsafeMutableRawPointer(out + range.lowerBound).copyMemory(from: bytes + 4 &* range.lowerBound, byteCount: 4 &* range.count)
                #else
                for i in range { out[i] = Float(bitPattern: UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: 4 &* i, as: UInt32.self))) }
                #endif
            case .float16:
                for i in range { out[i] = floatFromHalfBits(UInt16(littleEndian: bytes.loadUnaligned(fromByteOffset: 2 &* i, as: UInt16.self))) }
            case .bfloat16:
                var i = range.lowerBound
                while i &+ 8 <= range.upperBound {
                    let halves = SIMD8<UInt16>(littleEndian: bytes.loadUnaligned(fromByteOffset: 2 &* i, as: SIMD8<UInt16>.self))
                    let words = SIMD8<UInt32>(truncatingIfNeeded: halves) &<< 16
                    (out + i).storeVector(unsafeBitCast(words, to: SIMD8<Float>.self), at: 0)
                    i &+= 8
                }
                while i < range.upperBound {
                    out[i] = Float(bitPattern: UInt32(UInt16(littleEndian: bytes.loadUnaligned(fromByteOffset: 2 &* i, as: UInt16.self))) << 16)
                    i &+= 1
                }
            }
        }
    }
}

extension SIMD8 where Scalar == UInt16 {
    /// Each lane from little-endian to host order.
    @inlinable init(littleEndian value: SIMD8<UInt16>) {
        #if _endian(little)
        self = value
        #else
        self = SIMD8(value.indices.map { UInt16(littleEndian: value[$0]) })
        #endif
    }
}
