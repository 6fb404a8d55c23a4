import GPTCompilerBuiltins
// Causal multi-head attention with grouped key/value heads, forward and backward.
//
// Legend: B batch, T time, NH query heads, KVH key/value heads, HS head size.
// qkv is [B, T, W] with W = (NH + 2·KVH)·HS: query head h at column h·HS, key head g at
// (NH + g)·HS, value head g at (NH + KVH + g)·HS. Query head h reads key/value head
// g = h / (NH / KVH). out is [B, T, NH·HS]; the probabilities P are [B, NH, T, T] (upper
// triangles zero). Scores are q·k / √HS, as F.scaled_dot_product_attention(is_causal=True).
// With packed position ids [B·T], a position also sees no key before its document's start
// (t − position): a block-diagonal causal mask, as Hugging Face's position_ids-based packing.
//
// Each (b, h) (forward) or (b, g) (backward, so that the heads sharing a key/value head add
// into its gradient in a fixed order) is one task; the products inside run single-threaded
// through the SGEMM kernels.

/// The sizes of one attention call.
public struct AttentionShape: Sendable, Hashable {
    /// Batch size B.
    public var batch: Int
    /// Sequence length T.
    public var time: Int
    /// Query heads NH.
    public var heads: Int
    /// Key/value heads KVH (divides NH).
    public var keyValueHeads: Int
    /// Head size HS.
    public var headSize: Int

    /// Creates a shape; `keyValueHeads` must divide `heads`.
    public init(batch: Int, time: Int, heads: Int, keyValueHeads: Int, headSize: Int) {
        precondition(heads % keyValueHeads == 0, "AttentionShape: \(keyValueHeads) KV heads do not divide \(heads) heads")
        (self.batch, self.time, self.heads, self.keyValueHeads, self.headSize) = (batch, time, heads, keyValueHeads, headSize)
    }

    /// Floats per row of the fused qkv buffer: (NH + 2·KVH)·HS.
    public var qkvWidth: Int { (heads + 2 * keyValueHeads) * headSize }
    /// Floats per row of the output: NH·HS.
    public var outputWidth: Int { heads * headSize }
    /// Floats of the saved probabilities: B·NH·T·T.
    public var probabilitiesCount: Int { batch * heads * time * time }
}

extension ElementKernels {
    /// Forward: writes `out` and the probabilities `probabilities` (see the file's legend).
    /// With `dropout`, the probabilities are dropped (attention dropout, as GPT-2 and nanoGPT)
    /// before multiplying V; `probabilities` keeps them undropped, and the mask of (b, h) is
    /// element `(b·NH + h)·T·T + t·T + s` of the dropout's site.
    @inlinable
    public static func causalAttentionForward(
        qkv: UnsafePointer<Float>, shape: AttentionShape,
        out: UnsafeMutablePointer<Float>, probabilities: UnsafeMutablePointer<Float>, dropout: Dropout? = nil,
        positions: UnsafePointer<Int32>? = nil
    ) {
        let (T, HS, NH) = (shape.time, shape.headSize, shape.heads)
        let W = shape.qkvWidth, group = NH / shape.keyValueHeads
        let scale = 1 / Float(HS).squareRoot()
        let items = shape.batch &* NH
        let tasks = Swift.max(1, Swift.min(Parallel.threadCount, items, (items &* T &* T &* HS) / 500_000))
        ScratchPool.shared.withBuffers(count: dropout == nil ? 0 : tasks, capacity: T &* T) { scratch in
        Parallel.forEachTask(tasks) { task in
            for item in evenSplit(items, parts: tasks, index: task) {
                let b = item / NH, h = item % NH, g = h / group
                let base = qkv + b &* T &* W
                let q = base + h &* HS, k = base + (NH &+ g) &* HS, v = base + (NH &+ shape.keyValueHeads &+ g) &* HS
                let p = probabilities + item &* T &* T
                sgemm(m: T, n: T, k: HS, a: q, lda: W, b: k, ldb: W, transposeB: true, c: p, ldc: T, threads: 1)
                for t in 0..<T {
                    let row = p + t &* T
                    let first = documentStart(positions, row: b &* T &+ t, time: t)
                    row.update(repeating: 0, count: first)
                    scaleRow(row + first, t &+ 1 &- first, by: scale)
                    softmaxRow(row + first, row + first, t &+ 1 &- first)
                    let after: Int = t &+ 1
                    (row + after).update(repeating: 0, count: T &- after)
                }
                var weights = UnsafePointer(p)
                if let dropout {
                    let dropped = scratch[task]
                    for t in 0..<T {
                        dropoutRow(p + t &* T, dropped + t &* T, t &+ 1, dropout, offset: item &* T &* T &+ t &* T)
                        let after: Int = t &+ 1
                        (dropped + t &* T + after).update(repeating: 0, count: T &- after)
                    }
                    weights = UnsafePointer(dropped)
                }
                sgemm(m: T, n: HS, k: T, a: weights, lda: T, b: v, ldb: W,
                      c: out + (b &* T &* NH &* HS &+ h &* HS), ldc: NH &* HS, threads: 1)
            }
        }
        }
    }

