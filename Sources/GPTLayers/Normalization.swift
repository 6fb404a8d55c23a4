// LayerNorm (torch.nn.LayerNorm) and RMSNorm (Llama's), over the last dimension.
import GPTKernelCore
import GPTTensor

/// Which normalization a model uses.
public enum NormalizationKind: String, Sendable, Hashable, Codable {
    /// `torch.nn.LayerNorm`: `(x − mean) / √(var + eps) · weight + bias` (biased variance).
    case layerNorm
    /// Llama's RMSNorm: `x / √(mean(x²) + eps) · weight`.
    case rmsNorm
}

/// A LayerNorm or RMSNorm over rows of `dimensions`, with its saved statistics.
///
/// ```swift
/// let norm = Normalization(kind: .layerNorm, dimensions: 768, name: "ln_f", layout: &layout)
/// let saved = norm.forward(x, rows: 64, weights: weights, arena: arena)   // saved.output
/// ```
public struct Normalization: Sendable, Hashable {
    /// LayerNorm or RMSNorm.
    public let kind: NormalizationKind
    /// The normalized width.
    public let dimensions: Int
    /// ε added to the variance (or mean square).
    public let epsilon: Float
    /// The gain `[dimensions]`.
    public let weight: ParameterSlot
    /// The LayerNorm bias `[dimensions]`, if any (RMSNorm has none).
    public let bias: ParameterSlot?

    /// What `forward` keeps for `backward`.
    public struct Saved {
        /// The input `[rows, dimensions]` (owned by the caller).
        public let input: UnsafePointer<Float>
        /// The output `[rows, dimensions]`.
        public let output: UnsafeMutablePointer<Float>
        /// Per-row mean (LayerNorm only) and 1/√(var + ε).
        let mean: UnsafeMutablePointer<Float>?, rstd: UnsafeMutablePointer<Float>
        /// The number of rows.
        public let rows: Int
    }

    /// Registers `name.weight` (and `name.bias` for a LayerNorm with bias) in `layout`.
    public init(kind: NormalizationKind, dimensions: Int, epsilon: Float = 1e-5, bias: Bool = true, name: String,
                layout: inout ParameterLayout) {
        self.kind = kind
        self.dimensions = dimensions
        self.epsilon = epsilon
        weight = layout.add("\(name).weight", shape: [dimensions], role: .norm)
        self.bias = kind == .layerNorm && bias ? layout.add("\(name).bias", shape: [dimensions], role: .norm) : nil
    }

    /// Normalizes `rows` rows of `x`; the output and statistics come from `arena`.
    public func forward(_ x: UnsafePointer<Float>, rows: Int, weights: WeightStore, arena: Arena) -> Saved {
        let output = arena.allocate(rows * dimensions)
        let rstd = arena.allocate(rows)
        let w = weights.vector(weight)
        switch kind {
        case .layerNorm:
            let mean = arena.allocate(rows)
            Kernels.layerNormForward(x: x, weight: w, bias: bias.map { weights.vector($0) },
                                     y: output, mean: mean, rstd: rstd, rows: rows, columns: dimensions, epsilon: epsilon)
            return Saved(input: x, output: output, mean: mean, rstd: rstd, rows: rows)
        case .rmsNorm:
            Kernels.rmsNormForward(x: x, weight: w, y: output, rstd: rstd, rows: rows, columns: dimensions, epsilon: epsilon)
            return Saved(input: x, output: output, mean: nil, rstd: rstd, rows: rows)
        }
    }

    /// Writes (or adds, with `accumulateInput`) the input gradient into `dx` and adds the
    /// parameter gradients.
    public func backward(
        outputGradient dy: UnsafePointer<Float>, saved: Saved, weights: WeightStore, gradients: GradientBuffer,
        inputGradient dx: UnsafeMutablePointer<Float>, accumulateInput: Bool = false
    ) {
        let w = weights.vector(weight)
        // A frozen gain (or bias) still gets its sums from the kernel, into scratch that is dropped.
        let frozen = !gradients.tracks(weight) || bias.map { !gradients.tracks($0) } ?? false
        let scratch = frozen ? ScratchPool.shared.checkOut(capacity: 2 * dimensions) : nil
        defer { scratch.map { ScratchPool.shared.checkIn($0) } }
        let dw = gradients.tracks(weight) ? gradients[weight] : scratch!.pointer
        switch kind {
        case .layerNorm:
            let db = bias.map { gradients.tracks($0) ? gradients[$0] : scratch!.pointer + dimensions }
            Kernels.layerNormBackward(dy: dy, x: saved.input, weight: w, mean: saved.mean!, rstd: saved.rstd, dx: dx, dweight: dw,
                                      dbias: db, rows: saved.rows, columns: dimensions, accumulateInput: accumulateInput)
        case .rmsNorm:
            Kernels.rmsNormBackward(dy: dy, x: saved.input, weight: w, rstd: saved.rstd, dx: dx, dweight: dw,
                                    rows: saved.rows, columns: dimensions, accumulateInput: accumulateInput)
        }
    }
}
