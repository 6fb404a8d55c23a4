// The blocked, packed, parallel SGEMM driver (BLIS loop order), generic over the register tile.
//
//   C[M, N] = (accumulate ? C : 0) + bias[N] (broadcast over rows) + op(A)[M, K] · op(B)[K, N]
//
// op(A)[i, p] = transposeA ? a[p * lda + i] : a[i * lda + p]
// op(B)[p, j] = transposeB ? b[j * ldb + p] : b[p * ldb + j]
// C[i, j] lives at c[i * ldc + j].
//
// Loops: jc (NC columns) → pc (KC depth, B block packed) → ic (MC rows, A block packed)
//        → jr (NR micro-panel) → ir (MR micro-panel) → micro-kernel.
// The output is split into disjoint column (or row) ranges, one per task, at multiples of the
// tile size. Every element is summed over p in the same order whatever the split, so the result
// is bit-identical for any thread count.

/// Below this many floating-point operations a product runs on the calling thread: waking a
/// Dispatch worker costs ~40 µs here, about 6 MFLOP of work on one core.
public let sgemmParallelThreshold = 12_000_000

/// Splits `0..<count` into `parts` contiguous ranges whose sizes differ by at most one and
/// returns range `index`.
@inlinable @inline(__always)
public func evenSplit(_ count: Int, parts: Int, index: Int) -> Range<Int> {
    let base = count / parts, extra = count % parts
    let start = index &* base &+ min(index, extra)
    return start..<(start &+ base &+ (index < extra ? 1 : 0))
}

/// Blocked SGEMM on `threads` threads; see the file's header for the exact contract.
@inlinable
public func sgemmBlocked<T: SGEMMTile>(
    _ tile: T.Type, m: Int, n: Int, k: Int,
    a: UnsafePointer<Float>, lda: Int, transposeA: Bool,
    b: UnsafePointer<Float>, ldb: Int, transposeB: Bool,
    c: UnsafeMutablePointer<Float>, ldc: Int,
    bias: UnsafePointer<Float>?, accumulate: Bool, threads: Int
) {
    guard m > 0, n > 0 else { return }
    let panelsM = (m + T.mr - 1) / T.mr
    let panelsN = (n + T.nr - 1) / T.nr
    let splitColumns = panelsN >= panelsM
    let flops = 2 * m * n * k
    var taskCount = flops < sgemmParallelThreshold ? 1 : max(1, threads)
    taskCount = min(taskCount, splitColumns ? panelsN : panelsM)
    let widest = splitColumns ? (panelsN + taskCount - 1) / taskCount * T.nr : panelsN * T.nr
    let nc = min(T.nc, widest)
    let capacity = T.mc * T.kc + T.kc * nc + T.mr * T.nr
    ScratchPool.shared.withBuffers(count: taskCount, capacity: capacity) { buffers in
        Parallel.forEachTask(taskCount) { task in
            let panels = evenSplit(splitColumns ? panelsN : panelsM, parts: taskCount, index: task)
            let rows: Range<Int>, columns: Range<Int>
            if splitColumns {
                rows = 0..<m
                columns = (panels.lowerBound * T.nr)..<min(n, panels.upperBound * T.nr)
            } else {
                rows = (panels.lowerBound * T.mr)..<min(m, panels.upperBound * T.mr)
                columns = 0..<n
            }
            sgemmTask(
                T.self, rows: rows, columns: columns, k: k,
                a: a, lda: lda, transposeA: transposeA, b: b, ldb: ldb, transposeB: transposeB,
                c: c, ldc: ldc, bias: bias, accumulate: accumulate,
                scratch: buffers[task], nc: nc)
        }
    }
}

