// Global-norm gradient clipping over the flat gradient buffer.
import GPTLayers
import GPTTensor

extension ParameterBuffer {
    /// The L2 norm of all gradients together.
    public var gradientNorm: Float {
        Float(Kernels.squaredNorm(gradients, count: layout.count).squareRoot())
    }

    /// Scales all gradients by `maximumNorm / (norm + 1e-6)` when their global norm exceeds
    /// `maximumNorm`, as `torch.nn.utils.clip_grad_norm_`; returns the norm before clipping.
    @discardableResult
    public func clipGradients(maximumNorm: Float) -> Float {
        let norm = gradientNorm
        if maximumNorm > 0 && norm > maximumNorm {
            Kernels.scale(gradients, by: maximumNorm / (norm + 1e-6), count: layout.count)
        }
        return norm
    }

    /// Multiplies all gradients by `factor` (e.g. 1 / micro-batches for accumulation).
    public func scaleGradients(by factor: Float) {
        Kernels.scale(gradients, by: factor, count: layout.count)
    }
}
