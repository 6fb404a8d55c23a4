// Element-wise kernels and reductions on raw pointers.
//
// Element-wise kernels split the elements into contiguous ranges across threads. Reductions add
// fixed blocks of `reductionBlock` elements, each in a fixed order, then the block results in
// order, so they too are bit-identical for any thread count.
import GPTKernelCore

/// The vector type of GPTTensor's own element loops (the same as `KernelVector`).
@usableFromInline typealias Vector = KernelVector

extension Kernels {
    /// Below this many elements an element-wise kernel runs on the calling thread.
    public static let elementwiseParallelThreshold = 1 << 18
    /// The block size of reductions.
    public static let reductionBlock = 4096

    /// Runs `body` over `0..<count` split into contiguous ranges, in parallel when `count` is
    /// at least `grain` per thread.
    @inlinable
    public static func forEachRange(_ count: Int, grain: Int, _ body: (Range<Int>) -> Void) {
        let tasks = Swift.max(1, Swift.min(Parallel.threadCount, count / Swift.max(1, grain)))
        Parallel.forEachTask(tasks) { body(evenSplit(count, parts: tasks, index: $0)) }
    }

    // MARK: - Element-wise

    /// `out[i] = a[i] + b[i]` (`out` may alias `a` or `b`).
    public static func add(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, into out: UnsafeMutablePointer<Float>, count: Int) {
        binary(a, b, out, count) { $0 + $1 } scalar: { $0 + $1 }
    }

    /// `out[i] = a[i] * b[i]` (`out` may alias `a` or `b`).
    public static func multiply(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, into out: UnsafeMutablePointer<Float>, count: Int) {
        binary(a, b, out, count) { $0 * $1 } scalar: { $0 * $1 }
    }

    /// `x[i] *= alpha`.
    public static func scale(_ x: UnsafeMutablePointer<Float>, by alpha: Float, count: Int) {
        binary(UnsafePointer(x), UnsafePointer(x), x, count) { a, _ in a * alpha } scalar: { a, _ in a * alpha }
    }

    /// `y[i] += alpha * x[i]` (BLAS axpy).
    public static func axpy(alpha: Float, x: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>, count: Int) {
        binary(x, UnsafePointer(y), y, count) { x, y in y + alpha * x } scalar: { x, y in y + alpha * x }
    }

    @inlinable @inline(__always)
    static func binary(
        _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>, _ count: Int,
        _ vector: (Vector, Vector) -> Vector, scalar: (Float, Float) -> Float
    ) {
        forEachRange(count, grain: elementwiseParallelThreshold) { range in
            var i = range.lowerBound
            while i &+ 8 <= range.upperBound {
                out.storeVector(vector(a.loadVector(Vector.self, at: i), b.loadVector(Vector.self, at: i)), at: i)
                i &+= 8
            }
            while i < range.upperBound { out[i] = scalar(a[i], b[i]); i &+= 1 }
        }
    }

    // MARK: - Reductions

    /// The sum of `count` elements (Float blocks, added in Double).
    public static func sum(_ x: UnsafePointer<Float>, count: Int) -> Float {
        Float(reduce(x, count) { $0 + $1 } final: { $0.sum() })
    }

    /// The sum of squares of `count` elements (the squared L2 norm), in Double across blocks.
    public static func squaredNorm(_ x: UnsafePointer<Float>, count: Int) -> Double {
        reduce(x, count) { $0 + $1 * $1 } final: { $0.sum() }
    }

    /// The number of elements that are NaN or ±infinity (each block counted in order, so the
    /// result is exact and independent of the thread count).
    public static func nonFiniteCount(_ x: UnsafePointer<Float>, count: Int) -> Int {
        // v - v is 0 for a finite v and NaN for NaN or ±infinity.
        Int(reduce(x, count) { acc, v in
            let difference = v - v
            return acc + Vector(repeating: 0).replacing(with: 1, where: difference .!= difference)
        } final: { $0.sum() })
    }

    /// The largest element (-inf for no elements; NaN if any element is NaN).
    public static func max(_ x: UnsafePointer<Float>, count: Int) -> Float {
        var result = -Float.infinity
        for i in 0..<count {
            let value = x[i]
            if value.isNaN { return .nan }
            if value > result { result = value }
        }
        return result
    }

    @inlinable @inline(__always)
    static func reduce(
        _ x: UnsafePointer<Float>, _ count: Int, _ step: (Vector, Vector) -> Vector, final: (Vector) -> Float
    ) -> Double {
        let blocks = (count + reductionBlock - 1) / reductionBlock
        return withUnsafeTemporaryAllocation(of: Double.self, capacity: Swift.max(1, blocks)) { partial in
            let base = partial.baseAddress!
            forEachRange(blocks, grain: 64) { range in
                for block in range {
                    let start = block &* reductionBlock, end = Swift.min(count, start &+ reductionBlock)
                    var acc = Vector()
                    var i = start
                    while i &+ 8 <= end { acc = step(acc, x.loadVector(Vector.self, at: i)); i &+= 8 }
                    var tail = Vector()
                    var lane = 0
                    while i < end { tail[lane] = x[i]; lane &+= 1; i &+= 1 }
                    acc = step(acc, tail)
                    base[block] = Double(final(acc))
                }
            }
            var total = 0.0
            for block in 0..<blocks { total += base[block] }
            return total
        }
    }
}
