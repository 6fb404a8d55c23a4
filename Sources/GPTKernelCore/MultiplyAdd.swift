// How a kernel forms `a * b + c` on SIMD vectors.
//
// Swift never contracts `a * b + c` into a fused multiply-add on its own, and `addingProduct`
// becomes a scalar `fmaf` call per lane on a target without FMA instructions (measured: ~1.5
// GFLOP/s). Kernels are therefore generic over this strategy, and each per-ISA target picks the
// one its instruction set executes natively.
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A way to compute `c + a * b` lane-wise on SIMD vectors of `Float`.
public protocol MultiplyAddStrategy {
    /// Returns `c + a * b` for every lane.
    static func multiplyAdd<V: SIMD>(_ a: V, _ b: V, _ c: V) -> V where V.Scalar == Float
}

/// One rounding per lane: a hardware FMA instruction. Use only on targets that have one
/// (x86-64-v3 and later, arm64), or every lane becomes a library call.
public enum FusedMultiplyAdd: MultiplyAddStrategy {
    /// Returns `c + a * b` for every lane.
    @inlinable @inline(__always)
    public static func multiplyAdd<V: SIMD>(_ a: V, _ b: V, _ c: V) -> V where V.Scalar == Float {
        c.addingProduct(a, b)
    }
}

/// A multiply then an add, each rounded: the fast choice on baseline x86-64 (SSE2).
public enum SeparateMultiplyAdd: MultiplyAddStrategy {
    /// Returns `c + a * b` for every lane.
    @inlinable @inline(__always)
    public static func multiplyAdd<V: SIMD>(_ a: V, _ b: V, _ c: V) -> V where V.Scalar == Float {
        a * b + c
    }
}

extension UnsafePointer where Pointee == Float {
    /// Loads a SIMD vector from `self + offset` with no alignment requirement.
    @inlinable @inline(__always)
    public func loadVector<V: SIMD>(_: V.Type = V.self, at offset: Int) -> V where V.Scalar == Float {
        UnsafeRawPointer(self + offset).loadUnaligned(as: V.self)
    }
}

extension UnsafeMutablePointer where Pointee == Float {
    /// Loads a SIMD vector from `self + offset` with no alignment requirement.
    @inlinable @inline(__always)
    public func loadVector<V: SIMD>(_: V.Type = V.self, at offset: Int) -> V where V.Scalar == Float {
        UnsafeRawPointer(self + offset).loadUnaligned(as: V.self)
    }

    /// Stores a SIMD vector at `self + offset` with no alignment requirement.
    @inlinable @inline(__always)
    public func storeVector<V: SIMD>(_ value: V, at offset: Int) where V.Scalar == Float {
        UnsafeMutableRawPointer(self + offset).storeBytes(of: value, as: V.self)
    }
}
