// Moving and filling whole parameter tensors: transposition (Hugging Face Conv1D weights are
// stored [in, out], GPTKit's [out, in]) and random initialisation.
import GPTKernelCore

extension Kernels {
    // MARK: - Transpose

    /// `y[c, r] = x[r, c]` for x `[rows, columns]`, y `[columns, rows]` (no aliasing), in 32×32
    /// tiles so both sides stay in cache.
    public static func transpose(_ x: UnsafePointer<Float>, rows: Int, columns: Int, into y: UnsafeMutablePointer<Float>) {
        let tile = 32
        let rowTiles = (rows + tile - 1) / tile
        forEachRange(rowTiles, grain: Swift.max(1, elementwiseParallelThreshold / Swift.max(1, tile &* columns))) { range in
            for rowTile in range {
                let r0 = rowTile &* tile, r1 = Swift.min(rows, r0 &+ tile)
                var c0 = 0
                while c0 < columns {
                    let c1 = Swift.min(columns, c0 &+ tile)
                    for r in r0..<r1 {
                        let source = x + r &* columns
                        for c in c0..<c1 { y[c &* rows &+ r] = source[c] }
                    }
                    c0 = c1
                }
            }
        }
    }

    /// `target[r, 0..<columns] = source[r, 0..<columns]` for `rows` rows, each side's rows
    /// `sourceStride` / `targetStride` floats apart (e.g. appending k and v rows to a cache).
    public static func copyRows(
        _ source: UnsafePointer<Float>, sourceStride: Int, rows: Int, columns: Int,
        into target: UnsafeMutablePointer<Float>, targetStride: Int
    ) {
        for r in 0..<rows {
            (target + r &* targetStride).update(from: source + r &* sourceStride, count: columns)
        }
    }

    // MARK: - Initialisation

    /// Fills `count` elements with `mean + standardDeviation · N(0, 1)` samples drawn in order
    /// from `generator` (same seed, same values).
    public static func fillNormal(
        _ x: UnsafeMutablePointer<Float>, count: Int, mean: Float = 0, standardDeviation: Float,
        generator: inout RandomGenerator
    ) {
        for i in 0..<count { x[i] = mean + standardDeviation * generator.nextNormal() }
    }

    /// Sets `count` elements to `value`.
    public static func fill(_ x: UnsafeMutablePointer<Float>, count: Int, value: Float) {
        x.update(repeating: value, count: count)
    }
}
