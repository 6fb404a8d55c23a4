// Attention of many new queries against a KV cache (a prompt's prefill), as matrix products.
//
// Legend: N new tokens, P past positions, S = P + N cached positions, NH query heads, KVH
// key/value heads, HS head size. Per query head h (key/value head g = h / (NH / KVH)):
//   scores [N, S] = q_h [N, HS] · k_gᵀ [HS, S] / √HS, row i masked to positions 0 ... P + i,
//   softmax per row, then out_h [N, HS] = scores · v_g [S, HS]; query rows go in chunks of 64,
//   each multiplied only with the keys it can see.
// Each head is one task running single-threaded SGEMMs, so results do not depend on the
// thread count. Used by `Kernels.cachedAttention` when N ≥ `cachedAttentionBlockThreshold`.

extension ElementKernels {
    /// From this many new tokens on, `cachedAttention` uses `cachedAttentionBlocked`.
    @inlinable public static var cachedAttentionBlockThreshold: Int { 8 }
    /// Query rows per matrix product in `cachedAttentionBlocked`.
    @inlinable static var cachedAttentionChunk: Int { 64 }

    /// `cachedAttention`'s contract (without the caller's scratch: rows of scores come from
    /// `ScratchPool`), computed per head with matrix products.
    @inlinable
    public static func cachedAttentionBlocked(
        q: UnsafePointer<Float>, qStride: Int, keys: UnsafePointer<Float>, values: UnsafePointer<Float>, cacheStride: Int,
        newTokens: Int, pastLength: Int, heads: Int, keyValueHeads: Int, headSize HS: Int,
        out: UnsafeMutablePointer<Float>, outStride: Int
    ) {
        let group = heads / keyValueHeads, total = pastLength &+ newTokens
        let scale = 1 / Float(HS).squareRoot()
        let tasks = Swift.max(1, Swift.min(Parallel.threadCount, heads, (heads &* newTokens &* total &* HS) / 400_000))
        ScratchPool.shared.withBuffers(count: tasks, capacity: Swift.min(newTokens, cachedAttentionChunk) &* total) { scratch in
            Parallel.forEachTask(tasks) { task in
                let scores = scratch[task]
                for h in evenSplit(heads, parts: tasks, index: task) {
                    let g = h / group
                    // Query rows in chunks, each against the keys it can see (skips most of the
                    // masked upper triangle).
                    var i0 = 0
                    while i0 < newTokens {
                        let i1 = Swift.min(newTokens, i0 &+ cachedAttentionChunk), rows = i1 &- i0, visible = pastLength &+ i1
                        sgemm(m: rows, n: visible, k: HS, a: q + (i0 &* qStride &+ h &* HS), lda: qStride, b: keys + g &* HS,
                              ldb: cacheStride, transposeB: true, c: scores, ldc: visible, threads: 1)
                        for i in 0..<rows {
                            let row = scores + i &* visible, length = pastLength &+ i0 &+ i &+ 1
                            scaleRow(row, length, by: scale)
                            softmaxRow(row, row, length)
                            (row + length).update(repeating: 0, count: visible &- length)
                        }
                        sgemm(m: rows, n: HS, k: visible, a: scores, lda: visible, b: values + g &* HS, ldb: cacheStride,
                              c: out + (i0 &* outStride &+ h &* HS), ldc: outStride, threads: 1)
                        i0 = i1
                    }
                }
            }
        }
    }
}
