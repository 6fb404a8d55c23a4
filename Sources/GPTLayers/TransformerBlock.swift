// The pre-norm residual block: x + attn(norm1(x)), then + ffn(norm2(·)).
import GPTTensor

/// A pre-norm Transformer block (GPT-2 and Llama):
/// `h = x + attn(norm1(x))`, `y = h + ffn(norm2(h))`.
/// Parameters are named `ln_1`, `attn.c_attn`, `attn.c_proj`, `ln_2`, `mlp.*` under the prefix.
public struct TransformerBlock: Sendable, Hashable {
    /// The norm before attention (`ln_1`).
    public let norm1: Normalization
    /// The attention (`attn`).
    public let attention: CausalSelfAttention
    /// The norm before the feed-forward network (`ln_2`).
    public let norm2: Normalization
    /// The feed-forward network (`mlp`).
    public let feedForward: FeedForward

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

    /// Registers a block's parameters under `name` (e.g. `h.0`).
    public init(
        dimensions: Int, heads: Int, keyValueHeads: Int? = nil, hiddenSize: Int, normalization: NormalizationKind,
        epsilon: Float = 1e-5, feedForward: FeedForwardKind, bias: Bool, rotary: RotaryEmbedding? = nil,
        name: String, layout: inout ParameterLayout
    ) throws {
        norm1 = Normalization(kind: normalization, dimensions: dimensions, epsilon: epsilon, bias: bias, name: "\(name).ln_1", layout: &layout)
        attention = try CausalSelfAttention(dimensions: dimensions, heads: heads, keyValueHeads: keyValueHeads, bias: bias,
                                            rotary: rotary, name: "\(name).attn", layout: &layout)
        norm2 = Normalization(kind: normalization, dimensions: dimensions, epsilon: epsilon, bias: bias, name: "\(name).ln_2", layout: &layout)
        self.feedForward = FeedForward(kind: feedForward, dimensions: dimensions, hiddenSize: hiddenSize, bias: bias,
                                       name: "\(name).mlp", layout: &layout)
    }

    /// The block over `batch × time` rows of `x`. With `dropout` (training only), as GPT-2 and
    /// nanoGPT: on the attention probabilities (site 0) and on the attention and feed-forward
    /// outputs before each residual addition (sites 1 and 2).
    public func forward(
        _ x: UnsafePointer<Float>, batch: Int, time: Int, parameters: ParameterBuffer, arena: Arena, dropout: Dropout? = nil
    ) -> Saved {
        let rows = batch * time, count = rows * attention.dimensions
        let n1 = norm1.forward(x, rows: rows, parameters: parameters, arena: arena)
        let a = attention.forward(n1.output, batch: batch, time: time, parameters: parameters, arena: arena, dropout: dropout?.site(0))
        if let dropout { Kernels.dropout(a.output, into: a.output, count: count, dropout.site(1)) }
        let residual = arena.allocate(count)
        Kernels.add(x, a.output, into: residual, count: count)
        let n2 = norm2.forward(residual, rows: rows, parameters: parameters, arena: arena)
        let f = feedForward.forward(n2.output, rows: rows, parameters: parameters, arena: arena)
        if let dropout { Kernels.dropout(f.output, into: f.output, count: count, dropout.site(2)) }
        let output = arena.allocate(count)
        Kernels.add(residual, f.output, into: output, count: count)
        return Saved(input: x, output: output, norm1: n1, attention: a, residual: residual, norm2: n2, feedForward: f, dropout: dropout)
    }

    /// Writes (or adds) the input gradient into `dx`; adds the parameter gradients.
    public func backward(
        outputGradient dy: UnsafePointer<Float>, saved: Saved, parameters: ParameterBuffer, arena: Arena,
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
        feedForward.backward(outputGradient: dBranch, saved: saved.feedForward, parameters: parameters, arena: arena, inputGradient: dNorm)
        norm2.backward(outputGradient: dNorm, saved: saved.norm2, parameters: parameters, inputGradient: dResidual, accumulateInput: true)
        // dx = dh + norm1ᵀ(attnᵀ(dh))
        var dAttention = UnsafePointer(dResidual)
        if let dropout = saved.dropout {
            let dropped = arena.allocate(count)
            Kernels.dropout(dResidual, into: dropped, count: count, dropout.site(1))
            dAttention = UnsafePointer(dropped)
        }
        attention.backward(outputGradient: dAttention, saved: saved.attention, parameters: parameters, arena: arena, inputGradient: dNorm)
        if accumulateInput {
            Kernels.add(dx, dResidual, into: dx, count: count)
        } else {
            dx.update(from: dResidual, count: count)
        }
        norm1.backward(outputGradient: dNorm, saved: saved.norm1, parameters: parameters, inputGradient: dx, accumulateInput: true)
    }

    /// Cached decoding of `newTokens` rows of one sequence (see `CausalSelfAttention`).
    public func forward(
        _ x: UnsafePointer<Float>, newTokens: Int, cache: AttentionCache, parameters: ParameterBuffer, arena: Arena,
        into output: UnsafeMutablePointer<Float>
    ) throws {
        let count = newTokens * attention.dimensions
        let mark = arena.mark()
        defer { arena.reset(to: mark) }
        let n1 = norm1.forward(x, rows: newTokens, parameters: parameters, arena: arena)
        let attended = arena.allocate(count)
        try attention.forward(n1.output, newTokens: newTokens, cache: cache, parameters: parameters, arena: arena, into: attended)
        let residual = arena.allocate(count)
        Kernels.add(x, attended, into: residual, count: count)
        let n2 = norm2.forward(residual, rows: newTokens, parameters: parameters, arena: arena)
        let f = feedForward.forward(n2.output, rows: newTokens, parameters: parameters, arena: arena)
        Kernels.add(residual, f.output, into: output, count: count)
    }
}
