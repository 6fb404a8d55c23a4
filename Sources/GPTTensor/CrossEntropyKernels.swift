// Softmax cross-entropy over the vocabulary, forward and backward, with ignored targets and
// per-token weights.
//
// Legend: R rows (B·T token positions), V vocabulary.
//   m[r] = max_j logits[r, j],  s[r] = log Σ_j exp(logits[r, j] − m[r])   (never overflows)
//   loss[r]  = w[r] · ((m[r] − logits[r, target[r]]) + s[r])  (0 where target = ignoreIndex)
//   mean     = Σ_r loss[r] / Σ_r w[r]                          (counted rows only; 0 if none)
//   dlogits[r, j] = scale · w[r] · (exp((logits[r, j] − m[r]) − s[r]) − [j = target[r]])
// Keeping m and s apart (rather than m + s) keeps full precision when logits are large.
// w[r] is 1 when no weights are given, and 0 for an ignored row. The caller passes
// scale = lossScale / Σ w to get the gradient of the mean. Rows are split across threads; the
// per-row losses are added in row order (in Double), so results do not depend on the thread count.
// The implementation is `ElementKernels` (GPTKernelCore), compiled per instruction set; these
// entry points call the kernel set chosen at run time.
import GPTKernelCore

extension Kernels {
    /// The target value that marks a position as not counted (as PyTorch's `ignore_index`).
    public static let ignoreIndex: Int32 = -100

    /// Cross-entropy forward: writes `statistics[R, 2]` (m, s per row) and `losses[R]` (see the file's legend) and
    /// returns the mean loss over counted rows and the count (Σ w). Targets other than
    /// `ignoreIndex` must be in `0..<vocabulary` (callers check).
    ///
    /// ```swift
    /// let (loss, count) = Kernels.crossEntropyForward(logits: l, targets: t, weights: nil, rows: B * T,
    ///                                                 vocabulary: V, statistics: stats, losses: perRow)
    /// ```
    public static func crossEntropyForward(logits: UnsafePointer<Float>, targets: UnsafePointer<Int32>, weights: UnsafePointer<Float>?, rows: Int, vocabulary: Int, ignoreIndex: Int32 = Kernels.ignoreIndex, statistics: UnsafeMutablePointer<Float>, losses: UnsafeMutablePointer<Float>) -> (loss: Float, count: Float) {
        active.crossEntropyForward(logits: logits, targets: targets, weights: weights, rows: rows, vocabulary: vocabulary, ignoreIndex: ignoreIndex, statistics: statistics, losses: losses)
    }

    /// Cross-entropy backward: writes `gradient[R, V]` = `scale · w · (softmax − one-hot)`, zero
    /// rows for ignored targets, from the forward pass's `statistics [R, 2]`. `gradient` may
    /// alias `logits` (the gradient then replaces them).
    public static func crossEntropyBackward(logits: UnsafePointer<Float>, statistics: UnsafePointer<Float>, targets: UnsafePointer<Int32>, weights: UnsafePointer<Float>?, rows: Int, vocabulary: Int, ignoreIndex: Int32 = Kernels.ignoreIndex, scale: Float, gradient: UnsafeMutablePointer<Float>) {
        active.crossEntropyBackward(logits: logits, statistics: statistics, targets: targets, weights: weights, rows: rows, vocabulary: vocabulary, ignoreIndex: ignoreIndex, scale: scale, gradient: gradient)
    }
}
