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

/// The activations and gradients of passes over a shared, immutable `GPT`.
///
/// `forward` runs the model over a batch and keeps what objectives need: the final hidden
/// states `[B, T, C]`, the log-probabilities of given targets `[B·T]` (computed without copying
/// the `B·T·V` logits out), the logits on request, and the scalar head's scores. `backward(seed:)`
/// then adds every parameter's gradient into this workspace's own `gradients`, starting from a
/// `BackwardSeed` (per-token weights, a full dLogits, a dHidden or a dScore at chosen rows).
/// Call `gradients.zero()` between steps, or not, to accumulate.
///
/// Each workspace owns its gradients, so several workspaces on one model compute gradients at
/// once on different tasks without sharing memory. Activations come from an arena that grows
/// during the first step and is then reused, so later steps of the same (or smaller) shape
/// allocate nothing. A workspace belongs to one task at a time.
///
/// ```swift
/// let workspace = GPTWorkspace(model: model, recompute: .none)
/// workspace.gradients.zero()
/// let loss = try workspace.forward(tokens: inputs, targets: targets, batch: 4, time: 64)
/// try workspace.backward()                                   // mean cross-entropy
/// let gWte = workspace.gradients.gradient(of: model.layout.entry(named: "wte.weight")!.slot)
/// ```
public final class GPTWorkspace {
    /// The model the workspace runs.
    public let model: GPT
    /// Which activations are kept.
    public let recompute: RecomputePolicy
    /// The gradients `backward` adds into, in the model's layout: every parameter's, or only
    /// the trainable ones' (see `init(model:recompute:trainable:)`).
    public private(set) lazy var gradients = GradientBuffer(layout: model.layout, tracking: trainable)
    /// The layout indices of the parameters whose gradients are computed (nil: all).
    public let trainable: Set<Int>?
    let arena = Arena()
    private var ids: [Int32] = [], targets: [Int32] = []
    /// The packed rows' position ids of the last pass `[B·T]` (`positionCapacity` allocated), if it had any.
    private var positionIDs: UnsafeMutablePointer<Int32>?, positionCapacity = 0
    private var weightsOfMask: [Float] = []
    /// Block l's input `[B·T, C]` (entry L is the final norm's input), and each block's saved
    /// record (`.none` only); pointers into the arena, valid until the next forward pass.
    private var blockInputs: [UnsafeMutablePointer<Float>] = [], saved: [TransformerBlock.Saved] = []
    private var pass: Pass?

    /// What one forward pass leaves for `backward()` (pointers into the arena).
    private struct Pass {
        let batch: Int, time: Int
        let finalNorm: Normalization.Saved
        let logits: UnsafeMutablePointer<Float>?
        let scores: UnsafeMutablePointer<Float>?
        var statistics: UnsafeMutablePointer<Float>?, losses: UnsafeMutablePointer<Float>?
        var count: Float = 0
        var hasTargets: Bool
        var backwardDone = false
        /// The pass's dropout (training only): site 0 the embeddings, site l + 1 block l.
        var dropout: Dropout?
        /// The packed position ids (the workspace's `positionIDs`), if the pass had them.
        var positions: UnsafePointer<Int32>?
        /// The adapters' input dropout (training an adapted model with a LoRA dropout).
        var adapterDropout: Dropout?
        var rows: Int { batch * time }
    }

    /// A workspace for `model`. With `trainable` (layout entry indices), only those parameters
    /// get gradients: the others are frozen, their gradients neither stored nor computed
    /// (fine-tuning adapters over a frozen base). Input gradients still flow through every layer.
    public init(model: GPT, recompute: RecomputePolicy = .none, trainable: Set<Int>? = nil) {
        self.model = model
        self.recompute = recompute
        self.trainable = trainable
    }

    deinit { positionIDs?.deallocate() }

    /// The weights the passes read: the model's (for a trainer, its live master copy).
    var weights: WeightStore { model.weights }

    /// A copy of the gradient of parameter `name`, or nil if there is none.
    public func gradient(named name: String) -> Tensor? {
        model.layout.entry(named: name).map { gradients.gradient(of: $0.slot) }
    }

    /// The floats of activation memory the largest step so far used (× 4 for bytes).
    public var activationFloats: Int { arena.highWater }

    // MARK: - Forward

