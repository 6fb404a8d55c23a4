// The element-wise kernels (softmax, norms, activations, attention, cross-entropy) compiled for
// this target's instruction set: thin entry points over `ElementKernels<AVX2Kernels>`.
import GPTKernelCore

extension AVX2Kernels {
    /// `ElementKernels.geluForward`, compiled here.
    public static func geluForward(_ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, count: Int) {
        ElementKernels<AVX2Kernels>.geluForward(x, into: y, count: count)
    }

    /// `ElementKernels.geluBackward`, compiled here.
    public static func geluBackward(x: UnsafePointer<Float>, dy: UnsafePointer<Float>, dx: UnsafeMutablePointer<Float>, count: Int, accumulate: Bool) {
        ElementKernels<AVX2Kernels>.geluBackward(x: x, dy: dy, dx: dx, count: count, accumulate: accumulate)
    }

    /// `ElementKernels.siluForward`, compiled here.
    public static func siluForward(_ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, count: Int) {
        ElementKernels<AVX2Kernels>.siluForward(x, into: y, count: count)
    }

    /// `ElementKernels.siluBackward`, compiled here.
    public static func siluBackward(x: UnsafePointer<Float>, dy: UnsafePointer<Float>, dx: UnsafeMutablePointer<Float>, count: Int, accumulate: Bool) {
        ElementKernels<AVX2Kernels>.siluBackward(x: x, dy: dy, dx: dx, count: count, accumulate: accumulate)
    }

    /// `ElementKernels.causalAttentionForward`, compiled here.
    public static func causalAttentionForward(qkv: UnsafePointer<Float>, shape: AttentionShape, out: UnsafeMutablePointer<Float>, probabilities: UnsafeMutablePointer<Float>, dropout: Dropout?, positions: UnsafePointer<Int32>?) {
        ElementKernels<AVX2Kernels>.causalAttentionForward(qkv: qkv, shape: shape, out: out, probabilities: probabilities, dropout: dropout, positions: positions)
    }

    /// `ElementKernels.causalAttentionBackward`, compiled here.
    public static func causalAttentionBackward(dOut: UnsafePointer<Float>, qkv: UnsafePointer<Float>, probabilities: UnsafePointer<Float>, shape: AttentionShape, dqkv: UnsafeMutablePointer<Float>, dropout: Dropout?, positions: UnsafePointer<Int32>?) {
        ElementKernels<AVX2Kernels>.causalAttentionBackward(dOut: dOut, qkv: qkv, probabilities: probabilities, shape: shape, dqkv: dqkv, dropout: dropout, positions: positions)
    }

    /// `ElementKernels.cachedAttention`, compiled here.
    public static func cachedAttention(q: UnsafePointer<Float>, qStride: Int, keys: UnsafePointer<Float>, values: UnsafePointer<Float>, cacheStride: Int, newTokens: Int, pastLength: Int, heads: Int, keyValueHeads: Int, headSize HS: Int, out: UnsafeMutablePointer<Float>, outStride: Int, scratch: UnsafeMutablePointer<Float>) {
        ElementKernels<AVX2Kernels>.cachedAttention(q: q, qStride: qStride, keys: keys, values: values, cacheStride: cacheStride, newTokens: newTokens, pastLength: pastLength, heads: heads, keyValueHeads: keyValueHeads, headSize: HS, out: out, outStride: outStride, scratch: scratch)
    }

    /// `ElementKernels.cachedAttentionHalf`, compiled here.
    public static func cachedAttentionHalf(q: UnsafePointer<Float>, qStride: Int, keys: UnsafePointer<UInt16>, values: UnsafePointer<UInt16>, cacheStride: Int, newTokens: Int, pastLength: Int, heads: Int, keyValueHeads: Int, headSize HS: Int, out: UnsafeMutablePointer<Float>, outStride: Int, scratch: UnsafeMutablePointer<Float>) {
        ElementKernels<AVX2Kernels>.cachedAttentionHalf(q: q, qStride: qStride, keys: keys, values: values, cacheStride: cacheStride, newTokens: newTokens, pastLength: pastLength, heads: heads, keyValueHeads: keyValueHeads, headSize: HS, out: out, outStride: outStride, scratch: scratch)
    }

    /// `ElementKernels.cachedAttentionBlocked`, compiled here.
    public static func cachedAttentionBlocked(q: UnsafePointer<Float>, qStride: Int, keys: UnsafePointer<Float>, values: UnsafePointer<Float>, cacheStride: Int, newTokens: Int, pastLength: Int, heads: Int, keyValueHeads: Int, headSize HS: Int, out: UnsafeMutablePointer<Float>, outStride: Int) {
        ElementKernels<AVX2Kernels>.cachedAttentionBlocked(q: q, qStride: qStride, keys: keys, values: values, cacheStride: cacheStride, newTokens: newTokens, pastLength: pastLength, heads: heads, keyValueHeads: keyValueHeads, headSize: HS, out: out, outStride: outStride)
    }

