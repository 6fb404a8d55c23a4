// Kernels for any CPU, built with the compiler's default target: baseline x86-64 (SSE2, no FMA:
// multiply then add) or arm64 (NEON, whose FMA is always present).
// Everything here is a thin, non-inlinable entry point: the generic kernels of GPTKernelCore are
// specialised and compiled in this target.
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import GPTKernelCore

#if arch(arm64)
/// The multiply-add of this target: fused on arm64.
public typealias PortableMultiplyAdd = FusedMultiplyAdd
#else
/// The multiply-add of this target: separate on baseline x86-64, which may lack FMA.
public typealias PortableMultiplyAdd = SeparateMultiplyAdd
#endif

/// The portable SGEMM register tile: 6 × 8 of `SIMD4` (12 of 16 SSE registers), or 6 × 16 on
/// arm64's 32 NEON registers.
public enum PortableTile: SGEMMTile {
    #if arch(arm64)
    /// Columns of the register tile.
    public static var nr: Int { 16 }
    #else
    /// Columns of the register tile.
    public static var nr: Int { 8 }
    #endif
    /// Rows of the register tile.
    public static var mr: Int { 6 }
    /// Depth of a packed block.
    public static var kc: Int { 256 }
    /// Rows of a packed A block.
    public static var mc: Int { 120 }
    /// Columns of a packed B block.
    public static var nc: Int { 4080 }
    /// The register-tile micro-kernel (see `SGEMMTile`).
    @inline(never)
    public static func kernel(
        kc: Int, a: UnsafePointer<Float>, b: UnsafePointer<Float>,
        c: UnsafeMutablePointer<Float>, ldc: Int, overwrite: Bool
    ) {
        #if arch(arm64)
        sgemmKernel6x4(SIMD4<Float>.self, PortableMultiplyAdd.self, kc: kc, a: a, b: b, c: c, ldc: ldc, overwrite: overwrite)
        #else
        sgemmKernel6x2(SIMD4<Float>.self, PortableMultiplyAdd.self, kc: kc, a: a, b: b, c: c, ldc: ldc, overwrite: overwrite)
        #endif
    }
}

/// Kernels for any CPU (see `KernelSet`).
public enum PortableKernels: KernelSet {
    /// The instruction set this target is built for.
    public static var name: String { "portable" }

    /// Blocked SGEMM (see `KernelSet.sgemm`).
    public static func sgemm(
        m: Int, n: Int, k: Int,
        a: UnsafePointer<Float>, lda: Int, transposeA: Bool,
        b: UnsafePointer<Float>, ldb: Int, transposeB: Bool,
        c: UnsafeMutablePointer<Float>, ldc: Int,
        bias: UnsafePointer<Float>?, accumulate: Bool, threads: Int
    ) {
        sgemmBlocked(
            PortableTile.self, m: m, n: n, k: k, a: a, lda: lda, transposeA: transposeA,
            b: b, ldb: ldb, transposeB: transposeB, c: c, ldc: ldc,
            bias: bias, accumulate: accumulate, threads: threads)
    }

    /// Matrix-vector product x·Wᵀ (see `KernelSet.sgemvRows`).
    public static func sgemvRows(
        n: Int, k: Int, w: UnsafePointer<Float>, ldw: Int, rows: Int, x: UnsafePointer<Float>, ldx: Int,
        y: UnsafeMutablePointer<Float>, ldy: Int, bias: UnsafePointer<Float>?, accumulate: Bool, threads: Int
    ) {
        GPTKernelCore.sgemvRows(
            SIMD8<Float>.self, PortableMultiplyAdd.self, n: n, k: k, w: w, ldw: ldw, rows: rows, x: x, ldx: ldx, y: y, ldy: ldy,
            bias: bias, accumulate: accumulate, threads: threads)
    }

    /// Matrix-vector product x·B (see `KernelSet.sgemvColumns`).
    public static func sgemvColumns(
        n: Int, k: Int, b: UnsafePointer<Float>, ldb: Int, x: UnsafePointer<Float>,
        y: UnsafeMutablePointer<Float>, bias: UnsafePointer<Float>?, accumulate: Bool, threads: Int
    ) {
        GPTKernelCore.sgemvColumns(
            SIMD8<Float>.self, PortableMultiplyAdd.self, n: n, k: k, b: b, ldb: ldb, x: x, y: y,
            bias: bias, accumulate: accumulate, threads: threads)
    }
}
