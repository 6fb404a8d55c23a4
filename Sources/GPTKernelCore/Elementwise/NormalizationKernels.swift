// LayerNorm and RMSNorm over the last dimension, forward and backward.
//
// Forward and the input gradient split rows across threads. The parameter gradients are sums
// over rows; they are computed in a second pass split across columns, each column summed over
// rows in order, so every result is bit-identical for any thread count.

extension ElementKernels {
    // MARK: - LayerNorm (as torch.nn.LayerNorm, biased variance)

    /// `y = (x − mean) · rstd · weight + bias` per row of `columns`; saves `mean[rows]` and
    /// `rstd[rows]` (rstd = 1/√(var + eps), var the biased variance) for the backward pass.
    @inlinable
    public static func layerNormForward(
        x: UnsafePointer<Float>, weight: UnsafePointer<Float>, bias: UnsafePointer<Float>?,
        y: UnsafeMutablePointer<Float>, mean: UnsafeMutablePointer<Float>, rstd: UnsafeMutablePointer<Float>,
        rows: Int, columns: Int, epsilon: Float
    ) {
        let c = columns
        forEachRange(rows, grain: grainForRows(c)) { range in
            for r in range {
                let row = x + r &* c, out = y + r &* c
                var total: Float = 0
                for j in 0..<c { total += row[j] }
                let mu = total / Float(c)
                var squares: Float = 0
                for j in 0..<c { let d = row[j] - mu; squares += d * d }
                let s = 1 / (squares / Float(c) + epsilon).squareRoot()
                for j in 0..<c {
                    let normalized = (row[j] - mu) * s
                    out[j] = normalized * weight[j] + (bias?[j] ?? 0)
                }
                mean[r] = mu
                rstd[r] = s
            }
        }
    }

    /// LayerNorm's backward pass: writes (or, with `accumulateInput`, adds into) `dx`, and adds
    /// into `dweight` and `dbias`.
    @inlinable
    public static func layerNormBackward(
        dy: UnsafePointer<Float>, x: UnsafePointer<Float>, weight: UnsafePointer<Float>,
        mean: UnsafePointer<Float>, rstd: UnsafePointer<Float>,
        dx: UnsafeMutablePointer<Float>, dweight: UnsafeMutablePointer<Float>, dbias: UnsafeMutablePointer<Float>?,
        rows: Int, columns: Int, accumulateInput: Bool = false
    ) {
        let c = columns
        forEachRange(rows, grain: grainForRows(c)) { range in
            for r in range {
                let g = dy + r &* c, row = x + r &* c, out = dx + r &* c
                let mu = mean[r], s = rstd[r]
                var meanDNorm: Float = 0, meanDNormNorm: Float = 0
                for j in 0..<c {
                    let dNorm = g[j] * weight[j]
                    meanDNorm += dNorm
                    meanDNormNorm += dNorm * (row[j] - mu) * s
                }
                meanDNorm /= Float(c)
                meanDNormNorm /= Float(c)
                for j in 0..<c {
                    let normalized = (row[j] - mu) * s
                    let value = (g[j] * weight[j] - meanDNorm - normalized * meanDNormNorm) * s
                    out[j] = accumulateInput ? out[j] + value : value
                }
            }
        }
        forEachRange(c, grain: Swift.max(8, c / Swift.max(1, (rows &* c) / elementwiseParallelThreshold))) { range in
            for r in 0..<rows {
                let g = dy + r &* c, row = x + r &* c
                let mu = mean[r], s = rstd[r]
                for j in range {
                    dweight[j] += g[j] * (row[j] - mu) * s
                    dbias?[j] += g[j]
                }
            }
        }
    }

    // MARK: - RMSNorm (as Llama's: x · rsqrt(mean(x²) + eps) · weight)

    /// `y = x · rstd · weight` per row, rstd = 1/√(mean(x²) + eps); saves `rstd[rows]`.
    @inlinable
    public static func rmsNormForward(
        x: UnsafePointer<Float>, weight: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>,
        rstd: UnsafeMutablePointer<Float>, rows: Int, columns: Int, epsilon: Float
    ) {
        let c = columns
        forEachRange(rows, grain: grainForRows(c)) { range in
            for r in range {
                let row = x + r &* c, out = y + r &* c
                var squares: Float = 0
                for j in 0..<c { squares += row[j] * row[j] }
                let s = 1 / (squares / Float(c) + epsilon).squareRoot()
                for j in 0..<c { out[j] = row[j] * s * weight[j] }
                rstd[r] = s
            }
        }
    }

    /// RMSNorm's backward pass: writes (or adds into) `dx`, adds into `dweight`.
    @inlinable
    public static func rmsNormBackward(
        dy: UnsafePointer<Float>, x: UnsafePointer<Float>, weight: UnsafePointer<Float>, rstd: UnsafePointer<Float>,
        dx: UnsafeMutablePointer<Float>, dweight: UnsafeMutablePointer<Float>,
        rows: Int, columns: Int, accumulateInput: Bool = false
    ) {
        let c = columns
        forEachRange(rows, grain: grainForRows(c)) { range in
            for r in range {
                let g = dy + r &* c, row = x + r &* c, out = dx + r &* c
                let s = rstd[r]
                var meanDNormNorm: Float = 0
                for j in 0..<c { meanDNormNorm += g[j] * weight[j] * row[j] * s }
                meanDNormNorm /= Float(c)
                for j in 0..<c {
                    let value = (g[j] * weight[j] - row[j] * s * meanDNormNorm) * s
                    out[j] = accumulateInput ? out[j] + value : value
                }
            }
        }
        forEachRange(c, grain: Swift.max(8, c / Swift.max(1, (rows &* c) / elementwiseParallelThreshold))) { range in
            for r in 0..<rows {
                let g = dy + r &* c, row = x + r &* c
                let s = rstd[r]
                for j in range { dweight[j] += g[j] * row[j] * s }
            }
        }
    }

    @inlinable
    static func grainForRows(_ columns: Int) -> Int {
        Swift.max(1, elementwiseParallelThreshold / 4 / Swift.max(1, columns))
    }
}
