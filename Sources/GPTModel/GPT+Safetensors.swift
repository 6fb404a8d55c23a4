// Loading and saving weights as safetensors with Hugging Face GPT-2's names and layouts.
import Foundation
import GPTLayers
import GPTTensor

extension GPT {
    // MARK: - Names and layouts

    /// Whether a parameter is one of GPT-2's `Conv1D` weights, which Hugging Face stores
    /// `[in, out]` (the transpose of GPTKit's `[out, in]`): `attn.c_attn`, `attn.c_proj`,
    /// `mlp.c_fc` and `mlp.c_proj` weights. Every other matrix (`mlp.w1/w2/w3`, `lm_head`,
    /// embeddings) is stored as in GPTKit.
    public static func isConv1DWeight(_ name: String) -> Bool {
        [".attn.c_attn.weight", ".attn.c_proj.weight", ".mlp.c_fc.weight", ".mlp.c_proj.weight"].contains { name.hasSuffix($0) }
    }

    /// Buffers Hugging Face GPT-2 files may hold that are not parameters (the causal mask).
    static func isIgnoredBuffer(_ name: String) -> Bool {
        name.hasSuffix(".attn.bias") && !name.hasSuffix(".c_attn.bias") || name.hasSuffix(".attn.masked_bias")
    }

    // MARK: - Loading

    /// Loads a Hugging Face style directory: `config.json` (GPT-2 keys, see `GPTConfiguration`)
    /// and `model.safetensors`.
    ///
    /// ```swift
    /// let model = try GPT(directory: URL(fileURLWithPath: "Fixtures/tiny-gpt2"))
    /// ```
    /// - Throws: `ModelError` naming the file and the problem (see `init(safetensors:configuration:)`).
    public convenience init(directory: URL) throws {
        let configuration = try GPTConfiguration(contentsOf: directory.appendingPathComponent("config.json"))
        try self.init(safetensors: directory.appendingPathComponent("model.safetensors"), configuration: configuration)
    }

    /// Loads the weights of `configuration` from a safetensors file with GPT-2 names (optionally
    /// prefixed `transformer.`), Conv1D weights `[in, out]`, F32, F16 or BF16. `lm_head.weight`
    /// is ignored when the embeddings are tied, and the causal-mask buffers (`attn.bias`,
    /// `attn.masked_bias`) are skipped.
    /// - Throws: `ModelError.invalidConfiguration` for an impossible configuration; `.io` or
    ///   `.malformedFile` for an unreadable or corrupt file; `.missingTensor` for a parameter
    ///   not in the file; `.shapeMismatch` for a tensor whose shape disagrees with the
    ///   configuration; `.unexpectedTensor` for tensors the configuration has no place for;
    ///   `.unsupported` for other data types. Nothing is allocated before the file checks out.
    public convenience init(safetensors url: URL, configuration: GPTConfiguration) throws {
        let architecture = try Architecture(configuration)
        let fileName = url.lastPathComponent
        let file = try ModelError.wrap(fileName) { try SafetensorsFile(contentsOf: url) }
        let plan = try Self.match(file, layout: architecture.layout, tied: configuration.tiesEmbeddings, fileName: fileName)
        self.init(architecture: architecture)
        for (entry, stored) in plan {
            let tensor = try ModelError.wrap("\(fileName): \(stored)") { try file.tensor(named: stored) }
            let target = parameters.values + entry.slot.offset
            tensor.withUnsafeBufferPointer { source in
                if Self.isConv1DWeight(entry.name) {
                    Kernels.transpose(source.baseAddress!, rows: entry.slot.shape[1], columns: entry.slot.shape[0], into: target)
                } else {
                    target.update(from: source.baseAddress!, count: entry.slot.count)
                }
            }
        }
    }

    /// Pairs every parameter of `layout` with its tensor name in `file`, checking shapes, and
    /// rejecting names that have no parameter.
    static func match(
        _ file: SafetensorsFile, layout: ParameterLayout, tied: Bool, fileName: String
    ) throws -> [(ParameterLayout.Entry, String)] {
        var byName: [String: String] = [:]
        for stored in file.tensorNames {
            let name = stored.hasPrefix("transformer.") ? String(stored.dropFirst("transformer.".count)) : stored
            if let other = byName[name] {
                throw ModelError.malformedFile("\(fileName): both '\(other)' and '\(stored)' name parameter \(name)")
            }
            byName[name] = stored
        }
        var plan: [(ParameterLayout.Entry, String)] = []
        for entry in layout.entries {
            guard let stored = byName.removeValue(forKey: entry.name) else {
                throw ModelError.missingTensor("\(fileName) has no '\(entry.name)', which the configuration needs")
            }
            let shape = file.entries[stored]!.shape
            let expected = isConv1DWeight(entry.name) ? [entry.slot.shape[1], entry.slot.shape[0]] : entry.slot.shape
            guard shape == expected else {
                throw ModelError.shapeMismatch("\(fileName): '\(stored)' has shape \(shape), the configuration needs \(expected)")
            }
            plan.append((entry, stored))
        }
        if tied { byName.removeValue(forKey: "lm_head.weight") }
        let unexpected = byName.keys.filter { !isIgnoredBuffer($0) }.sorted()
        guard unexpected.isEmpty else {
            let listed = unexpected.prefix(4).joined(separator: ", ") + (unexpected.count > 4 ? ", …" : "")
            throw ModelError.unexpectedTensor("\(fileName) has \(unexpected.count) tensor(s) the configuration has no place for: \(listed)")
        }
        return plan
    }

    // MARK: - Saving

    /// Writes every parameter as F32 safetensors with Hugging Face GPT-2 names (no
    /// `transformer.` prefix, as the original GPT-2 files) and layouts (Conv1D weights
    /// `[in, out]`; no `lm_head.weight` when tied), metadata `format: pt`. Atomic: a temporary
    /// file renamed over `url`.
    public func saveSafetensors(to url: URL) throws {
        var tensors: [String: Tensor] = [:]
        for entry in layout.entries {
            var tensor = parameters.value(of: entry.slot)
            if Self.isConv1DWeight(entry.name) {
                var transposed = Tensor(zeros: [entry.slot.shape[1], entry.slot.shape[0]])
                tensor.withUnsafeBufferPointer { source in
                    transposed.withUnsafeMutableBufferPointer {
                        Kernels.transpose(source.baseAddress!, rows: entry.slot.shape[0], columns: entry.slot.shape[1], into: $0.baseAddress!)
                    }
                }
                tensor = transposed
            }
            tensors[entry.name] = tensor
        }
        try ModelError.wrap(url.lastPathComponent) { try SafetensorsFile.write(tensors, metadata: ["format": "pt"], to: url) }
    }

    /// Writes `config.json` and `model.safetensors` into `directory` (created if needed), the
    /// form `init(directory:)` (and, for plain GPT-2 configurations, Hugging Face) reads.
    public func save(directory: URL) throws {
        do { try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true) } catch {
            throw ModelError.io("cannot create \(directory.path): \(error.localizedDescription)")
        }
        try configuration.write(to: directory.appendingPathComponent("config.json"))
        try saveSafetensors(to: directory.appendingPathComponent("model.safetensors"))
    }
}
