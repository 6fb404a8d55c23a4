// Matrix products: the three forms a Transformer needs, on raw pointers and on tensors.
import GPTKernelCore

/// The compute kernels of GPTKit, on raw pointers. Every loop over elements lives here;
/// The `GPTTestSupport` target holds a plain version of each, used by the tests only.
///
/// Size names follow llm.c: B batch, T time, C channels, NH heads, HS head size, V vocabulary;
/// and M, N, K for matrix products.
public enum Kernels {
    /// The instruction set whose kernels this process uses.
    public static let instructionSet = InstructionSet.best
    @usableFromInline static let active: any KernelSet.Type = instructionSet.kernels

    // MARK: - SGEMM

    /// Up to this many rows, `sgemm` in the A·Bᵀ form streams B once for all rows (the
    /// matrix-vector path) instead of packing it for the blocked product.
    public static var sgemvRowLimit: Int { GPTKernelCore.sgemvRowLimit }

    /// `C = (accumulate ? C : 0) + bias + op(A) · op(B)`, with op(A) `[m, k]` and op(B) `[k, n]`.
    ///
    /// - `transposeA == false`: A is stored `[m, k]` (rows `lda` apart); `true`: A is stored
    ///   `[k, m]` and used transposed (Aᵀ·B, the weight-gradient form).
    /// - `transposeB == false`: B is stored `[k, n]`; `true`: B is stored `[n, k]` and used
    ///   transposed (A·Bᵀ, the `nn.Linear` forward form with weights `[out, in]`).
    /// - `bias`, if given, has `n` elements and is added to every row.
    /// - C is `[m, n]` with rows `ldc` apart. Leading dimensions default to the packed ones.
    ///
    /// Runs on `Parallel.threadCount` threads; the result is bit-identical for any count. A
    /// single row (`m == 1`), or up to `sgemvRowLimit` rows in the A·Bᵀ form (sequences decoded
    /// together), takes the memory-bound matrix-vector path, where each row's result is exactly
    /// its one-row product.
    ///
    /// ```swift
    /// // y[M, N] = x[M, K] · W[N, K]ᵀ + b
    /// Kernels.sgemm(m: M, n: N, k: K, a: x, b: w, transposeB: true, c: y, bias: b)
    /// ```
    public static func sgemm(
        m: Int, n: Int, k: Int,
        a: UnsafePointer<Float>, lda: Int? = nil, transposeA: Bool = false,
        b: UnsafePointer<Float>, ldb: Int? = nil, transposeB: Bool = false,
        c: UnsafeMutablePointer<Float>, ldc: Int? = nil,
        bias: UnsafePointer<Float>? = nil, accumulate: Bool = false,
        threads: Int = Parallel.threadCount
    ) {
        precondition(m >= 0 && n >= 0 && k >= 0, "sgemm: negative size")
        func run<K: KernelSet>(_: K.Type) {
            ElementKernels<K>.sgemm(m: m, n: n, k: k, a: a, lda: lda, transposeA: transposeA, b: b, ldb: ldb, transposeB: transposeB,
                                    c: c, ldc: ldc, bias: bias, accumulate: accumulate, threads: threads)
        }
        run(active)
    }
}

// MARK: - Tensor form

extension Tensor {
    /// The matrix product `op(self) · op(other)` of two rank-2 tensors.
    ///
    /// ```swift
    /// let y = try x.matmul(w, transposeOther: true)   // x[M, K] · w[N, K]ᵀ → [M, N]
    /// ```
    /// - Throws: `TensorError.shapeMismatch` if the inner dimensions differ or a rank is not 2.
    public func matmul(
        _ other: Tensor, transposeSelf: Bool = false, transposeOther: Bool = false, bias: Tensor? = nil
    ) throws -> Tensor {
        guard rank == 2, other.rank == 2 else {
            throw TensorError.shapeMismatch("matmul needs rank-2 tensors, got \(shape) and \(other.shape)")
        }
        let (m, k) = transposeSelf ? (shape[1], shape[0]) : (shape[0], shape[1])
        let (k2, n) = transposeOther ? (other.shape[1], other.shape[0]) : (other.shape[0], other.shape[1])
        guard k == k2 else {
            throw TensorError.shapeMismatch("matmul inner dimensions \(k) and \(k2) (\(shape) · \(other.shape))")
        }
        if let bias, bias.count != n {
            throw TensorError.shapeMismatch("bias has \(bias.count) elements for \(n) columns")
        }
        var result = Tensor(zeros: [m, n])
        withUnsafeBufferPointer { a in
            other.withUnsafeBufferPointer { b in
                result.withUnsafeMutableBufferPointer { c in
                    let run = { (biasPointer: UnsafePointer<Float>?) in
                        Kernels.sgemm(m: m, n: n, k: k, a: a.baseAddress!, transposeA: transposeSelf,
                                      b: b.baseAddress!, transposeB: transposeOther, c: c.baseAddress!,
                                      bias: biasPointer)
                    }
                    if let bias { bias.withUnsafeBufferPointer { run($0.baseAddress) } } else { run(nil) }
                }
            }
        }
        return result
    }
}
