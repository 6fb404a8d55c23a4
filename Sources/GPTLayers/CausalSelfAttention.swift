// Causal self-attention with a fused QKV projection, grouped-query heads and optional RoPE.
import GPTTensor

/// How the query, key and value projections are stored.
public enum QKVProjectionLayout: Sendable, Hashable {
    /// One fused matrix `[(NH + 2·KVH)·HS, C]` (GPT-2's `c_attn`): the query heads' rows, then
    /// the key heads', then the value heads'. The associated value is its name prefix.
    case fused(String)
    /// Three matrices `q [NH·HS, C]`, `k [KVH·HS, C]`, `v [KVH·HS, C]` (Llama's `q_proj`,
    /// `k_proj`, `v_proj`), each written into its column slice of the same q/k/v rows.
    case separate(query: String, key: String, value: String)
}

/// Causal multi-head self-attention: projections to q (NH heads), k and v (KVH heads each) of
/// head size HS, optional rotary embedding on q and k, softmax(q·kᵀ/√HS) with a causal mask
/// (`F.scaled_dot_product_attention(is_causal=True)`), query head h reading key/value head
/// h / (NH/KVH), then the output projection NH·HS → C. KVH = NH is multi-head attention,
/// KVH = 1 multi-query, anything between grouped-query. HS is usually C / NH but may be set
/// explicitly (`head_dim`).
public struct CausalSelfAttention: Sendable, Hashable {
    /// C, the model width.
    public let dimensions: Int
    /// NH, the query heads.
    public let heads: Int
    /// KVH, the key/value heads.
    public let keyValueHeads: Int
    /// HS, the width of one head.
    public let headSize: Int
    /// The projections C → q, k, v: one fused `Linear` or three (q, k, v), see `QKVProjectionLayout`.
    public internal(set) var qkvProjections: [Linear]
    /// The output projection NH·HS → C.
    public internal(set) var projection: Linear
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
        /// The packed rows' position ids `[B·T]` of the pass, if any (owned by the caller).
        let positions: UnsafePointer<Int32>?
        /// The adapters' input dropout of the pass, if any.
        let adapterDropout: Dropout?
    }

    /// Registers GPT-2 style `name.c_attn` (fused) and `name.c_proj`, with HS = C / NH.
    /// - Throws: `LayerError.invalidConfiguration` if C is not divisible by NH or NH by KVH.
    public init(dimensions: Int, heads: Int, keyValueHeads: Int? = nil, bias: Bool = true, rotary: RotaryEmbedding? = nil,
                name: String, layout: inout ParameterLayout) throws {
        guard heads > 0, dimensions % heads == 0 else {
            throw LayerError.invalidConfiguration("width \(dimensions) is not divisible by \(heads) heads")
        }
        try self.init(dimensions: dimensions, heads: heads, keyValueHeads: keyValueHeads, headSize: dimensions / heads,
                      projections: .fused("\(name).c_attn"), outputName: "\(name).c_proj", qkvBias: bias, outputBias: bias,
                      rotary: rotary, layout: &layout)
    }

    /// Registers the projections under the given names, with an explicit head size and
    /// separate bias choices for q/k/v (Qwen2 has them) and the output projection.
    /// - Throws: `LayerError.invalidConfiguration` if a size is not positive, NH is not a
    ///   multiple of KVH, or the rotary head size differs from HS.
    public init(
        dimensions: Int, heads: Int, keyValueHeads: Int? = nil, headSize: Int, projections: QKVProjectionLayout,
        outputName: String, qkvBias: Bool, outputBias: Bool, rotary: RotaryEmbedding? = nil, layout: inout ParameterLayout
    ) throws {
        let kvHeads = keyValueHeads ?? heads
        guard dimensions > 0, heads > 0, headSize > 0 else {
            throw LayerError.invalidConfiguration("attention sizes must be positive (width \(dimensions), \(heads) heads of \(headSize))")
        }
        guard kvHeads > 0, heads % kvHeads == 0 else {
            throw LayerError.invalidConfiguration("\(heads) heads are not a multiple of \(kvHeads) key/value heads")
        }
        if let rotary, rotary.headSize != headSize {
            throw LayerError.invalidConfiguration("rotary head size \(rotary.headSize) differs from \(headSize)")
        }
        self.dimensions = dimensions
        self.heads = heads
        self.keyValueHeads = kvHeads
        self.headSize = headSize
        self.rotary = rotary
        switch projections {
        case .fused(let name):
            qkvProjections = [Linear(inputSize: dimensions, outputSize: (heads + 2 * kvHeads) * headSize, bias: qkvBias, name: name,
                                     layout: &layout)]
        case let .separate(query, key, value):
            qkvProjections = [
                Linear(inputSize: dimensions, outputSize: heads * headSize, bias: qkvBias, name: query, layout: &layout),
                Linear(inputSize: dimensions, outputSize: kvHeads * headSize, bias: qkvBias, name: key, layout: &layout),
                Linear(inputSize: dimensions, outputSize: kvHeads * headSize, bias: qkvBias, name: value, layout: &layout),
            ]
        }
        projection = Linear(inputSize: heads * headSize, outputSize: dimensions, bias: outputBias, name: outputName, layout: &layout)
    }

    /// The fused projection, when the q/k/v weights are one matrix.
    public var qkv: Linear? { qkvProjections.count == 1 ? qkvProjections[0] : nil }

    /// `qkv [rows, W] = x · [Wq; Wk; Wv]ᵀ (+ biases)`, W = (NH + 2·KVH)·HS.
    func projectQKV(
        _ x: UnsafePointer<Float>, rows: Int, weights: WeightStore, into qkvValues: UnsafeMutablePointer<Float>, adapterDropout: Dropout? = nil
    ) {
        let width = (heads + 2 * keyValueHeads) * headSize
        // Decoding stored-format matrices: q, k and v in one dispatch (float32 weights, the
        // training case, take the loop below and build no arrays).
        if qkvProjections.count > 1, weights.matrix(qkvProjections[0].weight).format != .float32 {
            let matrices = qkvProjections.map { weights.matrix($0.weight) }
            if WeightMatrix.sharesDispatch(matrices, rows: rows) {
                var columns: [UnsafeMutablePointer<Float>] = []
                var column = 0
                for linear in qkvProjections {
                    columns.append(qkvValues + column)
                    column += linear.outputSize
                }
                WeightMatrix.multiply(matrices, biases: qkvProjections.map { $0.bias.map(weights.vector) }, x, rows: rows,
                                      into: columns, strides: Array(repeating: width, count: columns.count))
                for (linear, column) in zip(qkvProjections, columns) {
                    linear.addAdapterOutput(x, rows: rows, weights: weights, into: column, outputStride: width, dropout: adapterDropout)
                }
                return
            }
        }
        var column = 0
        for linear in qkvProjections {
            linear.forward(x, rows: rows, weights: weights, into: qkvValues + column, outputStride: width, adapterDropout: adapterDropout)
            column += linear.outputSize
        }
    }

    /// The backward pass of `projectQKV`: adds the weight gradients, writes (or adds) `dx`.
    func projectQKVBackward(
        _ dqkv: UnsafePointer<Float>, input x: UnsafePointer<Float>, rows: Int, weights: WeightStore, gradients: GradientBuffer,
        inputGradient dx: UnsafeMutablePointer<Float>, accumulateInput: Bool, adapterDropout: Dropout? = nil
    ) {
        let width = (heads + 2 * keyValueHeads) * headSize
        var column = 0
        for (index, linear) in qkvProjections.enumerated() {
            linear.backward(outputGradient: dqkv + column, outputStride: width, input: x, rows: rows, weights: weights,
                            gradients: gradients, inputGradient: dx, accumulateInput: accumulateInput || index > 0,
                            adapterDropout: adapterDropout)
            column += linear.outputSize
        }
    }

    func shape(batch: Int, time: Int) -> AttentionShape {
        AttentionShape(batch: batch, time: time, heads: heads, keyValueHeads: keyValueHeads, headSize: headSize)
    }

    /// Attention over `batch` sequences of `time` positions (starting at position 0). With
    /// `dropout`, the attention probabilities are dropped (training only). With `positions`
    /// `[B·T]` (owned by the caller, alive until the backward pass), each row packs several
    /// documents whose positions count from 0: RoPE takes those positions and attention stays
    /// inside each document (see `Kernels.causalAttentionForward`). `adapterDropout` drops the
    /// input of the projections' adapters (training only).
    public func forward(
        _ x: UnsafePointer<Float>, batch: Int, time: Int, weights: WeightStore, arena: Arena, dropout: Dropout? = nil,
        positions: UnsafePointer<Int32>? = nil, adapterDropout: Dropout? = nil
    ) -> Saved {
        let rows = batch * time, shape = shape(batch: batch, time: time)
        let qkvValues = arena.allocate(rows * shape.qkvWidth)
        projectQKV(x, rows: rows, weights: weights, into: qkvValues, adapterDropout: adapterDropout)
        if let rotary {
            // q and k heads are contiguous: NH + KVH heads from column 0.
            rotary.apply(qkvValues, batch: batch, time: time, heads: heads + keyValueHeads, rowStride: shape.qkvWidth, positionOffset: 0,
                         positions: positions)
        }
        let probabilities = arena.allocate(shape.probabilitiesCount)
        let attended = arena.allocate(rows * shape.outputWidth)
        Kernels.causalAttentionForward(qkv: qkvValues, shape: shape, out: attended, probabilities: probabilities, dropout: dropout,
                                       positions: positions)
        let output = arena.allocate(rows * dimensions)
        projection.forward(attended, rows: rows, weights: weights, into: output, adapterDropout: adapterDropout)
        return Saved(input: x, output: output, qkv: qkvValues, probabilities: probabilities, attended: attended, batch: batch, time: time,
                     dropout: dropout, positions: positions, adapterDropout: adapterDropout)
    }

    /// Writes (or adds) the input gradient into `dx`; adds the parameter gradients.
    public func backward(
        outputGradient dy: UnsafePointer<Float>, saved: Saved, weights: WeightStore, gradients: GradientBuffer, arena: Arena,
        inputGradient dx: UnsafeMutablePointer<Float>, accumulateInput: Bool = false
    ) {
        let rows = saved.batch * saved.time, shape = shape(batch: saved.batch, time: saved.time)
        let mark = arena.mark()
        defer { arena.reset(to: mark) }
        let dAttended = arena.allocate(rows * shape.outputWidth)
        projection.backward(outputGradient: dy, input: saved.attended, rows: rows, weights: weights, gradients: gradients,
                            inputGradient: dAttended, adapterDropout: saved.adapterDropout)
        let dqkv = arena.allocate(rows * shape.qkvWidth)
        Kernels.causalAttentionBackward(dOut: dAttended, qkv: saved.qkv, probabilities: saved.probabilities, shape: shape, dqkv: dqkv,
                                        dropout: saved.dropout, positions: saved.positions)
        if let rotary {
            rotary.apply(dqkv, batch: saved.batch, time: saved.time, heads: heads + keyValueHeads, rowStride: shape.qkvWidth,
                         positionOffset: 0, positions: saved.positions, inverse: true)
        }
        projectQKVBackward(dqkv, input: saved.input, rows: rows, weights: weights, gradients: gradients, inputGradient: dx,
                           accumulateInput: accumulateInput, adapterDropout: saved.adapterDropout)
    }

    // MARK: - Cached decoding

    /// Attention for `newTokens` positions of one sequence, continuing `cache`: computes q, k, v
    /// for the new rows, appends k and v to the cache, and attends over everything cached.
    /// Writes `[newTokens, C]` into `output`.
    /// - Throws: `LayerError.positionOutOfRange` when the cache is full.
    public func forward(
        _ x: UnsafePointer<Float>, newTokens: Int, cache: AttentionCache, weights: WeightStore, arena: Arena,
        into output: UnsafeMutablePointer<Float>
    ) throws {
        try forward(x, segmentCount: 1, segment: { _ in (newTokens, cache) }, weights: weights, arena: arena, into: output)
    }

    /// Attention for several sequences in one pass: `x` holds `segment(0).rows` new rows of the
    /// first sequence, then those of the second, and so on (`[Σ rows, C]`). The projections run
    /// once over all rows (one matrix product instead of one per sequence); RoPE, the cache
    /// append and the attention run per sequence, each over its own cache and length. Writes
    /// `[Σ rows, C]` into `output`.
    /// - Throws: `LayerError.positionOutOfRange` when a cache cannot take its rows (nothing is
    ///   appended to any cache then).
    public func forward(
        _ x: UnsafePointer<Float>, segmentCount: Int, segment: (Int) -> (rows: Int, cache: AttentionCache), weights: WeightStore,
        arena: Arena, into output: UnsafeMutablePointer<Float>
    ) throws {
        var totalRows = 0, longest = 0
        for index in 0..<segmentCount {
            let (rows, cache) = segment(index)
            guard cache.length + rows <= cache.capacity else {
                throw LayerError.positionOutOfRange(position: cache.length + rows - 1, maximum: cache.capacity)
            }
            precondition(rows > 0, "CausalSelfAttention: an empty segment")
            precondition(cache.width == keyValueHeads * headSize, "AttentionCache: width does not match the layer")
            totalRows += rows
            longest = max(longest, cache.length + rows)
        }
        guard totalRows > 0 else { return }
        let mark = arena.mark()
        defer { arena.reset(to: mark) }
        let width = (heads + 2 * keyValueHeads) * headSize, attendedWidth = heads * headSize
        let qkvValues = arena.allocate(totalRows * width)
        projectQKV(x, rows: totalRows, weights: weights, into: qkvValues)
        let attended = arena.allocate(totalRows * attendedWidth)
        let scratch = arena.allocate(heads * longest)
        var row = 0
        for index in 0..<segmentCount {
            let (rows, cache) = segment(index)
            let past = cache.length, q = qkvValues + row * width
            rotary?.apply(q, batch: 1, time: rows, heads: heads + keyValueHeads, rowStride: width, positionOffset: past)
            cache.append(keys: q + heads * headSize, values: q + (heads + keyValueHeads) * headSize, rows: rows, stride: width)
            attend(q, qStride: width, newTokens: rows, pastLength: past, cache: cache, out: attended + row * attendedWidth,
                   scratch: scratch, arena: arena)
            row += rows
        }
        projection.forward(attended, rows: totalRows, weights: weights, into: output)
    }

    /// Attention of `newTokens` query rows (RoPE applied) over `cache`, which already holds
    /// their keys and values after `pastLength` earlier positions: `[newTokens, NH·HS]` into `out`.
    private func attend(
        _ q: UnsafePointer<Float>, qStride width: Int, newTokens: Int, pastLength past: Int, cache: AttentionCache,
        out attended: UnsafeMutablePointer<Float>, scratch: UnsafeMutablePointer<Float>, arena: Arena
    ) {
        let kvWidth = keyValueHeads * headSize
        switch cache.precision {
        case .float32:
            Kernels.cachedAttention(q: q, qStride: width, keys: cache.keys, values: cache.values, cacheStride: kvWidth,
                                    newTokens: newTokens, pastLength: past, heads: heads, keyValueHeads: keyValueHeads,
                                    headSize: headSize, out: attended, outStride: heads * headSize, scratch: scratch)
        case .float16 where newTokens < Kernels.cachedAttentionBlockThreshold:
            // Decoding: the half values widened as they are read.
            Kernels.cachedAttentionHalf(q: q, qStride: width, keys: cache.halfKeys, values: cache.halfValues,
                                        cacheStride: kvWidth, newTokens: newTokens, pastLength: past, heads: heads,
                                        keyValueHeads: keyValueHeads, headSize: headSize, out: attended,
                                        outStride: heads * headSize, scratch: scratch)
        case .float16:
            // A prompt: the cache widened once, then the blocked products.
            let mark = arena.mark()
            defer { arena.reset(to: mark) }
            let count = cache.length * kvWidth
            let keys = arena.allocate(count), values = arena.allocate(count)
            Kernels.dequantize(.float16, cache.halfKeys, count: count, into: keys)
            Kernels.dequantize(.float16, cache.halfValues, count: count, into: values)
            Kernels.cachedAttention(q: q, qStride: width, keys: keys, values: values, cacheStride: kvWidth,
                                    newTokens: newTokens, pastLength: past, heads: heads, keyValueHeads: keyValueHeads,
                                    headSize: headSize, out: attended, outStride: heads * headSize, scratch: scratch)
        }
    }
}

