// Training passes: forward over a batch with the cross-entropy loss, and backward filling every
// parameter gradient. The activations live in the workspace's arena, reused across steps.
import GPTLayers
import GPTTensor

/// Which activations the forward pass keeps for the backward pass.
public enum RecomputePolicy: String, Sendable, Hashable, Codable {
    /// Keep every activation (fastest, most memory).
    case none
    /// Keep only each block's input; recompute the block's forward inside backward
    /// (gradient checkpointing: about one more forward pass of compute, far less memory).
    case perBlock
}

/// The activations of one training step on a shared `GPT`: forward with targets gives the mean
/// cross-entropy loss; `backward()` then adds every parameter's gradient into
/// `model.parameters.gradients` (call `model.parameters.zeroGradients()` between steps, or
/// not, to accumulate).
///
/// Activations come from an arena that grows during the first step and is then reused, so
/// later steps of the same (or smaller) shape allocate nothing. Each block's input is its own
/// allocation, made before the block's internals, so `.perBlock` recomputation can free those.
/// A workspace belongs to one task at a time.
///
/// ```swift
/// let workspace = GPTWorkspace(model: model, recompute: .none)
/// model.parameters.zeroGradients()
/// let loss = try workspace.forward(tokens: inputs, targets: targets, batch: 4, time: 64)
/// try workspace.backward()
/// ```
public final class GPTWorkspace {
    /// The model the workspace runs.
    public let model: GPT
    /// Which activations are kept.
    public let recompute: RecomputePolicy
    let arena = Arena()
    private var ids: [Int32] = [], targets: [Int32] = []
    private var weights: [Float] = []
    /// Block l's input `[B·T, C]` (entry L is the final norm's input), and each block's saved
    /// record (`.none` only); pointers into the arena, valid until the next forward pass.
    private var blockInputs: [UnsafeMutablePointer<Float>] = [], saved: [TransformerBlock.Saved] = []
    private var pass: Pass?

    /// What one forward pass leaves for `backward()` (pointers into the arena).
    private struct Pass {
        let batch: Int, time: Int
        let finalNorm: Normalization.Saved
        let logits: UnsafeMutablePointer<Float>
        var statistics: UnsafeMutablePointer<Float>?
        var count: Float = 0
        var hasTargets: Bool
        var backwardDone = false
        /// The pass's dropout (training only): site 0 the embeddings, site l + 1 block l.
        var dropout: Dropout?
    }

    /// A workspace for `model`.
    public init(model: GPT, recompute: RecomputePolicy = .none) {
        self.model = model
        self.recompute = recompute
    }

    /// The floats of activation memory the largest step so far used (× 4 for bytes).
    public var activationFloats: Int { arena.highWater }

    // MARK: - Forward

