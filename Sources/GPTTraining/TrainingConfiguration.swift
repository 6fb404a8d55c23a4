// The settings of a training run.
import GPTModel

/// Everything a training run needs besides the model and the data. Codable, so a checkpoint
/// records it.
///
/// ```swift
/// var settings = TrainingConfiguration(batchSize: 12, sequenceLength: 64, steps: 2000)
/// settings.schedule = .warmupCosine(maximum: 1e-3, minimum: 1e-4, warmupSteps: 100, decaySteps: 2000)
/// ```
public struct TrainingConfiguration: Sendable, Hashable, Codable {
    /// Sequences per micro-batch (B).
    public var batchSize: Int
    /// Tokens per sequence (T).
    public var sequenceLength: Int
    /// Optimizer steps in the run.
    public var steps: Int
    /// Micro-batches whose gradients are averaged into one step.
    public var accumulationSteps: Int = 1
    /// The learning rate by step.
    public var schedule: LearningRateSchedule = .warmupCosine(maximum: 6e-4, minimum: 6e-5, warmupSteps: 100, decaySteps: 5000)
    /// AdamW β1, β2, ε.
    public var beta1: Float = 0.9, beta2: Float = 0.95, epsilon: Float = 1e-8
    /// AdamW's decoupled weight decay, on matrices (and embeddings when `decayEmbeddings`).
    public var weightDecay: Float = 0.1
    /// Whether embeddings are decayed too (nanoGPT: yes).
    public var decayEmbeddings: Bool = true
    /// Global gradient-norm clipping threshold; 0 turns clipping off.
    public var gradientClip: Float = 1
    /// Evaluate on the validation data every this many steps (0: never during the run).
    public var evaluationInterval: Int = 100
    /// Validation batches per evaluation.
    public var evaluationBatches: Int = 20
    /// Seed of the batch sampler.
    public var seed: UInt64 = 1337
    /// Which activations are kept for the backward pass.
    public var recompute: RecomputePolicy = .none

    /// A configuration with the given sizes and defaults elsewhere.
    public init(batchSize: Int, sequenceLength: Int, steps: Int) {
        self.batchSize = batchSize
        self.sequenceLength = sequenceLength
        self.steps = steps
    }

    /// Throws `TrainingError.invalidConfiguration` naming the first impossible setting.
    public func validate(contextLength: Int) throws {
        func fail(_ message: String) -> TrainingError { .invalidConfiguration(message) }
        guard batchSize > 0 else { throw fail("batch size must be positive, got \(batchSize)") }
        guard sequenceLength > 0, sequenceLength <= contextLength else {
            throw fail("sequence length \(sequenceLength) must be in 1...\(contextLength) (the model's context)")
        }
        guard steps >= 0 else { throw fail("steps must not be negative") }
        guard accumulationSteps > 0 else { throw fail("accumulation steps must be positive") }
        guard gradientClip >= 0, weightDecay >= 0, epsilon > 0 else { throw fail("clip, weight decay and ε must be ≥ 0 (ε > 0)") }
        guard (0..<1).contains(beta1), (0..<1).contains(beta2) else { throw fail("β1 and β2 must be in [0, 1)") }
        guard evaluationInterval >= 0, evaluationBatches > 0 else { throw fail("evaluation interval ≥ 0 and batches > 0") }
        // Bounds that keep every count finite and every product of sizes far from overflow.
        let limit = 1 << 31
        guard steps <= limit, accumulationSteps <= 1 << 16, evaluationBatches <= 1 << 20, evaluationInterval <= limit else {
            throw fail("steps (≤ 2^31), accumulation steps (≤ 65536) and evaluation batches (≤ 2^20) must be bounded")
        }
        let (positions, overflow) = batchSize.multipliedReportingOverflow(by: sequenceLength)
        guard !overflow, positions <= limit else { throw fail("batch \(batchSize) × sequence \(sequenceLength) is too large") }
        try schedule.validate()
    }
}

/// What the trainer reports after each step.
public struct TrainingProgress: Sendable {
    /// Steps done (1-based) and the run's total.
    public var step: Int, totalSteps: Int
    /// The step's training loss (mean over its micro-batches).
    public var loss: Float
    /// The last validation loss, if an evaluation ran at this step.
    public var validationLoss: Float?
    /// The learning rate used.
    public var learningRate: Float
    /// The global gradient norm before clipping.
    public var gradientNorm: Float
    /// Training throughput of this step.
    public var tokensPerSecond: Double
    /// Seconds since the run (or resume) started, and the estimated seconds left.
    public var elapsed: Double, remaining: Double

    /// A report (for loops that step a trainer themselves).
    public init(step: Int, totalSteps: Int, loss: Float, validationLoss: Float?, learningRate: Float, gradientNorm: Float,
                tokensPerSecond: Double, elapsed: Double, remaining: Double) {
        (self.step, self.totalSteps, self.loss, self.validationLoss) = (step, totalSteps, loss, validationLoss)
        (self.learningRate, self.gradientNorm, self.tokensPerSecond, self.elapsed, self.remaining) =
            (learningRate, gradientNorm, tokensPerSecond, elapsed, remaining)
    }
}
