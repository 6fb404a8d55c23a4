// Vectorised elementary functions on SIMD8<Float>, for the softmax and activation kernels.
//
// exp: Cephes' expf. Range reduction x = n·ln2 + r with ln2 split in two for exactness, a
// degree-6 polynomial for e^r on |r| ≤ ln2/2, and 2^n built in the exponent bits. Max error
// about 2 ulp on [-87.3, 88.7]; below -87.3 it returns 0 (so exp(-inf) = 0, as softmax needs).

/// The vector type of the element-wise kernels: eight floats on every instruction set, so
/// results are the same on all of them (only the instructions differ).
public typealias KernelVector = SIMD8<Float>

/// e^x lane by lane (Cephes' expf, about 2 ulp; 0 below -87.3, clamped above 88.7).
@inlinable @inline(__always)
public func vectorExp(_ x: KernelVector) -> KernelVector {
    // Clamp with compare + blend: `clamped(lowerBound:upperBound:)` and `.rounded()` go through
    // slow generic per-lane paths (measured: over half of a training step went to them).
    var v = x.replacing(with: 88.7, where: x .> 88.7)
    v = v.replacing(with: -87.3, where: v .< -87.3)
    // Adding 1.5·2^23 rounds to the nearest integer (ties to even) and leaves that integer in the
    // low mantissa bits: n as a float and as an integer in three vector instructions.
    let magic = KernelVector(repeating: 12_582_912)
    let shifted = v * 1.442_695_04 + magic
    let n = shifted - magic
    var r = v - n * 0.693_359_375
    r = r - n * -2.121_944_4e-4
    var p = KernelVector(repeating: 1.987_569_15e-4)
    p = p * r + 1.398_199_950_7e-3
    p = p * r + 8.333_451_907_3e-3
    p = p * r + 4.166_579_589_4e-2
    p = p * r + 1.666_666_545_9e-1
    p = p * r + 5.000_000_120_1e-1
    p = p * r * r + r + 1
    // 2^n with n ∈ [-126, 128]: the exponent field n + 126 gives 2^(n-1), times 2 below, so that
    // n = 128 still has a valid field.
    let integer = unsafeBitCast(shifted, to: SIMD8<UInt32>.self) &- 0x4B40_0000
    let scale = unsafeBitCast((integer &+ 126) &<< 23, to: KernelVector.self)
    let result = p * scale * 2
    return result.replacing(with: 0, where: x .< -87.3)
}

/// tanh(x) = 1 − 2 / (e^{2x} + 1); exact limits ±1 for large |x|.
@inlinable @inline(__always)
public func vectorTanh(_ x: KernelVector) -> KernelVector {
    1 - 2 / (vectorExp(2 * x) + 1)
}


/// The scalar version of `vectorExp`, for the tails of rows.
@inlinable @inline(__always)
public func scalarExp(_ x: Float) -> Float { vectorExp(KernelVector(repeating: x))[0] }

/// Lane-wise maximum as compare + blend (`pointwiseMax` is a slow generic call here).
@inlinable @inline(__always)
public func vectorMax(_ a: KernelVector, _ b: KernelVector) -> KernelVector { a.replacing(with: b, where: b .> a) }
