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

/// Below this many floating-point operations a product runs on the calling thread. Measured on
/// this project's 2-core Zen 3 with the spinning worker pool, products alternating in one
/// process (`ab`, 2 threads against 1): 128³ (4 MFLOP) 83 against 56 GFLOP/s, 160³ 105 against
/// 54, 96³ (1.8 MFLOP) 75 against 53, 64³ even. When the workers have parked, the caller runs
/// every task itself after a futex wake of a few microseconds, under 10% of a 3 MFLOP product.
public let sgemmParallelThreshold = 3_000_000

/// Splits `0..<count` into `parts` contiguous ranges whose sizes differ by at most one and
/// returns range `index`.
@inlinable @inline(__always)
public func evenSplit(_ count: Int, parts: Int, index: Int) -> Range<Int> {
    let base = count / parts, extra = count % parts
    let start = index &* base &+ min(index, extra)
    return start..<(start &+ base &+ (index < extra ? 1 : 0))
}

/// Splits `count` into the fewest blocks of at most `limit` and returns the common block size,
/// rounded up to a multiple of `multiple` (the last block may be smaller). Balanced blocks avoid a
/// thin last block: K = 1024 with a limit of 768 gives 512 + 512, not 768 + 256.
@inlinable @inline(__always)
public func balancedBlock(_ count: Int, limit: Int, multiple: Int) -> Int {
    let blocks = max(1, (count &+ limit &- 1) / limit)
    let size = (count &+ blocks &- 1) / blocks
    return min(max(multiple, (size &+ multiple &- 1) / multiple &* multiple), max(limit, multiple))
}

/// The floats of packed A that a task keeps for its whole run (all of its rows, all of K) when it
/// sweeps more than one block of columns, so that A is packed once instead of once per block.
public let sgemmWholeAPackLimit = 1 << 18