    /// The first key position that position `time` of a row may attend to: 0, or with packed
    /// `positions` the start of its document, `time − positions[row]` (clamped to 0...time).
    @inlinable @inline(__always)
    static func documentStart(_ positions: UnsafePointer<Int32>?, row: Int, time: Int) -> Int {
        guard let positions else { return 0 }
        return Swift.min(time, Swift.max(0, time &- Int(positions[row])))
    }

    /// Dropout of the first `count` probabilities of a row; the rest of the row is zero.
    @inlinable
    static func dropoutRow(_ p: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>, _ count: Int, _ dropout: Dropout, offset: Int) {
        let scale = 1 / (1 - dropout.rate)
        for s in 0..<count { out[s] = dropout.keeps(offset &+ s) ? p[s] * scale : 0 }
    }

    /// Backward: given `dOut` [B, T, NH·HS], writes `dqkv` [B, T, W] (every element). `dropout`
    /// must be the forward pass's.
    @inlinable
    public static func causalAttentionBackward(
        dOut: UnsafePointer<Float>, qkv: UnsafePointer<Float>, probabilities: UnsafePointer<Float>,
        shape: AttentionShape, dqkv: UnsafeMutablePointer<Float>, dropout: Dropout? = nil, positions: UnsafePointer<Int32>? = nil
    ) {
        let (T, HS, NH, KVH) = (shape.time, shape.headSize, shape.heads, shape.keyValueHeads)
        let W = shape.qkvWidth, group = NH / KVH, outWidth = NH &* HS
        let scale = 1 / Float(HS).squareRoot()
        let items = shape.batch &* KVH
        let tasks = Swift.max(1, Swift.min(Parallel.threadCount, items, (items &* group &* T &* T &* HS) / 200_000))
        ScratchPool.shared.withBuffers(count: tasks, capacity: (dropout == nil ? 1 : 2) &* T &* T) { scratch in
            Parallel.forEachTask(tasks) { task in
                let dScores = scratch[task], dropped = scratch[task] + T &* T
                for item in evenSplit(items, parts: tasks, index: task) {
                    let b = item / KVH, g = item % KVH
                    let base = qkv + b &* T &* W, dBase = dqkv + b &* T &* W
                    let k = base + (NH &+ g) &* HS, v = base + (NH &+ KVH &+ g) &* HS
                    let dk = dBase + (NH &+ g) &* HS, dv = dBase + (NH &+ KVH &+ g) &* HS
                    for t in 0..<T {
                        (dk + t &* W).update(repeating: 0, count: HS)
                        (dv + t &* W).update(repeating: 0, count: HS)
                    }
                    for h in (g &* group)..<((g &+ 1) &* group) {
                        let p = probabilities + (b &* NH &+ h) &* T &* T
                        let dout = dOut + (b &* T &* outWidth &+ h &* HS)
                        let q = base + h &* HS, dq = dBase + h &* HS
                        // dP = dOut · Vᵀ, then through the softmax and the scale.
                        sgemm(m: T, n: T, k: HS, a: dout, lda: outWidth, b: v, ldb: W, transposeB: true,
                              c: dScores, ldc: T, threads: 1)
                        // With dropout: the forward multiplied V by the dropped probabilities,
                        // so dP = mask ⊙ dP′ and dV uses the dropped probabilities.
                        var weights = p
                        if let dropout {
                            let offset = (b &* NH &+ h) &* T &* T
                            for t in 0..<T {
                                dropoutRow(p + t &* T, dropped + t &* T, t &+ 1, dropout, offset: offset &+ t &* T)
                                let after: Int = t &+ 1
                                (dropped + t &* T + after).update(repeating: 0, count: T &- after)
                                dropoutRow(dScores + t &* T, dScores + t &* T, t &+ 1, dropout, offset: offset &+ t &* T)
                            }
                            weights = UnsafePointer(dropped)
                        }
                        for t in 0..<T {
                            let row = dScores + t &* T
                            let first = documentStart(positions, row: b &* T &+ t, time: t)
                            row.update(repeating: 0, count: first)
                            softmaxBackwardRow(p + t &* T + first, row + first, row + first, t &+ 1 &- first, accumulate: false)
                            scaleRow(row + first, t &+ 1 &- first, by: scale)
                            let after: Int = t &+ 1
                            (row + after).update(repeating: 0, count: T &- after)
                        }
                        sgemm(m: T, n: HS, k: T, a: dScores, lda: T, b: k, ldb: W, c: dq, ldc: W, threads: 1)
                        sgemm(m: T, n: HS, k: T, a: dScores, lda: T, transposeA: true, b: q, ldb: W,
                              c: dk, ldc: W, accumulate: true, threads: 1)
                        sgemm(m: T, n: HS, k: T, a: weights, lda: T, transposeA: true, b: dout, ldb: outWidth,
                              c: dv, ldc: W, accumulate: true, threads: 1)
                    }
                }
            }
        }
    }

