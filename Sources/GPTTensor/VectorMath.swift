// Vectorised elementary functions on SIMD8<Float>, for the softmax and activation kernels.
//
// exp: Cephes' expf. Range reduction x = n·ln2 + r with ln2 split in two for exactness, a
// degree-6 polynomial for e^r on |r| ≤ ln2/2, and 2^n built in the exponent bits. Max error
// about 2 ulp on [-87.3, 88.7]; below -87.3 it returns 0 (so exp(-inf) = 0, as softmax needs).

@usableFromInline typealias Vector = SIMD8<Float>

@inlinable @inline(__always)
func vectorExp(_ x: Vector) -> Vector {
    let clamped = x.clamped(lowerBound: Vector(repeating: -87.3), upperBound: Vector(repeating: 88.7))
    // Round to nearest even by adding and removing 1.5·2^23 (|x·log2 e| < 2^22): exact, and
    // the sum holds n in its low mantissa bits. `rounded()` and `SIMD8<Int32>(n)` compile to a
    // libm call and a generic conversion per lane on the baseline target (~12% of a GPT-2 prefill).
    let shifted = clamped * 1.442_695_04 + 12_582_912
    let n = shifted - 12_582_912
    var r = clamped - n * 0.693_359_375
    r = r - n * -2.121_944_4e-4
    var p = Vector(repeating: 1.987_569_15e-4)
    p = p * r + 1.398_199_950_7e-3
    p = p * r + 8.333_451_907_3e-3
    p = p * r + 4.166_579_589_4e-2
    p = p * r + 1.666_666_545_9e-1
    p = p * r + 5.000_000_120_1e-1
    p = p * r * r + r + 1
    // 2^n: n + 127 in the exponent field. n ∈ [-126, 128]; n = 128 overflows to +inf correctly
    // only through the multiply below, so split it as 2^(n-1) · 2.
    let nBits = unsafeBitCast(shifted, to: SIMD8<Int32>.self) &- 0x4B40_0000
    let exponent = (nBits &+ 126) &<< 23
    let scale = Vector(bitPattern: SIMD8<UInt32>(truncatingIfNeeded: exponent))
    let result = p * scale * 2
    return result.replacing(with: 0, where: x .< -87.3)
}

/// tanh(x) = 1 − 2 / (e^{2x} + 1); exact limits ±1 for large |x|.
@inlinable @inline(__always)
func vectorTanh(_ x: Vector) -> Vector {
    1 - 2 / (vectorExp(2 * x) + 1)
}

extension SIMD8 where Scalar == Float {
    /// Builds a float vector from raw bits.
    @inlinable @inline(__always)
    init(bitPattern bits: SIMD8<UInt32>) {
        self = unsafeBitCast(bits, to: SIMD8<Float>.self)
    }
}

/// Scalar versions with the same formulas, for the tails of rows.
@inlinable @inline(__always)
func scalarExp(_ x: Float) -> Float { vectorExp(Vector(repeating: x))[0] }

@inlinable @inline(__always)
func scalarTanh(_ x: Float) -> Float { vectorTanh(Vector(repeating: x))[0] }