    /// Runs the model on `tokens [B, T]` (row-major, `batch · time` ids). With `targets [B, T]`
    /// (already shifted: target t is the token after input t; -100 = not counted) and an optional
    /// `lossMask [B, T]` (false = not counted), returns the mean cross-entropy over the counted
    /// positions (0 when none is counted) and keeps each target's log-probability; without
    /// targets returns nil. `computeLogits: false` stops at the hidden states (and scores): a
    /// reward or value model needs no vocabulary projection.
    ///
    /// `dropoutSeed` turns on the configuration's dropout (training mode): embeddings, attention
    /// probabilities and residual branches, with masks drawn from the seed (same seed, same
    /// masks). Without it (evaluation, generation) there is no dropout.
    /// - Throws: `ModelError.invalidInput` for inconsistent sizes, `.tokenOutOfRange` for an id
    ///   (or target) outside the vocabulary, `.contextOverflow` when `time` exceeds the context.
    ///
    /// Ids may be any integer type: the trainer passes its datasets' `Int32` ids straight
    /// through, checked and copied once into the workspace.
    ///
    /// `positions [B, T]` packs several documents into each row (Hugging Face's packed
    /// `position_ids`): each row starts at 0 and each next position is 0 (a new document) or
    /// one more than the last. Positional embeddings and RoPE take these positions, and
    /// attention stays inside each document, so every document gets the logits, loss and
    /// gradients it would get in a row of its own.
    /// - Throws: also `ModelError.invalidInput` for positions that are not such runs.
    @discardableResult
    public func forward<ID: BinaryInteger>(
        tokens: [ID], targets: [ID]? = nil, lossMask: [Bool]? = nil, positions: [ID]? = nil, batch: Int, time: Int,
        dropoutSeed: UInt64? = nil, computeLogits: Bool = true
    ) throws -> Float? {
        pass = nil
        let c = model.configuration, a = model.architecture, w = weights
        let (rowCount, overflow) = batch.multipliedReportingOverflow(by: time)
        guard batch > 0, time > 0, !overflow, tokens.count == rowCount else {
            throw ModelError.invalidInput("\(tokens.count) tokens for batch \(batch) × time \(time)")
        }
        guard time <= c.contextLength else { throw ModelError.contextOverflow(length: time, limit: c.contextLength) }
        if targets != nil && !computeLogits { throw ModelError.invalidInput("targets need the logits (computeLogits: true)") }
        // Before the arena grows: the pass's activations must fit this machine.
        let needed = c.estimatedActivationBytes(batch: batch, time: time, perBlock: recompute == .perBlock)
        if let shortfall = GPTConfiguration.memoryShortfall(needed, for: "a pass of batch \(batch) × time \(time)") {
            throw ModelError.invalidInput(shortfall)
        }
        try model.checkedIDs(tokens, into: &ids)
        try prepareTargets(targets, lossMask: lossMask, rows: batch * time)
        let packed = try preparePositions(positions, batch: batch, time: time)

        arena.reset()
        let rows = batch * time, width = c.embeddingDimensions, count = rows * width
        // Block inputs first, so recomputation can free everything allocated after them.
        blockInputs.removeAll(keepingCapacity: true)
        saved.removeAll(keepingCapacity: true)
        blockInputs.append(arena.allocate(count))
        if recompute == .perBlock { for _ in a.blocks { blockInputs.append(arena.allocate(count)) } }
        try ids.withUnsafeBufferPointer {
            try model.embed(ids: $0.baseAddress!, batch: batch, time: time, positionOffset: 0, positions: packed, weights: w,
                            into: blockInputs[0])
        }
        let dropout = dropoutSeed.flatMap { c.dropout > 0 ? Dropout(rate: c.dropout, seed: $0) : nil }
        let adapterDropout = dropoutSeed.flatMap { seed in
            model.lora.flatMap { $0.dropout > 0 ? Dropout(rate: $0.dropout, seed: seed ^ 0x4C6F_5241_4472_6F70) : nil }
        }
        if let dropout { Kernels.dropout(blockInputs[0], into: blockInputs[0], count: count, dropout.site(0)) }
        for (index, block) in a.blocks.enumerated() {
            let blockDropout = dropout?.site(UInt64(index + 1))
            switch recompute {
            case .none:
                let record = block.forward(blockInputs[index], batch: batch, time: time, weights: w, arena: arena, dropout: blockDropout,
                                           positions: packed, adapterDropout: adapterDropout?.site(UInt64(index)))
                saved.append(record)
                blockInputs.append(record.output)
            case .perBlock:
                let mark = arena.mark()
                let record = block.forward(blockInputs[index], batch: batch, time: time, weights: w, arena: arena, dropout: blockDropout,
                                           positions: packed, adapterDropout: adapterDropout?.site(UInt64(index)))
                blockInputs[index + 1].update(from: record.output, count: count)
                arena.reset(to: mark)
            }
        }
        let finalNorm = a.finalNorm.forward(blockInputs[a.blocks.count], rows: rows, weights: w, arena: arena)
        var logits: UnsafeMutablePointer<Float>?
        if computeLogits {
            logits = arena.allocate(rows * c.vocabularySize)
            model.projectToVocabulary(finalNorm.output, rows: rows, weights: w, into: logits!)
        }
        var scores: UnsafeMutablePointer<Float>?
        if let head = a.scoreHead {
            scores = arena.allocate(rows * head.outputSize)
            head.forward(finalNorm.output, rows: rows, weights: w, into: scores!)
        }
        var state = Pass(batch: batch, time: time, finalNorm: finalNorm, logits: logits, scores: scores, hasTargets: targets != nil,
                         dropout: dropout, positions: packed, adapterDropout: adapterDropout)
        defer { pass = state }
        guard targets != nil, let logits else { return nil }
        let statistics = arena.allocate(2 * rows), losses = arena.allocate(rows)
        let result = targetPointers(weightsOfMask) { t, mask in
            Kernels.crossEntropyForward(logits: logits, targets: t, weights: mask, rows: rows, vocabulary: c.vocabularySize,
                                        statistics: statistics, losses: losses)
        }
        state.statistics = statistics
        state.losses = losses
        state.count = result.count
        return result.loss
    }

