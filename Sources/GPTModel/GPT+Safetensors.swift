// Loading and saving weights as safetensors with the family's Hugging Face names and layouts.
// Loading maps the file read-only: float32 tensors are used where they lie on disk.
import Foundation
import GPTFiles
import GPTLayers
import GPTTensor

extension GPT {
    /// Whether a parameter is one of GPT-2's `Conv1D` weights (stored `[in, out]` by Hugging Face).
    public static func isConv1DWeight(_ name: String) -> Bool { GPT2Family.isConv1DWeight(name) }

    // MARK: - Loading

    /// Loads a Hugging Face style directory: `config.json` (any registered family's keys, see
    /// `GPTConfiguration(contentsOf:)`) and `model.safetensors`.
    ///
    /// ```swift
    /// let model = try GPT(directory: URL(fileURLWithPath: "Fixtures/tiny-gpt2"))
    /// ```
    /// - Throws: `ModelError` naming the file and the problem (see `init(safetensors:configuration:)`).
    public convenience init(directory: URL) throws {
        let configuration = try GPTConfiguration(contentsOf: directory.appendingPathComponent("config.json"))
        try self.init(safetensors: directory.appendingPathComponent("model.safetensors"), configuration: configuration)
    }

    /// Loads the weights of `configuration` from a safetensors file with the family's Hugging
    /// Face names (GPT-2: optionally prefixed `transformer.`, `Conv1D` weights `[in, out]`),
    /// in F32, F16 or BF16. The file is memory-mapped: F32 tensors are read in place (no copy, no
    /// resident memory until used); F16 and BF16 tensors are widened to F32 once.
    /// `lm_head.weight` is ignored when the embeddings are tied, and non-parameter buffers
    /// (GPT-2's `attn.bias`, `rotary_emb.inv_freq`) are skipped.
    /// - Throws: `ModelError.invalidConfiguration` for an impossible configuration; `.io` or
    ///   `.malformedFile` for an unreadable or corrupt file; `.missingTensor` for a parameter
    ///   not in the file; `.shapeMismatch` for a tensor whose shape disagrees with the
    ///   configuration; `.unexpectedTensor` for tensors the configuration has no place for;
    ///   `.unsupported` for other data types. Nothing is allocated before the file checks out.
    public convenience init(safetensors url: URL, configuration: GPTConfiguration) throws {
        let architecture = try Architecture(configuration)
        let fileName = url.lastPathComponent
        let memory = try ModelError.wrap(fileName) { try WeightMemory(mapping: url) }
        let bytes = Data(bytesNoCopy: UnsafeMutableRawPointer(mutating: memory.base), count: memory.byteCount, deallocator: .none)
        let file = try ModelError.wrap(fileName) { try SafetensorsFile(data: bytes, name: fileName) }
        let plan = try Self.match(file, architecture: architecture, fileName: fileName)
        // F16/BF16 tensors (and F32 ones not 4-byte aligned in the file) are widened into one block.
        let converted = plan.filter { $0.stored.dataType != "F32" || (file.dataOffset + $0.stored.byteRange.lowerBound) % 4 != 0 }
        let convertedCount = converted.reduce(0) { $0 + ($1.entry.slot.count + 15) / 16 * 16 }
        var convertedOffsets: [Int: Int] = [:]
        let block = try WeightMemory(floatCount: max(1, convertedCount)) { target in
            var position = 0
            for item in converted {
                try ModelError.wrap("\(fileName): \(item.name)") {
                    try file.read(named: item.name, into: UnsafeMutableBufferPointer(start: target + position, count: item.entry.slot.count))
                }
                convertedOffsets[item.entry.slot.index] = position
                position += (item.entry.slot.count + 15) / 16 * 16
            }
        }
        let convertedBase = block.base.assumingMemoryBound(to: Float.self)
        var matrices: [WeightMatrix] = []
        matrices.reserveCapacity(plan.count)
        for item in plan {
            let (outputs, inputs) = WeightStore.matrixShape(item.entry.slot.shape)
            let base = convertedOffsets[item.entry.slot.index].map { UnsafeRawPointer(convertedBase + $0) }
                ?? memory.base + file.dataOffset + item.stored.byteRange.lowerBound
            matrices.append(WeightMatrix(base: base, format: .float32, outputs: outputs, inputs: inputs, isTransposed: item.isTransposed))
        }
        let store = try ModelError.wrap(fileName) { try WeightStore(layout: architecture.layout, matrices: matrices, memory: [memory, block]) }
        self.init(architecture: architecture, weights: store)
    }

