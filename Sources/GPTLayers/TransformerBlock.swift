// The pre-norm residual block: x + attn(norm1(x)), then + ffn(norm2(·)).
import GPTTensor

/// A pre-norm Transformer block (GPT-2 and Llama):
/// `h = x + attn(norm1(x))`, `y = h + ffn(norm2(h))`.
/// Parameter names come from `TransformerBlockNames` (GPT-2's `ln_1`, `attn.c_attn`, … or
/// Llama's `input_layernorm`, `self_attn.q_proj`, …).
public struct TransformerBlock: Sendable, Hashable {
    /// The norm before attention (`ln_1`).
    public let norm1: Normalization
    /// The attention (`attn`).
    public internal(set) var attention: CausalSelfAttention
    /// The norm before the feed-forward network (`ln_2`).
    public let norm2: Normalization
    /// The feed-forward network (`mlp`).
    public internal(set) var feedForward: FeedForward

    /// What `forward` keeps for `backward`.
    public struct Saved {
        /// The input `[B·T, C]` (owned by the caller) and the output.
        public let input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>
        let norm1: Normalization.Saved, attention: CausalSelfAttention.Saved
        let residual: UnsafeMutablePointer<Float>
        let norm2: Normalization.Saved, feedForward: FeedForward.Saved
        let dropout: Dropout?
    }

    /// Builds a block from its parts.
    public init(norm1: Normalization, attention: CausalSelfAttention, norm2: Normalization, feedForward: FeedForward) {
        self.norm1 = norm1
        self.attention = attention
        self.norm2 = norm2
        self.feedForward = feedForward
    }

    /// Registers a block's parameters under GPTKit's GPT-2 family names (`name.ln_1`,
    /// `name.attn.c_attn`, …; see `TransformerBlockNames.gpt2`), one bias flag for all.
    public init(
        dimensions: Int, heads: Int, keyValueHeads: Int? = nil, hiddenSize: Int, normalization: NormalizationKind,
        epsilon: Float = 1e-5, feedForward: FeedForwardKind, bias: Bool, rotary: RotaryEmbedding? = nil,
        name: String, layout: inout ParameterLayout
    ) throws {
        guard heads > 0, dimensions % heads == 0 else {
            throw LayerError.invalidConfiguration("width \(dimensions) is not divisible by \(heads) heads")
        }
        try self.init(dimensions: dimensions, heads: heads, keyValueHeads: keyValueHeads, headSize: dimensions / heads,
                      hiddenSize: hiddenSize, normalization: normalization, epsilon: epsilon, feedForward: feedForward,
                      biases: BlockBiases(all: bias), rotary: rotary, names: .gpt2(name, feedForward: feedForward), layout: &layout)
    }

    /// Registers a block's parameters under `names`, with an explicit head size and a bias
    /// choice per projection.
    /// - Throws: `LayerError.invalidConfiguration` for impossible attention sizes.
    public init(
        dimensions: Int, heads: Int, keyValueHeads: Int?, headSize: Int, hiddenSize: Int, normalization: NormalizationKind,
        epsilon: Float, feedForward: FeedForwardKind, biases: BlockBiases, rotary: RotaryEmbedding?,
        names: TransformerBlockNames, layout: inout ParameterLayout
    ) throws {
        norm1 = Normalization(kind: normalization, dimensions: dimensions, epsilon: epsilon, bias: biases.norm, name: names.norm1,
                              layout: &layout)
        attention = try CausalSelfAttention(dimensions: dimensions, heads: heads, keyValueHeads: keyValueHeads, headSize: headSize,
                                            projections: names.qkv, outputName: names.attentionOutput, qkvBias: biases.qkv,
                                            outputBias: biases.attentionOutput, rotary: rotary, layout: &layout)
        norm2 = Normalization(kind: normalization, dimensions: dimensions, epsilon: epsilon, bias: biases.norm, name: names.norm2,
                              layout: &layout)
        self.feedForward = FeedForward(kind: feedForward, dimensions: dimensions, hiddenSize: hiddenSize, bias: biases.feedForward,
                                       names: names.feedForward, layout: &layout)
    }

