// Instructions that LLVM does not form from plain Swift code, reached through the compiler's
// `Builtin` module (this target is compiled with `-parse-stdlib`, which is also why it imports
// Swift by name): software prefetches, and x86's byte dot products. GPTKit stays in Swift alone;
// C intrinsics headers would be the only other way to these instructions.
//
// LLVM matches `vpmaddwd` from element loops (see GPTKernelCore's QuantizedKernels.swift) but
// not `vpmaddubsw`, whose pairwise sums saturate: the byte products of the quantized kernels, at
// twice the density of 16-bit ones, need it by name. Every function is emitted into its caller
// only (`@_alwaysEmitIntoClient`), so the instruction is compiled with the caller's target flags:
// call the x86 ones only from code built for AVX2 or later (GPTKernelsAVX2, GPTKernelsAVX512).
import Swift

/// Asks the CPU to bring the cache line holding `address` into all cache levels for reading
/// (`llvm.prefetch`: `prefetcht0` on x86, `prfm pldl1keep` on arm64). Never faults, whatever
/// the address: the kernels prefetch the next rows of a matrix without bounds checks.
@_alwaysEmitIntoClient @inline(__always)
public func prefetchForReading(_ address: UnsafeRawPointer) {
    Builtin.int_prefetch_RawPointer(address._rawValue, Int32(0)._value, Int32(3)._value, Int32(1)._value)
}

#if arch(x86_64)

/// `vpmaddubsw`: lane `i` is `u[2i]·s[2i] + u[2i+1]·s[2i+1]` (u unsigned, s signed), saturated
/// to Int16. Exact when every `u ≤ 128` and `|s| ≤ 127` (|sum| ≤ 32512).
@_alwaysEmitIntoClient @inline(__always)
public func x86MultiplyAddBytes(_ u: SIMD32<UInt8>, _ s: SIMD32<Int8>) -> SIMD16<Int16> {
    let a = unsafeBitCast(u, to: Builtin.Vec32xInt8.self)
    let b = unsafeBitCast(s, to: Builtin.Vec32xInt8.self)
    let r: Builtin.Vec16xInt16 = Builtin.int_x86_avx2_pmadd_ub_sw(a, b)
    return unsafeBitCast(r, to: SIMD16<Int16>.self)
}

/// `vpmaddwd`: lane `i` is `a[2i]·b[2i] + a[2i+1]·b[2i+1]` in 32 bits (wrapping only for
/// `a = b = −32768` in both pairs).
@_alwaysEmitIntoClient @inline(__always)
public func x86MultiplyAddWords(_ a: SIMD16<Int16>, _ b: SIMD16<Int16>) -> SIMD8<Int32> {
    let x = unsafeBitCast(a, to: Builtin.Vec16xInt16.self)
    let y = unsafeBitCast(b, to: Builtin.Vec16xInt16.self)
    let r: Builtin.Vec8xInt32 = Builtin.int_x86_avx2_pmadd_wd(x, y)
    return unsafeBitCast(r, to: SIMD8<Int32>.self)
}

/// `vpsignb`: lane `i` is `a[i]`, `−a[i]` or 0 as `b[i]` is positive, negative or 0 (−(−128)
/// wraps to −128).
@_alwaysEmitIntoClient @inline(__always)
public func x86SignBytes(_ a: SIMD32<Int8>, _ b: SIMD32<Int8>) -> SIMD32<Int8> {
    let x = unsafeBitCast(a, to: Builtin.Vec32xInt8.self)
    let y = unsafeBitCast(b, to: Builtin.Vec32xInt8.self)
    let r: Builtin.Vec32xInt8 = Builtin.int_x86_avx2_psign_b(x, y)
    return unsafeBitCast(r, to: SIMD32<Int8>.self)
}
#endif