    // MARK: - Outputs of the last pass

    /// The logits `[B, T, V]` of the last forward pass (a copy), or nil before the first pass,
    /// without `computeLogits`, or after a backward pass (which overwrites them with their gradient).
    public var logits: Tensor? {
        guard let pass, !pass.backwardDone, let logits = pass.logits else { return nil }
        return Tensor(copying: logits, shape: [pass.batch, pass.time, model.configuration.vocabularySize])
    }

    /// The final hidden states `[B, T, C]` (after the final norm: what the output projection and
    /// the scalar head read) of the last forward pass, a copy.
    public var hiddenStates: Tensor? {
        guard let pass else { return nil }
        return Tensor(copying: pass.finalNorm.output, shape: [pass.batch, pass.time, model.configuration.embeddingDimensions])
    }

    /// `log p(target)` of every position `[B·T]` of the last forward pass with targets (0 where
    /// the target is -100 or masked out).
    public var tokenLogProbabilities: [Float]? {
        guard let pass, let losses = pass.losses else { return nil }
        return (0..<pass.rows).map { losses[$0] == 0 ? 0 : -losses[$0] }
    }

    /// The scalar head's output `[B, T, S]` of the last forward pass (a copy), if the model has
    /// a head (`configuration.scoreCount > 0`).
    public var scores: Tensor? {
        guard let pass, let scores = pass.scores, let head = model.architecture.scoreHead else { return nil }
        return Tensor(copying: scores, shape: [pass.batch, pass.time, head.outputSize])
    }


    // MARK: - Backward

    /// Adds the gradient of `lossScale · loss` (the mean cross-entropy over counted positions of
    /// the last forward pass) into `gradients`. `lossScale` lets gradient accumulation average
    /// over micro-batches (e.g. `1 / steps`).
    /// - Throws: `ModelError.invalidState` without a preceding forward pass with targets, or twice.
    public func backward(lossScale: Float = 1) throws {
        guard let state = pass, state.hasTargets else {
            throw ModelError.invalidState("backward() needs a forward pass with targets first")
        }
        let scale = state.count > 0 ? lossScale / state.count : 0
        try backward(seed: BackwardSeed(), crossEntropyScale: scale)
    }

    /// Adds the gradient of the objective that `seed` describes into `gradients`.
    /// - Throws: `ModelError.invalidState` without a preceding forward pass (with targets for
    ///   token weights, with logits for logit seeds, with a score head for score seeds) or when
    ///   backward already ran for it; `.invalidInput` for seeds of the wrong size or rows out of
    ///   range.
    public func backward(seed: BackwardSeed) throws {
        try backward(seed: seed, crossEntropyScale: nil)
    }

