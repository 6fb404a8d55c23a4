// GELU (tanh form, as GPT-2 and F.gelu(approximate="tanh")) and SiLU, forward and backward.
// The implementation is `ElementKernels` (GPTKernelCore), compiled per instruction set; these
// entry points call the kernel set chosen at run time.
import GPTKernelCore

extension Kernels {
    /// `y = 0.5 · x · (1 + tanh(√(2/π) · (x + 0.044715 · x³)))` (`y` may alias `x`).
    public static func geluForward(_ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, count: Int) {
        active.geluForward(x, into: y, count: count)
    }

    /// `dx = dy · gelu′(x)`; writes `dx`, or adds into it when `accumulate`.
    public static func geluBackward(x: UnsafePointer<Float>, dy: UnsafePointer<Float>, dx: UnsafeMutablePointer<Float>, count: Int, accumulate: Bool = false) {
        active.geluBackward(x: x, dy: dy, dx: dx, count: count, accumulate: accumulate)
    }

    /// `y = x · σ(x)` (`y` may alias `x`).
    public static func siluForward(_ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, count: Int) {
        active.siluForward(x, into: y, count: count)
    }

    /// `dx = dy · σ(x) · (1 + x · (1 − σ(x)))`; writes `dx`, or adds into it when `accumulate`.
    public static func siluBackward(x: UnsafePointer<Float>, dy: UnsafePointer<Float>, dx: UnsafeMutablePointer<Float>, count: Int, accumulate: Bool = false) {
        active.siluBackward(x: x, dy: dy, dx: dx, count: count, accumulate: accumulate)
    }
}
