// A read-only view of one weight matrix and the kernels that multiply by it. Layers never index
// weight memory themselves: they ask for a matrix and call these.
import GPTKernelCore

/// One weight matrix `W [outputs, inputs]` (the `nn.Linear` orientation) wherever it is stored,
/// and the products a layer needs with it.
///
/// The matrix may be stored as `[outputs, inputs]` (`isTransposed == false`, GPTKit and
/// `nn.Linear`) or as its transpose `[inputs, outputs]` (`isTransposed == true`, GPT-2's
/// `Conv1D` as Hugging Face stores it), so a memory-mapped file is used as it lies on disk.
public struct WeightMatrix {
    /// The first stored element.
    public let base: UnsafeRawPointer
    /// The storage format.
    public let format: WeightFormat
    /// The number of output features (rows of W).
    public let outputs: Int
    /// The number of input features (columns of W).
    public let inputs: Int
    /// Whether the bytes hold Wᵀ `[inputs, outputs]` rather than W.
    public let isTransposed: Bool
    /// How the direct Q8_0/Q4_0/Q4_1 kernels take the activations (see
    /// `Kernels.multiplyStored`); other formats ignore it.
    public let activations: StoredProductActivations
    /// For a transposed float32 matrix: the untransposed copy that matrix-vector products use,
    /// made on the first one (a transposed GEMV streams 70–85% as fast as an untransposed one).
    let untransposed: UntransposedCopy?

    /// A view of `outputs × inputs` weights at `base`.
    public init(base: UnsafeRawPointer, format: WeightFormat, outputs: Int, inputs: Int, isTransposed: Bool = false,
                activations: StoredProductActivations = .float32) {
        self.base = base
        self.format = format
        self.outputs = outputs
        self.inputs = inputs
        self.isTransposed = isTransposed
        self.activations = activations
        untransposed = isTransposed && format == .float32 ? UntransposedCopy() : nil
    }

    /// The elements as floats (float32 storage only).
    public var floats: UnsafePointer<Float> {
        precondition(format == .float32, "WeightMatrix: \(format) weights have no float view")
        return base.assumingMemoryBound(to: Float.self)
    }

    /// `y [rows, outputs] = (accumulate ? y : 0) + x [rows, inputs] · Wᵀ + bias`; y's rows are
    /// `outputStride` floats apart (default `outputs`), so a product can fill a column slice.
    /// Weights in another format than float32 are used as stored (see `Kernels.multiplyStored`).
    public func multiply(
        _ x: UnsafePointer<Float>, rows: Int, into y: UnsafeMutablePointer<Float>, outputStride: Int? = nil,
        bias: UnsafePointer<Float>? = nil, accumulate: Bool = false
    ) {
        if format != .float32 {
            precondition(!isTransposed, "WeightMatrix: a transposed \(format) matrix")
            Kernels.multiplyStored(format, w: base, outputs: outputs, inputs: inputs, x: x, rows: rows, into: y,
                                   ldy: outputStride, bias: bias, accumulate: accumulate, activations: activations)
            return
        }
        if rows <= Kernels.sgemvRowLimit, let untransposed {
            // Decoding (one sequence or a few together): W streamed in its rows' order, from the
            // untransposed copy.
            Kernels.sgemm(m: rows, n: outputs, k: inputs, a: x, b: untransposed.floats(of: self), transposeB: true, c: y,
                          ldc: outputStride, bias: bias, accumulate: accumulate)
            return
        }
        Kernels.sgemm(m: rows, n: outputs, k: inputs, a: x, b: floats, transposeB: !isTransposed, c: y, ldc: outputStride,
                      bias: bias, accumulate: accumulate)
    }

    /// Whether ``multiply(_:biases:_:rows:into:strides:)`` runs `matrices` in one dispatch: all in
    /// the same block format with a direct kernel, untransposed, with the same inputs, and at
    /// most `Kernels.directRowLimit` rows, taking the activations the same way.
    public static func sharesDispatch(_ matrices: [WeightMatrix], rows: Int) -> Bool {
        guard let first = matrices.first, matrices.count > 1, rows <= Kernels.directRowLimit,
              Kernels.blockFormat(first.format) != nil else { return false }
        return matrices.allSatisfy {
            $0.format == first.format && !$0.isTransposed && $0.inputs == first.inputs && $0.activations == first.activations
        }
    }

