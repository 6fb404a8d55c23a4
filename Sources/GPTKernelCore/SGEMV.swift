// Matrix-vector products (M = 1, the decoding case; sgemvRows also takes up to a few rows, for
// sequences decoded together). Memory-bound: each weight is read once, streamed in its stored
// row-major order, so no packing is needed.
//
//   sgemvRows:    y[R, N] = (accumulate ? y : 0) + bias + x[R, K] · W[N, K]ᵀ   (W rows ldw apart)
//   sgemvColumns: y[N] = (accumulate ? y : 0) + bias + x[K] · B[K, N]   (B rows ldb apart)
//
// Work is split over output elements; each is summed in a fixed order, so results do not depend
// on the thread count.

/// Below this many weights a matrix-vector product runs on the calling thread.
public let sgemvParallelThreshold = 1 << 18

/// Up to this many rows of x, a product with a row-major W (`x · Wᵀ`) takes `sgemvRows` (W
/// streamed once, in its stored order, with no packing) instead of the blocked SGEMM.
public let sgemvRowLimit = 8

/// `y[r] = (accumulate ? y[r] : 0) + bias + W · x[r]` for each of `rows` rows of x (`ldx` apart;
/// y's rows `ldy` apart) with W `[n, k]` (rows `ldw` apart): decoding one sequence, or a few
/// together. Each group of four W rows is dotted with every row of x while it is in L1, so W
/// is read from memory once whatever the row count; each output is summed exactly as with one
/// row, so a row's result does not depend on the others, nor on the thread count.
@inlinable
public func sgemvRows<V: SIMD, F: MultiplyAddStrategy>(
    _: V.Type, _: F.Type, n: Int, k: Int, w: UnsafePointer<Float>, ldw: Int,
    rows: Int = 1, x: UnsafePointer<Float>, ldx: Int = 0, y: UnsafeMutablePointer<Float>, ldy: Int = 0,
    bias: UnsafePointer<Float>?, accumulate: Bool, threads: Int
) where V.Scalar == Float {
    guard n > 0, rows > 0 else { return }
    let groups = (n + 3) / 4
    let taskCount = n * k * rows < sgemvParallelThreshold ? 1 : min(max(1, threads), groups)
    Parallel.forEachTask(taskCount) { task in
        let range = evenSplit(groups, parts: taskCount, index: task)
        var row = range.lowerBound * 4
        let end = min(n, range.upperBound * 4)
        while row < end {
            let count = min(4, end &- row)
            for r in 0..<rows {
                var sums = SIMD4<Float>()
                dotRows(V.self, F.self, count: count, k: k, w: w + row &* ldw, ldw: ldw, x: x + r &* ldx, into: &sums)
                let out = y + r &* ldy
                for i in 0..<count {
                    var value = sums[i]
                    if let bias { value += bias[row &+ i] }
                    out[row &+ i] = accumulate ? out[row &+ i] + value : value
                }
            }
            row &+= 4
        }
    }
}

/// Dot products of up to four rows of W with x, two vector accumulators per row.
@inlinable @inline(__always)
func dotRows<V: SIMD, F: MultiplyAddStrategy>(
    _: V.Type, _: F.Type, count: Int, k: Int, w: UnsafePointer<Float>, ldw: Int,
    x: UnsafePointer<Float>, into sums: inout SIMD4<Float>
) where V.Scalar == Float {
    let width = V.scalarCount
    // Rows past `count` read row 0 again; their sums are ignored.
    let w0 = w, w1 = count > 1 ? w + ldw : w, w2 = count > 2 ? w + 2 &* ldw : w
    let w3 = count > 3 ? w + 3 &* ldw : w
    var a0 = V(), a1 = V(), a2 = V(), a3 = V(), b0 = V(), b1 = V(), b2 = V(), b3 = V()
    var p = 0
    while p &+ 2 &* width <= k {
        let x0 = x.loadVector(V.self, at: p), x1 = x.loadVector(V.self, at: p &+ width)
        a0 = F.multiplyAdd(w0.loadVector(V.self, at: p), x0, a0)
        a1 = F.multiplyAdd(w1.loadVector(V.self, at: p), x0, a1)
        a2 = F.multiplyAdd(w2.loadVector(V.self, at: p), x0, a2)
        a3 = F.multiplyAdd(w3.loadVector(V.self, at: p), x0, a3)
        b0 = F.multiplyAdd(w0.loadVector(V.self, at: p &+ width), x1, b0)
        b1 = F.multiplyAdd(w1.loadVector(V.self, at: p &+ width), x1, b1)
        b2 = F.multiplyAdd(w2.loadVector(V.self, at: p &+ width), x1, b2)
        b3 = F.multiplyAdd(w3.loadVector(V.self, at: p &+ width), x1, b3)
        p &+= 2 &* width
    }
    var s = SIMD4<Float>((a0 + b0).sum(), (a1 + b1).sum(), (a2 + b2).sum(), (a3 + b3).sum())
    while p < k {
        s += SIMD4<Float>(w0[p], w1[p], w2[p], w3[p]) * x[p]
        p &+= 1
    }
    sums = s
}

