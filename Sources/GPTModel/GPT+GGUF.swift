// Loading GGUF (llama.cpp) models: the configuration from the metadata, every tensor matched to
// its parameter by the family's GGUF names, dequantized to float32 (the reference mode; the
// quantized kernels come with their own formats), and llama's q/k rows put back in Hugging
// Face's rotary order.
import Foundation
import GPTLayers
import GPTTensor

extension GPT {
    /// Loads a GGUF model (architectures `llama` — SmolLM, TinyLlama, Llama 3, Mistral —,
    /// `qwen2` and `gpt2`), dequantizing every tensor to float32, so the model computes what
    /// Hugging Face transformers computes from the same file.
    ///
    /// ```swift
    /// let model = try GPT(ggufAt: URL(fileURLWithPath: "SmolLM2-135M-Instruct.Q4_1.gguf"))
    /// ```
    /// - Throws: `GGUFError` for a malformed file; `ModelError.invalidConfiguration` or
    ///   `.unsupported` for metadata GPTKit cannot run (RoPE scaling, sliding windows, other
    ///   architectures); `.missingTensor`, `.shapeMismatch` or `.unexpectedTensor` when the
    ///   tensors disagree with the configuration.
    public convenience init(ggufAt url: URL) throws {
        try self.init(gguf: GGUFFile(contentsOf: url), name: url.lastPathComponent)
    }

    /// Loads a model from a parsed GGUF file (see `init(ggufAt:)`).
    public convenience init(gguf file: GGUFFile, name: String = "GGUF") throws {
        let json = try GGUFArchitectures.huggingFaceConfig(of: file, name: name)
        let configuration = try GPTConfiguration(huggingFace: json, file: name)
        let architecture = try Architecture(configuration)
        let family = architecture.family
        // Every parameter's tensor, with its shape checked, before anything is allocated.
        var sources: [(entry: ParameterLayout.Entry, tensor: GGUFTensorInfo)] = []
        var used = Set<String>()
        for entry in architecture.layout.entries {
            guard let ggufName = family.ggufName(for: entry.name) else {
                throw ModelError.unsupported("\(name): parameter \(entry.name) has no GGUF name in the \(family.modelType) family")
            }
            guard let tensor = file.tensor(named: ggufName) else { throw ModelError.missingTensor("\(name): \(ggufName) (for \(entry.name))") }
            guard tensor.shape == entry.slot.shape else {
                throw ModelError.shapeMismatch("\(name): \(ggufName) has shape \(tensor.shape), the configuration needs \(entry.slot.shape)")
            }
            sources.append((entry, tensor))
            used.insert(ggufName)
        }
        // Tensors GPTKit would ignore (rope_freqs of scaled models, unknown heads) are refused.
        if let unexpected = file.tensors.first(where: { !used.contains($0.name) }) {
            throw ModelError.unexpectedTensor("\(name): \(unexpected.name) has no place in the \(family.modelType) configuration")
        }
        // llama.cpp rotates adjacent pairs (2i, 2i+1) of each head; GPTKit (as Hugging Face)
        // pairs i with i + HS/2: the q and k projections (weights and biases) take the row
        // permutation llama2.c's loader applies too.
        var permuted = Set<Int>()
        if GGUFArchitectures.permutesQueryKey(file) {
            for block in architecture.blocks where block.attention.qkvProjections.count == 3 {
                for linear in block.attention.qkvProjections.prefix(2) {
                    permuted.insert(linear.weight.index)
                    if let bias = linear.bias { permuted.insert(bias.index) }
                }
            }
        }
        let stagingCount = sources.filter { permuted.contains($0.entry.slot.index) }.map(\.tensor.elementCount).max() ?? 0
        let weights = WeightStore(layout: architecture.layout) { values in
            let staging = UnsafeMutablePointer<Float>.allocate(capacity: max(1, stagingCount))
            defer { staging.deallocate() }
            for (entry, tensor) in sources {
                let target = values + entry.slot.offset
                guard permuted.contains(entry.slot.index) else {
                    Kernels.dequantize(tensor.format, file.bytes(of: tensor), count: tensor.elementCount, into: target)
                    continue
                }
                Kernels.dequantize(tensor.format, file.bytes(of: tensor), count: tensor.elementCount, into: staging)
                let rows = tensor.shape[0]
                Self.permuteRotaryRows(staging, rows: rows, columns: tensor.elementCount / rows, headSize: configuration.headSize, into: target)
            }
        }
        self.init(architecture: architecture, weights: weights)
    }
}
