// Loading and saving weights as safetensors with the family's Hugging Face names and layouts.
// Loading maps the file read-only: float32 tensors are used where they lie on disk.
import Foundation
import GPTFiles
import GPTLayers
import GPTTensor
import GPTTokenizers

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
    /// A sharded checkpoint (`model.safetensors.index.json` naming `model-0000N-of-0000M.safetensors`
    /// files) is read from all of its shards.
    /// With `halfPrecision: .stored`, F16 and BF16 matrices stay in their precision (mapped in
    /// place) and are multiplied with float32 accumulation; by default they are widened to
    /// float32 once (trainable, and exact float32 products).
    public convenience init(directory: URL, halfPrecision: HalfPrecisionWeights = .widened) throws {
        let configuration = try GPTConfiguration(contentsOf: directory.appendingPathComponent("config.json"))
        let index = directory.appendingPathComponent("model.safetensors.index.json")
        if !FileManager.default.fileExists(atPath: directory.appendingPathComponent("model.safetensors").path),
           FileManager.default.fileExists(atPath: index.path) {
            try self.init(safetensorsShards: Self.shards(ofIndex: index), configuration: configuration, halfPrecision: halfPrecision)
        } else {
            try self.init(safetensorsShards: [directory.appendingPathComponent("model.safetensors")], configuration: configuration,
                          halfPrecision: halfPrecision)
        }
    }

    /// The shard files a `model.safetensors.index.json` names in its `weight_map`, in order.
    /// - Throws: `ModelError.malformedFile` for a missing map or a shard name that is not a
    ///   plain file name beside the index.
    public static func shards(ofIndex url: URL) throws -> [URL] {
        let data: Data
        do { data = try Files.read(url) } catch { throw ModelError.io("cannot read \(url.path): \(error.reason)") }
        let parsed: JSONValue
        do { parsed = try JSONSyntax.parse(data, path: url.lastPathComponent) } catch let error as TokenizerError {
            throw ModelError.malformedFile(error.localizedDescription)
        }
        guard case .object(let top) = parsed, case .object(let map)? = top["weight_map"], !map.isEmpty else {
            throw ModelError.malformedFile("\(url.lastPathComponent): no 'weight_map' object of tensor → shard file")
        }
        var names = Set<String>()
        for (tensor, value) in map {
            guard case .string(let shard) = value, !shard.isEmpty, !shard.contains("/"), shard != "..", shard != "." else {
                throw ModelError.malformedFile("\(url.lastPathComponent): weight_map['\(tensor)'] is not a file name beside the index")
            }
            names.insert(shard)
        }
        return names.sorted().map { url.deletingLastPathComponent().appendingPathComponent($0) }
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
        try self.init(safetensorsShards: [url], configuration: configuration)
    }

    /// Loads the weights of `configuration` from the shards of one checkpoint (each tensor in
    /// exactly one of them), as `init(safetensors:configuration:)` does from one file.
    /// - Throws: as `init(safetensors:configuration:)`, and `.malformedFile` for a tensor in
    ///   two shards.
    public convenience init(safetensorsShards urls: [URL], configuration: GPTConfiguration,
                            halfPrecision: HalfPrecisionWeights = .widened) throws {
        let architecture = try Architecture(configuration)
        let fileName = urls.count == 1 ? urls[0].lastPathComponent : "\(urls.count) shards (\(urls.first?.lastPathComponent ?? "-"), …)"
        var memories: [WeightMemory] = [], files: [SafetensorsFile] = []
        var entries: [String: SafetensorsFile.Entry] = [:], shardOf: [String: Int] = [:]
        for url in urls {
            let name = url.lastPathComponent
            let memory = try ModelError.wrap(name) { try WeightMemory(mapping: url) }
            let bytes = Data(bytesNoCopy: UnsafeMutableRawPointer(mutating: memory.base), count: memory.byteCount, deallocator: .none)
            let file = try ModelError.wrap(name) { try SafetensorsFile(data: bytes, name: name) }
            for (tensor, entry) in file.entries {
                if let other = shardOf[tensor] {
                    throw ModelError.malformedFile("tensor '\(tensor)' is in both \(urls[other].lastPathComponent) and \(name)")
                }
                entries[tensor] = entry
                shardOf[tensor] = files.count
            }
            memories.append(memory)
            files.append(file)
        }
        let plan = try Self.match(entries, architecture: architecture, fileName: fileName)
        func shard(_ item: PlannedTensor) -> Int { shardOf[item.name]! }
        // Kept in half precision when asked: untransposed F16/BF16 matrices, 2-byte aligned.
        func keepsHalf(_ item: PlannedTensor) -> Bool {
            halfPrecision == .stored && ["F16", "BF16"].contains(item.stored.dataType) && item.entry.slot.shape.count == 2
                && !item.isTransposed && (files[shard(item)].dataOffset + item.stored.byteRange.lowerBound) % 2 == 0
        }
        // Other F16/BF16 tensors (and F32 ones not 4-byte aligned in the file) are widened into one block.
        let converted = plan.filter {
            !keepsHalf($0) && ($0.stored.dataType != "F32" || (files[shard($0)].dataOffset + $0.stored.byteRange.lowerBound) % 4 != 0)
        }
        let convertedCount = converted.reduce(0) { $0 + ($1.entry.slot.count + 15) / 16 * 16 }
        var convertedOffsets: [Int: Int] = [:]
        let block = try WeightMemory(floatCount: max(1, convertedCount)) { target in
            var position = 0
            for item in converted {
                try ModelError.wrap("\(fileName): \(item.name)") {
                    try files[shard(item)].read(named: item.name, into: UnsafeMutableBufferPointer(start: target + position, count: item.entry.slot.count))
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
                ?? memories[shard(item)].base + files[shard(item)].dataOffset + item.stored.byteRange.lowerBound
            let format: WeightFormat = keepsHalf(item) ? (item.stored.dataType == "F16" ? .float16 : .bfloat16) : .float32
            matrices.append(WeightMatrix(base: base, format: format, outputs: outputs, inputs: inputs, isTransposed: item.isTransposed))
        }
        let store = try ModelError.wrap(fileName) { try WeightStore(layout: architecture.layout, matrices: matrices, memory: memories + [block]) }
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
    static func match(_ entries: [String: SafetensorsFile.Entry], architecture: Architecture, fileName: String) throws -> [PlannedTensor] {
        let family = architecture.family
        var remaining = Set(entries.keys)
        var plan: [PlannedTensor] = []
        for entry in architecture.layout.entries {
            let stored = family.huggingFaceTensor(for: entry.name)
            let present = stored.names.filter { entries[$0] != nil }
            guard let name = present.first else {
                throw ModelError.missingTensor("\(fileName) has no '\(stored.names[0])', which the configuration needs")
            }
            if present.count > 1 {
                throw ModelError.malformedFile("\(fileName): both '\(present[0])' and '\(present[1])' name parameter \(entry.name)")
            }
            let info = entries[name]!
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
    ///
    /// With `dataType` `.float16` or `.bfloat16` every tensor is rounded to that precision, as
    /// `model.half()` / `model.bfloat16()` then `save_file` would write it (half the size).
    /// Weights held in another format (a quantized or half-precision model) are widened first.
    public func saveSafetensors(to url: URL, dataType: WeightFormat = .float32) throws {
        guard [.float32, .float16, .bfloat16].contains(dataType) else {
            throw ModelError.unsupported("safetensors holds F32, F16 or BF16, not \(dataType)")
        }
        var widened: [UnsafeMutablePointer<Float>] = []
        defer { widened.forEach { $0.deallocate() } }
        try Self.writeSafetensors(layout: layout, family: family, dataType: dataType, to: url) { slot in
            let matrix = weights.matrix(slot)
            guard matrix.format != .float32 else { return (matrix.floats, matrix.isTransposed) }
            let values = UnsafeMutablePointer<Float>.allocate(capacity: max(1, slot.count))
            widened.append(values)
            Kernels.dequantize(matrix.format, matrix.base, count: slot.count, into: values)
            return (UnsafePointer(values), false)
        }
    }

    /// Writes the parameters of `layout` under `family`'s names; `source` gives each
    /// parameter's float32 elements and whether they are stored transposed.
    package static func writeSafetensors(
        layout: ParameterLayout, family: any ModelFamily.Type, dataType: WeightFormat = .float32, to url: URL,
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
        try ModelError.wrap(url.lastPathComponent) {
            try SafetensorsFile.write(streaming: tensors, metadata: ["format": "pt"], dataType: dataType, to: url)
        }
    }

    /// Writes `config.json` and `model.safetensors` into `directory` (created if needed), the
    /// form `init(directory:)` (and Hugging Face, for plain configurations) reads; the weights
    /// in `dataType` (F32, F16 or BF16; see `saveSafetensors(to:dataType:)`).
    ///
    /// ```swift
    /// try model.save(directory: url, dataType: .bfloat16)          // half the size
    /// let half = try GPT(directory: url, halfPrecision: .stored)    // BF16 weights, F32 sums
    /// ```
    /// - Throws: `ModelError.unsupported` for a model with adapters (save them with
    ///   `saveAdapter(directory:baseModelName:)`, or merge them first with `mergingAdapters()`).
    public func save(directory: URL, dataType: WeightFormat = .float32) throws {
        guard lora == nil else {
            throw ModelError.unsupported("a model with adapters: save them with saveAdapter(directory:), or merge them first")
        }
        do { try Files.createFolder(directory) } catch { throw ModelError.io("\(error)") }
        try configuration.write(to: directory.appendingPathComponent("config.json"))
        try saveSafetensors(to: directory.appendingPathComponent("model.safetensors"), dataType: dataType)
    }
}

/// How a safetensors checkpoint's F16 and BF16 matrices are held.
public enum HalfPrecisionWeights: Sendable {
    /// Widened to float32 once, at load (the model can be trained; products are float32's).
    case widened
    /// Kept as stored, memory-mapped: half the memory, products with float32 accumulation
    /// (`Kernels.multiplyStored`); for inference.
    case stored
}