    /// Runs the model on `tokens [B, T]` (row-major, `batch · time` ids). With `targets [B, T]`
    /// (already shifted: target t is the token after input t; -100 = not counted) and an optional
    /// `lossMask [B, T]` (false = not counted), returns the mean cross-entropy over the counted
    /// positions (0 when none is counted); without targets returns nil.
    ///
    /// `dropoutSeed` turns on the configuration's dropout (training mode): embeddings, attention
    /// probabilities and residual branches, with masks drawn from the seed (same seed, same
    /// masks). Without it (evaluation, generation) there is no dropout.
    /// - Throws: `ModelError.invalidInput` for inconsistent sizes, `.tokenOutOfRange` for an id
    ///   (or target) outside the vocabulary, `.contextOverflow` when `time` exceeds the context.
    @discardableResult
    public func forward(
        tokens: [Int], targets: [Int]? = nil, lossMask: [Bool]? = nil, batch: Int, time: Int, dropoutSeed: UInt64? = nil
    ) throws -> Float? {
        pass = nil
        let c = model.configuration, a = model.architecture, p = model.parameters
        guard batch > 0, time > 0, tokens.count == batch * time else {
            throw ModelError.invalidInput("\(tokens.count) tokens for batch \(batch) × time \(time)")
        }
        guard time <= c.contextLength else { throw ModelError.contextOverflow(length: time, limit: c.contextLength) }
        try model.checkedIDs(tokens, into: &ids)
        try prepareTargets(targets, lossMask: lossMask, rows: batch * time)

        arena.reset()
        let rows = batch * time, width = c.embeddingDimensions, count = rows * width
        // Block inputs first, so recomputation can free everything allocated after them.
        blockInputs.removeAll(keepingCapacity: true)
        saved.removeAll(keepingCapacity: true)
        blockInputs.append(arena.allocate(count))
        if recompute == .perBlock { for _ in a.blocks { blockInputs.append(arena.allocate(count)) } }
        try ids.withUnsafeBufferPointer {
            try model.embed(ids: $0.baseAddress!, batch: batch, time: time, positionOffset: 0, into: blockInputs[0])
        }
        let dropout = dropoutSeed.flatMap { c.dropout > 0 ? Dropout(rate: c.dropout, seed: $0) : nil }
        if let dropout { Kernels.dropout(blockInputs[0], into: blockInputs[0], count: count, dropout.site(0)) }
        for (index, block) in a.blocks.enumerated() {
            let blockDropout = dropout?.site(UInt64(index + 1))
            switch recompute {
            case .none:
                let record = block.forward(blockInputs[index], batch: batch, time: time, parameters: p, arena: arena, dropout: blockDropout)
                saved.append(record)
                blockInputs.append(record.output)
            case .perBlock:
                let mark = arena.mark()
                let record = block.forward(blockInputs[index], batch: batch, time: time, parameters: p, arena: arena, dropout: blockDropout)
                blockInputs[index + 1].update(from: record.output, count: count)
                arena.reset(to: mark)
            }
        }
        let finalNorm = a.finalNorm.forward(blockInputs[a.blocks.count], rows: rows, parameters: p, arena: arena)
        let logits = arena.allocate(rows * c.vocabularySize)
        model.projectToVocabulary(finalNorm.output, rows: rows, into: logits)
        var state = Pass(batch: batch, time: time, finalNorm: finalNorm, logits: logits, hasTargets: targets != nil, dropout: dropout)
        defer { pass = state }
        guard targets != nil else { return nil }
        let statistics = arena.allocate(2 * rows), losses = arena.allocate(rows)
        let result = targetPointers { t, w in
            Kernels.crossEntropyForward(logits: logits, targets: t, weights: w, rows: rows, vocabulary: c.vocabularySize,
                                        statistics: statistics, losses: losses)
        }
        state.statistics = statistics
        state.count = result.count
        return result.loss
    }

    /// The logits `[B, T, V]` of the last forward pass (a copy), or nil before the first pass or
    /// after `backward()` (which overwrites them with their gradient).
    public var logits: Tensor? {
        guard let pass, !pass.backwardDone else { return nil }
        var tensor = Tensor(zeros: [pass.batch, pass.time, model.configuration.vocabularySize])
        tensor.withUnsafeMutableBufferPointer { $0.baseAddress!.update(from: pass.logits, count: $0.count) }
        return tensor
    }

    // MARK: - Backward