/// `y = (accumulate ? y : 0) + bias + x · B` with B `[k, n]` (rows `ldb` apart).
///
/// Columns are taken in blocks of eight vectors held in registers while every row of B streams
/// past, so each weight is loaded once and no partial sum goes through memory (1.4× the
/// previous form, which added each row into y in memory; still 70–85% of `sgemvRows`, whose
/// rows stream contiguously — `WeightMatrix` decodes with an untransposed copy instead).
/// Each output is summed over the rows in order, whatever the split.
@inlinable
public func sgemvColumns<V: SIMD, F: MultiplyAddStrategy>(
    _: V.Type, _: F.Type, n: Int, k: Int, b: UnsafePointer<Float>, ldb: Int,
    x: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>,
    bias: UnsafePointer<Float>?, accumulate: Bool, threads: Int
) where V.Scalar == Float {
    guard n > 0 else { return }
    let width = V.scalarCount
    let block = 8 &* width  // columns kept in eight vector registers
    let blocks = (n + block - 1) / block
    let taskCount = n * k < sgemvParallelThreshold ? 1 : min(max(1, threads), blocks)
    Parallel.forEachTask(taskCount) { task in
        let range = evenSplit(blocks, parts: taskCount, index: task)
        for index in range {
            let j0 = index &* block, count = min(n, j0 &+ block) &- j0
            let out = y + j0
            for j in 0..<count {
                var value: Float = accumulate ? out[j] : 0
                if let bias { value += bias[j0 &+ j] }
                out[j] = value
            }
            if count == block {
                var a0 = out.loadVector(V.self, at: 0), a1 = out.loadVector(V.self, at: width)
                var a2 = out.loadVector(V.self, at: 2 &* width), a3 = out.loadVector(V.self, at: 3 &* width)
                var a4 = out.loadVector(V.self, at: 4 &* width), a5 = out.loadVector(V.self, at: 5 &* width)
                var a6 = out.loadVector(V.self, at: 6 &* width), a7 = out.loadVector(V.self, at: 7 &* width)
                var row = b + j0
                for p in 0..<k {
                    let xp = V(repeating: x[p])
                    a0 = F.multiplyAdd(xp, row.loadVector(V.self, at: 0), a0)
                    a1 = F.multiplyAdd(xp, row.loadVector(V.self, at: width), a1)
                    a2 = F.multiplyAdd(xp, row.loadVector(V.self, at: 2 &* width), a2)
                    a3 = F.multiplyAdd(xp, row.loadVector(V.self, at: 3 &* width), a3)
                    a4 = F.multiplyAdd(xp, row.loadVector(V.self, at: 4 &* width), a4)
                    a5 = F.multiplyAdd(xp, row.loadVector(V.self, at: 5 &* width), a5)
                    a6 = F.multiplyAdd(xp, row.loadVector(V.self, at: 6 &* width), a6)
                    a7 = F.multiplyAdd(xp, row.loadVector(V.self, at: 7 &* width), a7)
                    row += ldb
                }
                out.storeVector(a0, at: 0); out.storeVector(a1, at: width)
                out.storeVector(a2, at: 2 &* width); out.storeVector(a3, at: 3 &* width)
                out.storeVector(a4, at: 4 &* width); out.storeVector(a5, at: 5 &* width)
                out.storeVector(a6, at: 6 &* width); out.storeVector(a7, at: 7 &* width)
                continue
            }
            // The last, partial block: vectors, then single columns.
            for p in 0..<k {
                let row = b + (p &* ldb &+ j0)
                let xp = V(repeating: x[p])
                var j = 0
                while j &+ width <= count {
                    out.storeVector(F.multiplyAdd(xp, row.loadVector(V.self, at: j), out.loadVector(V.self, at: j)), at: j)
                    j &+= width
                }
                while j < count {
                    out[j] += x[p] * row[j]
                    j &+= 1
                }
            }
        }
    }
}
