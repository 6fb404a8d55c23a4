// Plain reference versions of the kernels: straightforward loops, accumulated in Double. The
// tests compare the fast kernels against these. This target is for tests only: it is in no
// product, so it is not GPTKit's public API.
import Foundation

/// Slow, obviously-correct versions of the kernels in `Kernels`, computed in `Double`.
public enum ReferenceKernels {
    /// `C = (accumulate ? C : 0) + bias + op(A) · op(B)`; the same contract as `Kernels.sgemm`.
    public static func sgemm(
        m: Int, n: Int, k: Int,
        a: UnsafePointer<Float>, lda: Int? = nil, transposeA: Bool = false,
        b: UnsafePointer<Float>, ldb: Int? = nil, transposeB: Bool = false,
        c: UnsafeMutablePointer<Float>, ldc: Int? = nil,
        bias: UnsafePointer<Float>? = nil, accumulate: Bool = false
    ) {
        let lda = lda ?? (transposeA ? m : k), ldb = ldb ?? (transposeB ? k : n), ldc = ldc ?? n
        // Each element is summed in Double, in increasing p; the loop order only follows B's
        // layout so that large references stay quick.
        var totals = [Double](repeating: 0, count: n)
        for i in 0..<m {
            for j in 0..<n {
                totals[j] = accumulate ? Double(c[i * ldc + j]) : 0
                if let bias { totals[j] += Double(bias[j]) }
            }
            if transposeB {
                for j in 0..<n {
                    for p in 0..<k {
                        let x = transposeA ? a[p * lda + i] : a[i * lda + p]
                        totals[j] += Double(x) * Double(b[j * ldb + p])
                    }
                }
            } else {
                for p in 0..<k {
                    let x = Double(transposeA ? a[p * lda + i] : a[i * lda + p])
                    for j in 0..<n { totals[j] += x * Double(b[p * ldb + j]) }
                }
            }
            for j in 0..<n { c[i * ldc + j] = Float(totals[j]) }
        }
    }

    /// Row softmax; an all -inf row gives zeros.
    public static func softmaxRows(_ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, rows: Int, columns: Int) {
        for r in 0..<rows {
            let row = x + r * columns
            let maximum = (0..<columns).map { row[$0] }.max() ?? 0
            if maximum == -.infinity {
                for j in 0..<columns { y[r * columns + j] = 0 }
                continue
            }
            let exps = (0..<columns).map { Foundation.exp(Double(row[$0]) - Double(maximum)) }
            let total = exps.reduce(0, +)
            for j in 0..<columns { y[r * columns + j] = Float(exps[j] / total) }
        }
    }

    /// LayerNorm forward (biased variance), returning mean and rstd per row.
    public static func layerNorm(
        _ x: [Float], weight: [Float], bias: [Float]?, columns: Int, epsilon: Float
    ) -> (y: [Float], mean: [Float], rstd: [Float]) {
        let rows = x.count / columns
        var y = [Float](repeating: 0, count: x.count), means = [Float](), rstds = [Float]()
        for r in 0..<rows {
            let row = x[(r * columns)..<((r + 1) * columns)].map(Double.init)
            let mean = row.reduce(0, +) / Double(columns)
            let variance = row.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(columns)
            let rstd = 1 / (variance + Double(epsilon)).squareRoot()
            for j in 0..<columns {
                y[r * columns + j] = Float((row[j] - mean) * rstd * Double(weight[j]) + Double(bias?[j] ?? 0))
            }
            means.append(Float(mean)); rstds.append(Float(rstd))
        }
        return (y, means, rstds)
    }