    /// Adds the gradient of `lossScale · loss` (the mean over counted positions of the last
    /// forward pass) into every parameter's gradient. `lossScale` lets gradient accumulation
    /// average over micro-batches (e.g. `1 / steps`).
    /// - Throws: `ModelError.invalidState` without a preceding forward pass with targets, or twice.
    public func backward(lossScale: Float = 1) throws {
        guard var state = pass, state.hasTargets, let statistics = state.statistics else {
            throw ModelError.invalidState("backward() needs a forward pass with targets first")
        }
        guard !state.backwardDone else { throw ModelError.invalidState("backward() was already run for this forward pass") }
        state.backwardDone = true
        pass = state
        let c = model.configuration, a = model.architecture, p = model.parameters
        let rows = state.batch * state.time, width = c.embeddingDimensions, count = rows * width
        let dLogits = state.logits  // the gradient replaces the logits
        let scale = state.count > 0 ? lossScale / state.count : 0
        targetPointers { t, w in
            Kernels.crossEntropyBackward(logits: state.logits, statistics: statistics, targets: t, weights: w, rows: rows,
                                         vocabulary: c.vocabularySize, scale: scale, gradient: dLogits)
        }
        // Output projection: dW += dLogitsᵀ · x, dx = dLogits · W.
        let dNorm = arena.allocate(count)
        let x = UnsafePointer(state.finalNorm.output), weight = a.outputWeight
        Kernels.sgemm(m: c.vocabularySize, n: width, k: rows, a: dLogits, transposeA: true, b: x,
                      c: p.gradients + weight.offset, accumulate: true)
        Kernels.sgemm(m: rows, n: width, k: c.vocabularySize, a: dLogits, b: p.values + weight.offset, c: dNorm)
        var dy = arena.allocate(count), dx = arena.allocate(count)
        a.finalNorm.backward(outputGradient: dNorm, saved: state.finalNorm, parameters: p, inputGradient: dy)
        for index in a.blocks.indices.reversed() {
            let block = a.blocks[index]
            switch recompute {
            case .none:
                block.backward(outputGradient: dy, saved: saved[index], parameters: p, arena: arena, inputGradient: dx)
            case .perBlock:
                let mark = arena.mark()
                let record = block.forward(blockInputs[index], batch: state.batch, time: state.time, parameters: p, arena: arena,
                                           dropout: state.dropout?.site(UInt64(index + 1)))
                block.backward(outputGradient: dy, saved: record, parameters: p, arena: arena, inputGradient: dx)
                arena.reset(to: mark)
            }
            swap(&dx, &dy)
        }
        // dy is now the gradient of the (dropped) embeddings' sum.
        if let dropout = state.dropout { Kernels.dropout(dy, into: dy, count: count, dropout.site(0)) }
        ids.withUnsafeBufferPointer { a.tokenEmbedding.backward(outputGradient: dy, ids: $0.baseAddress!, rows: rows, parameters: p) }
        a.positionEmbedding?.backward(outputGradient: dy, batch: state.batch, time: state.time, parameters: p)
    }

    // MARK: - Targets

    private func prepareTargets(_ targets: [Int]?, lossMask: [Bool]?, rows: Int) throws {
        self.targets.removeAll(keepingCapacity: true)
        weights.removeAll(keepingCapacity: true)
        guard let targets else {
            if lossMask != nil { throw ModelError.invalidInput("a loss mask needs targets") }
            return
        }
        guard targets.count == rows else { throw ModelError.invalidInput("\(targets.count) targets for \(rows) positions") }
        let vocabulary = model.configuration.vocabularySize
        for target in targets {
            guard target == Int(Kernels.ignoreIndex) || (target >= 0 && target < vocabulary) else {
                throw ModelError.tokenOutOfRange(token: target, vocabularySize: vocabulary)
            }
            self.targets.append(Int32(target))
        }
        if let lossMask {
            guard lossMask.count == rows else { throw ModelError.invalidInput("\(lossMask.count) mask entries for \(rows) positions") }
            for counted in lossMask { weights.append(counted ? 1 : 0) }
        }
    }

    private func targetPointers<R>(_ body: (UnsafePointer<Int32>, UnsafePointer<Float>?) -> R) -> R {
        targets.withUnsafeBufferPointer { t in
            weights.withUnsafeBufferPointer { w in body(t.baseAddress!, weights.isEmpty ? nil : w.baseAddress!) }
        }
    }
}

// MARK: - Convenience on the model

extension GPT {
    /// The logits `[B, T, V]` of `tokens [B, T]` (row-major ids), computed in a temporary
    /// workspace. For repeated calls keep a `GPTWorkspace`; for generation use a `KVCache`.
    ///
    /// ```swift
    /// let logits = try model.forward(tokens: [1, 2, 3, 4], batch: 2, time: 2)   // [2, 2, V]
    /// ```
    public func forward(tokens: [Int], batch: Int, time: Int) throws -> Tensor {
        let workspace = GPTWorkspace(model: self)
        try workspace.forward(tokens: tokens, batch: batch, time: time)
        return workspace.logits!
    }

    /// `forward(tokens:batch:time:)` for one sequence: `model(tokens)` is the logits `[1, T, V]`.
    public func callAsFunction(_ tokens: [Int]) throws -> Tensor {
        try forward(tokens: tokens, batch: 1, time: tokens.count)
    }

    /// The mean cross-entropy of `targets [B, T]` (-100 = not counted) given `tokens [B, T]`.
    public func loss(tokens: [Int], targets: [Int], lossMask: [Bool]? = nil, batch: Int, time: Int) throws -> Float {
        try GPTWorkspace(model: self).forward(tokens: tokens, targets: targets, lossMask: lossMask, batch: batch, time: time) ?? 0
    }
}