/// How a KV cache stores keys and values.
public enum KVCachePrecision: String, Sendable, Hashable, Codable, CaseIterable {
    /// Float32: attention sees exactly the projected keys and values.
    case float32
    /// IEEE half (rounded to nearest even as they are appended; llama.cpp's default): half the
    /// memory, and half the bytes each decoding step reads, for a relative rounding of at most
    /// 2⁻¹¹ on each cached value.
    case float16

    /// Bytes per cached element.
    public var bytesPerElement: Int { self == .float32 ? 4 : 2 }
}

/// The keys and values one attention layer has seen for one sequence: `[capacity, KVH·HS]`
/// each, preallocated, filled up to `length`, in float32 or half precision.
public final class AttentionCache {
    /// The most positions it holds (the context length).
    public let capacity: Int
    /// KVH·HS values per position.
    public let width: Int
    /// How the values are stored.
    public let precision: KVCachePrecision
    /// The positions filled so far.
    public internal(set) var length = 0
    let keyStorage: UnsafeMutableRawPointer
    let valueStorage: UnsafeMutableRawPointer

    /// An empty cache.
    public init(capacity: Int, width: Int, precision: KVCachePrecision = .float32) {
        self.capacity = capacity
        self.width = width
        self.precision = precision
        let bytes = max(1, capacity * width) * precision.bytesPerElement
        keyStorage = .allocate(byteCount: bytes, alignment: 64)
        valueStorage = .allocate(byteCount: bytes, alignment: 64)
    }