    /// Attention of `newTokens` queries (positions `pastLength ..< pastLength + newTokens`)
    /// against cached keys and values for positions `0 ..< pastLength + newTokens` (already
    /// appended). q rows are `qStride` apart ([newTokens, NH·HS] at least); cache rows
    /// `cacheStride` apart with KVH·HS values each; out rows `outStride` apart. `scratch` holds at
    /// least `heads × (pastLength + newTokens)` floats.
    @inlinable
    public static func cachedAttention(
        q: UnsafePointer<Float>, qStride: Int, keys: UnsafePointer<Float>, values: UnsafePointer<Float>, cacheStride: Int,
        newTokens: Int, pastLength: Int, heads: Int, keyValueHeads: Int, headSize HS: Int,
        out: UnsafeMutablePointer<Float>, outStride: Int, scratch: UnsafeMutablePointer<Float>
    ) {
        if newTokens >= cachedAttentionBlockThreshold {
            // A prompt: whole-matrix products per head (see CachedAttentionKernels.swift).
            cachedAttentionBlocked(q: q, qStride: qStride, keys: keys, values: values, cacheStride: cacheStride, newTokens: newTokens,
                                   pastLength: pastLength, heads: heads, keyValueHeads: keyValueHeads, headSize: HS,
                                   out: out, outStride: outStride)
            return
        }
        cachedAttentionRows(q: q, qStride: qStride, keys: FloatCacheRows(keys), values: FloatCacheRows(values), cacheStride: cacheStride,
                            newTokens: newTokens, pastLength: pastLength, heads: heads, keyValueHeads: keyValueHeads, headSize: HS,
                            out: out, outStride: outStride, scratch: scratch)
    }

    /// `cachedAttention` over keys and values stored as IEEE half (an F16 cache), query row by
    /// query row: each cached value widened to float32 in registers, so the result equals
    /// `cachedAttention`'s row path on the widened cache exactly.
    @inlinable
    public static func cachedAttentionHalf(
        q: UnsafePointer<Float>, qStride: Int, keys: UnsafePointer<UInt16>, values: UnsafePointer<UInt16>, cacheStride: Int,
        newTokens: Int, pastLength: Int, heads: Int, keyValueHeads: Int, headSize HS: Int,
        out: UnsafeMutablePointer<Float>, outStride: Int, scratch: UnsafeMutablePointer<Float>
    ) {
        cachedAttentionRows(q: q, qStride: qStride, keys: HalfCacheRows(keys), values: HalfCacheRows(values), cacheStride: cacheStride,
                            newTokens: newTokens, pastLength: pastLength, heads: heads, keyValueHeads: keyValueHeads, headSize: HS,
                            out: out, outStride: outStride, scratch: scratch)
    }

