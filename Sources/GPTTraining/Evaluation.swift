// The mean loss of any model (trainable or not: a quantized copy, a stored-format GGUF) over
// consecutive windows of a dataset, as `Trainer.evaluate` measures its own model.
import GPTModel

extension GPT {
    /// The mean next-token loss over `batches` consecutive batches of `batchSize` windows of
    /// `sequenceLength` tokens from the start of `data` (the windows `Trainer.evaluate` uses);
    /// `exp` of it is the perplexity.
    ///
    /// ```swift
    /// let loss = try model.quantized(to: .q8_0).meanLoss(on: validation, batchSize: 8, sequenceLength: 64, batches: 10)
    /// ```
    /// - Throws: `TrainingError.invalidData` if `data` is shorter than one window,
    ///   `.invalidConfiguration` for sizes below 1 or beyond the context, `.nonFiniteValue` for a
    ///   NaN or infinite loss.
    public func meanLoss(on data: TokenDataset, batchSize: Int, sequenceLength: Int, batches: Int) throws -> Float {
        guard batchSize > 0, batches > 0, sequenceLength > 0, sequenceLength <= configuration.contextLength else {
            throw TrainingError.invalidConfiguration(
                "evaluation needs batch ≥ 1, batches ≥ 1 and 1 ≤ sequence ≤ \(configuration.contextLength); got \(batchSize), \(batches), \(sequenceLength)")
        }
        var windows = try BatchSampler(dataset: data, batchSize: batchSize, sequenceLength: sequenceLength, order: .sequential)
        // One forward-only workspace for every batch (per-block recomputation keeps one block's
        // activations at a time; no backward pass follows).
        let workspace = GPTWorkspace(model: self, recompute: .perBlock)
        var total: Double = 0
        for _ in 0..<batches {
            let batch = windows.next()
            total += Double(try workspace.forward(tokens: batch.inputs, targets: batch.targets,
                                                  batch: batch.batchSize, time: batch.sequenceLength) ?? 0)
        }
        let mean = Float(total / Double(batches))
        guard mean.isFinite else { throw TrainingError.nonFiniteValue(step: 0, what: "the evaluation loss") }
        return mean
    }
}
