// What backward starts from: the loss seam between objectives and the model.

/// Where the backward pass of a `GPTWorkspace` starts: any combination of
/// - `tokenWeights`: the gradient of `L = −Σᵣ wᵣ · log p(targetᵣ)` over the forward pass's
///   targets (signed and unnormalised: `1/N` everywhere is the mean cross-entropy; a response
///   mask, DPO's and PPO's per-token coefficients and REINFORCE's advantages are other weights);
/// - `logitGradient`: a full `dL/dlogits [B·T, V]` (distillation, KL terms, an entropy bonus),
///   computed by a closure that receives the logits and replaces them with their gradient, so no
///   second `B·T·V` buffer is needed;
/// - `hiddenGradient`: `dL/dh` of the final hidden states `[B·T, C]` at chosen rows (an external
///   head);
/// - `scoreGradient`: `dL/dscore` of the model's own scalar head (`score.weight [S, C]`) at
///   chosen rows (a reward model, a value head), which also adds the head's weight gradient.
///
/// ```swift
/// try workspace.forward(tokens: ids, targets: targets, batch: 1, time: 8)
/// try workspace.backward(seed: .tokenWeights(weights))                      // [B·T]
/// try workspace.backward(seed: .scoreGradient(rows: [7], values: [1]))      // d reward / d θ
/// ```
public struct BackwardSeed {
    /// `[B·T]` weights on `−log p(target)`; rows whose target is -100 are skipped.
    public var tokenWeights: [Float]?
    /// Replaces the logits `[B·T, V]` (row-major) with `dL/dlogits`.
    public var logitGradient: ((UnsafeMutableBufferPointer<Float>) throws -> Void)?
    /// Rows (`b·T + t`) and `dL/dh` at them, `[rows.count, C]` row-major.
    public var hiddenGradient: (rows: [Int], values: [Float])?
    /// Rows (`b·T + t`) and `dL/dscore` at them, `[rows.count, S]` row-major.
    public var scoreGradient: (rows: [Int], values: [Float])?

    /// A seed of the given parts (at least one should be set).
    public init(
        tokenWeights: [Float]? = nil, logitGradient: ((UnsafeMutableBufferPointer<Float>) throws -> Void)? = nil,
        hiddenGradient: (rows: [Int], values: [Float])? = nil, scoreGradient: (rows: [Int], values: [Float])? = nil
    ) {
        self.tokenWeights = tokenWeights
        self.logitGradient = logitGradient
        self.hiddenGradient = hiddenGradient
        self.scoreGradient = scoreGradient
    }

    /// Weights on `−log p(target)` per position `[B·T]`.
    public static func tokenWeights(_ weights: [Float]) -> BackwardSeed { BackwardSeed(tokenWeights: weights) }

    /// A closure that replaces the logits `[B·T, V]` with `dL/dlogits`.
    public static func logitGradient(_ body: @escaping (UnsafeMutableBufferPointer<Float>) throws -> Void) -> BackwardSeed {
        BackwardSeed(logitGradient: body)
    }

    /// `dL/dh [rows.count, C]` at the given rows of the final hidden states.
    public static func hiddenGradient(rows: [Int], values: [Float]) -> BackwardSeed {
        BackwardSeed(hiddenGradient: (rows, values))
    }

    /// `dL/dscore [rows.count, S]` at the given rows of the scalar head's output.
    public static func scoreGradient(rows: [Int], values: [Float]) -> BackwardSeed {
        BackwardSeed(scoreGradient: (rows, values))
    }

    var needsLogits: Bool { tokenWeights != nil || logitGradient != nil }
}
