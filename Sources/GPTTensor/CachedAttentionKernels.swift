// Attention of many new queries against a KV cache (a prompt's prefill), as matrix products.
//
// Legend: N new tokens, P past positions, S = P + N cached positions, NH query heads, KVH
// key/value heads, HS head size. Per query head h (key/value head g = h / (NH / KVH)):
//   scores [N, S] = q_h [N, HS] · k_gᵀ [HS, S] / √HS, row i masked to positions 0 ... P + i,
//   softmax per row, then out_h [N, HS] = scores · v_g [S, HS].
// Each head is one task running single-threaded SGEMMs, so results do not depend on the
// thread count. Used by `Kernels.cachedAttention` when N ≥ `cachedAttentionBlockThreshold`.
import GPTKernelCore

extension Kernels {
    /// From this many new tokens on, `cachedAttention` uses `cachedAttentionBlocked`.
    public static let cachedAttentionBlockThreshold = 8

    /// `cachedAttention`'s contract (without the caller's scratch: rows of scores come from
    /// `ScratchPool`), computed per head with matrix products.
    public static func cachedAttentionBlocked(
        q: UnsafePointer<Float>, qStride: Int, keys: UnsafePointer<Float>, values: UnsafePointer<Float>, cacheStride: Int,
        newTokens: Int, pastLength: Int, heads: Int, keyValueHeads: Int, headSize HS: Int,
        out: UnsafeMutablePointer<Float>, outStride: Int
    ) {
        let group = heads / keyValueHeads, total = pastLength &+ newTokens
        let scale = 1 / Float(HS).squareRoot()
        let tasks = Swift.max(1, Swift.min(Parallel.threadCount, heads, (heads &* newTokens &* total &* HS) / 400_000))
        ScratchPool.shared.withBuffers(count: tasks, capacity: newTokens &* total) { scratch in
            Parallel.forEachTask(tasks) { task in
                let scores = scratch[task]
                for h in evenSplit(heads, parts: tasks, index: task) {
                    let g = h / group
                    sgemm(m: newTokens, n: total, k: HS, a: q + h &* HS, lda: qStride, b: keys + g &* HS, ldb: cacheStride,
                          transposeB: true, c: scores, ldc: total, threads: 1)
                    for i in 0..<newTokens {
                        let row = scores + i &* total, length = pastLength &+ i &+ 1
                        scaleRow(row, length, by: scale)
                        softmaxRow(row, row, length)
                        (row + length).update(repeating: 0, count: total &- length)
                    }
                    sgemm(m: newTokens, n: HS, k: total, a: scores, lda: total, b: values + g &* HS, ldb: cacheStride,
                          c: out + h &* HS, ldc: outStride, threads: 1)
                }
            }
        }
    }
}