    deinit {
        keyStorage.deallocate()
        valueStorage.deallocate()
    }

    /// Keys `[capacity, width]` of a float32 cache.
    public var keys: UnsafeMutablePointer<Float> {
        precondition(precision == .float32, "AttentionCache: a \(precision) cache has no float32 keys")
        return keyStorage.assumingMemoryBound(to: Float.self)
    }

    /// Values `[capacity, width]` of a float32 cache.
    public var values: UnsafeMutablePointer<Float> {
        precondition(precision == .float32, "AttentionCache: a \(precision) cache has no float32 values")
        return valueStorage.assumingMemoryBound(to: Float.self)
    }

    /// Keys `[capacity, width]` of a half cache, as IEEE half bits.
    public var halfKeys: UnsafeMutablePointer<UInt16> {
        precondition(precision == .float16, "AttentionCache: a \(precision) cache has no half keys")
        return keyStorage.assumingMemoryBound(to: UInt16.self)
    }

    /// Values `[capacity, width]` of a half cache, as IEEE half bits.
    public var halfValues: UnsafeMutablePointer<UInt16> {
        precondition(precision == .float16, "AttentionCache: a \(precision) cache has no half values")
        return valueStorage.assumingMemoryBound(to: UInt16.self)
    }

    /// Bytes of keys and values one position takes.
    public var bytesPerPosition: Int { 2 * width * precision.bytesPerElement }

