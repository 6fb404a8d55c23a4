// The AdamW update over flat buffers, element-wise and parallel (bit-identical for any thread
// count: each element's update depends on that element only).
import Foundation
import GPTKernelCore

/// The hyperparameters of one AdamW step, as torch.optim.AdamW (single-tensor form).
public struct AdamWStep: Sendable, Hashable {
    /// The learning rate of this step.
    public var learningRate: Float
    /// β1, β2: decay rates of the first and second moments.
    public var beta1: Float, beta2: Float
    /// ε added to the denominator.
    public var epsilon: Float
    /// Decoupled weight decay, applied as `p *= 1 − lr·wd` (0 for parameters that are not decayed).
    public var weightDecay: Float
    /// The 1-based step number t, for the bias corrections 1 − β^t.
    public var step: Int

    /// Creates a step description.
    public init(learningRate: Float, beta1: Float, beta2: Float, epsilon: Float, weightDecay: Float, step: Int) {
        (self.learningRate, self.beta1, self.beta2, self.epsilon, self.weightDecay, self.step) =
            (learningRate, beta1, beta2, epsilon, weightDecay, step)
    }
}

extension Kernels {
    /// One AdamW update of `count` parameters:
    /// `p *= 1 − lr·wd; m = β1·m + (1−β1)·g; v = β2·v + (1−β2)·g²;
    ///  p −= lr/(1−β1ᵗ) · m / (√v/√(1−β2ᵗ) + ε)`.
    /// Pass a weight decay of 0 for parameters that are not decayed.
    public static func adamW(
        parameters p: UnsafeMutablePointer<Float>, gradients g: UnsafePointer<Float>,
        firstMoment m: UnsafeMutablePointer<Float>, secondMoment v: UnsafeMutablePointer<Float>,
        count: Int, hyperparameters h: AdamWStep
    ) {
        let t = Double(h.step)
        let stepSize = Float(Double(h.learningRate) / (1 - Foundation.pow(Double(h.beta1), t)))
        let correction2 = Float((1 - Foundation.pow(Double(h.beta2), t)).squareRoot())
        let decay = h.learningRate * h.weightDecay
        let (b1, b2, eps) = (h.beta1, h.beta2, h.epsilon)
        forEachRange(count, grain: elementwiseParallelThreshold / 4) { range in
            for i in range {
                var value = p[i]
                value *= 1 - decay
                let gradient = g[i]
                let first = b1 * m[i] + (1 - b1) * gradient
                let second = b2 * v[i] + (1 - b2) * gradient * gradient
                m[i] = first
                v[i] = second
                value -= stepSize * first / (second.squareRoot() / correction2 + eps)
                p[i] = value
            }
        }
    }
}
