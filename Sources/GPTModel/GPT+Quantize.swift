// In-memory quantization of a model's weights: the matrices re-stored in a block or half format
// (as `gpt quantize` writes them to GGUF), for inference with the stored-format kernels.
import GPTKernelCore
import GPTLayers
import GPTTensor

extension GPT {
    /// A copy of this model for inference with its matrices stored in `format`: every
    /// projection and the token table (the output projection when tied), quantized from their
    /// float32 values exactly as gguf-py's `quantize` (`Kernels.quantize`); norms, biases and
    /// learned position tables stay float32, as llama.cpp keeps them. A matrix whose rows are
    /// not whole blocks of the format stays float32, or takes Q8_0 for the K-quants' 256-value blocks
    /// (`Kernels.quantizationFormat(_:rowLength:)`). The copy computes as a GGUF model in
    /// those formats does (`activations` as in `init(ggufAt:weights:activations:)`), and is not
    /// trainable.
    ///
    /// ```swift
    /// let small = try model.quantized(to: .q8_0)           // ~3.8× smaller matrices
    /// let perplexity = exp(try small.loss(tokens: x, targets: y, batch: 1, time: x.count))
    /// ```
    /// - Parameter format: `.q8_0`, `.q4_0`, `.q4_1`, `.q4_K`, `.q6_K`, `.float16`, `.bfloat16` or
    ///   `.float32` (`Kernels.quantizableFormats`).
    /// - Throws: `ModelError.unsupported` for a format GPTKit cannot quantize to.
    public func quantized(to format: WeightFormat, activations: StoredProductActivations = .int8) throws -> GPT {
        guard Kernels.quantizableFormats.contains(format) else {
            throw ModelError.unsupported("cannot quantize to \(format): one of \(Kernels.quantizableFormats.map(\.rawValue).sorted()) is needed")
        }
        let entries = layout.entries
        let tokenTable = architecture.tokenEmbedding.weight.index
        func target(_ entry: ParameterLayout.Entry) -> WeightFormat {
            let matrix = weights.matrix(entry.slot)
            let quantizable = entry.role == .matrix || entry.slot.index == tokenTable
            guard quantizable, matrix.outputs > 1, let target = Kernels.quantizationFormat(format, rowLength: matrix.inputs) else {
                return .float32
            }
            return target
        }
        func byteCount(_ entry: ParameterLayout.Entry) -> Int {
            let matrix = weights.matrix(entry.slot)
            let bytes = matrix.outputs * Kernels.rowBytes(target(entry), inputs: matrix.inputs)
            return (bytes + 63) / 64 * 64
        }
        var offsets: [Int] = []
        var total = 0
        for entry in entries {
            offsets.append(total)
            total += byteCount(entry)
        }
        let largest = entries.map { weights.matrix($0.slot).outputs * weights.matrix($0.slot).inputs }.max() ?? 1
        let memory = try WeightMemory(floatCount: max(16, total / 4)) { floats in
            let raw = UnsafeMutableRawPointer(floats)
            let staging = UnsafeMutablePointer<Float>.allocate(capacity: max(1, largest))
            defer { staging.deallocate() }
            for (index, entry) in entries.enumerated() {
                let matrix = weights.matrix(entry.slot)
                let count = matrix.outputs * matrix.inputs
                // Float32 `[outputs, inputs]` first: a stored matrix dequantized, a float32 one
                // (transposed or not) as the store gives it.
                if matrix.format != .float32 {
                    Kernels.dequantize(matrix.format, matrix.base, count: count, into: staging)
                } else {
                    try weights.copyValue(of: entry.slot, into: staging)
                }
                Kernels.quantize(target(entry), staging, count: count, into: raw + offsets[index])
            }
        }
        let matrices = entries.enumerated().map { index, entry in
            let matrix = weights.matrix(entry.slot)
            return WeightMatrix(base: memory.base + offsets[index], format: target(entry), outputs: matrix.outputs, inputs: matrix.inputs,
                                activations: activations)
        }
        return GPT(architecture: architecture, weights: try WeightStore(layout: layout, matrices: matrices, memory: [memory]))
    }
}
