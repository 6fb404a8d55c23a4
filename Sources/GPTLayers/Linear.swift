// Linear: y = x · Wᵀ + b, weights stored [out, in] like torch.nn.Linear.
import GPTTensor

/// A fully connected layer, `y[rows, out] = x[rows, in] · Wᵀ + b`, with W stored `[out, in]`
/// as `torch.nn.Linear`.
///
/// ```swift
/// var layout = ParameterLayout()
/// let proj = Linear(inputSize: 768, outputSize: 3072, name: "mlp.c_fc", layout: &layout)
/// let parameters = ParameterBuffer(layout: layout)
/// proj.forward(x, rows: 64, parameters: parameters, into: y)
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

    /// `y = x · Wᵀ + b` for `rows` rows; x is `[rows, inputSize]`, y `[rows, outputSize]`.
    public func forward(_ x: UnsafePointer<Float>, rows: Int, parameters: ParameterBuffer, into y: UnsafeMutablePointer<Float>) {
        Kernels.sgemm(m: rows, n: outputSize, k: inputSize, a: x, b: parameters.values + weight.offset, transposeB: true,
                      c: y, bias: bias.map { UnsafePointer(parameters.values + $0.offset) })
    }

    /// Adds `dyᵀ · x` into the weight gradient and the column sums of `dy` into the bias
    /// gradient; writes `dx = dy · W` (or adds it, with `accumulateInput`) when `dx` is given.
    public func backward(
        outputGradient dy: UnsafePointer<Float>, input x: UnsafePointer<Float>, rows: Int,
        parameters: ParameterBuffer, inputGradient dx: UnsafeMutablePointer<Float>?, accumulateInput: Bool = false
    ) {
        Kernels.sgemm(m: outputSize, n: inputSize, k: rows, a: dy, transposeA: true, b: x,
                      c: parameters.gradients + weight.offset, accumulate: true)
        if let bias {
            Kernels.addColumnSums(dy, rows: rows, columns: outputSize, into: parameters.gradients + bias.offset)
        }
        if let dx {
            Kernels.sgemm(m: rows, n: inputSize, k: outputSize, a: dy, b: parameters.values + weight.offset,
                          c: dx, accumulate: accumulateInput)
        }
    }
}
