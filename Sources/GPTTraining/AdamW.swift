// AdamW over the flat parameter buffer, with a weight-decay mask from the parameter layout.
import GPTLayers
import GPTTensor

/// AdamW (Loshchilov & Hutter), exactly as `torch.optim.AdamW` in its single-tensor form, over
/// every parameter of a `ParameterBuffer` at once. Weight decay applies only where the layout
/// says so: matrices always, embeddings when `decayEmbeddings` (nanoGPT decays them; many
/// recipes do not), never biases or norms.
///
/// ```swift
/// let optimizer = AdamW(layout: model.layout, weightDecay: 0.1)
/// optimizer.step(parameters, gradients: workspace.gradients, learningRate: 6e-4)
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
    /// Runs of the flat buffer with one decay setting each (no per-element mask: for GPT-2 small
    /// that would be another 500 MB).
    let segments: [(range: Range<Int>, decays: Bool)]
    /// The number of floats in each buffer.
    public let count: Int

    /// Zero moments for `layout`.
    public init(layout: ParameterLayout, beta1: Float = 0.9, beta2: Float = 0.95, epsilon: Float = 1e-8,
                weightDecay: Float = 0.1, decayEmbeddings: Bool = true) {
        (self.beta1, self.beta2, self.epsilon, self.weightDecay) = (beta1, beta2, epsilon, weightDecay)
        count = max(1, layout.count)
        firstMoment = .allocate(capacity: count)
        secondMoment = .allocate(capacity: count)
        firstMoment.initialize(repeating: 0, count: count)
        secondMoment.initialize(repeating: 0, count: count)
        // Adjacent entries with the same setting merge into one run (padding between entries has
        // zero gradients and stays zero either way).
        var runs: [(range: Range<Int>, decays: Bool)] = []
        for entry in layout.entries {
            let decays = entry.role == .matrix || (entry.role == .embedding && decayEmbeddings)
            let range = entry.slot.offset..<(entry.slot.offset + entry.slot.count)
            if let last = runs.last, last.decays == decays, last.range.upperBound <= range.lowerBound {
                runs[runs.count - 1].range = last.range.lowerBound..<range.upperBound
            } else {
                runs.append((range, decays))
            }
        }
        segments = runs
    }

    deinit {
        firstMoment.deallocate()
        secondMoment.deallocate()
    }

    /// Applies one update to `parameters` from their gradients.
    public func step(_ parameters: ParameterBuffer, gradients: GradientBuffer, learningRate: Float) {
        precondition(max(1, parameters.layout.count) == count && gradients.count == count, "AdamW: buffers of another layout")
        stepCount += 1
        for segment in segments {
            let start = segment.range.lowerBound
            Kernels.adamW(parameters: parameters.values + start, gradients: gradients.values + start, firstMoment: firstMoment + start,
                          secondMoment: secondMoment + start, count: segment.range.count,
                          hyperparameters: AdamWStep(learningRate: learningRate, beta1: beta1, beta2: beta2, epsilon: epsilon,
                                                     weightDecay: segment.decays ? weightDecay : 0, step: stepCount))
        }
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

    /// Restores the step count and reads the moments from `file`'s tensors `m` and `v`
    /// straight into the optimizer's buffers (no intermediate copies).
    /// - Throws: `TrainingError.invalidCheckpoint` if a tensor is missing or of another size.
    public func restore(stepCount: Int, momentsIn file: SafetensorsFile) throws {
        guard stepCount >= 0 else { throw TrainingError.invalidCheckpoint("optimizer step count \(stepCount) is negative") }
        do {
            try file.read(named: "m", into: UnsafeMutableBufferPointer(start: firstMoment, count: count))
            try file.read(named: "v", into: UnsafeMutableBufferPointer(start: secondMoment, count: count))
        } catch {
            throw TrainingError.invalidCheckpoint("optimizer moments: \(error.localizedDescription) (\(count) parameters expected)")
        }
        self.stepCount = stepCount
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