    /// `yᵢ [rows, outputsᵢ] = x [rows, inputs] · Wᵢᵀ + biasᵢ` for several matrices over the same
    /// x (q, k and v; gate and up): one dispatch when all are in the same block format and
    /// decoding, else one product each. `outputs[i]` has rows `strides[i]` floats apart.
    public static func multiply(
        _ matrices: [WeightMatrix], biases: [UnsafePointer<Float>?], _ x: UnsafePointer<Float>, rows: Int,
        into outputs: [UnsafeMutablePointer<Float>], strides: [Int]
    ) {
        precondition(matrices.count == outputs.count && outputs.count == strides.count && biases.count == matrices.count,
                     "WeightMatrix.multiply: one output, stride and bias per matrix")
        if sharesDispatch(matrices, rows: rows), let format = matrices.first?.format {
            let parts = matrices.indices.map { i in
                StoredProductPart(w: matrices[i].base, outputs: matrices[i].outputs, y: outputs[i], ldy: strides[i], bias: biases[i])
            }
            Kernels.multiplyStored(format, parts: parts, inputs: matrices[0].inputs, x: x, rows: rows,
                                   activations: matrices[0].activations)
            return
        }
        for i in matrices.indices {
            matrices[i].multiply(x, rows: rows, into: outputs[i], outputStride: strides[i], bias: biases[i])
        }
    }

    /// `dx [rows, inputs] = (accumulate ? dx : 0) + dy [rows, outputs] · W` (the input gradient
    /// of `multiply`); dy's rows are `inputStride` floats apart (default `outputs`).
    public func multiplyTransposed(
        _ dy: UnsafePointer<Float>, rows: Int, inputStride: Int? = nil, into dx: UnsafeMutablePointer<Float>,
        accumulate: Bool = false
    ) {
        if format != .float32 {
            precondition(!isTransposed, "WeightMatrix: a transposed \(format) matrix")
            Kernels.multiplyStoredTransposed(format, w: base, outputs: outputs, inputs: inputs, dy: dy, rows: rows,
                                             lddy: inputStride, into: dx, accumulate: accumulate)
            return
        }
        Kernels.sgemm(m: rows, n: inputs, k: outputs, a: dy, lda: inputStride, b: floats, transposeB: isTransposed, c: dx,
                      accumulate: accumulate)
    }

    /// Copies rows `ids` of W (an embedding table `[V, C]`) into `y [count, C]`.
    public func gatherRows(ids: UnsafePointer<Int32>, count: Int, into y: UnsafeMutablePointer<Float>) {
        precondition(!isTransposed, "WeightMatrix: rows of a transposed table")
        if format != .float32 {
            Kernels.gatherStoredRows(format, table: base, columns: inputs, ids: ids, count: count, into: y)
            return
        }
        Kernels.gatherRows(table: floats, ids: ids, rows: count, columns: inputs, into: y)
    }
}

/// The untransposed copy of one transposed float32 matrix, made once, on first use, by
/// whichever task needs it first; every later reader gets the same copy. The values are those of
/// the matrix: only their order differs, so the weights stay immutable.
final class UntransposedCopy: Sendable {
    private let copy = Locked<WeightMemory?>(nil)

    /// W `[outputs, inputs]` of `matrix` (which holds Wᵀ).
    func floats(of matrix: WeightMatrix) -> UnsafePointer<Float> {
        copy.withLock { memory in
            if memory == nil {
                memory = WeightMemory(floatCount: matrix.outputs * matrix.inputs) {
                    Kernels.transpose(matrix.floats, rows: matrix.inputs, columns: matrix.outputs, into: $0)
                }
            }
            // The memory lives as long as this object, which the matrix keeps.
            return memory!.base.assumingMemoryBound(to: Float.self)
        }
    }
}
