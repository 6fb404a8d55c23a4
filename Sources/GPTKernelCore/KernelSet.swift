// The interface every per-ISA kernel target implements; GPTTensor picks one at run time.

/// Byte dot products for the quantized kernels: lane `i` of each result is the exact sum of the
/// four products of elements `4i..<4i+4`.
public protocol ByteDotProducts {
    /// Σ u·s by lanes of four, for unsigned `u ≤ 128` and signed `|s| ≤ 127`.
    static func dot(unsigned u: SIMD32<UInt8>, _ s: SIMD32<Int8>) -> SIMD8<Int32>
    /// Σ a·s by lanes of four, for any signed `a` and `|s| ≤ 127`.
    static func dot(signed a: SIMD32<Int8>, _ s: SIMD32<Int8>) -> SIMD8<Int32>
}

/// The byte dot products in plain element loops: the portable kernels' version and the reference
/// the instruction-set versions are tested against.
public enum PortableByteDotProducts: ByteDotProducts {
    /// See `ByteDotProducts.dot(unsigned:_:)`.
    @inlinable @inline(__always)
    public static func dot(unsigned u: SIMD32<UInt8>, _ s: SIMD32<Int8>) -> SIMD8<Int32> {
        var wide = SIMD32<Int32>()
        for i in 0..<32 { wide[i] = Int32(u[i]) &* Int32(s[i]) }
        var r = SIMD8<Int32>()
        for i in 0..<8 { r[i] = wide[4 &* i] &+ wide[4 &* i &+ 1] &+ wide[4 &* i &+ 2] &+ wide[4 &* i &+ 3] }
        return r
    }

    /// See `ByteDotProducts.dot(signed:_:)`.
    @inlinable @inline(__always)
    public static func dot(signed a: SIMD32<Int8>, _ s: SIMD32<Int8>) -> SIMD8<Int32> {
        var wide = SIMD32<Int32>()
        for i in 0..<32 { wide[i] = Int32(a[i]) &* Int32(s[i]) }
        var r = SIMD8<Int32>()
        for i in 0..<8 { r[i] = wide[4 &* i] &+ wide[4 &* i &+ 1] &+ wide[4 &* i &+ 2] &+ wide[4 &* i &+ 3] }
        return r
    }
}

/// A set of compute kernels compiled for one instruction set.
public protocol KernelSet: Sendable, ByteDotProducts {
    /// A short name, for example "avx2".
    static var name: String { get }
    /// See `sgemmBlocked` for the contract.
    static func sgemm(
        m: Int, n: Int, k: Int,
        a: UnsafePointer<Float>, lda: Int, transposeA: Bool,
        b: UnsafePointer<Float>, ldb: Int, transposeB: Bool,
        c: UnsafeMutablePointer<Float>, ldc: Int,
        bias: UnsafePointer<Float>?, accumulate: Bool, threads: Int)
    /// See `sgemvRows`.
    static func sgemvRows(
        n: Int, k: Int, w: UnsafePointer<Float>, ldw: Int, rows: Int, x: UnsafePointer<Float>, ldx: Int,
        y: UnsafeMutablePointer<Float>, ldy: Int, bias: UnsafePointer<Float>?, accumulate: Bool, threads: Int)
    /// See `sgemvColumns`.
    static func sgemvColumns(
        n: Int, k: Int, b: UnsafePointer<Float>, ldb: Int, x: UnsafePointer<Float>,
        y: UnsafeMutablePointer<Float>, bias: UnsafePointer<Float>?, accumulate: Bool, threads: Int)

    // MARK: - Products with stored block formats (see QuantizedKernels.swift)

