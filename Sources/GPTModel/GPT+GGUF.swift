// Loading GGUF (llama.cpp) models: the configuration from the metadata, every tensor matched to
// its parameter by the family's GGUF names, dequantized to float32 (the reference mode; the
// quantized kernels come with their own formats), and llama's q/k rows put back in Hugging
// Face's rotary order.
import Foundation
import GPTLayers
import GPTTensor

extension GPT {
    /// Loads a GGUF model (architectures `llama` — SmolLM, TinyLlama, Llama 3, Mistral —,
    /// `qwen2` and `gpt2`).
    ///
    /// With `.stored` (the default) the matrices stay in their file formats, memory-mapped, and
    /// are multiplied by the quantized kernels (`Kernels.multiplyStored`): memory ≈ the file.
    /// Q8_0, Q4_0 and Q4_1 products then take the activations as `activations` says: `.int8`
    /// (the default) quantizes them to 8-bit blocks and multiplies in integers, as llama.cpp
    /// does (the fastest); `.float32` expands the weights to float32 instead, so the products
    /// equal those of the dequantized weights up to float rounding. With `.dequantized` every
    /// tensor is dequantized to float32, so the model computes what Hugging Face transformers
    /// computes from the same file (the reference mode).
    ///
    /// ```swift
    /// let model = try GPT(ggufAt: URL(fileURLWithPath: "SmolLM2-135M-Instruct.Q4_1.gguf"))
    /// let exact = try GPT(ggufAt: url, activations: .float32)
    /// let reference = try GPT(ggufAt: url, weights: .dequantized)
    /// ```
    /// - Throws: `GGUFError` for a malformed file; `ModelError.invalidConfiguration` or
    ///   `.unsupported` for metadata GPTKit cannot run (RoPE scaling, sliding windows, other
    ///   architectures); `.missingTensor`, `.shapeMismatch` or `.unexpectedTensor` when the
    ///   tensors disagree with the configuration.
    public convenience init(ggufAt url: URL, weights mode: GGUFWeightMode = .stored,
                            activations: StoredProductActivations = .int8) throws {
        try self.init(gguf: GGUFFile(contentsOf: url), name: url.lastPathComponent, weights: mode, activations: activations)
    }

    /// Loads a model from a parsed GGUF file (see `init(ggufAt:weights:activations:)`).
    public convenience init(gguf file: GGUFFile, name: String = "GGUF", weights mode: GGUFWeightMode = .stored,
                            activations: StoredProductActivations = .int8) throws {
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
        if mode == .stored {
            let weights = try Self.storedWeights(file, sources: sources, permuted: permuted, layout: architecture.layout,
                                                 headSize: configuration.headSize, activations: activations)
            self.init(architecture: architecture, weights: weights)
            return
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

    /// The weights of a `.stored` GGUF model: views into the mapped file, except the rows of
    /// llama's q/k projections (put in Hugging Face's order, still in their format) and vectors
    /// not stored as float32 (dequantized), which are copied into one owned block.
    static func storedWeights(_ file: GGUFFile, sources: [(entry: ParameterLayout.Entry, tensor: GGUFTensorInfo)],
                              permuted: Set<Int>, layout: ParameterLayout, headSize: Int,
                              activations: StoredProductActivations) throws -> WeightStore {
        func copies(_ item: (entry: ParameterLayout.Entry, tensor: GGUFTensorInfo)) -> Bool {
            permuted.contains(item.entry.slot.index) || item.entry.slot.shape.count == 1 && item.tensor.format != .float32
        }
        func ownedBytes(_ item: (entry: ParameterLayout.Entry, tensor: GGUFTensorInfo)) -> Int {
            let bytes = item.entry.slot.shape.count == 1 ? 4 * item.tensor.elementCount : item.tensor.byteCount
            return (bytes + 63) / 64 * 64
        }
        for item in sources where item.entry.slot.shape.count > 1 {
            let inputs = item.entry.slot.shape.dropFirst().reduce(1, *)
            guard inputs % item.tensor.format.blockSize == 0 else {
                throw ModelError.unsupported("\(item.tensor.name): rows of \(inputs) are not whole \(item.tensor.format) blocks")
            }
        }
        let total = sources.filter(copies).map(ownedBytes).reduce(0, +)
        var offsets: [Int: Int] = [:]
        let owned = WeightMemory(floatCount: max(16, total / 4)) { floats in
            let raw = UnsafeMutableRawPointer(floats)
            var offset = 0
            for item in sources where copies(item) {
                offsets[item.entry.slot.index] = offset
                let target = raw + offset
                let source = file.bytes(of: item.tensor)
                if item.entry.slot.shape.count == 1 || item.tensor.format == .float32 {
                    // Vectors (and float32 matrices) as floats, permuted when they are q/k biases.
                    let count = item.tensor.elementCount
                    let values = target.assumingMemoryBound(to: Float.self)
                    if permuted.contains(item.entry.slot.index) {
                        let staging = UnsafeMutablePointer<Float>.allocate(capacity: count)
                        defer { staging.deallocate() }
                        Kernels.dequantize(item.tensor.format, source, count: count, into: staging)
                        let rows = item.tensor.shape[0]
                        permuteRotaryRows(staging, rows: rows, columns: count / rows, headSize: headSize, into: values)
                    } else {
                        Kernels.dequantize(item.tensor.format, source, count: count, into: values)
                    }
                } else {
                    // Rows of a block-format matrix moved whole.
                    let rows = item.tensor.shape[0], rowBytes = item.tensor.byteCount / rows
                    let permutation = rotateHalfPermutation(headSize: headSize)
                    for row in 0..<rows {
                        let from = row / headSize * headSize + Int(permutation[row % headSize])
                        (target + row * rowBytes).copyMemory(from: source + from * rowBytes, byteCount: rowBytes)
                    }
                }
                offset += ownedBytes(item)
            }
        }
        let matrices = sources.map { item -> WeightMatrix in
            let (outputs, inputs) = WeightStore.matrixShape(item.entry.slot.shape)
            if let offset = offsets[item.entry.slot.index] {
                let format = item.entry.slot.shape.count == 1 ? .float32 : item.tensor.format
                return WeightMatrix(base: owned.base + offset, format: format, outputs: outputs, inputs: inputs,
                                    activations: activations)
            }
            return WeightMatrix(base: file.bytes(of: item.tensor), format: item.tensor.format, outputs: outputs, inputs: inputs,
                                activations: activations)
        }
        // The layout's entries are in `sources`' order (one source per entry).
        return try WeightStore(layout: layout, matrices: matrices, memory: [file.memory, owned])
    }
}

/// How a GGUF model keeps its weights.
public enum GGUFWeightMode: Sendable {
    /// In the file's formats, memory-mapped, multiplied by the quantized kernels.
    case stored
    /// Dequantized to float32 (the reference mode, as Hugging Face transformers loads GGUF).
    case dequantized
}