    /// One parameter's place in a file.
    struct PlannedTensor {
        let entry: ParameterLayout.Entry
        let name: String
        let stored: SafetensorsFile.Entry
        let isTransposed: Bool
    }

    /// Pairs every parameter of the architecture with its tensor in `file`, checking shapes and
    /// data types, and rejecting tensors that have no parameter.
    static func match(_ file: SafetensorsFile, architecture: Architecture, fileName: String) throws -> [PlannedTensor] {
        let family = architecture.family
        var remaining = Set(file.entries.keys)
        var plan: [PlannedTensor] = []
        for entry in architecture.layout.entries {
            let stored = family.huggingFaceTensor(for: entry.name)
            let present = stored.names.filter { file.entries[$0] != nil }
            guard let name = present.first else {
                throw ModelError.missingTensor("\(fileName) has no '\(stored.names[0])', which the configuration needs")
            }
            if present.count > 1 {
                throw ModelError.malformedFile("\(fileName): both '\(present[0])' and '\(present[1])' name parameter \(entry.name)")
            }
            let info = file.entries[name]!
            let shape = entry.slot.shape
            let expected = stored.isTransposed && shape.count == 2 ? [shape[1], shape[0]] : shape
            guard info.shape == expected else {
                throw ModelError.shapeMismatch("\(fileName): '\(name)' has shape \(info.shape), the configuration needs \(expected)")
            }
            guard ["F32", "F16", "BF16"].contains(info.dataType) else {
                throw ModelError.unsupported("\(fileName): data type \(info.dataType) for tensor '\(name)' (expected F32, F16 or BF16)")
            }
            remaining.remove(name)
            plan.append(PlannedTensor(entry: entry, name: name, stored: info, isTransposed: stored.isTransposed && shape.count == 2))
        }
        if architecture.configuration.tiesEmbeddings {
            for name in family.huggingFaceTensor(for: family.names(architecture.configuration).outputProjection + ".weight").names {
                remaining.remove(name)
            }
        }
        let unexpected = remaining.filter { !family.isIgnoredBuffer($0) }.sorted()
        guard unexpected.isEmpty else {
            let listed = unexpected.prefix(4).joined(separator: ", ") + (unexpected.count > 4 ? ", …" : "")
            throw ModelError.unexpectedTensor("\(fileName) has \(unexpected.count) tensor(s) the configuration has no place for: \(listed)")
        }
        return plan
    }

    // MARK: - Saving

    /// Writes every parameter as F32 safetensors with the family's Hugging Face names and
    /// layouts (GPT-2: no `transformer.` prefix, `Conv1D` weights `[in, out]`; no `lm_head.weight`
    /// when tied), metadata `format: pt`, streamed from the weights and renamed into place.
    public func saveSafetensors(to url: URL) throws {
        try Self.writeSafetensors(layout: layout, family: family, to: url) { slot in
            let matrix = weights.matrix(slot)
            return (matrix.floats, matrix.isTransposed)
        }
    }

    /// Writes the parameters of `layout` under `family`'s names; `source` gives each
    /// parameter's float32 elements and whether they are stored transposed.
    package static func writeSafetensors(
        layout: ParameterLayout, family: any ModelFamily.Type, to url: URL,
        source: (ParameterSlot) throws -> (UnsafePointer<Float>, Bool)
    ) throws {
        var tensors: [SafetensorsSource] = []
        for entry in layout.entries {
            let stored = family.huggingFaceTensor(for: entry.name)
            let (pointer, isTransposed) = try source(entry.slot)
            let shape = entry.slot.shape
            let wantsTransposed = stored.isTransposed && shape.count == 2
            let fileShape = wantsTransposed ? [shape[1], shape[0]] : shape
            // Transpose while writing only when memory and file disagree.
            let transposing: (rows: Int, columns: Int)? = wantsTransposed == isTransposed
                ? nil : (isTransposed ? (shape[1], shape[0]) : (shape[0], shape[1]))
            tensors.append(SafetensorsSource(name: stored.names[0], shape: fileShape, elements: pointer, transposedFrom: transposing))
        }
        try ModelError.wrap(url.lastPathComponent) { try SafetensorsFile.write(streaming: tensors, metadata: ["format": "pt"], to: url) }
    }

    /// Writes `config.json` and `model.safetensors` into `directory` (created if needed), the
    /// form `init(directory:)` (and Hugging Face, for plain configurations) reads.
    public func save(directory: URL) throws {
        do { try Files.createFolder(directory) } catch { throw ModelError.io("\(error)") }
        try configuration.write(to: directory.appendingPathComponent("config.json"))
        try saveSafetensors(to: directory.appendingPathComponent("model.safetensors"))
    }
}