    /// `GPTKernelCore.quantizeActivationBlocks` compiled for this instruction set.
    static func quantizeActivationBlocks(
        _ x: UnsafePointer<Float>, rows: Int, k: Int, ldx: Int,
        values: UnsafeMutablePointer<Int8>, scales: UnsafeMutablePointer<Float>, sums: UnsafeMutablePointer<Float>)
    /// `GPTKernelCore.quantizedGEMM` compiled for this instruction set.
    static func quantizedGEMM(
        _ format: QuantizedBlockFormat, n: Int, k: Int, w: UnsafeRawPointer, rowBytes: Int,
        rows: Int, values: UnsafePointer<Int8>, scales: UnsafePointer<Float>, sums: UnsafePointer<Float>,
        y: UnsafeMutablePointer<Float>, ldy: Int, bias: UnsafePointer<Float>?, accumulate: Bool, threads: Int)
    /// `GPTKernelCore.quantizedGEMMGroupTask` over all tasks, compiled for this instruction set.
    static func quantizedGEMMGroup(
        _ format: QuantizedBlockFormat, parts: UnsafePointer<StoredProductPart>, count: Int, k: Int, rowBytes: Int,
        rows: Int, values: UnsafePointer<Int8>, scales: UnsafePointer<Float>, sums: UnsafePointer<Float>, accumulate: Bool,
        threads: Int)
    /// `GPTKernelCore.floatBlockGEMMTask` over all tasks, compiled for this instruction set.
    static func floatBlockGEMM(
        _ format: QuantizedBlockFormat, n: Int, k: Int, w: UnsafeRawPointer, rowBytes: Int,
        rows: Int, x: UnsafePointer<Float>, ldx: Int, blockSums: UnsafePointer<Float>,
        y: UnsafeMutablePointer<Float>, ldy: Int, bias: UnsafePointer<Float>?, accumulate: Bool, threads: Int)
    /// `GPTKernelCore.floatBlockGEMMGroupTask` over all tasks, compiled for this instruction set.
    static func floatBlockGEMMGroup(
        _ format: QuantizedBlockFormat, parts: UnsafePointer<StoredProductPart>, count: Int, k: Int, rowBytes: Int,
        rows: Int, x: UnsafePointer<Float>, ldx: Int, blockSums: UnsafePointer<Float>, accumulate: Bool, threads: Int)
    /// `GPTKernelCore.floatKQuantRows` over all tasks, compiled for this instruction set.
    static func floatQ4KGEMM(
        n: Int, k: Int, w: UnsafeRawPointer, rowBytes: Int, rows: Int, x: UnsafePointer<Float>, ldx: Int,
        blockSums: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>, ldy: Int, bias: UnsafePointer<Float>?,
        accumulate: Bool, threads: Int)
    /// `GPTKernelCore.floatKQuantRows` over all tasks, compiled for this instruction set.
    static func floatQ5KGEMM(
        n: Int, k: Int, w: UnsafeRawPointer, rowBytes: Int, rows: Int, x: UnsafePointer<Float>, ldx: Int,
        blockSums: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>, ldy: Int, bias: UnsafePointer<Float>?,
        accumulate: Bool, threads: Int)
    /// `GPTKernelCore.floatQ6KRows` over all tasks, compiled for this instruction set.
    static func floatQ6KGEMM(
        n: Int, k: Int, w: UnsafeRawPointer, rowBytes: Int, rows: Int, x: UnsafePointer<Float>, ldx: Int,
        y: UnsafeMutablePointer<Float>, ldy: Int, bias: UnsafePointer<Float>?, accumulate: Bool, threads: Int)
    /// `GPTKernelCore.halfGEMM` compiled for this instruction set.
    static func halfGEMM(
        isBFloat16: Bool, n: Int, k: Int, w: UnsafePointer<UInt16>, ldw: Int, rows: Int,
        x: UnsafePointer<Float>, ldx: Int, y: UnsafeMutablePointer<Float>, ldy: Int,
        bias: UnsafePointer<Float>?, accumulate: Bool, threads: Int)

    // MARK: - Element-wise kernels (see `ElementKernels`)