/// One task's share of the product: the block `rows × columns` of C, on the calling thread.
@inlinable
public func sgemmTask<T: SGEMMTile>(
    _: T.Type, rows: Range<Int>, columns: Range<Int>, k: Int,
    a: UnsafePointer<Float>, lda: Int, transposeA: Bool,
    b: UnsafePointer<Float>, ldb: Int, transposeB: Bool,
    c: UnsafeMutablePointer<Float>, ldc: Int,
    bias: UnsafePointer<Float>?, accumulate: Bool,
    scratch: UnsafeMutablePointer<Float>, nc ncMax: Int
) {
    guard !rows.isEmpty, !columns.isEmpty else { return }
    let mr = T.mr, nr = T.nr, kcMax = T.kc, mcMax = T.mc
    var firstOverwrite = !accumulate
    if let bias {
        for i in rows {
            let row = c + i &* ldc
            if accumulate {
                for j in columns { row[j] += bias[j] }
            } else {
                for j in columns { row[j] = bias[j] }
            }
        }
        firstOverwrite = false
    }
    if k == 0 {
        if firstOverwrite {
            for i in rows { (c + i &* ldc + columns.lowerBound).update(repeating: 0, count: columns.count) }
        }
        return
    }
    let packedA = scratch
    let packedB = scratch + mcMax &* kcMax
    let edgeTile = packedB + kcMax &* ncMax
    var jc = columns.lowerBound
    while jc < columns.upperBound {
        let nc = min(ncMax, columns.upperBound &- jc)
        var pc = 0
        while pc < k {
            let kc = min(kcMax, k &- pc)
            packPanelsOfB(nr: nr, b: b, ldb: ldb, transposed: transposeB,
                          depth: pc..<(pc &+ kc), columns: jc..<(jc &+ nc), into: packedB)
            let overwrite = firstOverwrite && pc == 0
            var ic = rows.lowerBound
            while ic < rows.upperBound {
                let mc = min(mcMax, rows.upperBound &- ic)
                packPanelsOfA(mr: mr, a: a, lda: lda, transposed: transposeA,
                              rows: ic..<(ic &+ mc), depth: pc..<(pc &+ kc), into: packedA)
                var jr = 0
                while jr < nc {
                    let nrValid = min(nr, nc &- jr)
                    let bPanel = UnsafePointer(packedB + jr &* kc)
                    var ir = 0
                    while ir < mc {
                        let mrValid = min(mr, mc &- ir)
                        let aPanel = UnsafePointer(packedA + ir &* kc)
                        let cTile = c + ((ic &+ ir) &* ldc &+ jc &+ jr)
                        if mrValid == mr && nrValid == nr {
                            T.kernel(kc: kc, a: aPanel, b: bPanel, c: cTile, ldc: ldc, overwrite: overwrite)
                        } else {
                            T.kernel(kc: kc, a: aPanel, b: bPanel, c: edgeTile, ldc: nr, overwrite: true)
                            for r in 0..<mrValid {
                                let dst = cTile + r &* ldc, src = edgeTile + r &* nr
                                for j in 0..<nrValid { dst[j] = overwrite ? src[j] : dst[j] + src[j] }
                            }
                        }
                        ir &+= mr
                    }
                    jr &+= nr
                }
                ic &+= mc
            }
            pc &+= kc
        }
        jc &+= nc
    }
}

// MARK: - Packing

/// Packs op(A)[rows, depth] into MR-row panels: panel q holds rows lowerBound + q·MR ..., laid
/// out [p][r]; rows past the end are zero.
@inlinable
public func packPanelsOfA(
    mr: Int, a: UnsafePointer<Float>, lda: Int, transposed: Bool,
    rows: Range<Int>, depth: Range<Int>, into packed: UnsafeMutablePointer<Float>
) {
    let kc = depth.count
    var dst = packed
    var i0 = rows.lowerBound
    while i0 < rows.upperBound {
        let valid = min(mr, rows.upperBound &- i0)
        if transposed {
            var src = a + (depth.lowerBound &* lda &+ i0)
            for p in 0..<kc {
                let out = dst + p &* mr
                for r in 0..<valid { out[r] = src[r] }
                for r in valid..<mr { out[r] = 0 }
                src += lda
            }
        } else if valid == mr {
            // Full panel: walk p outermost so that the packed panel is written contiguously.
            let src = a + (i0 &* lda &+ depth.lowerBound)
            for p in 0..<kc {
                let out = dst + p &* mr
                var row = src + p
                for r in 0..<mr { out[r] = row[0]; row += lda }
            }
        } else {
            for r in 0..<mr {
                if r < valid {
                    let src = a + ((i0 &+ r) &* lda &+ depth.lowerBound)
                    for p in 0..<kc { dst[p &* mr &+ r] = src[p] }
                } else {
                    for p in 0..<kc { dst[p &* mr &+ r] = 0 }
                }
            }
        }
        dst += mr &* kc
        i0 &+= mr
    }
}

/// Packs op(B)[depth, columns] into NR-column panels laid out [p][j]; columns past the end are
/// zero.
@inlinable
public func packPanelsOfB(
    nr: Int, b: UnsafePointer<Float>, ldb: Int, transposed: Bool,
    depth: Range<Int>, columns: Range<Int>, into packed: UnsafeMutablePointer<Float>
) {
    let kc = depth.count
    var dst = packed
    var j0 = columns.lowerBound
    while j0 < columns.upperBound {
        let valid = min(nr, columns.upperBound &- j0)
        if transposed {
            for j in 0..<nr {
                if j < valid {
                    let src = b + ((j0 &+ j) &* ldb &+ depth.lowerBound)
                    for p in 0..<kc { dst[p &* nr &+ j] = src[p] }
                } else {
                    for p in 0..<kc { dst[p &* nr &+ j] = 0 }
                }
            }
        } else if valid == nr && nr % 8 == 0 {
            var src = b + (depth.lowerBound &* ldb &+ j0)
            for p in 0..<kc {
                let out = dst + p &* nr
                var j = 0
                while j < nr { out.storeVector(src.loadVector(SIMD8<Float>.self, at: j), at: j); j &+= 8 }
                src += ldb
            }
        } else {
            var src = b + (depth.lowerBound &* ldb &+ j0)
            for p in 0..<kc {
                let out = dst + p &* nr
                for j in 0..<valid { out[j] = src[j] }
                for j in valid..<nr { out[j] = 0 }
                src += ldb
            }
        }
        dst += nr &* kc
        j0 &+= nr
    }
}
