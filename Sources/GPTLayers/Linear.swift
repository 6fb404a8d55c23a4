// Linear: y = x · Wᵀ + b, weights stored [out, in] like torch.nn.Linear, with an optional
// low-rank adapter (LoRA) added to the product.
import GPTKernelCore
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
    /// A low-rank adapter added to the product, if one is attached (see `LinearAdapter`).
    public var adapter: LinearAdapter?

    /// Registers `name.weight` (and `name.bias`) in `layout`.
    public init(inputSize: Int, outputSize: Int, bias: Bool = true, name: String, layout: inout ParameterLayout) {
        self.inputSize = inputSize
        self.outputSize = outputSize
        weight = layout.add("\(name).weight", shape: [outputSize, inputSize], role: .matrix)
        self.bias = bias ? layout.add("\(name).bias", shape: [outputSize], role: .bias) : nil
    }

    /// `y = x · Wᵀ + b` for `rows` rows; x is `[rows, inputSize]`, y `[rows, outputSize]` with
    /// rows `outputStride` floats apart (default `outputSize`: a slice of a wider output).
    ///
    /// With an `adapter`, adds its low-rank term; `adapterDropout` (training only) drops the
    /// adapter's input, with the mask of site `weight.index`.
    public func forward(
        _ x: UnsafePointer<Float>, rows: Int, weights: WeightStore, into y: UnsafeMutablePointer<Float>, outputStride: Int? = nil,
        adapterDropout: Dropout? = nil
    ) {
        weights.matrix(weight).multiply(x, rows: rows, into: y, outputStride: outputStride, bias: bias.map { weights.vector($0) })
        addAdapterOutput(x, rows: rows, weights: weights, into: y, outputStride: outputStride, dropout: adapterDropout)
    }

    /// Adds the adapter's term `scale · dropout(x) · Aᵀ · Bᵀ` into `y` (nothing without an
    /// adapter): for callers that computed `x · Wᵀ` themselves (several matrices in one dispatch).
    public func addAdapterOutput(
        _ x: UnsafePointer<Float>, rows: Int, weights: WeightStore, into y: UnsafeMutablePointer<Float>, outputStride: Int? = nil,
        dropout: Dropout? = nil
    ) {
        guard let adapter, rows > 0 else { return }
        let r = adapter.rank
        let scratch = ScratchPool.shared.checkOut(capacity: rows * r + (dropout == nil ? 0 : rows * inputSize) + 16)
        defer { ScratchPool.shared.checkIn(scratch) }
        let h = scratch.pointer
        let u = adapterInput(x, rows: rows, dropout: dropout, into: h + rows * r)
        Kernels.sgemm(m: rows, n: r, k: inputSize, a: u, b: weights.vector(adapter.a), transposeB: true, c: h)
        Kernels.scale(h, by: adapter.scale, count: rows * r)
        Kernels.sgemm(m: rows, n: outputSize, k: r, a: h, b: weights.vector(adapter.b), transposeB: true, c: y, ldc: outputStride,
                      accumulate: true)
    }

    /// The adapter's input: x itself, or x dropped into `buffer` (the mask of site `weight.index`).
    private func adapterInput(_ x: UnsafePointer<Float>, rows: Int, dropout: Dropout?, into buffer: UnsafeMutablePointer<Float>)
        -> UnsafePointer<Float>
    {
        guard let dropout, dropout.rate > 0 else { return x }
        Kernels.dropout(x, into: buffer, count: rows * inputSize, dropout.site(UInt64(weight.index)))
        return UnsafePointer(buffer)
    }

    /// Adds `dyᵀ · x` into the weight gradient and the column sums of `dy` into the bias
    /// gradient (each only if `gradients` tracks it: a frozen weight costs no product); writes
    /// `dx = dy · W` (or adds it, with `accumulateInput`) when `dx` is given.
    /// `dy` is `[rows, outputSize]` with rows `outputStride` floats apart (default `outputSize`).
    ///
    /// With an adapter, also adds its A and B gradients (if tracked) and its share of `dx`;
    /// `adapterDropout` must be the forward pass's.
    public func backward(
        outputGradient dy: UnsafePointer<Float>, outputStride: Int? = nil, input x: UnsafePointer<Float>, rows: Int,
        weights: WeightStore, gradients: GradientBuffer, inputGradient dx: UnsafeMutablePointer<Float>?, accumulateInput: Bool = false,
        adapterDropout: Dropout? = nil
    ) {
        defer {
            adapterBackward(dy, outputStride: outputStride, input: x, rows: rows, weights: weights, gradients: gradients,
                            inputGradient: dx, dropout: adapterDropout)
        }
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

    /// The adapter's share of the backward pass: with `s` its scale, `u = dropout(x)` and
    /// `h = u · Aᵀ`, adds `dB += s · dyᵀ · h` and `dA += (s · dy · B)ᵀ · u` (each if tracked) and
    /// `dx += dropout(s · dy · B · A)` (when `dx` is given, after the base layer wrote it).
    private func adapterBackward(
        _ dy: UnsafePointer<Float>, outputStride: Int?, input x: UnsafePointer<Float>, rows: Int, weights: WeightStore,
        gradients: GradientBuffer, inputGradient dx: UnsafeMutablePointer<Float>?, dropout: Dropout?
    ) {
        guard let adapter, rows > 0 else { return }
        let r = adapter.rank, dropped = dropout.map { $0.rate > 0 } ?? false
        let scratch = ScratchPool.shared.checkOut(capacity: 2 * rows * r + (dropped ? 2 * rows * inputSize : rows * inputSize) + 16)
        defer { ScratchPool.shared.checkIn(scratch) }
        let h = scratch.pointer, dh = h + rows * r, du = dh + rows * r
        let u = adapterInput(x, rows: rows, dropout: dropout, into: du + rows * inputSize)
        let a = weights.vector(adapter.a), b = weights.vector(adapter.b)
        if gradients.tracks(adapter.b) {
            Kernels.sgemm(m: rows, n: r, k: inputSize, a: u, b: a, transposeB: true, c: h)
            Kernels.scale(h, by: adapter.scale, count: rows * r)
            Kernels.sgemm(m: outputSize, n: r, k: rows, a: dy, lda: outputStride, transposeA: true, b: h, c: gradients[adapter.b],
                          accumulate: true)
        }
        Kernels.sgemm(m: rows, n: r, k: outputSize, a: dy, lda: outputStride, b: b, c: dh)
        Kernels.scale(dh, by: adapter.scale, count: rows * r)
        if gradients.tracks(adapter.a) {
            Kernels.sgemm(m: r, n: inputSize, k: rows, a: dh, transposeA: true, b: u, c: gradients[adapter.a], accumulate: true)
        }
        guard let dx else { return }
        Kernels.sgemm(m: rows, n: inputSize, k: r, a: dh, b: a, c: du)
        if let dropout, dropped { Kernels.dropout(du, into: du, count: rows * inputSize, dropout.site(UInt64(weight.index))) }
        Kernels.add(dx, du, into: dx, count: rows * inputSize)
    }
}

/// A low-rank adapter on a `Linear` (LoRA, Hu et al. 2021, as PEFT computes it):
/// `y = x · Wᵀ + b + scale · dropout(x) · Aᵀ · Bᵀ`, with A `[rank, in]`, B `[out, rank]` and
/// `scale = α / rank`. W stays as it is stored (frozen, in any format); only A and B train.
public struct LinearAdapter: Sendable, Hashable {
    /// A `[rank, in]` (`lora_A`).
    public let a: ParameterSlot
    /// B `[out, rank]` (`lora_B`).
    public let b: ParameterSlot
    /// r, the adapter's rank.
    public let rank: Int
    /// α / r, the factor on the adapter's term.
    public let scale: Float

    /// An adapter over the given slots.
    public init(a: ParameterSlot, b: ParameterSlot, rank: Int, scale: Float) {
        self.a = a
        self.b = b
        self.rank = rank
        self.scale = scale
    }
}
