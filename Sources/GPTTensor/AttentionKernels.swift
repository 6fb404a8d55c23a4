// Causal multi-head attention with grouped key/value heads, forward and backward.
//
// Legend: B batch, T time, NH query heads, KVH key/value heads, HS head size.
// qkv is [B, T, W] with W = (NH + 2·KVH)·HS: query head h at column h·HS, key head g at
// (NH + g)·HS, value head g at (NH + KVH + g)·HS. Query head h reads key/value head
// g = h / (NH / KVH). out is [B, T, NH·HS]; the probabilities P are [B, NH, T, T] (upper
// triangles zero). Scores are q·k / √HS, as F.scaled_dot_product_attention(is_causal=True).
//
// Each (b, h) (forward) or (b, g) (backward, so that the heads sharing a key/value head add
// into its gradient in a fixed order) is one task; the products inside run single-threaded
// through the SGEMM kernels.
// The implementation is `ElementKernels` (GPTKernelCore), compiled per instruction set; these
// entry points call the kernel set chosen at run time.
import GPTKernelCore

extension Kernels {
    /// Forward: writes `out` and the probabilities `probabilities` (see the file's legend).
    /// With `dropout`, the probabilities are dropped (attention dropout, as GPT-2 and nanoGPT)
    /// before multiplying V; `probabilities` keeps them undropped, and the mask of (b, h) is
    /// element `(b·NH + h)·T·T + t·T + s` of the dropout's site.
    ///
    /// With `positions` `[B·T]` (packed rows: each document's positions count from 0), position
    /// t attends only to keys from its document's start, `t − positions[b·T + t]`, through t —
    /// a document mask inside the causal one; the probabilities outside it are 0.
    public static func causalAttentionForward(qkv: UnsafePointer<Float>, shape: AttentionShape, out: UnsafeMutablePointer<Float>, probabilities: UnsafeMutablePointer<Float>, dropout: Dropout? = nil, positions: UnsafePointer<Int32>? = nil) {
        active.causalAttentionForward(qkv: qkv, shape: shape, out: out, probabilities: probabilities, dropout: dropout, positions: positions)
    }

    /// Backward: given `dOut` [B, T, NH·HS], writes `dqkv` [B, T, W] (every element). `dropout`
    /// and `positions` must be the forward pass's.
    public static func causalAttentionBackward(dOut: UnsafePointer<Float>, qkv: UnsafePointer<Float>, probabilities: UnsafePointer<Float>, shape: AttentionShape, dqkv: UnsafeMutablePointer<Float>, dropout: Dropout? = nil, positions: UnsafePointer<Int32>? = nil) {
        active.causalAttentionBackward(dOut: dOut, qkv: qkv, probabilities: probabilities, shape: shape, dqkv: dqkv, dropout: dropout, positions: positions)
    }

    /// Attention of `newTokens` queries (positions `pastLength ..< pastLength + newTokens`)
    /// against cached keys and values for positions `0 ..< pastLength + newTokens` (already
    /// appended). q rows are `qStride` apart ([newTokens, NH·HS] at least); cache rows
    /// `cacheStride` apart with KVH·HS values each; out rows `outStride` apart. `scratch` holds at
    /// least `heads × (pastLength + newTokens)` floats.
    public static func cachedAttention(q: UnsafePointer<Float>, qStride: Int, keys: UnsafePointer<Float>, values: UnsafePointer<Float>, cacheStride: Int, newTokens: Int, pastLength: Int, heads: Int, keyValueHeads: Int, headSize HS: Int, out: UnsafeMutablePointer<Float>, outStride: Int, scratch: UnsafeMutablePointer<Float>) {
        active.cachedAttention(q: q, qStride: qStride, keys: keys, values: values, cacheStride: cacheStride, newTokens: newTokens, pastLength: pastLength, heads: heads, keyValueHeads: keyValueHeads, headSize: HS, out: out, outStride: outStride, scratch: scratch)
    }

    /// `cachedAttention` over keys and values stored as IEEE half bits (an F16 cache), query
    /// row by query row, each cached value widened to float32 as it is read: the result equals
    /// the row path of `cachedAttention` on the widened cache exactly (prompts are better served
    /// by widening the cache and calling `cachedAttention`, whose blocked path is faster).
    public static func cachedAttentionHalf(q: UnsafePointer<Float>, qStride: Int, keys: UnsafePointer<UInt16>, values: UnsafePointer<UInt16>, cacheStride: Int, newTokens: Int, pastLength: Int, heads: Int, keyValueHeads: Int, headSize HS: Int, out: UnsafeMutablePointer<Float>, outStride: Int, scratch: UnsafeMutablePointer<Float>) {
        active.cachedAttentionHalf(q: q, qStride: qStride, keys: keys, values: values, cacheStride: cacheStride, newTokens: newTokens, pastLength: pastLength, heads: heads, keyValueHeads: keyValueHeads, headSize: HS, out: out, outStride: outStride, scratch: scratch)
    }
}