    /// Appends `rows` positions: keys and values `[rows, width]` read `stride` floats apart.
    func append(keys k: UnsafePointer<Float>, values v: UnsafePointer<Float>, rows: Int, stride: Int) {
        precondition(length + rows <= capacity, "AttentionCache: full")
        switch precision {
        case .float32:
            Kernels.copyRows(k, sourceStride: stride, rows: rows, columns: width, into: keys + length * width, targetStride: width)
            Kernels.copyRows(v, sourceStride: stride, rows: rows, columns: width, into: values + length * width, targetStride: width)
        case .float16:
            for r in 0..<rows {
                Kernels.quantize(.float16, k + r * stride, count: width, into: halfKeys + (length + r) * width)
                Kernels.quantize(.float16, v + r * stride, count: width, into: halfValues + (length + r) * width)
            }
        }
        length += rows
    }

    /// Forgets everything (length 0); the memory is kept.
    public func reset() { length = 0 }

    /// Keeps only the first `length` positions (e.g. to roll back a rejected draft).
    public func truncate(to length: Int) {
        precondition(length >= 0 && length <= self.length, "AttentionCache: cannot truncate to \(length)")
        self.length = length
    }
}

extension CausalSelfAttention {
    /// Attaches (or, returning nil, removes) an adapter on each projection: `make` sees each
    /// projection as it is.
    public mutating func attachAdapters(_ make: (Linear) throws -> LinearAdapter?) rethrows {
        for index in qkvProjections.indices { qkvProjections[index].adapter = try make(qkvProjections[index]) }
        projection.adapter = try make(projection)
    }
}
