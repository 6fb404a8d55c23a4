// AdamW over the flat parameter buffer, with a weight-decay mask from the parameter layout.
import GPTLayers
import GPTTensor

/// AdamW (Loshchilov & Hutter), exactly as `torch.optim.AdamW` in its single-tensor form, over
/// every parameter of a `ParameterBuffer` at once. Weight decay applies only where the layout
/// says so: matrices always, embeddings when `decayEmbeddings` (nanoGPT decays them; many
/// recipes do not), never biases or norms.
///
/// ```swift
/// let optimizer = AdamW(layout: model.parameters.layout, weightDecay: 0.1)
/// optimizer.step(model.parameters, learningRate: 6e-4)
/// ```
public final class AdamW {
    /// β1 and β2.
    public var beta1: Float, beta2: Float
    /// ε.
    public var epsilon: Float
    /// The decoupled weight decay coefficient.
    public var weightDecay: Float
    /// The number of steps taken so far.
    public private(set) var stepCount = 0
    /// First and second moments, the parameter layout's shape.
    let firstMoment: UnsafeMutablePointer<Float>, secondMoment: UnsafeMutablePointer<Float>
    /// 1 where weight decay applies, 0 elsewhere.
    let decayMask: UnsafeMutablePointer<Float>
    /// The number of floats in each buffer.
    public let count: Int

    /// Zero moments for `layout`.
    public init(layout: ParameterLayout, beta1: Float = 0.9, beta2: Float = 0.95, epsilon: Float = 1e-8,
                weightDecay: Float = 0.1, decayEmbeddings: Bool = true) {
        (self.beta1, self.beta2, self.epsilon, self.weightDecay) = (beta1, beta2, epsilon, weightDecay)
        count = max(1, layout.count)
        firstMoment = .allocate(capacity: count)
        secondMoment = .allocate(capacity: count)
        decayMask = .allocate(capacity: count)
        firstMoment.initialize(repeating: 0, count: count)
        secondMoment.initialize(repeating: 0, count: count)
        decayMask.initialize(repeating: 0, count: count)
        for entry in layout.entries where entry.role == .matrix || (entry.role == .embedding && decayEmbeddings) {
            (decayMask + entry.slot.offset).update(repeating: 1, count: entry.slot.count)
        }
    }

    deinit {
        firstMoment.deallocate()
        secondMoment.deallocate()
        decayMask.deallocate()
    }

    /// Applies one update to `parameters` from their gradients.
    public func step(_ parameters: ParameterBuffer, learningRate: Float) {
        precondition(max(1, parameters.layout.count) == count, "AdamW: parameter buffer of another layout")
        stepCount += 1
        Kernels.adamW(parameters: parameters.values, gradients: parameters.gradients, firstMoment: firstMoment,
                      secondMoment: secondMoment, decayMask: decayMask, count: count,
                      hyperparameters: AdamWStep(learningRate: learningRate, beta1: beta1, beta2: beta2, epsilon: epsilon,
                                                 weightDecay: weightDecay, step: stepCount))
    }

    // MARK: - State

    /// The optimizer's state: step count and both moments, for checkpoints.
    public struct State: Sendable, Equatable {
        /// Steps taken.
        public var stepCount: Int
        /// m and v, flat.
        public var firstMoment: [Float], secondMoment: [Float]

        /// A state with the given step count and moments.
        public init(stepCount: Int, firstMoment: [Float], secondMoment: [Float]) {
            (self.stepCount, self.firstMoment, self.secondMoment) = (stepCount, firstMoment, secondMoment)
        }
    }

    /// A copy of the state.
    public var state: State {
        State(stepCount: stepCount, firstMoment: Array(UnsafeBufferPointer(start: firstMoment, count: count)),
              secondMoment: Array(UnsafeBufferPointer(start: secondMoment, count: count)))
    }

    /// Restores a saved state.
    /// - Throws: `TrainingError.invalidCheckpoint` if its size does not match.
    public func restore(_ state: State) throws {
        guard state.firstMoment.count == count, state.secondMoment.count == count, state.stepCount >= 0 else {
            throw TrainingError.invalidCheckpoint("optimizer state of \(state.firstMoment.count) values for \(count) parameters")
        }
        stepCount = state.stepCount
        firstMoment.update(from: state.firstMoment, count: count)
        secondMoment.update(from: state.secondMoment, count: count)
    }
}
