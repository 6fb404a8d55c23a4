// Gathers, scatters, column sums and rotary position embeddings.
//
// Sums over rows (parameter gradients of embeddings and biases) split the columns across
// threads and add the rows in order, so they are bit-identical for any thread count.
import Foundation
import GPTKernelCore

extension Kernels {
    /// `out[r, :] = table[ids[r], :]` for `rows` ids; ids must be in range (checked by callers).
    public static func gatherRows(
        table: UnsafePointer<Float>, ids: UnsafePointer<Int32>, rows: Int, columns: Int, into out: UnsafeMutablePointer<Float>
    ) {
        forEachRange(rows, grain: Swift.max(1, elementwiseParallelThreshold / Swift.max(1, columns))) { range in
            for r in range {
                (out + r &* columns).update(from: table + Int(ids[r]) &* columns, count: columns)
            }
        }
    }

    /// `table[ids[r], :] += dy[r, :]` for every row, rows added in order.
    public static func scatterAddRows(
        _ dy: UnsafePointer<Float>, ids: UnsafePointer<Int32>, rows: Int, columns: Int, into table: UnsafeMutablePointer<Float>
    ) {
        forEachRange(columns, grain: Swift.max(8, columns / Swift.max(1, (rows &* columns) / elementwiseParallelThreshold))) { range in
            for r in 0..<rows {
                let source = dy + r &* columns, target = table + Int(ids[r]) &* columns
                for j in range { target[j] += source[j] }
            }
        }
    }

    /// `out[j] += Σ_r x[r, j]` (rows `rowStride` apart, rows added in order): bias gradients.
    public static func addColumnSums(
        _ x: UnsafePointer<Float>, rows: Int, columns: Int, rowStride: Int? = nil, into out: UnsafeMutablePointer<Float>
    ) {
        let stride = rowStride ?? columns
        forEachRange(columns, grain: Swift.max(8, columns / Swift.max(1, (rows &* columns) / elementwiseParallelThreshold))) { range in
            for r in 0..<rows {
                let row = x + r &* stride
                for j in range { out[j] += row[j] }
            }
        }
    }

    // MARK: - Rotary position embedding

    /// The cos and sin tables of rotary embeddings, `[positions, headSize / 2]` each, computed
    /// as Hugging Face's LlamaRotaryEmbedding does in float32: inv_freq[i] = 1 / θ^(2i / HS),
    /// angle = position · inv_freq[i].
    public static func rotaryTables(positions: Int, headSize: Int, theta: Float) -> (cos: [Float], sin: [Float]) {
        let half = headSize / 2
        let inverseFrequencies = (0..<half).map { 1 / Foundation.pow(theta, Float(2 * $0) / Float(headSize)) }
        var cosTable = [Float](repeating: 0, count: positions * half), sinTable = cosTable
        for p in 0..<positions {
            for i in 0..<half {
                let angle = Float(p) * inverseFrequencies[i]
                cosTable[p * half + i] = Foundation.cos(angle)
                sinTable[p * half + i] = Foundation.sin(angle)
            }
        }
        return (cosTable, sinTable)
    }

    /// Rotates, in place, `heads` vectors of `headSize` at each of `batch × time` rows (row r at
    /// `x + r · rowStride`, head h at `+ h · headSize`) by the angles of position
    /// `positionOffset + t`: the "rotate half" convention (element i pairs with i + HS/2).
    /// With `inverse`, rotates by the negative angles: the backward pass. With `positions`
    /// `[B·T]`, row r takes position `positions[r]` instead (packed rows; each must be below the
    /// tables' length).
    public static func applyRotary(
        _ x: UnsafeMutablePointer<Float>, batch: Int, time: Int, heads: Int, headSize: Int, rowStride: Int,
        positionOffset: Int, positions: UnsafePointer<Int32>? = nil, cos: UnsafePointer<Float>, sin: UnsafePointer<Float>,
        inverse: Bool = false
    ) {
        let half = headSize / 2
        let sign: Float = inverse ? -1 : 1
        forEachRange(batch &* time, grain: Swift.max(1, elementwiseParallelThreshold / Swift.max(1, heads &* headSize))) { range in
            for row in range {
                let position = positions.map { Int($0[row]) } ?? positionOffset &+ row % time
                let c = cos + position &* half, s = sin + position &* half
                for h in 0..<heads {
                    let v = x + (row &* rowStride &+ h &* headSize)
                    for i in 0..<half {
                        let x1 = v[i], x2 = v[i &+ half], si = sign * s[i]
                        v[i] = x1 * c[i] - x2 * si
                        v[i &+ half] = x2 * c[i] + x1 * si
                    }
                }
            }
        }
    }
}
