// LayerNorm and RMSNorm over the last dimension, forward and backward.
//
// Forward and the input gradient split rows across threads. The parameter gradients are sums
// over rows; they are computed in a second pass split across columns, each column summed over
// rows in order, so every result is bit-identical for any thread count.
// The implementation is `ElementKernels` (GPTKernelCore), compiled per instruction set; these
// entry points call the kernel set chosen at run time.
import GPTKernelCore

extension Kernels {
    /// `y = (x − mean) · rstd · weight + bias` per row of `columns`; saves `mean[rows]` and
    /// `rstd[rows]` (rstd = 1/√(var + eps), var the biased variance) for the backward pass.
    public static func layerNormForward(x: UnsafePointer<Float>, weight: UnsafePointer<Float>, bias: UnsafePointer<Float>?, y: UnsafeMutablePointer<Float>, mean: UnsafeMutablePointer<Float>, rstd: UnsafeMutablePointer<Float>, rows: Int, columns: Int, epsilon: Float) {
        active.layerNormForward(x: x, weight: weight, bias: bias, y: y, mean: mean, rstd: rstd, rows: rows, columns: columns, epsilon: epsilon)
    }

    /// LayerNorm's backward pass: writes (or, with `accumulateInput`, adds into) `dx`, and adds
    /// into `dweight` and `dbias`.
    public static func layerNormBackward(dy: UnsafePointer<Float>, x: UnsafePointer<Float>, weight: UnsafePointer<Float>, mean: UnsafePointer<Float>, rstd: UnsafePointer<Float>, dx: UnsafeMutablePointer<Float>, dweight: UnsafeMutablePointer<Float>, dbias: UnsafeMutablePointer<Float>?, rows: Int, columns: Int, accumulateInput: Bool = false) {
        active.layerNormBackward(dy: dy, x: x, weight: weight, mean: mean, rstd: rstd, dx: dx, dweight: dweight, dbias: dbias, rows: rows, columns: columns, accumulateInput: accumulateInput)
    }

    /// `y = x · rstd · weight` per row, rstd = 1/√(mean(x²) + eps); saves `rstd[rows]`.
    public static func rmsNormForward(x: UnsafePointer<Float>, weight: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>, rstd: UnsafeMutablePointer<Float>, rows: Int, columns: Int, epsilon: Float) {
        active.rmsNormForward(x: x, weight: weight, y: y, rstd: rstd, rows: rows, columns: columns, epsilon: epsilon)
    }

    /// RMSNorm's backward pass: writes (or adds into) `dx`, adds into `dweight`.
    public static func rmsNormBackward(dy: UnsafePointer<Float>, x: UnsafePointer<Float>, weight: UnsafePointer<Float>, rstd: UnsafePointer<Float>, dx: UnsafeMutablePointer<Float>, dweight: UnsafeMutablePointer<Float>, rows: Int, columns: Int, accumulateInput: Bool = false) {
        active.rmsNormBackward(dy: dy, x: x, weight: weight, rstd: rstd, dx: dx, dweight: dweight, rows: rows, columns: columns, accumulateInput: accumulateInput)
    }
}
