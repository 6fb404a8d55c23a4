// The element-wise kernels (softmax, norms, activations, attention, cross-entropy), generic over
// the kernel set that specialises them: each per-ISA target compiles its own copy with its own
// vector instructions, as it does the SGEMM, and GPTTensor calls the one chosen at run time.
//
// They compute on `KernelVector` (eight floats) on every instruction set and never fuse a
// multiply with an add, so every kernel set gives the same bits; only the speed differs.

/// The namespace of the element-wise kernels specialised for the kernel set `K` (whose SGEMM
/// they call for the products inside attention).
public enum ElementKernels<K: KernelSet> {
    /// Below this many elements an element-wise kernel runs on the calling thread.
    @inlinable public static var elementwiseParallelThreshold: Int { 1 << 18 }

    /// Runs `body` over `0..<count` split into contiguous ranges, in parallel when `count` is
    /// at least `grain` per thread.
    @inlinable
    static func forEachRange(_ count: Int, grain: Int, _ body: (Range<Int>) -> Void) {
        let tasks = Swift.max(1, Swift.min(Parallel.threadCount, count / Swift.max(1, grain)))
        Parallel.forEachTask(tasks) { body(evenSplit(count, parts: tasks, index: $0)) }
    }

    /// `Kernels.sgemm`'s contract on `K`'s products (a single row, or up to `sgemvRowLimit` rows
    /// against a row-major W, take the matrix-vector path):
    /// the one place that chooses between K's SGEMM and its matrix-vector products.
    @inlinable
    public static func sgemm(
        m: Int, n: Int, k: Int,
        a: UnsafePointer<Float>, lda: Int? = nil, transposeA: Bool = false,
        b: UnsafePointer<Float>, ldb: Int? = nil, transposeB: Bool = false,
        c: UnsafeMutablePointer<Float>, ldc: Int? = nil,
        bias: UnsafePointer<Float>? = nil, accumulate: Bool = false, threads: Int
    ) {
        let lda = lda ?? (transposeA ? m : k), ldb = ldb ?? (transposeB ? k : n), ldc = ldc ?? n
        if transposeB && k > 0 && m <= sgemvRowLimit && (!transposeA || m == 1 && lda == 1) {
            K.sgemvRows(n: n, k: k, w: b, ldw: ldb, rows: m, x: a, ldx: transposeA ? 1 : lda, y: c, ldy: ldc, bias: bias,
                        accumulate: accumulate, threads: threads)
            return
        }
        if m == 1 && k > 0 && (!transposeA || lda == 1) {
            K.sgemvColumns(n: n, k: k, b: b, ldb: ldb, x: a, y: c, bias: bias, accumulate: accumulate, threads: threads)
            return
        }
        K.sgemm(m: m, n: n, k: k, a: a, lda: lda, transposeA: transposeA, b: b, ldb: ldb, transposeB: transposeB,
                c: c, ldc: ldc, bias: bias, accumulate: accumulate, threads: threads)
    }
}
