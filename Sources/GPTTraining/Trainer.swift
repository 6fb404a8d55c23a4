// The training loop: forward, backward, clip, AdamW step, schedule; evaluation; progress.
import Dispatch
import Foundation
import GPTLayers
import GPTModel
import GPTTensor

/// Trains a `GPT` on a token dataset: micro-batches from a seeded sampler, gradient
/// accumulation, global-norm clipping, AdamW with a learning-rate schedule, periodic
/// evaluation, and checkpoints from which a run resumes bit-identically.
///
/// The trainer owns its training state: a mutable float32 copy of the weights (`parameters`,
/// the master weights), the gradients and the optimizer's moments. The model it was given is
/// never changed. `model` publishes the current weights as a new immutable `GPT` (a snapshot,
/// copied when first asked for after a step), so `GenerationSession`s may run on a snapshot on
/// other tasks while training goes on: they keep the weights they started with.
///
/// ```swift
/// let model = try GPT(configuration: .nano, seed: 1)
/// let trainer = try Trainer(model: model, configuration: TrainingConfiguration(batchSize: 8, sequenceLength: 32, steps: 200),
///                           training: train, validation: validation)
/// try trainer.run { progress in print(progress.step, progress.loss) }
/// try trainer.saveCheckpoint(to: URL(fileURLWithPath: "out"))
/// ```
public final class Trainer {
    /// The model as of the last step: an immutable snapshot of `parameters`, made when first
    /// asked for after each step (one copy of the weights).
    public var model: GPT {
        if let published { return published }
        // The layouts match by construction.
        let snapshot = isTrainingAdapters
            ? try! liveModel.withoutAdapters.addingAdapters(liveModel.lora!, values: parameters)
            : try! GPT(configuration: liveModel.configuration, parameters: parameters)
        published = snapshot
        return snapshot
    }
    /// The master weights being trained, in the model's layout — or, for a model with LoRA
    /// adapters, the adapters' values alone (in `model.adapterLayout`: the base is frozen, kept as
    /// stored, and neither copied nor given gradients or optimizer state). Change them only
    /// between steps, and call `parametersDidChange()` after changing them by hand so `model` shows it.
    public let parameters: ParameterBuffer
    /// Whether only the model's adapters are trained.
    public let isTrainingAdapters: Bool
    /// The gradients of the last step (after clipping), in the model's layout.
    public var gradients: GradientBuffer { workspace.gradients }
    /// The run's settings.
    public let configuration: TrainingConfiguration
    /// The optimizer and its state.
    public let optimizer: AdamW
    /// Optimizer steps taken.
    public internal(set) var step = 0
    /// (step, loss) of every training step.
    public internal(set) var trainingLosses: [(step: Int, loss: Float)] = []
    /// (step, validation loss) of every evaluation.
    public internal(set) var validationLosses: [(step: Int, loss: Float)] = []

    let workspace: GPTWorkspace
    /// The architecture over the live master weights (never handed out: it changes with `step`).
    let liveModel: GPT
    private var published: GPT?
    var sampler: BatchSampler?
    let validation: TokenDataset?