    /// The query-row-by-row path of `cachedAttention` over cache rows in any element type.
    @inlinable @inline(__always)
    static func cachedAttentionRows<Rows: CachedRows>(
        q: UnsafePointer<Float>, qStride: Int, keys: Rows, values: Rows, cacheStride: Int,
        newTokens: Int, pastLength: Int, heads: Int, keyValueHeads: Int, headSize HS: Int,
        out: UnsafeMutablePointer<Float>, outStride: Int, scratch: UnsafeMutablePointer<Float>
    ) {
        let group = heads / keyValueHeads, total = pastLength &+ newTokens
        let scale = 1 / Float(HS).squareRoot()
        // Decoding streams the whole cache from memory: split heads across threads early.
        let tasks = Swift.max(1, Swift.min(Parallel.threadCount, heads, (heads &* newTokens &* total &* HS) / 50_000))
        Parallel.forEachTask(tasks) { task in
            for h in evenSplit(heads, parts: tasks, index: task) {
                let g = h / group
                let scores = scratch + h &* total
                for i in 0..<newTokens {
                    let length = pastLength &+ i &+ 1
                    let query = q + (i &* qStride &+ h &* HS)
                    // Four positions at a time: four independent chains of fused multiply-adds
                    // rather than one latency-bound chain.
                    var s = 0
                    let key = g &* HS
                    while s &+ 4 <= length {
                        let k0 = key &+ s &* cacheStride, k1 = k0 &+ cacheStride, k2 = k1 &+ cacheStride, k3 = k2 &+ cacheStride
                        // The rows eight positions on: strided, short rows the prefetchers miss.
                        let ahead = k0 &+ 8 &* cacheStride
                        keys.prefetch(ahead, count: HS); keys.prefetch(ahead &+ cacheStride, count: HS)
                        keys.prefetch(ahead &+ 2 &* cacheStride, count: HS); keys.prefetch(ahead &+ 3 &* cacheStride, count: HS)
                        var a0 = KernelVector(), a1 = KernelVector(), a2 = KernelVector(), a3 = KernelVector()
                        var e = 0
                        while e &+ 8 <= HS {
                            let qv = query.loadVector(KernelVector.self, at: e)
                            a0.addProduct(qv, keys.vector(k0 &+ e))
                            a1.addProduct(qv, keys.vector(k1 &+ e))
                            a2.addProduct(qv, keys.vector(k2 &+ e))
                            a3.addProduct(qv, keys.vector(k3 &+ e))
                            e &+= 8
                        }
                        var t0 = a0.sum(), t1 = a1.sum(), t2 = a2.sum(), t3 = a3.sum()
                        while e < HS {
                            t0.addProduct(query[e], keys.element(k0 &+ e)); t1.addProduct(query[e], keys.element(k1 &+ e))
                            t2.addProduct(query[e], keys.element(k2 &+ e)); t3.addProduct(query[e], keys.element(k3 &+ e))
                            e &+= 1
                        }
                        scores[s] = t0 * scale; scores[s &+ 1] = t1 * scale
                        scores[s &+ 2] = t2 * scale; scores[s &+ 3] = t3 * scale
                        s &+= 4
                    }
                    while s < length {
                        // One position alone, summed as the four-position loop sums each.
                        let k0 = key &+ s &* cacheStride
                        var a0 = KernelVector()
                        var e = 0
                        while e &+ 8 <= HS { a0.addProduct(query.loadVector(KernelVector.self, at: e), keys.vector(k0 &+ e)); e &+= 8 }
                        var t0 = a0.sum()
                        while e < HS { t0.addProduct(query[e], keys.element(k0 &+ e)); e &+= 1 }
                        scores[s] = t0 * scale
                        s &+= 1
                    }
                    softmaxRow(scores, scores, length)
                    let output = out + (i &* outStride &+ h &* HS)
                    // The output in registers, 32 values at a time, summed over positions in
                    // order (as repeated axpys would).
                    let value = g &* HS
                    var e = 0
                    while e &+ 32 <= HS {
                        var o0 = KernelVector(), o1 = KernelVector(), o2 = KernelVector(), o3 = KernelVector()
                        for s in 0..<length {
                            let p = KernelVector(repeating: scores[s]), v = value &+ s &* cacheStride &+ e
                            values.prefetch(v &+ 8 &* cacheStride, count: 32)
                            o0.addProduct(p, values.vector(v))
                            o1.addProduct(p, values.vector(v &+ 8))
                            o2.addProduct(p, values.vector(v &+ 16))
                            o3.addProduct(p, values.vector(v &+ 24))
                        }
                        output.storeVector(o0, at: e); output.storeVector(o1, at: e &+ 8)
                        output.storeVector(o2, at: e &+ 16); output.storeVector(o3, at: e &+ 24)
                        e &+= 32
                    }
                    if e < HS {
                        // Position by position, in order, as the vector loop above sums.
                        (output + e).update(repeating: 0, count: HS &- e)
                        for s in 0..<length {
                            let p = scores[s], v = value &+ s &* cacheStride
                            var i = e
                            while i &+ 8 <= HS {
                                output.storeVector(output.loadVector(KernelVector.self, at: i).addingProduct(KernelVector(repeating: p), values.vector(v &+ i)), at: i)
                                i &+= 8
                            }
                            while i < HS { output[i].addProduct(p, values.element(v &+ i)); i &+= 1 }
                        }
                    }
                }
            }
        }
    }
}