    /// The one backward pass. `crossEntropyScale` is the mean cross-entropy's factor (the
    /// forward mask's weights, scaled); otherwise `seed.tokenWeights` weigh the rows.
    private func backward(seed: BackwardSeed, crossEntropyScale: Float?) throws {
        guard var state = pass else { throw ModelError.invalidState("backward needs a forward pass first") }
        guard !state.backwardDone else { throw ModelError.invalidState("backward was already run for this forward pass") }
        let c = model.configuration, a = model.architecture, w = weights, g = gradients
        let rows = state.rows, width = c.embeddingDimensions, count = rows * width, vocabulary = c.vocabularySize
        let usesLogits = crossEntropyScale != nil || seed.needsLogits
        if usesLogits && state.logits == nil { throw ModelError.invalidState("a logit seed needs a forward pass with logits") }
        if crossEntropyScale != nil || seed.tokenWeights != nil {
            guard state.hasTargets, state.statistics != nil else { throw ModelError.invalidState("token weights need targets in forward") }
        }
        if let tokenWeights = seed.tokenWeights, tokenWeights.count != rows {
            throw ModelError.invalidInput("\(tokenWeights.count) token weights for \(rows) positions")
        }
        let hidden = try checkedRows(seed.hiddenGradient, rows: rows, width: width, what: "hidden")
        var scoreRows: (rows: [Int], values: [Float])?
        if let scoreGradient = seed.scoreGradient {
            guard let head = a.scoreHead, state.scores != nil else { throw ModelError.invalidState("a score seed needs a model with a score head") }
            scoreRows = try checkedRows(scoreGradient, rows: rows, width: head.outputSize, what: "score")
        }
        state.backwardDone = true
        pass = state

        // dL/dh of the final hidden states, from every part of the seed.
        let dNorm = arena.allocate(count)
        let x = UnsafePointer(state.finalNorm.output)
        if usesLogits, let logits = state.logits {
            let dLogits = logits  // the gradient replaces the logits
            var extra: UnsafeMutablePointer<Float>?
            if let body = seed.logitGradient {
                let tokensToo = crossEntropyScale != nil || seed.tokenWeights != nil
                let target = tokensToo ? arena.allocate(rows * vocabulary) : dLogits
                if tokensToo { target.update(from: logits, count: rows * vocabulary) }
                try body(UnsafeMutableBufferPointer(start: target, count: rows * vocabulary))
                if tokensToo { extra = target }
            }
            if let scale = crossEntropyScale {
                targetPointers(weightsOfMask) { t, mask in
                    Kernels.crossEntropyBackward(logits: logits, statistics: state.statistics!, targets: t, weights: mask, rows: rows,
                                                 vocabulary: vocabulary, scale: scale, gradient: dLogits)
                }
            } else if let tokenWeights = seed.tokenWeights {
                targetPointers(tokenWeights) { t, weights in
                    Kernels.crossEntropyBackward(logits: logits, statistics: state.statistics!, targets: t, weights: weights, rows: rows,
                                                 vocabulary: vocabulary, scale: 1, gradient: dLogits)
                }
            }
            if let extra { Kernels.add(dLogits, extra, into: dLogits, count: rows * vocabulary) }
            // Output projection: dW += dLogitsᵀ · x, dx = dLogits · W.
            if g.tracks(a.outputWeight) {
                Kernels.sgemm(m: vocabulary, n: width, k: rows, a: dLogits, transposeA: true, b: x, c: g[a.outputWeight], accumulate: true)
            }
            w.matrix(a.outputWeight).multiplyTransposed(dLogits, rows: rows, into: dNorm)
        } else {
            dNorm.update(repeating: 0, count: count)
        }
        if let hidden {
            for (index, row) in hidden.rows.enumerated() {
                hidden.values.withUnsafeBufferPointer { Kernels.add(dNorm + row * width, $0.baseAddress! + index * width, into: dNorm + row * width, count: width) }
            }
        }
        if let scoreRows, let head = a.scoreHead {
            let dScores = arena.allocate(rows * head.outputSize)
            dScores.update(repeating: 0, count: rows * head.outputSize)
            for (index, row) in scoreRows.rows.enumerated() {
                scoreRows.values.withUnsafeBufferPointer {
                    let source = $0.baseAddress! + index * head.outputSize, target = dScores + row * head.outputSize
                    Kernels.add(target, source, into: target, count: head.outputSize)
                }
            }
            head.backward(outputGradient: dScores, input: x, rows: rows, weights: w, gradients: g, inputGradient: dNorm, accumulateInput: true)
        }
        try backwardThroughBlocks(from: dNorm, state: state)
    }

    /// Checks a row seed: rows in range, `rows.count × width` values.
    private func checkedRows(_ seed: (rows: [Int], values: [Float])?, rows: Int, width: Int, what: String) throws -> (rows: [Int], values: [Float])? {
        guard let seed else { return nil }
        guard seed.values.count == seed.rows.count * width else {
            throw ModelError.invalidInput("\(seed.values.count) \(what) gradient values for \(seed.rows.count) rows of \(width)")
        }
        if let bad = seed.rows.first(where: { $0 < 0 || $0 >= rows }) {
            throw ModelError.invalidInput("\(what) gradient row \(bad) is outside 0..<\(rows)")
        }
        return seed
    }

