// GELU (tanh form, as GPT-2 and F.gelu(approximate="tanh")) and SiLU, forward and backward.

extension ElementKernels {
    @inlinable static var geluScale: Float { 0.797_884_560_8 }  // √(2/π)
    @inlinable static var geluCubic: Float { 0.044_715 }

    /// `y = 0.5 · x · (1 + tanh(√(2/π) · (x + 0.044715 · x³)))` (`y` may alias `x`).
    @inlinable
    public static func geluForward(_ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, count: Int) {
        unary(x, y, count) { v in
            let inner = geluScale * (v + geluCubic * v * v * v)
            return 0.5 * v * (1 + vectorTanh(inner))
        }
    }

    /// `dx = dy · gelu′(x)`; writes `dx`, or adds into it when `accumulate`.
    @inlinable
    public static func geluBackward(
        x: UnsafePointer<Float>, dy: UnsafePointer<Float>, dx: UnsafeMutablePointer<Float>, count: Int,
        accumulate: Bool = false
    ) {
        gradient(x, dy, dx, count, accumulate) { v in
            let inner = geluScale * (v + geluCubic * v * v * v)
            let t = vectorTanh(inner)
            let dInner = geluScale * (1 + 3 * geluCubic * v * v)
            return 0.5 * (1 + t) + 0.5 * v * (1 - t * t) * dInner
        }
    }

    /// `y = x · σ(x)` (`y` may alias `x`).
    @inlinable
    public static func siluForward(_ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, count: Int) {
        unary(x, y, count) { v in v / (1 + vectorExp(-v)) }
    }

    /// `dx = dy · σ(x) · (1 + x · (1 − σ(x)))`; writes `dx`, or adds into it when `accumulate`.
    @inlinable
    public static func siluBackward(
        x: UnsafePointer<Float>, dy: UnsafePointer<Float>, dx: UnsafeMutablePointer<Float>, count: Int,
        accumulate: Bool = false
    ) {
        gradient(x, dy, dx, count, accumulate) { v in
            let sigma = 1 / (1 + vectorExp(-v))
            return sigma * (1 + v * (1 - sigma))
        }
    }

    // MARK: - Helpers

    @inlinable @inline(__always)
    static func unary(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ count: Int, _ f: (KernelVector) -> KernelVector) {
        forEachRange(count, grain: elementwiseParallelThreshold / 4) { range in
            var i = range.lowerBound
            while i &+ 8 <= range.upperBound {
                y.storeVector(f(x.loadVector(KernelVector.self, at: i)), at: i)
                i &+= 8
            }
            while i < range.upperBound { y[i] = f(KernelVector(repeating: x[i]))[0]; i &+= 1 }
        }
    }

    /// dx = dy · f′(x), with `derivative` giving f′.
    @inlinable @inline(__always)
    static func gradient(
        _ x: UnsafePointer<Float>, _ dy: UnsafePointer<Float>, _ dx: UnsafeMutablePointer<Float>, _ count: Int,
        _ accumulate: Bool, _ derivative: (KernelVector) -> KernelVector
    ) {
        forEachRange(count, grain: elementwiseParallelThreshold / 4) { range in
            var i = range.lowerBound
            while i &+ 8 <= range.upperBound {
                var value = dy.loadVector(KernelVector.self, at: i) * derivative(x.loadVector(KernelVector.self, at: i))
                if accumulate { value += dx.loadVector(KernelVector.self, at: i) }
                dx.storeVector(value, at: i)
                i &+= 8
            }
            while i < range.upperBound {
                let value = dy[i] * derivative(KernelVector(repeating: x[i]))[0]
                dx[i] = accumulate ? dx[i] + value : value
                i &+= 1
            }
        }
    }
}
