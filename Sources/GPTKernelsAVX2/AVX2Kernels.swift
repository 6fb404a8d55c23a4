// The AVX2 + FMA kernel set (x86-64-v3): 6×16 SGEMM tiles of SIMD8.
// Everything here is a thin, non-inlinable entry point: the generic kernels of GPTKernelCore are
// specialised and compiled in this target, with this target's instruction-set flags.
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import GPTKernelCore

/// The SGEMM register tile of this instruction set: 6 rows × 2 vectors of `SIMD8<Float>`.
public enum AVX2Tile: SGEMMTile {
    /// Rows of the register tile.
    public static var mr: Int { 6 }
    /// Columns of the register tile.
    public static var nr: Int { 2 * SIMD8<Float>.scalarCount }
    /// Depth of a packed block (at most; K is split into balanced blocks). 768 covers GPT-2's K
    /// in one block, so C is written once instead of read and written per block.
    public static var kc: Int { 768 }
    /// Rows of a packed A block (at most): 96 × 768 floats, 288 KiB, stays in a 512 KiB L2.
    public static var mc: Int { 96 }
    /// Columns of a packed B block: 768 × 512 floats, 1.5 MiB per thread, stays in L3.
    public static var nc: Int { 512 }
    /// The register-tile micro-kernel (see `SGEMMTile`).
    @inline(never)
    public static func kernel(
        kc: Int, a: UnsafePointer<Float>, b: UnsafePointer<Float>,
        c: UnsafeMutablePointer<Float>, ldc: Int, overwrite: Bool
    ) {
        sgemmKernel6x2(SIMD8<Float>.self, FusedMultiplyAdd.self, kc: kc, a: a, b: b, c: c, ldc: ldc, overwrite: overwrite)
    }
}

/// Kernels compiled for this instruction set (see `KernelSet`).
public enum AVX2Kernels: KernelSet {
    /// The instruction set this target is built for.
    public static var name: String { "avx2" }

    /// Blocked SGEMM (see `KernelSet.sgemm`).
    public static func sgemm(
        m: Int, n: Int, k: Int,
        a: UnsafePointer<Float>, lda: Int, transposeA: Bool,
        b: UnsafePointer<Float>, ldb: Int, transposeB: Bool,
        c: UnsafeMutablePointer<Float>, ldc: Int,
        bias: UnsafePointer<Float>?, accumulate: Bool, threads: Int
    ) {
        sgemmBlocked(
            AVX2Tile.self, m: m, n: n, k: k, a: a, lda: lda, transposeA: transposeA,
            b: b, ldb: ldb, transposeB: transposeB, c: c, ldc: ldc,
            bias: bias, accumulate: accumulate, threads: threads)
    }

    /// Matrix-vector product x·Wᵀ (see `KernelSet.sgemvRows`).
    public static func sgemvRows(
        n: Int, k: Int, w: UnsafePointer<Float>, ldw: Int, rows: Int, x: UnsafePointer<Float>, ldx: Int,
        y: UnsafeMutablePointer<Float>, ldy: Int, bias: UnsafePointer<Float>?, accumulate: Bool, threads: Int
    ) {
        GPTKernelCore.sgemvRows(
            SIMD8<Float>.self, FusedMultiplyAdd.self, n: n, k: k, w: w, ldw: ldw, rows: rows, x: x, ldx: ldx, y: y, ldy: ldy,
            bias: bias, accumulate: accumulate, threads: threads)
    }

    /// Matrix-vector product x·B (see `KernelSet.sgemvColumns`).
    public static func sgemvColumns(
        n: Int, k: Int, b: UnsafePointer<Float>, ldb: Int, x: UnsafePointer<Float>,
        y: UnsafeMutablePointer<Float>, bias: UnsafePointer<Float>?, accumulate: Bool, threads: Int
    ) {
        GPTKernelCore.sgemvColumns(
            SIMD8<Float>.self, FusedMultiplyAdd.self, n: n, k: k, b: b, ldb: ldb, x: x, y: y,
            bias: bias, accumulate: accumulate, threads: threads)
    }
}
