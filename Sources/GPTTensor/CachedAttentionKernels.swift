// Attention of many new queries against a KV cache (a prompt's prefill), as matrix products.
//
// Legend: N new tokens, P past positions, S = P + N cached positions, NH query heads, KVH
// key/value heads, HS head size. Per query head h (key/value head g = h / (NH / KVH)):
//   scores [N, S] = q_h [N, HS] · k_gᵀ [HS, S] / √HS, row i masked to positions 0 ... P + i,
//   softmax per row, then out_h [N, HS] = scores · v_g [S, HS]; query rows go in chunks of 64,
//   each multiplied only with the keys it can see.
// Each head is one task running single-threaded SGEMMs, so results do not depend on the
// thread count. Used by `Kernels.cachedAttention` when N ≥ `cachedAttentionBlockThreshold`.
// The implementation is `ElementKernels` (GPTKernelCore), compiled per instruction set; these
// entry points call the kernel set chosen at run time.
import GPTKernelCore
import GPTKernelsPortable

extension Kernels {
    /// From this many new tokens on, `cachedAttention` uses `cachedAttentionBlocked`.
    public static let cachedAttentionBlockThreshold = ElementKernels<PortableKernels>.cachedAttentionBlockThreshold

    /// `cachedAttention`'s contract (without the caller's scratch: rows of scores come from
    /// `ScratchPool`), computed per head with matrix products.
    public static func cachedAttentionBlocked(q: UnsafePointer<Float>, qStride: Int, keys: UnsafePointer<Float>, values: UnsafePointer<Float>, cacheStride: Int, newTokens: Int, pastLength: Int, heads: Int, keyValueHeads: Int, headSize HS: Int, out: UnsafeMutablePointer<Float>, outStride: Int) {
        active.cachedAttentionBlocked(q: q, qStride: qStride, keys: keys, values: values, cacheStride: cacheStride, newTokens: newTokens, pastLength: pastLength, heads: heads, keyValueHeads: keyValueHeads, headSize: HS, out: out, outStride: outStride)
    }
}