    /// A trainer at step 0.
    /// - Throws: `TrainingError.invalidConfiguration` / `.invalidData` for settings or data that cannot work.
    ///
    /// A model with LoRA adapters (`GPT.addingAdapters`, `GPT.loadingAdapter`) trains its
    /// adapters only, over its base weights as they are stored (float32, half or quantized).
    /// Without `training` data, give the batches to `step(on:)` (fine-tuning examples, say);
    /// `trainStep()` and `run` need it.
    public init(model: GPT, configuration: TrainingConfiguration, training: TokenDataset?, validation: TokenDataset? = nil) throws {
        try configuration.validate(contextLength: model.configuration.contextLength)
        // Weights, gradients and AdamW's two moments (4 copies; adapters: the weights once and
        // four copies of the adapters), plus one micro-batch's activations.
        let c = model.configuration
        let adapterBytes = 4 * Double(model.adapterLayout.count)
        let needed = (model.lora == nil ? 4 * c.estimatedWeightBytes : c.estimatedWeightBytes + 4 * adapterBytes)
            + c.estimatedActivationBytes(batch: configuration.batchSize, time: configuration.sequenceLength,
                                         perBlock: configuration.recompute == .perBlock)
        if let shortfall = GPTConfiguration.memoryShortfall(needed, for: "training") {
            throw TrainingError.invalidConfiguration(shortfall + " (for weights, gradients, optimizer state and activations)")
        }
        for (data, name) in [(training, "training"), (validation, "validation")] {
            guard let data else { continue }
            do { try model.checkTokenIDs(data.tokens) } catch ModelError.tokenOutOfRange(let token, let vocabulary) {
                throw TrainingError.invalidData("\(name) token \(token) is outside the model's vocabulary 0..<\(vocabulary)")
            }
        }
        if let validation, validation.tokens.count <= configuration.sequenceLength {
            throw TrainingError.invalidData("the validation data (\(validation.tokens.count) tokens) is shorter than one window")
        }
        // The master copy; the given model is not kept, so a caller that drops it frees its weights.
        isTrainingAdapters = model.lora != nil
        if isTrainingAdapters {
            parameters = try model.adapterValues()
            liveModel = try model.borrowingAdapters(parameters)
        } else {
            parameters = try model.makeParameters()
            liveModel = GPT(borrowing: parameters, architectureOf: model)
        }
        self.configuration = configuration
        self.validation = validation
        optimizer = AdamW(layout: parameters.layout, beta1: configuration.beta1, beta2: configuration.beta2,
                          epsilon: configuration.epsilon, weightDecay: configuration.weightDecay,
                          decayEmbeddings: configuration.decayEmbeddings)
        workspace = GPTWorkspace(model: liveModel, recompute: configuration.recompute,
                                 trainable: isTrainingAdapters ? liveModel.adapterIndices : nil)
        sampler = try training.map {
            try BatchSampler(dataset: $0, batchSize: configuration.batchSize, sequenceLength: configuration.sequenceLength,
                             order: .random(seed: configuration.seed))
        }
    }

    /// The trained model's architecture (without making a snapshot).
    public var modelConfiguration: GPTConfiguration { liveModel.configuration }

    /// Forgets the published snapshot, so `model` copies `parameters` again.
    public func parametersDidChange() { published = nil }

    // MARK: - Steps

    /// What one optimizer step did.
    public struct StepResult: Sendable {
        /// Mean loss over the step's micro-batches.
        public var loss: Float
        /// Learning rate used.
        public var learningRate: Float
        /// Global gradient norm before clipping.
        public var gradientNorm: Float
    }

    /// One optimizer step on the next micro-batches from the sampler.
    @discardableResult
    /// - Throws: `TrainingError.invalidConfiguration` for a trainer made without training data.
    public func trainStep() throws -> StepResult {
        guard sampler != nil else { throw TrainingError.invalidConfiguration("this trainer has no training data: give batches to step(on:)") }
        let batches = (0..<configuration.accumulationSteps).map { _ in sampler!.next() }
        return try step(on: batches)
    }

    /// One optimizer step on the given micro-batches (their gradients are averaged). Targets of
    /// -100 are not counted in the loss.
    /// - Throws: `TrainingError.nonFiniteValue` if the loss or the gradient norm is NaN or
    ///   infinite; the parameters are then left as they were before the step.
    @discardableResult
    public func step(on batches: [TokenBatch]) throws -> StepResult {
        try step(CrossEntropyObjective(), on: batches)
    }

