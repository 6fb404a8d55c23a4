// Writing a model (a `gpt train` checkpoint, a Hugging Face folder, anything GPTKit runs) as a
// GGUF file in llama.cpp's conventions, its matrices quantized: the inverse of GPT+GGUF.swift.
import Foundation
import GPTLayers
import GPTTensor

extension GPT {
    /// Writes this model as GGUF (architecture `gpt2`, `llama` or `qwen2`, llama.cpp's tensor
    /// names and metadata keys) with its matrices and token table in `format`, quantized as
    /// ``quantized(to:activations:)`` quantizes them; norms, biases and position tables stay
    /// F32. Llama's q and k rows are put in llama.cpp's rotary order (the loader puts them back).
    /// No vocabulary is written (`tokenizer.ggml.model` is `no_vocab`): pass the tokenizer
    /// beside the file (`gpt generate --tokenizer`). The file is written to a temporary name
    /// and renamed into place.
    ///
    /// ```swift
    /// let model = try GPT(directory: URL(fileURLWithPath: "out"))
    /// try model.writeGGUF(to: URL(fileURLWithPath: "out.Q8_0.gguf"), format: .q8_0)
    /// ```
    /// - Throws: `ModelError.unsupported` for a configuration llama.cpp's architectures cannot
    ///   express (a GPT-2 with RMSNorm, SwiGLU or no learned positions, a score head, other
    ///   families) or a format without a quantizer; the writer's errors.
    public func writeGGUF(to url: URL, format: WeightFormat, name: String? = nil) throws {
        let c = configuration
        guard let fileType = GGUFFile.fileType(for: format), Kernels.quantizableFormats.contains(format) else {
            throw ModelError.unsupported("GGUF export to \(format): one of \(Kernels.quantizableFormats.map(\.rawValue).sorted()) is needed")
        }
        let architectureName: String
        switch c.modelType {
        case "gpt2":
            guard c.positionalEncoding == .learned, c.normalization == .layerNorm, c.feedForward == .gelu,
                  c.biases.qkv, c.biases.attentionOutput, c.biases.feedForward, c.biases.norm,
                  c.keyValueHeadCount == c.headCount, c.explicitHeadSize == nil else {
                throw ModelError.unsupported("GGUF export: llama.cpp's gpt2 has learned positions, LayerNorm, GELU, every bias and multi-head attention; this configuration differs")
            }
            architectureName = "gpt2"
        case "llama", "qwen2":
            guard case .rotary = c.positionalEncoding, c.normalization == .rmsNorm, c.feedForward == .swiGLU else {
                throw ModelError.unsupported("GGUF export: a \(c.modelType) model needs rotary positions, RMSNorm and SwiGLU")
            }
            architectureName = c.modelType
        default:
            throw ModelError.unsupported("GGUF export: model_type '\(c.modelType)' has no llama.cpp architecture GPTKit writes")
        }
        guard c.scoreCount == 0 else { throw ModelError.unsupported("GGUF export: a score head has no place in llama.cpp's architectures") }

        func key(_ suffix: String) -> String { "\(architectureName).\(suffix)" }
        func count(_ value: Int) -> GGUFValue { .uint32(UInt32(value)) }
        var metadata: [(key: String, value: GGUFValue)] = [
            ("general.architecture", .string(architectureName)),
            ("general.name", .string(name ?? url.deletingPathExtension().lastPathComponent)),
            ("general.file_type", .uint32(fileType)),
            (key("context_length"), count(c.contextLength)),
            (key("embedding_length"), count(c.embeddingDimensions)),
            (key("block_count"), count(c.layerCount)),
            (key("feed_forward_length"), count(c.hiddenDimensions)),
            (key("attention.head_count"), count(c.headCount)),
            (key("vocab_size"), count(c.vocabularySize)),
        ]
        if architectureName == "gpt2" {
            metadata.append((key("attention.layer_norm_epsilon"), .float32(c.normalizationEpsilon)))
        } else {
            metadata.append((key("attention.head_count_kv"), count(c.keyValueHeadCount)))
            metadata.append((key("attention.layer_norm_rms_epsilon"), .float32(c.normalizationEpsilon)))
            if case .rotary(let theta) = c.positionalEncoding { metadata.append((key("rope.freq_base"), .float32(theta))) }
            metadata.append((key("rope.dimension_count"), count(c.headSize)))
            if c.explicitHeadSize != nil {
                metadata.append((key("attention.key_length"), count(c.headSize)))
                metadata.append((key("attention.value_length"), count(c.headSize)))
            }
        }
        metadata.append(("tokenizer.ggml.model", .string("no_vocab")))

        // Llama's q and k projections (weights and biases) in llama.cpp's adjacent-pair order:
        // row j of the file is row σ⁻¹(j) of GPTKit's, σ being the loader's permutation.
        var permuted = Set<Int>()
        if architectureName == "llama" {
            for block in architecture.blocks where block.attention.qkvProjections.count == 3 {
                for linear in block.attention.qkvProjections.prefix(2) {
                    permuted.insert(linear.weight.index)
                    if let bias = linear.bias { permuted.insert(bias.index) }
                }
            }
        }
        let loaderOrder = Self.rotateHalfPermutation(headSize: c.headSize)
        var inverse = [Int](repeating: 0, count: c.headSize)
        for (i, j) in loaderOrder.enumerated() { inverse[Int(j)] = i }

        let quantizedModel = try quantized(to: format)
        var buffers: [UnsafeMutableRawPointer] = []
        defer { buffers.forEach { $0.deallocate() } }
        var tensors: [GGUFTensorSource] = []
        for entry in layout.entries {
            guard let ggufName = family.ggufName(for: entry.name) else {
                throw ModelError.unsupported("GGUF export: \(entry.name) has no GGUF name in the \(family.modelType) family")
            }
            let matrix = quantizedModel.weights.matrix(entry.slot)
            let rowBytes = matrix.format == .float32 ? 4 * matrix.inputs : Kernels.rowBytes(matrix.format, inputs: matrix.inputs)
            var bytes = matrix.base
            if permuted.contains(entry.slot.index) {
                let rows = matrix.outputs == 1 ? matrix.inputs : matrix.outputs
                let width = matrix.outputs == 1 ? 4 : rowBytes
                let buffer = UnsafeMutableRawPointer.allocate(byteCount: max(1, rows * width), alignment: 64)
                buffers.append(buffer)
                for j in 0..<rows {
                    let from = j / c.headSize * c.headSize + inverse[j % c.headSize]
                    (buffer + j * width).copyMemory(from: matrix.base + from * width, byteCount: width)
                }
                bytes = UnsafeRawPointer(buffer)
            }
            tensors.append(GGUFTensorSource(name: ggufName, shape: entry.slot.shape, format: matrix.format, bytes: bytes))
        }
        try GGUFFile.write(metadata: metadata, tensors: tensors, to: url)
    }
}