    /// `ElementKernels.geluForward` compiled for this instruction set.
    static func geluForward(_ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, count: Int)
    /// `ElementKernels.geluBackward` compiled for this instruction set.
    static func geluBackward(x: UnsafePointer<Float>, dy: UnsafePointer<Float>, dx: UnsafeMutablePointer<Float>, count: Int, accumulate: Bool)
    /// `ElementKernels.siluForward` compiled for this instruction set.
    static func siluForward(_ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, count: Int)
    /// `ElementKernels.siluBackward` compiled for this instruction set.
    static func siluBackward(x: UnsafePointer<Float>, dy: UnsafePointer<Float>, dx: UnsafeMutablePointer<Float>, count: Int, accumulate: Bool)
    /// `ElementKernels.causalAttentionForward` compiled for this instruction set.
    static func causalAttentionForward(qkv: UnsafePointer<Float>, shape: AttentionShape, out: UnsafeMutablePointer<Float>, probabilities: UnsafeMutablePointer<Float>, dropout: Dropout?, positions: UnsafePointer<Int32>?)
    /// `ElementKernels.causalAttentionBackward` compiled for this instruction set.
    static func causalAttentionBackward(dOut: UnsafePointer<Float>, qkv: UnsafePointer<Float>, probabilities: UnsafePointer<Float>, shape: AttentionShape, dqkv: UnsafeMutablePointer<Float>, dropout: Dropout?, positions: UnsafePointer<Int32>?)
    /// `ElementKernels.cachedAttention` compiled for this instruction set.
    static func cachedAttention(q: UnsafePointer<Float>, qStride: Int, keys: UnsafePointer<Float>, values: UnsafePointer<Float>, cacheStride: Int, newTokens: Int, pastLength: Int, heads: Int, keyValueHeads: Int, headSize HS: Int, out: UnsafeMutablePointer<Float>, outStride: Int, scratch: UnsafeMutablePointer<Float>)
    /// `ElementKernels.cachedAttentionHalf` compiled for this instruction set.
    static func cachedAttentionHalf(q: UnsafePointer<Float>, qStride: Int, keys: UnsafePointer<UInt16>, values: UnsafePointer<UInt16>, cacheStride: Int, newTokens: Int, pastLength: Int, heads: Int, keyValueHeads: Int, headSize HS: Int, out: UnsafeMutablePointer<Float>, outStride: Int, scratch: UnsafeMutablePointer<Float>)
    /// `ElementKernels.cachedAttentionBlocked` compiled for this instruction set.
    static func cachedAttentionBlocked(q: UnsafePointer<Float>, qStride: Int, keys: UnsafePointer<Float>, values: UnsafePointer<Float>, cacheStride: Int, newTokens: Int, pastLength: Int, heads: Int, keyValueHeads: Int, headSize HS: Int, out: UnsafeMutablePointer<Float>, outStride: Int)
    /// `ElementKernels.crossEntropyForward` compiled for this instruction set.
    static func crossEntropyForward(logits: UnsafePointer<Float>, targets: UnsafePointer<Int32>, weights: UnsafePointer<Float>?, rows: Int, vocabulary: Int, ignoreIndex: Int32, statistics: UnsafeMutablePointer<Float>, losses: UnsafeMutablePointer<Float>) -> (loss: Float, count: Float)
    /// `ElementKernels.crossEntropyBackward` compiled for this instruction set.
    static func crossEntropyBackward(logits: UnsafePointer<Float>, statistics: UnsafePointer<Float>, targets: UnsafePointer<Int32>, weights: UnsafePointer<Float>?, rows: Int, vocabulary: Int, ignoreIndex: Int32, scale: Float, gradient: UnsafeMutablePointer<Float>)
    /// `ElementKernels.layerNormForward` compiled for this instruction set.
    static func layerNormForward(x: UnsafePointer<Float>, weight: UnsafePointer<Float>, bias: UnsafePointer<Float>?, y: UnsafeMutablePointer<Float>, mean: UnsafeMutablePointer<Float>, rstd: UnsafeMutablePointer<Float>, rows: Int, columns: Int, epsilon: Float)
    /// `ElementKernels.layerNormBackward` compiled for this instruction set.
    static func layerNormBackward(dy: UnsafePointer<Float>, x: UnsafePointer<Float>, weight: UnsafePointer<Float>, mean: UnsafePointer<Float>, rstd: UnsafePointer<Float>, dx: UnsafeMutablePointer<Float>, dweight: UnsafeMutablePointer<Float>, dbias: UnsafeMutablePointer<Float>?, rows: Int, columns: Int, accumulateInput: Bool)
    /// `ElementKernels.rmsNormForward` compiled for this instruction set.
    static func rmsNormForward(x: UnsafePointer<Float>, weight: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>, rstd: UnsafeMutablePointer<Float>, rows: Int, columns: Int, epsilon: Float)
    /// `ElementKernels.rmsNormBackward` compiled for this instruction set.
    static func rmsNormBackward(dy: UnsafePointer<Float>, x: UnsafePointer<Float>, weight: UnsafePointer<Float>, rstd: UnsafePointer<Float>, dx: UnsafeMutablePointer<Float>, dweight: UnsafeMutablePointer<Float>, rows: Int, columns: Int, accumulateInput: Bool)
    /// `ElementKernels.softmaxRows` compiled for this instruction set.
    static func softmaxRows(_ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, rows: Int, columns: Int)
    /// `ElementKernels.softmaxRow` compiled for this instruction set.
    static func softmaxRow(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ n: Int)
    /// `ElementKernels.softmaxBackwardRows` compiled for this instruction set.
    static func softmaxBackwardRows(y: UnsafePointer<Float>, dy: UnsafePointer<Float>, dx: UnsafeMutablePointer<Float>, rows: Int, columns: Int, accumulate: Bool)
    /// `ElementKernels.softmaxBackwardRow` compiled for this instruction set.
    static func softmaxBackwardRow(_ y: UnsafePointer<Float>, _ dy: UnsafePointer<Float>, _ dx: UnsafeMutablePointer<Float>, _ n: Int, accumulate: Bool)
}
