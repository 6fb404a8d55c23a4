// Linear: y = x · Wᵀ + b, weights stored [out, in] like torch.nn.Linear.
import GPTTensor

/// A fully connected layer, `y[rows, out] = x[rows, in] · Wᵀ + b`, with W stored `[out, in]`
/// as `torch.nn.Linear`.
///
/// ```swift
/// var layout = ParameterLayout()
/// let proj = Linear(inputSize: 768, outputSize: 3072, name: "mlp.c_fc", layout: &layout)
/// let weights = WeightStore(copying: ParameterBuffer(layout: layout))
/// proj.forward(x, rows: 64, weights: weights, into: y)
/// ```
public struct Linear: Sendable, Hashable {
    /// Input features.
    public let inputSize: Int
    /// Output features.
    public let outputSize: Int
    /// The weight `[outputSize, inputSize]`.
    public let weight: ParameterSlot
    /// The bias `[outputSize]`, if the layer has one.
    public let bias: ParameterSlot?

    /// Registers `name.weight` (and `name.bias`) in `layout`.
    public init(inputSize: Int, outputSize: Int, bias: Bool = true, name: String, layout: inout ParameterLayout) {
        self.inputSize = inputSize
        self.outputSize = outputSize
        weight = layout.add("\(name).weight", shape: [outputSize, inputSize], role: .matrix)
        self.bias = bias ? layout.add("\(name).bias", shape: [outputSize], role: .bias) : nil
    }

    /// `y = x · Wᵀ + b` for `rows` rows; x is `[rows, inputSize]`, y `[rows, outputSize]` with
    /// rows `outputStride` floats apart (default `outputSize`: a slice of a wider output).
    public func forward(
        _ x: UnsafePointer<Float>, rows: Int, weights: WeightStore, into y: UnsafeMutablePointer<Float>, outputStride: Int? = nil
    ) {
        weights.matrix(weight).multiply(x, rows: rows, into: y, outputStride: outputStride, bias: bias.map { weights.vector($0) })
    }

    /// Adds `dyᵀ · x` into the weight gradient and the column sums of `dy` into the bias
    /// gradient (each only if `gradients` tracks it: a frozen weight costs no product); writes
    /// `dx = dy · W` (or adds it, with `accumulateInput`) when `dx` is given.
    /// `dy` is `[rows, outputSize]` with rows `outputStride` floats apart (default `outputSize`).
    public func backward(
        outputGradient dy: UnsafePointer<Float>, outputStride: Int? = nil, input x: UnsafePointer<Float>, rows: Int,
        weights: WeightStore, gradients: GradientBuffer, inputGradient dx: UnsafeMutablePointer<Float>?, accumulateInput: Bool = false
    ) {
        if gradients.tracks(weight) {
            Kernels.sgemm(m: outputSize, n: inputSize, k: rows, a: dy, lda: outputStride, transposeA: true, b: x,
                          c: gradients[weight], accumulate: true)
        }
        if let bias, gradients.tracks(bias) {
            Kernels.addColumnSums(dy, rows: rows, columns: outputSize, rowStride: outputStride, into: gradients[bias])
        }
        if let dx {
            weights.matrix(weight).multiplyTransposed(dy, rows: rows, inputStride: outputStride, into: dx, accumulate: accumulateInput)
        }
    }
}