    /// One optimizer step of any objective on the given micro-batches (their gradients are
    /// averaged): the objective runs each forward and backward pass through the loss seam, the
    /// trainer clips, steps AdamW and advances the schedule.
    /// - Throws: `TrainingError.invalidConfiguration` for no micro-batch, `.nonFiniteValue` if a
    ///   loss or the gradient norm is NaN or infinite (the parameters are then left as they
    ///   were), and the objective's errors.
    @discardableResult
    public func step<O: Objective>(_ objective: O, on batches: [O.Batch]) throws -> StepResult {
        guard !batches.isEmpty else { throw TrainingError.invalidConfiguration("a step needs at least one micro-batch") }
        let learningRate = configuration.schedule(step)
        let gradients = workspace.gradients
        gradients.zero()
        var total: Float = 0
        for (index, batch) in batches.enumerated() {
            // Dropout masks from (seed, step, micro-batch): a resumed run draws the same ones.
            let dropoutSeed = configuration.seed ^ (UInt64(step) << 16) ^ UInt64(index) ^ 0xD5_0D5E_ED00_0000
            let loss = try objective.accumulate(batch, in: workspace, scale: 1 / Float(batches.count), dropoutSeed: dropoutSeed)
            guard loss.isFinite else { throw TrainingError.nonFiniteValue(step: step + 1, what: "the loss") }
            total += loss
        }
        let norm = configuration.gradientClip > 0 ? gradients.clip(maximumNorm: configuration.gradientClip) : gradients.norm
        guard norm.isFinite else { throw TrainingError.nonFiniteValue(step: step + 1, what: "the gradient norm") }
        optimizer.step(parameters, gradients: gradients, learningRate: learningRate)
        published = nil
        step += 1
        let result = StepResult(loss: total / Float(batches.count), learningRate: learningRate, gradientNorm: norm)
        trainingLosses.append((step, result.loss))
        return result
    }

    // MARK: - Evaluation

    /// The mean loss over `batches` consecutive windows of `data` (the validation data by
    /// default), from its start: the same windows every time.
    /// - Throws: `TrainingError.invalidData` without validation data, `.invalidConfiguration` for
    ///   fewer than one batch, `.nonFiniteValue` if the loss is NaN or infinite.
    public func evaluate(on data: TokenDataset? = nil, batches: Int? = nil) throws -> Float {
        guard let data = data ?? validation else { throw TrainingError.invalidData("no validation data to evaluate on") }
        guard (batches ?? configuration.evaluationBatches) > 0 else {
            throw TrainingError.invalidConfiguration("evaluation needs at least one batch")
        }
        var windows = try BatchSampler(dataset: data, batchSize: configuration.batchSize,
                                       sequenceLength: configuration.sequenceLength, order: .sequential)
        let count = batches ?? configuration.evaluationBatches
        var total: Double = 0
        for _ in 0..<count {
            let batch = windows.next()
            total += Double(try workspace.forward(tokens: batch.inputs, targets: batch.targets,
                                                  batch: batch.batchSize, time: batch.sequenceLength) ?? 0)
        }
        let loss = Float(total / Double(count))
        guard loss.isFinite else { throw TrainingError.nonFiniteValue(step: step, what: "the validation loss") }
        return loss
    }

    // MARK: - The loop

    /// Trains until `configuration.steps` (or `until`), evaluating every
    /// `evaluationInterval` steps and at the end when there is validation data; calls
    /// `progress` after every step.
    public func run(until lastStep: Int? = nil, progress: (TrainingProgress) throws -> Void = { _ in }) throws {
        let end = min(lastStep ?? configuration.steps, configuration.steps)
        let start = DispatchTime.now().uptimeNanoseconds, firstStep = step
        let tokensPerStep = Double(configuration.batchSize * configuration.sequenceLength * configuration.accumulationSteps)
        while step < end {
            let t0 = DispatchTime.now().uptimeNanoseconds
            let result = try trainStep()
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - t0) * 1e-9
            var validationLoss: Float?
            if validation != nil, (configuration.evaluationInterval > 0 && step % configuration.evaluationInterval == 0) || step == end {
                let loss = try evaluate()
                validationLosses.append((step, loss))
                validationLoss = loss
            }
            let elapsed = Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-9
            let done = step - firstStep
            try progress(TrainingProgress(step: step, totalSteps: configuration.steps, loss: result.loss, validationLoss: validationLoss,
                                          learningRate: result.learningRate, gradientNorm: result.gradientNorm,
                                          tokensPerSecond: tokensPerStep / max(seconds, 1e-9), elapsed: elapsed,
                                          remaining: elapsed / Double(done) * Double(configuration.steps - step)))
        }
    }

    /// The peak activation memory of the steps so far, in bytes.
    public var activationBytes: Int { workspace.activationFloats * 4 }
}