    /// The block over `batch × time` rows of `x`. With `dropout` (training only), as GPT-2 and
    /// nanoGPT: on the attention probabilities (site 0) and on the attention and feed-forward
    /// outputs before each residual addition (sites 1 and 2). `positions` packs documents into
    /// rows (see `CausalSelfAttention.forward(_:batch:time:weights:arena:dropout:positions:adapterDropout:)`);
    /// `adapterDropout` drops the input of the projections' adapters.
    public func forward(
        _ x: UnsafePointer<Float>, batch: Int, time: Int, weights: WeightStore, arena: Arena, dropout: Dropout? = nil,
        positions: UnsafePointer<Int32>? = nil, adapterDropout: Dropout? = nil
    ) -> Saved {
        let rows = batch * time, count = rows * attention.dimensions
        let n1 = norm1.forward(x, rows: rows, weights: weights, arena: arena)
        let a = attention.forward(n1.output, batch: batch, time: time, weights: weights, arena: arena, dropout: dropout?.site(0),
                                  positions: positions, adapterDropout: adapterDropout)
        if let dropout { Kernels.dropout(a.output, into: a.output, count: count, dropout.site(1)) }
        let residual = arena.allocate(count)
        Kernels.add(x, a.output, into: residual, count: count)
        let n2 = norm2.forward(residual, rows: rows, weights: weights, arena: arena)
        let f = feedForward.forward(n2.output, rows: rows, weights: weights, arena: arena, adapterDropout: adapterDropout)
        if let dropout { Kernels.dropout(f.output, into: f.output, count: count, dropout.site(2)) }
        let output = arena.allocate(count)
        Kernels.add(residual, f.output, into: output, count: count)
        return Saved(input: x, output: output, norm1: n1, attention: a, residual: residual, norm2: n2, feedForward: f, dropout: dropout)
    }

    /// Writes (or adds) the input gradient into `dx`; adds the parameter gradients.
    public func backward(
        outputGradient dy: UnsafePointer<Float>, saved: Saved, weights: WeightStore, gradients: GradientBuffer, arena: Arena,
        inputGradient dx: UnsafeMutablePointer<Float>, accumulateInput: Bool = false
    ) {
        let rows = saved.norm1.rows, count = rows * attention.dimensions
        let mark = arena.mark()
        defer { arena.reset(to: mark) }
        // dh = dy + norm2ᵀ(ffnᵀ(dy))
        let dResidual = arena.allocate(count), dNorm = arena.allocate(count)
        dResidual.update(from: dy, count: count)
        var dBranch = dy
        if let dropout = saved.dropout {
            // The dropped branch's gradient: the same mask applied to the output gradient.
            let dropped = arena.allocate(count)
            Kernels.dropout(dy, into: dropped, count: count, dropout.site(2))
            dBranch = UnsafePointer(dropped)
        }
        feedForward.backward(outputGradient: dBranch, saved: saved.feedForward, weights: weights, gradients: gradients, arena: arena,
                              inputGradient: dNorm)
        norm2.backward(outputGradient: dNorm, saved: saved.norm2, weights: weights, gradients: gradients, inputGradient: dResidual,
                       accumulateInput: true)
        // dx = dh + norm1ᵀ(attnᵀ(dh))
        var dAttention = UnsafePointer(dResidual)
        if let dropout = saved.dropout {
            let dropped = arena.allocate(count)
            Kernels.dropout(dResidual, into: dropped, count: count, dropout.site(1))
            dAttention = UnsafePointer(dropped)
        }
        attention.backward(outputGradient: dAttention, saved: saved.attention, weights: weights, gradients: gradients, arena: arena,
                           inputGradient: dNorm)
        if accumulateInput {
            Kernels.add(dx, dResidual, into: dx, count: count)
        } else {
            dx.update(from: dResidual, count: count)
        }
        norm1.backward(outputGradient: dNorm, saved: saved.norm1, weights: weights, gradients: gradients, inputGradient: dx,
                       accumulateInput: true)
    }

    /// Cached decoding of `newTokens` rows of one sequence (see `CausalSelfAttention`).
    public func forward(
        _ x: UnsafePointer<Float>, newTokens: Int, cache: AttentionCache, weights: WeightStore, arena: Arena,
        into output: UnsafeMutablePointer<Float>
    ) throws {
        try forward(x, segmentCount: 1, segment: { _ in (newTokens, cache) }, weights: weights, arena: arena, into: output)
    }