    /// LayerNorm backward: (dx, dweight, dbias) for upstream `dy`.
    public static func layerNormBackward(
        dy: [Float], x: [Float], weight: [Float], columns: Int, epsilon: Float
    ) -> (dx: [Float], dweight: [Float], dbias: [Float]) {
        let rows = x.count / columns
        var dx = [Float](repeating: 0, count: x.count)
        var dw = [Double](repeating: 0, count: columns), db = [Double](repeating: 0, count: columns)
        for r in 0..<rows {
            let row = x[(r * columns)..<((r + 1) * columns)].map(Double.init)
            let g = dy[(r * columns)..<((r + 1) * columns)].map(Double.init)
            let mean = row.reduce(0, +) / Double(columns)
            let variance = row.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(columns)
            let rstd = 1 / (variance + Double(epsilon)).squareRoot()
            let norm = row.map { ($0 - mean) * rstd }
            let dNorm = (0..<columns).map { g[$0] * Double(weight[$0]) }
            let meanDNorm = dNorm.reduce(0, +) / Double(columns)
            let meanDNormNorm = zip(dNorm, norm).map(*).reduce(0, +) / Double(columns)
            for j in 0..<columns {
                dx[r * columns + j] = Float((dNorm[j] - meanDNorm - norm[j] * meanDNormNorm) * rstd)
                dw[j] += g[j] * norm[j]
                db[j] += g[j]
            }
        }
        return (dx, dw.map(Float.init), db.map(Float.init))
    }

    /// RMSNorm forward.
    public static func rmsNorm(_ x: [Float], weight: [Float], columns: Int, epsilon: Float) -> [Float] {
        var y = [Float](repeating: 0, count: x.count)
        for r in 0..<(x.count / columns) {
            let row = x[(r * columns)..<((r + 1) * columns)].map(Double.init)
            let rstd = 1 / (row.map { $0 * $0 }.reduce(0, +) / Double(columns) + Double(epsilon)).squareRoot()
            for j in 0..<columns { y[r * columns + j] = Float(row[j] * rstd * Double(weight[j])) }
        }
        return y
    }

    /// GELU, tanh form, in Double.
    public static func gelu(_ x: Float) -> Float {
        let v = Double(x)
        return Float(0.5 * v * (1 + Foundation.tanh((2 / Double.pi).squareRoot() * (v + 0.044715 * v * v * v))))
    }

    /// SiLU in Double.
    public static func silu(_ x: Float) -> Float {
        let v = Double(x)
        return Float(v / (1 + Foundation.exp(-v)))
    }
}

// MARK: - Cross-entropy

extension ReferenceKernels {
    /// Cross-entropy in Double: the mean loss over counted rows, the count, and the gradient of
    /// `lossScale ·` (the weighted mean) with respect to the logits. The contract of
    /// `Kernels.crossEntropyForward`, and of `crossEntropyBackward` with `scale = lossScale / count`.
    public static func crossEntropy(
        logits: [Float], targets: [Int32], weights: [Float]?, vocabulary: Int, ignoreIndex: Int32 = -100, lossScale: Float = 1
    ) -> (loss: Float, count: Float, gradient: [Float]) {
        let rows = targets.count
        var total = 0.0, count = 0.0
        var rowWeights = [Double](repeating: 0, count: rows)
        var softmax = [Double](repeating: 0, count: logits.count)
        for r in 0..<rows {
            let row = (0..<vocabulary).map { Double(logits[r * vocabulary + $0]) }
            let maximum = row.max()!
            let lse = maximum + Foundation.log(row.map { Foundation.exp($0 - maximum) }.reduce(0, +))
            for j in 0..<vocabulary { softmax[r * vocabulary + j] = Foundation.exp(row[j] - lse) }
            guard targets[r] != ignoreIndex else { continue }
            let w = Double(weights?[r] ?? 1)
            rowWeights[r] = w
            total += w * (lse - row[Int(targets[r])])
            count += w
        }
        var gradient = [Float](repeating: 0, count: logits.count)
        if count > 0 {
            for r in 0..<rows where rowWeights[r] != 0 {
                for j in 0..<vocabulary {
                    let oneHot: Double = j == Int(targets[r]) ? 1 : 0
                    gradient[r * vocabulary + j] = Float(Double(lossScale) * rowWeights[r] / count * (softmax[r * vocabulary + j] - oneHot))
                }
            }
        }
        return (count > 0 ? Float(total / count) : 0, Float(count), gradient)
    }
}