    /// `ElementKernels.crossEntropyForward`, compiled here.
    public static func crossEntropyForward(logits: UnsafePointer<Float>, targets: UnsafePointer<Int32>, weights: UnsafePointer<Float>?, rows: Int, vocabulary: Int, ignoreIndex: Int32, statistics: UnsafeMutablePointer<Float>, losses: UnsafeMutablePointer<Float>) -> (loss: Float, count: Float) {
        ElementKernels<AVX2Kernels>.crossEntropyForward(logits: logits, targets: targets, weights: weights, rows: rows, vocabulary: vocabulary, ignoreIndex: ignoreIndex, statistics: statistics, losses: losses)
    }

    /// `ElementKernels.crossEntropyBackward`, compiled here.
    public static func crossEntropyBackward(logits: UnsafePointer<Float>, statistics: UnsafePointer<Float>, targets: UnsafePointer<Int32>, weights: UnsafePointer<Float>?, rows: Int, vocabulary: Int, ignoreIndex: Int32, scale: Float, gradient: UnsafeMutablePointer<Float>) {
        ElementKernels<AVX2Kernels>.crossEntropyBackward(logits: logits, statistics: statistics, targets: targets, weights: weights, rows: rows, vocabulary: vocabulary, ignoreIndex: ignoreIndex, scale: scale, gradient: gradient)
    }

    /// `ElementKernels.layerNormForward`, compiled here.
    public static func layerNormForward(x: UnsafePointer<Float>, weight: UnsafePointer<Float>, bias: UnsafePointer<Float>?, y: UnsafeMutablePointer<Float>, mean: UnsafeMutablePointer<Float>, rstd: UnsafeMutablePointer<Float>, rows: Int, columns: Int, epsilon: Float) {
        ElementKernels<AVX2Kernels>.layerNormForward(x: x, weight: weight, bias: bias, y: y, mean: mean, rstd: rstd, rows: rows, columns: columns, epsilon: epsilon)
    }

    /// `ElementKernels.layerNormBackward`, compiled here.
    public static func layerNormBackward(dy: UnsafePointer<Float>, x: UnsafePointer<Float>, weight: UnsafePointer<Float>, mean: UnsafePointer<Float>, rstd: UnsafePointer<Float>, dx: UnsafeMutablePointer<Float>, dweight: UnsafeMutablePointer<Float>, dbias: UnsafeMutablePointer<Float>?, rows: Int, columns: Int, accumulateInput: Bool) {
        ElementKernels<AVX2Kernels>.layerNormBackward(dy: dy, x: x, weight: weight, mean: mean, rstd: rstd, dx: dx, dweight: dweight, dbias: dbias, rows: rows, columns: columns, accumulateInput: accumulateInput)
    }

    /// `ElementKernels.rmsNormForward`, compiled here.
    public static func rmsNormForward(x: UnsafePointer<Float>, weight: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>, rstd: UnsafeMutablePointer<Float>, rows: Int, columns: Int, epsilon: Float) {
        ElementKernels<AVX2Kernels>.rmsNormForward(x: x, weight: weight, y: y, rstd: rstd, rows: rows, columns: columns, epsilon: epsilon)
    }

    /// `ElementKernels.rmsNormBackward`, compiled here.
    public static func rmsNormBackward(dy: UnsafePointer<Float>, x: UnsafePointer<Float>, weight: UnsafePointer<Float>, rstd: UnsafePointer<Float>, dx: UnsafeMutablePointer<Float>, dweight: UnsafeMutablePointer<Float>, rows: Int, columns: Int, accumulateInput: Bool) {
        ElementKernels<AVX2Kernels>.rmsNormBackward(dy: dy, x: x, weight: weight, rstd: rstd, dx: dx, dweight: dweight, rows: rows, columns: columns, accumulateInput: accumulateInput)
    }

    /// `ElementKernels.softmaxRows`, compiled here.
    public static func softmaxRows(_ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, rows: Int, columns: Int) {
        ElementKernels<AVX2Kernels>.softmaxRows(x, into: y, rows: rows, columns: columns)
    }

    /// `ElementKernels.softmaxRow`, compiled here.
    public static func softmaxRow(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ n: Int) {
        ElementKernels<AVX2Kernels>.softmaxRow(x, y, n)
    }

    /// `ElementKernels.softmaxBackwardRows`, compiled here.
    public static func softmaxBackwardRows(y: UnsafePointer<Float>, dy: UnsafePointer<Float>, dx: UnsafeMutablePointer<Float>, rows: Int, columns: Int, accumulate: Bool) {
        ElementKernels<AVX2Kernels>.softmaxBackwardRows(y: y, dy: dy, dx: dx, rows: rows, columns: columns, accumulate: accumulate)
    }

    /// `ElementKernels.softmaxBackwardRow`, compiled here.
    public static func softmaxBackwardRow(_ y: UnsafePointer<Float>, _ dy: UnsafePointer<Float>, _ dx: UnsafeMutablePointer<Float>, _ n: Int, accumulate: Bool) {
        ElementKernels<AVX2Kernels>.softmaxBackwardRow(y, dy, dx, n, accumulate: accumulate)
    }
}
