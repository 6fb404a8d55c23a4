// Row softmax, forward and backward. Rows are split across threads.
// The implementation is `ElementKernels` (GPTKernelCore), compiled per instruction set; these
// entry points call the kernel set chosen at run time.
import GPTKernelCore

extension Kernels {
    /// `y[r, :] = softmax(x[r, :])` over `rows` rows of `columns` elements (max-subtracted, so
    /// huge values do not overflow). A row whose elements are all -inf gives all zeros (PyTorch
    /// gives NaN there; zeros are what masked attention wants). `y` may alias `x`.
    public static func softmaxRows(_ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, rows: Int, columns: Int) {
        active.softmaxRows(x, into: y, rows: rows, columns: columns)
    }

    /// One row of softmax; also used by the attention kernels.
    public static func softmaxRow(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ n: Int) {
        active.softmaxRow(x, y, n)
    }

    /// `dx = y ⊙ (dy − Σ(dy ⊙ y))` row by row, given the softmax output `y`. Writes `dx`, or
    /// adds into it when `accumulate`.
    public static func softmaxBackwardRows(y: UnsafePointer<Float>, dy: UnsafePointer<Float>, dx: UnsafeMutablePointer<Float>, rows: Int, columns: Int, accumulate: Bool = false) {
        active.softmaxBackwardRows(y: y, dy: dy, dx: dx, rows: rows, columns: columns, accumulate: accumulate)
    }

    /// One row of the softmax backward pass.
    public static func softmaxBackwardRow(_ y: UnsafePointer<Float>, _ dy: UnsafePointer<Float>, _ dx: UnsafeMutablePointer<Float>, _ n: Int, accumulate: Bool) {
        active.softmaxBackwardRow(y, dy, dx, n, accumulate: accumulate)
    }
}
