// The interface every per-ISA kernel target implements; GPTTensor picks one at run time.

/// A set of compute kernels compiled for one instruction set.
public protocol KernelSet: Sendable {
    /// A short name, for example "avx2".
    static var name: String { get }
    /// See `sgemmBlocked` for the contract.
    static func sgemm(
        m: Int, n: Int, k: Int,
        a: UnsafePointer<Float>, lda: Int, transposeA: Bool,
        b: UnsafePointer<Float>, ldb: Int, transposeB: Bool,
        c: UnsafeMutablePointer<Float>, ldc: Int,
        bias: UnsafePointer<Float>?, accumulate: Bool, threads: Int)
    /// See `sgemvRows`.
    static func sgemvRows(
        n: Int, k: Int, w: UnsafePointer<Float>, ldw: Int, x: UnsafePointer<Float>,
        y: UnsafeMutablePointer<Float>, bias: UnsafePointer<Float>?, accumulate: Bool, threads: Int)
    /// See `sgemvColumns`.
    static func sgemvColumns(
        n: Int, k: Int, b: UnsafePointer<Float>, ldb: Int, x: UnsafePointer<Float>,
        y: UnsafeMutablePointer<Float>, bias: UnsafePointer<Float>?, accumulate: Bool, threads: Int)
}
