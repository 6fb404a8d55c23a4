// Row softmax, forward and backward. Rows are split across threads.

extension ElementKernels {
    /// `y[r, :] = softmax(x[r, :])` over `rows` rows of `columns` elements (max-subtracted, so
    /// huge values do not overflow). A row whose elements are all -inf gives all zeros (PyTorch
    /// gives NaN there; zeros are what masked attention wants). `y` may alias `x`.
    @inlinable
    public static func softmaxRows(_ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, rows: Int, columns: Int) {
        forEachRange(rows, grain: Swift.max(1, elementwiseParallelThreshold / Swift.max(1, columns))) { range in
            for r in range {
                softmaxRow(x + r &* columns, y + r &* columns, columns)
            }
        }
    }

    /// One row of softmax; also used by the attention kernels.
    @inlinable
    public static func softmaxRow(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ n: Int) {
        var maxVector = KernelVector(repeating: -.infinity)
        var i = 0
        while i &+ 8 <= n { maxVector = vectorMax(maxVector, x.loadVector(KernelVector.self, at: i)); i &+= 8 }
        var maximum = maxVector.max()
        while i < n { maximum = Swift.max(maximum, x[i]); i &+= 1 }
        if maximum == -.infinity {
            y.update(repeating: 0, count: n)
            return
        }
        let shift = KernelVector(repeating: maximum)
        var sumVector = KernelVector()
        i = 0
        while i &+ 8 <= n {
            let e = vectorExp(x.loadVector(KernelVector.self, at: i) - shift)
            y.storeVector(e, at: i)
            sumVector += e
            i &+= 8
        }
        var total = sumVector.sum()
        while i < n { let e = scalarExp(x[i] - maximum); y[i] = e; total += e; i &+= 1 }
        let inverse = 1 / total
        scaleRow(y, n, by: inverse)
    }

    /// `dx = y ⊙ (dy − Σ(dy ⊙ y))` row by row, given the softmax output `y`. Writes `dx`, or
    /// adds into it when `accumulate`.
    @inlinable
    public static func softmaxBackwardRows(
        y: UnsafePointer<Float>, dy: UnsafePointer<Float>, dx: UnsafeMutablePointer<Float>,
        rows: Int, columns: Int, accumulate: Bool = false
    ) {
        forEachRange(rows, grain: Swift.max(1, elementwiseParallelThreshold / Swift.max(1, columns))) { range in
            for r in range {
                let offset = r &* columns
                softmaxBackwardRow(y + offset, dy + offset, dx + offset, columns, accumulate: accumulate)
            }
        }
    }

    /// One row of the softmax backward pass.
    @inlinable
    public static func softmaxBackwardRow(
        _ y: UnsafePointer<Float>, _ dy: UnsafePointer<Float>, _ dx: UnsafeMutablePointer<Float>, _ n: Int,
        accumulate: Bool
    ) {
        var dotVector = KernelVector()
        var i = 0
        while i &+ 8 <= n { dotVector += y.loadVector(KernelVector.self, at: i) * dy.loadVector(KernelVector.self, at: i); i &+= 8 }
        var dot = dotVector.sum()
        while i < n { dot += y[i] * dy[i]; i &+= 1 }
        for j in 0..<n {
            let value = y[j] * (dy[j] - dot)
            dx[j] = accumulate ? dx[j] + value : value
        }
    }

    @inlinable @inline(__always)
    static func scaleRow(_ y: UnsafeMutablePointer<Float>, _ n: Int, by factor: Float) {
        var i = 0
        while i &+ 8 <= n { y.storeVector(y.loadVector(KernelVector.self, at: i) * factor, at: i); i &+= 8 }
        while i < n { y[i] *= factor; i &+= 1 }
    }
}
