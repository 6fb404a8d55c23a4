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
import Foundation

extension ElementKernels {

    /// Cross-entropy forward: writes `statistics[R, 2]` (m, s per row) and `losses[R]` (see the file's legend) and
    /// returns the mean loss over counted rows and the count (Σ w). Targets other than
    /// `ignoreIndex` must be in `0..<vocabulary` (callers check).
    ///
    /// ```swift
    /// let (loss, count) = Kernels.crossEntropyForward(logits: l, targets: t, weights: nil, rows: B * T,
    ///                                                 vocabulary: V, statistics: stats, losses: perRow)
    /// ```
    @inlinable
    public static func crossEntropyForward(
        logits: UnsafePointer<Float>, targets: UnsafePointer<Int32>, weights: UnsafePointer<Float>?,
        rows: Int, vocabulary: Int, ignoreIndex: Int32 = -100,
        statistics: UnsafeMutablePointer<Float>, losses: UnsafeMutablePointer<Float>
    ) -> (loss: Float, count: Float) {
        precondition(vocabulary > 0, "crossEntropyForward: empty vocabulary")
        forEachRange(rows, grain: Swift.max(1, elementwiseParallelThreshold / vocabulary)) { range in
            for r in range {
                let row = logits + r &* vocabulary
                let (maximum, logSum) = rowLogSumExp(row, vocabulary)
                statistics[2 &* r] = maximum
                statistics[2 &* r &+ 1] = logSum
                let target = targets[r]
                let weight = rowWeight(target, r, weights, ignoreIndex)
                if weight == 0 {
                    losses[r] = 0
                } else {
                    precondition(target >= 0 && Int(target) < vocabulary, "crossEntropyForward: target \(target) out of range")
                    losses[r] = weight * ((maximum - row[Int(target)]) + logSum)
                }
            }
        }
        var total = 0.0, count = 0.0
        for r in 0..<rows {
            total += Double(losses[r])
            count += Double(rowWeight(targets[r], r, weights, ignoreIndex))
        }
        return (count > 0 ? Float(total / count) : 0, Float(count))
    }

    /// Cross-entropy backward: writes `gradient[R, V]` = `scale · w · (softmax − one-hot)`, zero
    /// rows for ignored targets, from the forward pass's `statistics [R, 2]`. `gradient` may
    /// alias `logits` (the gradient then replaces them).
    @inlinable
    public static func crossEntropyBackward(
        logits: UnsafePointer<Float>, statistics: UnsafePointer<Float>, targets: UnsafePointer<Int32>,
        weights: UnsafePointer<Float>?, rows: Int, vocabulary: Int, ignoreIndex: Int32 = -100,
        scale: Float, gradient: UnsafeMutablePointer<Float>
    ) {
        forEachRange(rows, grain: Swift.max(1, elementwiseParallelThreshold / vocabulary)) { range in
            for r in range {
                let row = logits + r &* vocabulary, out = gradient + r &* vocabulary
                let target = targets[r]
                let factor = scale * rowWeight(target, r, weights, ignoreIndex)
                if factor == 0 {
                    out.update(repeating: 0, count: vocabulary)
                    continue
                }
                let maximum = statistics[2 &* r], logSum = statistics[2 &* r &+ 1]
                let shift = KernelVector(repeating: maximum), logSumVector = KernelVector(repeating: logSum), f = KernelVector(repeating: factor)
                var j = 0
                while j &+ 8 <= vocabulary {
                    out.storeVector(vectorExp((row.loadVector(KernelVector.self, at: j) - shift) - logSumVector) * f, at: j)
                    j &+= 8
                }
                while j < vocabulary { out[j] = scalarExp((row[j] - maximum) - logSum) * factor; j &+= 1 }
                out[Int(target)] -= factor
            }
        }
    }

    /// The maximum m of one row and log Σ exp(x[i] − m).
    @inlinable
    static func rowLogSumExp(_ x: UnsafePointer<Float>, _ n: Int) -> (maximum: Float, logSum: Float) {
        var maxVector = KernelVector(repeating: -.infinity)
        var i = 0
        while i &+ 8 <= n { maxVector = vectorMax(maxVector, x.loadVector(KernelVector.self, at: i)); i &+= 8 }
        var maximum = maxVector.max()
        while i < n { maximum = Swift.max(maximum, x[i]); i &+= 1 }
        if !maximum.isFinite { return (maximum, 0) }
        let shift = KernelVector(repeating: maximum)
        var sumVector = KernelVector()
        i = 0
        while i &+ 8 <= n { sumVector += vectorExp(x.loadVector(KernelVector.self, at: i) - shift); i &+= 8 }
        var total = sumVector.sum()
        while i < n { total += scalarExp(x[i] - maximum); i &+= 1 }
        return (maximum, Foundation.log(total))
    }

    @inlinable @inline(__always)
    static func rowWeight(_ target: Int32, _ r: Int, _ weights: UnsafePointer<Float>?, _ ignoreIndex: Int32) -> Float {
        target == ignoreIndex ? 0 : (weights?[r] ?? 1)
    }
}
