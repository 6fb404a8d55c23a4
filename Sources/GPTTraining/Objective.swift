// Objectives: what a training step minimises. Each turns a micro-batch into a forward pass and a
// backward seed (see `BackwardSeed`); the Trainer is the same loop for all of them.
import GPTModel

/// A training objective over micro-batches of type `Batch`.
///
/// `accumulate` runs the forward pass of one micro-batch in `workspace`, then its backward pass
/// with the objective's seed scaled by `scale` (so that micro-batches average), adding into
/// `workspace.gradients`, and returns the micro-batch's loss. The trainer zeroes the gradients,
/// calls it for each micro-batch, clips, and steps the optimizer.
///
/// ```swift
/// /// Raise the scalar head's score at each sequence's last position (loss = −mean score).
/// struct RaiseLastScore: Objective {
///     func accumulate(_ batch: TokenBatch, in workspace: GPTWorkspace, scale: Float, dropoutSeed: UInt64?) throws -> Float {
///         try workspace.forward(tokens: batch.inputs, batch: batch.batchSize, time: batch.sequenceLength,
///                               dropoutSeed: dropoutSeed, computeLogits: false)
///         let rows = (1...batch.batchSize).map { $0 * batch.sequenceLength - 1 }
///         let scores = workspace.scores!.scalars
///         let n = Float(rows.count)
///         try workspace.backward(seed: .scoreGradient(rows: rows, values: rows.map { _ in -scale / n }))
///         return -rows.reduce(0) { $0 + scores[$1] } / n
///     }
/// }
/// try trainer.step(RaiseLastScore(), on: batches)
/// ```
public protocol Objective {
    /// The micro-batch type.
    associatedtype Batch
    /// Forward, then backward scaled by `scale`; returns the micro-batch's loss.
    /// - Throws: the workspace's errors for bad input.
    func accumulate(_ batch: Batch, in workspace: GPTWorkspace, scale: Float, dropoutSeed: UInt64?) throws -> Float
}

/// The mean next-token cross-entropy over counted targets (-100 = not counted): language
/// modelling, and supervised fine-tuning with prompt tokens masked out.
public struct CrossEntropyObjective: Objective {
    /// The objective.
    public init() {}

    /// Cross-entropy forward and backward through the workspace's fused path.
    public func accumulate(_ batch: TokenBatch, in workspace: GPTWorkspace, scale: Float, dropoutSeed: UInt64?) throws -> Float {
        let loss = try workspace.forward(tokens: batch.inputs, targets: batch.targets, positions: batch.positions, batch: batch.batchSize,
                                         time: batch.sequenceLength, dropoutSeed: dropoutSeed) ?? 0
        guard loss.isFinite else { return loss }  // the trainer reports it
        try workspace.backward(lossScale: scale)
        return loss
    }
}