    /// From `dL/dh` of the final norm's output down to the embeddings.
    private func backwardThroughBlocks(from dNorm: UnsafeMutablePointer<Float>, state: Pass) throws {
        let c = model.configuration, a = model.architecture, w = weights, g = gradients
        let rows = state.rows, count = rows * c.embeddingDimensions
        var dy = arena.allocate(count), dx = arena.allocate(count)
        a.finalNorm.backward(outputGradient: dNorm, saved: state.finalNorm, weights: w, gradients: g, inputGradient: dy)
        for index in a.blocks.indices.reversed() {
            let block = a.blocks[index]
            switch recompute {
            case .none:
                block.backward(outputGradient: dy, saved: saved[index], weights: w, gradients: g, arena: arena, inputGradient: dx)
            case .perBlock:
                let mark = arena.mark()
                let record = block.forward(blockInputs[index], batch: state.batch, time: state.time, weights: w, arena: arena,
                                           dropout: state.dropout?.site(UInt64(index + 1)), positions: state.positions,
                                           adapterDropout: state.adapterDropout?.site(UInt64(index)))
                block.backward(outputGradient: dy, saved: record, weights: w, gradients: g, arena: arena, inputGradient: dx)
                arena.reset(to: mark)
            }
            swap(&dx, &dy)
        }
        // dy is now the gradient of the (dropped) embeddings' sum.
        if let dropout = state.dropout { Kernels.dropout(dy, into: dy, count: count, dropout.site(0)) }
        ids.withUnsafeBufferPointer { a.tokenEmbedding.backward(outputGradient: dy, ids: $0.baseAddress!, rows: rows, gradients: g) }
        a.positionEmbedding?.backward(outputGradient: dy, batch: state.batch, time: state.time, positions: state.positions, gradients: g)
    }

    // MARK: - Targets

    /// Checks packed position ids and copies them into `positionIDs`; nil without them.
    private func preparePositions<ID: BinaryInteger>(_ positions: [ID]?, batch: Int, time: Int) throws -> UnsafePointer<Int32>? {
        guard let positions else { return nil }
        let rows = batch * time
        guard positions.count == rows else { throw ModelError.invalidInput("\(positions.count) positions for \(rows) tokens") }
        for (index, position) in positions.enumerated() {
            let t = index % time
            let previous = t == 0 ? -1 : Int(positions[index - 1])
            guard position == 0 || (t > 0 && Int(position) == previous + 1) else {
                throw ModelError.invalidInput("position \(position) at row \(index / time), time \(t): each row starts at 0 and each "
                                              + "position is 0 (a new document) or one more than the one before")
            }
        }
        if positionCapacity < rows {
            positionIDs?.deallocate()
            positionIDs = .allocate(capacity: rows)
            positionCapacity = rows
        }
        let buffer = positionIDs!
        for (index, position) in positions.enumerated() { buffer[index] = Int32(position) }
        return UnsafePointer(buffer)
    }

    private func prepareTargets<ID: BinaryInteger>(_ targets: [ID]?, lossMask: [Bool]?, rows: Int) throws {
        self.targets.removeAll(keepingCapacity: true)
        weightsOfMask.removeAll(keepingCapacity: true)
        guard let targets else {
            if lossMask != nil { throw ModelError.invalidInput("a loss mask needs targets") }
            return
        }
        guard targets.count == rows else { throw ModelError.invalidInput("\(targets.count) targets for \(rows) positions") }
        let vocabulary = model.configuration.vocabularySize
        for target in targets {
            guard target == Kernels.ignoreIndex || (target >= 0 && target < vocabulary) else {
                throw ModelError.tokenOutOfRange(token: Int(clamping: target), vocabularySize: vocabulary)
            }
            self.targets.append(Int32(target))
        }
        if let lossMask {
            guard lossMask.count == rows else { throw ModelError.invalidInput("\(lossMask.count) mask entries for \(rows) positions") }
            for counted in lossMask { weightsOfMask.append(counted ? 1 : 0) }
        }
    }

    /// The targets and `rowWeights` (nil when empty) as pointers.
    private func targetPointers<R>(_ rowWeights: [Float], _ body: (UnsafePointer<Int32>, UnsafePointer<Float>?) -> R) -> R {
        targets.withUnsafeBufferPointer { t in
            rowWeights.withUnsafeBufferPointer { w in body(t.baseAddress!, rowWeights.isEmpty ? nil : w.baseAddress!) }
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