/// How many floats of scratch one task of `sgemmTask` needs, for any task of at most `rows`
/// rows.
@inlinable
public func sgemmScratchCapacity<T: SGEMMTile>(_: T.Type, rows: Int, k: Int, nc: Int) -> Int {
    let kc = balancedBlock(max(1, k), limit: T.kc, multiple: 8)
    let paddedRows = (rows &+ T.mr &- 1) / T.mr &* T.mr
    let mc = min((T.mc &+ T.mr &- 1) / T.mr &* T.mr, paddedRows)
    return max(mc &* kc, min(paddedRows &* k, sgemmWholeAPackLimit)) &+ kc &* nc &+ T.mr &* T.nr
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
    let tallest = splitColumns ? m : (panelsM + taskCount - 1) / taskCount * T.mr
    let nc = min(T.nc, widest)
    let capacity = sgemmScratchCapacity(T.self, rows: tallest, k: k, nc: nc)
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
/// `scratch` holds at least `sgemmScratchCapacity(T.self, rows: rows.count, k: k, nc: nc)`
/// floats.
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
    let mr = T.mr, nr = T.nr
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
    let kcMax = balancedBlock(k, limit: T.kc, multiple: 8)
    let mcMax = balancedBlock(rows.count, limit: T.mc, multiple: mr)
    let paddedRows = (rows.count &+ mr &- 1) / mr &* mr
    // With several column blocks, A is packed once for all of them if it is small enough:
    // block (pc, ic) then lives at pc · paddedRows + (ic - rows.lowerBound) · kc.
    let packWholeA = columns.count > ncMax && paddedRows &* k <= sgemmWholeAPackLimit
    let packedA = scratch
    let packedB = scratch + (packWholeA ? paddedRows &* k : mcMax &* kcMax)
    let edgeTile = packedB + kcMax &* ncMax
    if packWholeA {
        var pc = 0
        while pc < k {
            let kc = min(kcMax, k &- pc)
            packPanelsOfA(T.self, a: a, lda: lda, transposed: transposeA,
                          rows: rows, depth: pc..<(pc &+ kc), into: packedA + pc &* paddedRows)
            pc &+= kc
        }
    }
    var jc = columns.lowerBound
    while jc < columns.upperBound {
        let nc = min(ncMax, columns.upperBound &- jc)
        var pc = 0
        while pc < k {
            let kc = min(kcMax, k &- pc)
            packPanelsOfB(T.self, b: b, ldb: ldb, transposed: transposeB,
                          depth: pc..<(pc &+ kc), columns: jc..<(jc &+ nc), into: packedB)
            let overwrite = firstOverwrite && pc == 0
            var ic = rows.lowerBound
            while ic < rows.upperBound {
                let mc = min(mcMax, rows.upperBound &- ic)
                let blockA: UnsafeMutablePointer<Float>
                if packWholeA {
                    blockA = packedA + (pc &* paddedRows &+ (ic &- rows.lowerBound) &* kc)
                } else {
                    blockA = packedA
                    packPanelsOfA(T.self, a: a, lda: lda, transposed: transposeA,
                                  rows: ic..<(ic &+ mc), depth: pc..<(pc &+ kc), into: blockA)
                }
                var jr = 0
                while jr < nc {
                    let nrValid = min(nr, nc &- jr)
                    let bPanel = UnsafePointer(packedB + jr &* kc)
                    var ir = 0
                    while ir < mc {
                        let mrValid = min(mr, mc &- ir)
                        let aPanel = UnsafePointer(blockA + ir &* kc)
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

// Generic over the tile so that each per-ISA target compiles its own specialisation with its
// own flags: a plain function would run GPTKernelCore's baseline (SSE2) copy whenever the
// optimiser declines to inline it.
/// Packs op(A)[rows, depth] into MR-row panels: panel q holds rows lowerBound + q·MR ..., laid
/// out [p][r]; rows past the end are zero.
@inlinable
public func packPanelsOfA<T: SGEMMTile>(
    _: T.Type, a: UnsafePointer<Float>, lda: Int, transposed: Bool,
    rows: Range<Int>, depth: Range<Int>, into packed: UnsafeMutablePointer<Float>
) {
    let mr = T.mr
    let kc = depth.count
    var dst = packed
    var i0 = rows.lowerBound
    if mr == 6 && transposed {
        // Full panels, op(A)[i, p] = a[p · lda + i]: each stored row holds six rows' values side
        // by side. Eight stored rows at a time across all panels, so that A is read along its
        // rows (a column of 24-byte pieces one row stride apart measured 1.7× slower).
        let fullPanels = rows.count / 6
        var p0 = 0
        while p0 < kc {
            let steps = min(8, kc &- p0)
            var source = a + ((depth.lowerBound &+ p0) &* lda &+ i0)
            var out = packed + p0 &* 6
            for _ in 0..<fullPanels {
                var row = source, outRow = out
                for _ in 0..<steps {
                    outRow.storeVector(row.loadVector(SIMD4<Float>.self, at: 0), at: 0)
                    outRow.storeVector(row.loadVector(SIMD2<Float>.self, at: 4), at: 4)
                    row += lda
                    outRow += 6
                }
                source += 6
                out += 6 &* kc
            }
            p0 &+= 8
        }
        dst += fullPanels &* 6 &* kc
        i0 &+= fullPanels &* 6
    } else if mr == 6 {
        // Full panels of six rows of A, one panel at a time (six sequential streams), eight
        // steps of depth per 8 × 8 register transpose (two zero rows pad the six).
        let fullPanels = rows.count / 6
        for _ in 0..<fullPanels {
            let source = a + (i0 &* lda &+ depth.lowerBound)
            var p = 0
            while p &+ 8 <= kc {
                store6x8Transposed(source + p, stride: lda, into: dst + p &* 6)
                p &+= 8
            }
            while p < kc {
                for r in 0..<6 { dst[p &* 6 &+ r] = source[r &* lda &+ p] }
                p &+= 1
            }
            dst += 6 &* kc
            i0 &+= 6
        }
    }
    // The last, partial panel (and every panel of a tile whose MR is not 6), element by element.
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

// Generic over the tile, as packPanelsOfA.
/// Packs op(B)[depth, columns] into NR-column panels laid out [p][j]; columns past the end are
/// zero.
@inlinable
public func packPanelsOfB<T: SGEMMTile>(
    _: T.Type, b: UnsafePointer<Float>, ldb: Int, transposed: Bool,
    depth: Range<Int>, columns: Range<Int>, into packed: UnsafeMutablePointer<Float>
) {
    let nr = T.nr
    let kc = depth.count
    var dst = packed
    var j0 = columns.lowerBound
    if !transposed && nr % 8 == 0 {
        // Full panels of B, eight rows of depth at a time across all panels: B is read along its
        // rows (a few sequential streams the prefetcher follows) rather than down a column of
        // 64-byte pieces one row stride apart, which measured twice as slow.
        let fullPanels = columns.count / nr
        var p0 = 0
        while p0 < kc {
            let rowsHere = min(8, kc &- p0)
            var source = b + ((depth.lowerBound &+ p0) &* ldb &+ j0)
            var out = dst + p0 &* nr
            for _ in 0..<fullPanels {
                var row = source, outRow = out
                for _ in 0..<rowsHere {
                    var j = 0
                    while j < nr { outRow.storeVector(row.loadVector(SIMD8<Float>.self, at: j), at: j); j &+= 8 }
                    row += ldb
                    outRow += nr
                }
                source += nr
                out += nr &* kc
            }
            p0 &+= 8
        }
        dst += fullPanels &* nr &* kc
        j0 &+= fullPanels &* nr
    }
    while j0 < columns.upperBound {
        let valid = min(nr, columns.upperBound &- j0)
        if transposed && valid == nr && nr % 8 == 0 {
            // Full panel of Bᵀ: 8 × 8 blocks transposed in registers (3× faster than a scalar
            // gather, measured on an AVX2 Zen 3).
            for group in stride(from: 0, to: nr, by: 8) {
                let src = b + ((j0 &+ group) &* ldb &+ depth.lowerBound)
                var p = 0
                while p &+ 8 <= kc {
                    transpose8x8(src + p, stride: ldb, into: dst + (p &* nr &+ group), outputStride: nr)
                    p &+= 8
                }
                while p < kc {
                    for j in 0..<8 { dst[p &* nr &+ group &+ j] = src[j &* ldb &+ p] }
                    p &+= 1
                }
            }
        } else if transposed {
            for j in 0..<nr {
                if j < valid {
                    let src = b + ((j0 &+ j) &* ldb &+ depth.lowerBound)
                    for p in 0..<kc { dst[p &* nr &+ j] = src[p] }
                } else {
                    for p in 0..<kc { dst[p &* nr &+ j] = 0 }
                }
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

/// The transpose of the 8 × 8 block whose rows are `v0 ... v7`: three rounds of even/odd
/// deinterleaving, each of which rotates the 6-bit element index right by one bit, swap the row
/// and column bits.
@inlinable @inline(__always)
func transposed8x8(
    _ v0: SIMD8<Float>, _ v1: SIMD8<Float>, _ v2: SIMD8<Float>, _ v3: SIMD8<Float>,
    _ v4: SIMD8<Float>, _ v5: SIMD8<Float>, _ v6: SIMD8<Float>, _ v7: SIMD8<Float>
) -> (SIMD8<Float>, SIMD8<Float>, SIMD8<Float>, SIMD8<Float>, SIMD8<Float>, SIMD8<Float>, SIMD8<Float>, SIMD8<Float>) {
    typealias V = SIMD8<Float>
    @inline(__always) func even(_ a: V, _ b: V) -> V { SIMD16<Float>(lowHalf: a, highHalf: b).evenHalf }
    @inline(__always) func odd(_ a: V, _ b: V) -> V { SIMD16<Float>(lowHalf: a, highHalf: b).oddHalf }
    let w0 = even(v0, v1), w1 = even(v2, v3), w2 = even(v4, v5), w3 = even(v6, v7)
    let w4 = odd(v0, v1), w5 = odd(v2, v3), w6 = odd(v4, v5), w7 = odd(v6, v7)
    let x0 = even(w0, w1), x1 = even(w2, w3), x2 = even(w4, w5), x3 = even(w6, w7)
    let x4 = odd(w0, w1), x5 = odd(w2, w3), x6 = odd(w4, w5), x7 = odd(w6, w7)
    return (even(x0, x1), even(x2, x3), even(x4, x5), even(x6, x7),
            odd(x0, x1), odd(x2, x3), odd(x4, x5), odd(x6, x7))
}

/// Writes the transpose of the 8 × 8 block at `source` (rows `stride` floats apart) to
/// `destination` (rows `outputStride` floats apart).
@inlinable @inline(__always)
func transpose8x8(
    _ source: UnsafePointer<Float>, stride: Int,
    into destination: UnsafeMutablePointer<Float>, outputStride: Int
) {
    typealias V = SIMD8<Float>
    let t = transposed8x8(
        source.loadVector(V.self, at: 0), source.loadVector(V.self, at: stride),
        source.loadVector(V.self, at: 2 &* stride), source.loadVector(V.self, at: 3 &* stride),
        source.loadVector(V.self, at: 4 &* stride), source.loadVector(V.self, at: 5 &* stride),
        source.loadVector(V.self, at: 6 &* stride), source.loadVector(V.self, at: 7 &* stride))
    var out = destination
    out.storeVector(t.0, at: 0); out += outputStride
    out.storeVector(t.1, at: 0); out += outputStride
    out.storeVector(t.2, at: 0); out += outputStride
    out.storeVector(t.3, at: 0); out += outputStride
    out.storeVector(t.4, at: 0); out += outputStride
    out.storeVector(t.5, at: 0); out += outputStride
    out.storeVector(t.6, at: 0); out += outputStride
    out.storeVector(t.7, at: 0)
}

/// Packs six rows × eight columns at `source` (rows `stride` floats apart) as eight groups of
/// six, `destination[t · 6 + r] = source[r · stride + t]`: one 8 × 8 register transpose with two
/// zero rows, then six lanes of each column stored.
@inlinable @inline(__always)
func store6x8Transposed(_ source: UnsafePointer<Float>, stride: Int, into destination: UnsafeMutablePointer<Float>) {
    typealias V = SIMD8<Float>
    let t = transposed8x8(
        source.loadVector(V.self, at: 0), source.loadVector(V.self, at: stride),
        source.loadVector(V.self, at: 2 &* stride), source.loadVector(V.self, at: 3 &* stride),
        source.loadVector(V.self, at: 4 &* stride), source.loadVector(V.self, at: 5 &* stride), V(), V())
    @inline(__always) func store(_ v: V, _ offset: Int) {
        destination.storeVector(v.lowHalf, at: offset)
        destination.storeVector(v.highHalf.lowHalf, at: offset &+ 4)
    }
    store(t.0, 0); store(t.1, 6); store(t.2, 12); store(t.3, 18)
    store(t.4, 24); store(t.5, 30); store(t.6, 36); store(t.7, 42)
}