/// Cached key or value rows as the decoding attention reads them: eight values, or one, at an
/// element offset, as float32.
public protocol CachedRows {
    /// Elements `offset ..< offset + 8`.
    func vector(_ offset: Int) -> KernelVector
    /// Prefetches elements `offset ..< offset + count` (any offset: prefetches never fault).
    func prefetch(_ offset: Int, count: Int)
    /// Element `offset`.
    func element(_ offset: Int) -> Float
}

/// A float32 cache.
public struct FloatCacheRows: CachedRows {
    /// The first element.
    public let base: UnsafePointer<Float>
    /// Rows at `base`.
    @inlinable public init(_ base: UnsafePointer<Float>) { self.base = base }
    /// See `CachedRows.vector(_:)`.
    @inlinable @inline(__always) public func vector(_ offset: Int) -> KernelVector { base.loadVector(KernelVector.self, at: offset) }
    /// See `CachedRows.element(_:)`.
    @inlinable @inline(__always) public func element(_ offset: Int) -> Float { base[offset] }
    /// See `CachedRows.prefetch(_:count:)`.
    @inlinable @inline(__always) public func prefetch(_ offset: Int, count: Int) {
        let start = UnsafeRawPointer(base) + 4 &* offset
        var line = 0
        while line < 4 &* count { prefetchForReading(start + line); line &+= 64 }
    }
}

/// An IEEE half cache, widened as it is read (`vcvtph2ps` with F16C).
public struct HalfCacheRows: CachedRows {
    /// The first element's bits.
    public let base: UnsafePointer<UInt16>
    /// Rows at `base`.
    @inlinable public init(_ base: UnsafePointer<UInt16>) { self.base = base }
    /// See `CachedRows.vector(_:)`.
    @inlinable @inline(__always) public func vector(_ offset: Int) -> KernelVector {
        let bits = UnsafeRawPointer(base + offset).loadUnaligned(as: SIMD8<UInt16>.self)
        var r = KernelVector()
        for i in 0..<8 { r[i] = floatFromHalfBits(bits[i]) }
        return r
    }
    /// See `CachedRows.element(_:)`.
    @inlinable @inline(__always) public func element(_ offset: Int) -> Float { floatFromHalfBits(base[offset]) }
    /// See `CachedRows.prefetch(_:count:)`.
    @inlinable @inline(__always) public func prefetch(_ offset: Int, count: Int) {
        let start = UnsafeRawPointer(base) + 2 &* offset
        var line = 0
        while line < 2 &* count { prefetchForReading(start + line); line &+= 64 }
    }
}
