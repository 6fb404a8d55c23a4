// Causal self-attention with a fused QKV projection, grouped-query heads and optional RoPE.
import GPTTensor

/// Causal multi-head self-attention: fused `c_attn` projection to q (NH heads), k and v (KVH
/// heads each), optional rotary embedding on q and k, softmax(q·kᵀ/√HS) with a causal mask
/// (`F.scaled_dot_product_attention(is_causal=True)`), query head h reading key/value head
/// h / (NH/KVH), then the `c_proj` output projection. KVH = NH is multi-head attention,
/// KVH = 1 multi-query, anything between grouped-query.
///
/// `c_attn.weight` is `[(NH + 2·KVH)·HS, C]`: the query heads' rows, then the key heads', then
/// the value heads'.
public struct CausalSelfAttention: Sendable, Hashable {
    /// C, the model width.
    public let dimensions: Int
    /// NH, the query heads.
    public let heads: Int
    /// KVH, the key/value heads.
    public let keyValueHeads: Int
    /// HS = C / NH.
    public let headSize: Int
    /// The fused projection C → (NH + 2·KVH)·HS.
    public let qkv: Linear
    /// The output projection NH·HS → C.
    public let projection: Linear
    /// RoPE on q and k, if used.
    public let rotary: RotaryEmbedding?

    /// What `forward` keeps for `backward`.
    public struct Saved {
        /// The input `[B·T, C]` (owned by the caller).
        public let input: UnsafePointer<Float>
        /// The output `[B·T, C]`.
        public let output: UnsafeMutablePointer<Float>
        /// q, k, v after RoPE `[B·T, W]`; the probabilities `[B, NH, T, T]`; the heads' outputs
        /// before the projection `[B·T, NH·HS]`.
        let qkv: UnsafeMutablePointer<Float>, probabilities: UnsafeMutablePointer<Float>, attended: UnsafeMutablePointer<Float>
        /// The batch and time sizes.
        public let batch: Int, time: Int
        /// The attention dropout of the pass, if any.
        let dropout: Dropout?
    }

    /// Registers `name.c_attn` and `name.c_proj`.
    /// - Throws: `LayerError.invalidConfiguration` if C is not divisible by NH or NH by KVH.
    public init(dimensions: Int, heads: Int, keyValueHeads: Int? = nil, bias: Bool = true, rotary: RotaryEmbedding? = nil,
                name: String, layout: inout ParameterLayout) throws {
        let kvHeads = keyValueHeads ?? heads
        guard heads > 0, dimensions % heads == 0 else {
            throw LayerError.invalidConfiguration("width \(dimensions) is not divisible by \(heads) heads")
        }
        guard kvHeads > 0, heads % kvHeads == 0 else {
            throw LayerError.invalidConfiguration("\(heads) heads are not a multiple of \(kvHeads) key/value heads")
        }
        if let rotary, rotary.headSize != dimensions / heads {
            throw LayerError.invalidConfiguration("rotary head size \(rotary.headSize) differs from \(dimensions / heads)")
        }
        self.dimensions = dimensions
        self.heads = heads
        self.keyValueHeads = kvHeads
        self.headSize = dimensions / heads
        self.rotary = rotary
        qkv = Linear(inputSize: dimensions, outputSize: (heads + 2 * kvHeads) * headSize, bias: bias, name: "\(name).c_attn", layout: &layout)
        projection = Linear(inputSize: heads * headSize, outputSize: dimensions, bias: bias, name: "\(name).c_proj", layout: &layout)
    }

    func shape(batch: Int, time: Int) -> AttentionShape {
        AttentionShape(batch: batch, time: time, heads: heads, keyValueHeads: keyValueHeads, headSize: headSize)
    }

    /// Attention over `batch` sequences of `time` positions (starting at position 0). With
    /// `dropout`, the attention probabilities are dropped (training only).
    public func forward(
        _ x: UnsafePointer<Float>, batch: Int, time: Int, parameters: ParameterBuffer, arena: Arena, dropout: Dropout? = nil
    ) -> Saved {
        let rows = batch * time, shape = shape(batch: batch, time: time)
        let qkvValues = arena.allocate(rows * shape.qkvWidth)
        qkv.forward(x, rows: rows, parameters: parameters, into: qkvValues)
        if let rotary {
            // q and k heads are contiguous: NH + KVH heads from column 0.
            rotary.apply(qkvValues, batch: batch, time: time, heads: heads + keyValueHeads, rowStride: shape.qkvWidth, positionOffset: 0)
        }
        let probabilities = arena.allocate(shape.probabilitiesCount)
        let attended = arena.allocate(rows * shape.outputWidth)
        Kernels.causalAttentionForward(qkv: qkvValues, shape: shape, out: attended, probabilities: probabilities, dropout: dropout)
        let output = arena.allocate(rows * dimensions)
        projection.forward(attended, rows: rows, parameters: parameters, into: output)
        return Saved(input: x, output: output, qkv: qkvValues, probabilities: probabilities, attended: attended, batch: batch, time: time,
                     dropout: dropout)
    }