    /// Cached decoding of several sequences in one pass: `x [Σ rows, C]` holds each sequence's
    /// new rows in turn, `segment(i)` its row count and this layer's cache (see
    /// `CausalSelfAttention.forward(_:segmentCount:segment:weights:arena:into:)`). The norms, the
    /// projections and the feed-forward run once over all rows. Writes `[Σ rows, C]` into `output`.
    /// - Throws: `LayerError.positionOutOfRange` when a cache cannot take its rows.
    public func forward(
        _ x: UnsafePointer<Float>, segmentCount: Int, segment: (Int) -> (rows: Int, cache: AttentionCache), weights: WeightStore,
        arena: Arena, into output: UnsafeMutablePointer<Float>
    ) throws {
        var rows = 0
        for index in 0..<segmentCount { rows += segment(index).rows }
        let count = rows * attention.dimensions
        let mark = arena.mark()
        defer { arena.reset(to: mark) }
        let n1 = norm1.forward(x, rows: rows, weights: weights, arena: arena)
        let attended = arena.allocate(count)
        try attention.forward(n1.output, segmentCount: segmentCount, segment: segment, weights: weights, arena: arena, into: attended)
        let residual = arena.allocate(count)
        Kernels.add(x, attended, into: residual, count: count)
        let n2 = norm2.forward(residual, rows: rows, weights: weights, arena: arena)
        let f = feedForward.forward(n2.output, rows: rows, weights: weights, arena: arena)
        Kernels.add(residual, f.output, into: output, count: count)
    }
}

/// Which projections of a block have biases (GPT-2: all; Llama: none; Qwen2: q/k/v only).
public struct BlockBiases: Sendable, Hashable {
    /// Biases on the q, k and v projections.
    public var qkv: Bool
    /// A bias on the attention output projection.
    public var attentionOutput: Bool
    /// Biases on the feed-forward projections.
    public var feedForward: Bool
    /// Biases on LayerNorms (RMSNorm never has one).
    public var norm: Bool

    /// Each flag explicitly.
    public init(qkv: Bool, attentionOutput: Bool, feedForward: Bool, norm: Bool) {
        self.qkv = qkv
        self.attentionOutput = attentionOutput
        self.feedForward = feedForward
        self.norm = norm
    }

    /// The same flag everywhere.
    public init(all: Bool) { self.init(qkv: all, attentionOutput: all, feedForward: all, norm: all) }
}

/// The parameter names of one block (full prefixes, without `.weight`/`.bias`).
public struct TransformerBlockNames: Sendable, Hashable {
    /// The norm before attention.
    public var norm1: String
    /// The q/k/v projections.
    public var qkv: QKVProjectionLayout
    /// The attention output projection.
    public var attentionOutput: String
    /// The norm before the feed-forward network.
    public var norm2: String
    /// The feed-forward projections.
    public var feedForward: FeedForwardNames

    /// Names from their parts.
    public init(norm1: String, qkv: QKVProjectionLayout, attentionOutput: String, norm2: String, feedForward: FeedForwardNames) {
        self.norm1 = norm1
        self.qkv = qkv
        self.attentionOutput = attentionOutput
        self.norm2 = norm2
        self.feedForward = feedForward
    }

    /// GPT-2 (Hugging Face `GPT2Model` without the `transformer.` prefix): `ln_1`, `attn.c_attn`,
    /// `attn.c_proj`, `ln_2`, `mlp.c_fc`/`mlp.c_proj` (or `mlp.w1/w2/w3` for SwiGLU).
    public static func gpt2(_ prefix: String, feedForward: FeedForwardKind) -> TransformerBlockNames {
        TransformerBlockNames(norm1: "\(prefix).ln_1", qkv: .fused("\(prefix).attn.c_attn"), attentionOutput: "\(prefix).attn.c_proj",
                              norm2: "\(prefix).ln_2", feedForward: .gpt2("\(prefix).mlp", kind: feedForward))
    }

    /// Llama (Hugging Face `LlamaModel`, e.g. `model.layers.0`): `input_layernorm`,
    /// `self_attn.q_proj/k_proj/v_proj/o_proj`, `post_attention_layernorm`,
    /// `mlp.gate_proj/up_proj/down_proj`.
    public static func llama(_ prefix: String) -> TransformerBlockNames {
        TransformerBlockNames(
            norm1: "\(prefix).input_layernorm",
            qkv: .separate(query: "\(prefix).self_attn.q_proj", key: "\(prefix).self_attn.k_proj", value: "\(prefix).self_attn.v_proj"),
            attentionOutput: "\(prefix).self_attn.o_proj", norm2: "\(prefix).post_attention_layernorm",
            feedForward: .llama("\(prefix).mlp"))
    }
}

extension TransformerBlock {
    /// Attaches (or, returning nil, removes) an adapter on each projection of the attention and
    /// the feed-forward network.
    public mutating func attachAdapters(_ make: (Linear) throws -> LinearAdapter?) rethrows {
        try attention.attachAdapters(make)
        try feedForward.attachAdapters(make)
    }
}