    /// Writes (or adds) the input gradient into `dx`; adds the parameter gradients.
    public func backward(
        outputGradient dy: UnsafePointer<Float>, saved: Saved, parameters: ParameterBuffer, arena: Arena,
        inputGradient dx: UnsafeMutablePointer<Float>, accumulateInput: Bool = false
    ) {
        let rows = saved.batch * saved.time, shape = shape(batch: saved.batch, time: saved.time)
        let mark = arena.mark()
        defer { arena.reset(to: mark) }
        let dAttended = arena.allocate(rows * shape.outputWidth)
        projection.backward(outputGradient: dy, input: saved.attended, rows: rows, parameters: parameters, inputGradient: dAttended)
        let dqkv = arena.allocate(rows * shape.qkvWidth)
        Kernels.causalAttentionBackward(dOut: dAttended, qkv: saved.qkv, probabilities: saved.probabilities, shape: shape, dqkv: dqkv,
                                        dropout: saved.dropout)
        if let rotary {
            rotary.apply(dqkv, batch: saved.batch, time: saved.time, heads: heads + keyValueHeads, rowStride: shape.qkvWidth,
                         positionOffset: 0, inverse: true)
        }
        qkv.backward(outputGradient: dqkv, input: saved.input, rows: rows, parameters: parameters,
                     inputGradient: dx, accumulateInput: accumulateInput)
    }

    // MARK: - Cached decoding

    /// Attention for `newTokens` positions of one sequence, continuing `cache`: computes q, k, v
    /// for the new rows, appends k and v to the cache, and attends over everything cached.
    /// Writes `[newTokens, C]` into `output`.
    /// - Throws: `LayerError.positionOutOfRange` when the cache is full.
    public func forward(
        _ x: UnsafePointer<Float>, newTokens: Int, cache: AttentionCache, parameters: ParameterBuffer, arena: Arena,
        into output: UnsafeMutablePointer<Float>
    ) throws {
        let past = cache.length
        guard past + newTokens <= cache.capacity else {
            throw LayerError.positionOutOfRange(position: past + newTokens - 1, maximum: cache.capacity)
        }
        precondition(cache.width == keyValueHeads * headSize, "AttentionCache: width does not match the layer")
        let mark = arena.mark()
        defer { arena.reset(to: mark) }
        let width = (heads + 2 * keyValueHeads) * headSize, kvWidth = keyValueHeads * headSize
        let qkvValues = arena.allocate(newTokens * width)
        qkv.forward(x, rows: newTokens, parameters: parameters, into: qkvValues)
        rotary?.apply(qkvValues, batch: 1, time: newTokens, heads: heads + keyValueHeads, rowStride: width, positionOffset: past)
        for t in 0..<newTokens {
            let row = qkvValues + t * width
            (cache.keys + (past + t) * kvWidth).update(from: row + heads * headSize, count: kvWidth)
            (cache.values + (past + t) * kvWidth).update(from: row + (heads + keyValueHeads) * headSize, count: kvWidth)
        }
        cache.length = past + newTokens
        let attended = arena.allocate(newTokens * heads * headSize)
        let scratch = arena.allocate(heads * cache.length)
        Kernels.cachedAttention(q: qkvValues, qStride: width, keys: cache.keys, values: cache.values, cacheStride: kvWidth,
                                newTokens: newTokens, pastLength: past, heads: heads, keyValueHeads: keyValueHeads,
                                headSize: headSize, out: attended, outStride: heads * headSize, scratch: scratch)
        projection.forward(attended, rows: newTokens, parameters: parameters, into: output)
    }
}

/// The keys and values one attention layer has seen for one sequence: `[capacity, KVH·HS]`
/// each, preallocated, filled up to `length`.
public final class AttentionCache {
    /// The most positions it holds (the context length).
    public let capacity: Int
    /// KVH·HS floats per position.
    public let width: Int
    /// The positions filled so far.
    public internal(set) var length = 0
    /// Keys `[capacity, width]`.
    public let keys: UnsafeMutablePointer<Float>
    /// Values `[capacity, width]`.
    public let values: UnsafeMutablePointer<Float>

    /// An empty cache.
    public init(capacity: Int, width: Int) {
        self.capacity = capacity
        self.width = width
        keys = .allocate(capacity: max(1, capacity * width))
        values = .allocate(capacity: max(1, capacity * width))
    }

    deinit {
        keys.deallocate()
        values.deallocate()
    }

    /// Forgets everything (length 0); the memory is kept.
    public func reset() { length = 0 }

    /// Keeps only the first `length` positions (e.g. to roll back a rejected draft).
    public func truncate(to length: Int) {
        precondition(length >= 0 && length <= self.length, "AttentionCache: cannot truncate to \(length)")
        self.length = length
    }
}
