// LoRA: low-rank adapters on a model's projections over its frozen weights (in any storage
// format), as PEFT's LoraConfig defines them, saved and loaded in PEFT's file layout.
import Foundation
import GPTFiles
import GPTLayers
import GPTTensor

/// The settings of LoRA adapters (PEFT's `LoraConfig`): each targeted projection `W` computes
/// `x · Wᵀ + (α / r) · dropout(x) · Aᵀ · Bᵀ` with A `[r, in]` and B `[out, r]`.
public struct LoRAConfiguration: Sendable, Hashable, Codable {
    /// r, the adapters' rank.
    public var rank: Int
    /// α (`lora_alpha`).
    public var alpha: Float
    /// The dropout on each adapter's input during training (`lora_dropout`).
    public var dropout: Float
    /// The projections adapted, as PEFT's `target_modules`: a module name, or the last part(s)
    /// of one (`q_proj` matches `model.layers.3.self_attn.q_proj`). The shorthands q, k, v, o,
    /// gate, up and down stand for `q_proj` … `down_proj`.
    public var targets: [String]
    /// rsLoRA's scale α / √r instead of α / r (`use_rslora`).
    public var rankStabilized: Bool

    /// Settings; by default rank 8, α 16, no dropout, on q, k, v and o.
    public init(rank: Int = 8, alpha: Float = 16, dropout: Float = 0, targets: [String] = ["q", "k", "v", "o"], rankStabilized: Bool = false) {
        self.rank = rank
        self.alpha = alpha
        self.dropout = dropout
        self.targets = targets
        self.rankStabilized = rankStabilized
    }

    /// The factor on the adapters' term: α / r (or α / √r).
    public var scale: Float { rankStabilized ? alpha / Float(rank).squareRoot() : alpha / Float(rank) }

    /// The shorthand target names.
    public static let shorthands = ["q": "q_proj", "k": "k_proj", "v": "v_proj", "o": "o_proj", "gate": "gate_proj", "up": "up_proj",
                                    "down": "down_proj"]

    /// `targets` with the shorthands expanded.
    public var moduleNames: [String] { targets.map { Self.shorthands[$0] ?? $0 } }

    /// Whether the projection `module` (its weight's name without `.weight`) is adapted.
    public func targets(module: String) -> Bool {
        moduleNames.contains { module == $0 || module.hasSuffix("." + $0) }
    }

    /// Throws `ModelError.invalidConfiguration` for a rank below 1, a non-positive α, a dropout
    /// outside [0, 1) or no targets.
    public func validate() throws {
        guard rank >= 1 else { throw ModelError.invalidConfiguration("the LoRA rank must be at least 1, not \(rank)") }
        guard alpha > 0, alpha.isFinite else { throw ModelError.invalidConfiguration("lora_alpha must be positive, not \(alpha)") }
        guard dropout >= 0 && dropout < 1 else { throw ModelError.invalidConfiguration("lora_dropout must be in [0, 1), not \(dropout)") }
        guard !targets.isEmpty, targets.allSatisfy({ !$0.isEmpty }) else {
            throw ModelError.invalidConfiguration("LoRA needs at least one target projection")
        }
    }
}

extension GPT.Architecture {
    /// This architecture with adapters on every projection `lora` targets, their A and B
    /// registered after the base entries as `<module>.lora_A.weight` and `<module>.lora_B.weight`.
    func adding(_ lora: LoRAConfiguration) throws -> GPT.Architecture {
        try lora.validate()
        guard self.lora == nil else { throw ModelError.invalidConfiguration("the model already has adapters") }
        var adapted = self
        var layout = self.layout
        for index in adapted.blocks.indices {
            adapted.blocks[index].attachAdapters { linear in
                let module = String(layout.entries[linear.weight.index].name.dropLast(".weight".count))
                guard lora.targets(module: module) else { return nil }
                let a = layout.add("\(module).lora_A.weight", shape: [lora.rank, linear.inputSize], role: .matrix)
                let b = layout.add("\(module).lora_B.weight", shape: [linear.outputSize, lora.rank], role: .matrix)
                return LinearAdapter(a: a, b: b, rank: lora.rank, scale: lora.scale)
            }
        }
        guard layout.entries.count > baseEntryCount else {
            throw ModelError.invalidConfiguration("no projection matches the LoRA targets \(lora.targets.joined(separator: ", "))")
        }
        adapted.layout = layout
        adapted.lora = lora
        return adapted
    }

    /// The adapters' entries alone, as a layout of their own (the offsets of their values).
    var adapterLayout: ParameterLayout {
        var sub = ParameterLayout()
        for entry in layout.entries.dropFirst(baseEntryCount) { _ = sub.add(entry.name, shape: entry.slot.shape, role: entry.role) }
        return sub
    }
}

extension GPT {
    /// The adapters' settings, if the model has adapters.
    public var lora: LoRAConfiguration? { architecture.lora }

    /// The adapters' parameters alone (`<module>.lora_A.weight`, `<module>.lora_B.weight`, in
    /// layout order), the layout of `adapterValues()`; empty without adapters.
    public var adapterLayout: ParameterLayout { architecture.adapterLayout }

    /// The layout indices of the adapters' parameters: what a `GPTWorkspace(trainable:)` trains.
    public var adapterIndices: Set<Int> { Set(architecture.baseEntryCount..<layout.entries.count) }

    /// The model with adapters of `lora` on its projections, initialised as PEFT does: A from
    /// Kaiming-uniform with a = √5 (`U(−1/√in, 1/√in)`), B zero, so the adapted model computes
    /// exactly what this one does until trained. Drawn from `seed`, A by A in layout order. The
    /// base weights are shared, in their own format (float32, half or quantized).
    ///
    /// ```swift
    /// let adapted = try model.addingAdapters(LoRAConfiguration(rank: 8, alpha: 16, targets: ["q", "k", "v", "o"]), seed: 1)
    /// let workspace = GPTWorkspace(model: adapted, trainable: adapted.adapterIndices)
    /// ```
    /// - Throws: `ModelError.invalidConfiguration` for invalid settings, no matching projection,
    ///   or a model that already has adapters.
    public func addingAdapters(_ lora: LoRAConfiguration, seed: UInt64) throws -> GPT {
        let adapted = try architecture.adding(lora)
        let values = ParameterBuffer(layout: adapted.adapterLayout)
        var generator = RandomGenerator(seed: seed)
        for entry in values.layout.entries where entry.name.hasSuffix(".lora_A.weight") {
            let bound = 1 / Float(entry.slot.shape[1]).squareRoot()
            for index in 0..<entry.slot.count {
                values.values[entry.slot.offset + index] = Float(generator.nextDouble() * 2 - 1) * bound
            }
        }
        return try GPT(adapting: self, architecture: adapted, copying: values)
    }

    /// The model with adapters of `lora` holding `values` (in `adapterLayout`'s order and
    /// shapes, e.g. another adapted model's `adapterValues()`).
    /// - Throws: `ModelError.invalidConfiguration` as `addingAdapters(_:seed:)`, `.shapeMismatch`
    ///   if `values` follows another layout.
    public func addingAdapters(_ lora: LoRAConfiguration, values: ParameterBuffer) throws -> GPT {
        try GPT(adapting: self, architecture: try architecture.adding(lora), copying: values)
    }

    private convenience init(adapting base: GPT, architecture adapted: Architecture, copying values: ParameterBuffer) throws {
        guard values.layout == adapted.adapterLayout else {
            throw ModelError.shapeMismatch("the adapter values follow another layout than the adapters'")
        }
        let weights = try ModelError.wrap("adapters") {
            try WeightStore(extending: base.weights, layout: adapted.layout, copying: values)
        }
        self.init(architecture: adapted, weights: weights)
    }

    /// An adapted model's live view of adapter values a trainer mutates between its own passes.
    package func borrowingAdapters(_ values: ParameterBuffer) throws -> GPT {
        let base = withoutAdapters
        let weights = try ModelError.wrap("adapters") {
            try WeightStore(extending: base.weights, layout: layout, borrowing: values)
        }
        return GPT(architecture: architecture, weights: weights)
    }

    /// A copy of the adapters' values, in `adapterLayout`.
    public func adapterValues() throws -> ParameterBuffer {
        let values = ParameterBuffer(layout: adapterLayout)
        for (entry, own) in zip(values.layout.entries, layout.entries.dropFirst(architecture.baseEntryCount)) {
            try ModelError.wrap(entry.name) { try weights.copyValue(of: own.slot, into: values.values + entry.slot.offset) }
        }
        return values
    }

    /// The model without its adapters (its base weights, shared); itself if it has none.
    public var withoutAdapters: GPT {
        guard lora != nil else { return self }
        var base = architecture
        for index in base.blocks.indices { base.blocks[index].attachAdapters { _ in nil } }
        var layout = ParameterLayout()
        for entry in architecture.layout.entries.prefix(architecture.baseEntryCount) {
            _ = layout.add(entry.name, shape: entry.slot.shape, role: entry.role)
        }
        base.layout = layout
        base.lora = nil
        return GPT(architecture: base, weights: weights.prefix(layout))
    }

    /// The model with the adapters merged into its weights, `W + scale · B · A`, and no adapters:
    /// a plain model that computes what the adapted one does (up to float rounding), every
    /// weight float32 (quantized base weights are dequantized first).
    /// - Throws: `ModelError.invalidConfiguration` without adapters.
    public func mergingAdapters() throws -> GPT {
        guard lora != nil else { throw ModelError.invalidConfiguration("the model has no adapters to merge") }
        let base = withoutAdapters
        let parameters = try ModelError.wrap("merging") { try base.makeParameters() }
        for block in architecture.blocks {
            let linears = block.attention.qkvProjections + [block.attention.projection]
                + [block.feedForward.gate, block.feedForward.up, block.feedForward.down].compactMap { $0 }
            for linear in linears {
                guard let adapter = linear.adapter else { continue }
                // W [out, in] += scale · B [out, r] · A [r, in].
                let count = linear.outputSize * linear.inputSize
                let delta = UnsafeMutablePointer<Float>.allocate(capacity: count)
                defer { delta.deallocate() }
                Kernels.sgemm(m: linear.outputSize, n: linear.inputSize, k: adapter.rank, a: weights.vector(adapter.b),
                              b: weights.vector(adapter.a), c: delta)
                Kernels.axpy(alpha: adapter.scale, x: delta, y: parameters.values + linear.weight.offset, count: count)
            }
        }
        return GPT(architecture: base.architecture, weights: WeightStore(copying: parameters))
    }
}

// MARK: - PEFT's files

extension GPT {
    /// The prefix PEFT gives the adapters' tensor names: `base_model.model.` and the module path
    /// of the family's Hugging Face class (GPT-2's blocks live under `transformer.`).
    var peftPrefix: String { "base_model.model." + (architecture.family.modelType == "gpt2" ? "transformer." : "") }

    /// Writes the adapters as PEFT's `save_pretrained` does: `adapter_model.safetensors` (each
    /// `lora_A`/`lora_B` under PEFT's name, e.g.
    /// `base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight`) and
    /// `adapter_config.json`, each written atomically; `PeftModel.from_pretrained` loads them.
    ///
    /// ```swift
    /// try adapted.saveAdapter(directory: URL(fileURLWithPath: "my-adapter"), baseModelName: "HuggingFaceTB/SmolLM2-135M-Instruct")
    /// let again = try base.loadingAdapter(directory: URL(fileURLWithPath: "my-adapter"))
    /// ```
    /// - Throws: `ModelError.invalidConfiguration` without adapters, `.io` if writing fails.
    public func saveAdapter(directory: URL, baseModelName: String? = nil) throws {
        guard let lora else { throw ModelError.invalidConfiguration("the model has no adapters to save") }
        do { try Files.createFolder(directory) } catch { throw ModelError.io("\(error)") }
        let values = try adapterValues()
        var tensors: [String: Tensor] = [:]
        for entry in values.layout.entries { tensors[peftPrefix + entry.name] = values.value(of: entry.slot) }
        do {
            try SafetensorsFile.write(tensors, metadata: ["format": "pt"], to: directory.appendingPathComponent("adapter_model.safetensors"))
        } catch { throw ModelError.io("writing the adapter: \(error.localizedDescription)") }
        let modules = Set(values.layout.entries.map { entry in
            String(entry.name.dropLast(".lora_A.weight".count)).split(separator: ".").last.map(String.init) ?? ""
        }).sorted()
        var config: [String: Any] = [
            "peft_type": "LORA", "task_type": "CAUSAL_LM", "r": lora.rank, "lora_alpha": Double(lora.alpha),
            "lora_dropout": Double(lora.dropout), "target_modules": modules, "bias": "none", "use_rslora": lora.rankStabilized,
            "use_dora": false, "fan_in_fan_out": architecture.family.modelType == "gpt2", "inference_mode": true,
            "init_lora_weights": true, "rank_pattern": [String: Any](), "alpha_pattern": [String: Any](), "modules_to_save": NSNull(),
            "layers_to_transform": NSNull(), "layers_pattern": NSNull(), "revision": NSNull(),
        ]
        config["base_model_name_or_path"] = baseModelName ?? NSNull()
        do {
            let data = try JSONSerialization.data(withJSONObject: config, options: [.prettyPrinted, .sortedKeys])
            try data.write(to: directory.appendingPathComponent("adapter_config.json"), options: .atomic)
        } catch { throw ModelError.io("writing adapter_config.json: \(error.localizedDescription)") }
    }

    /// This model with the PEFT LoRA adapter in `directory` attached (its `adapter_config.json`
    /// and `adapter_model.safetensors`, as PEFT saves them; F32, F16 or BF16 tensors).
    /// - Throws: `ModelError.invalidConfiguration` for a configuration GPTKit does not apply
    ///   (another PEFT type, DoRA, biases, per-module ranks, a regular-expression target) or a
    ///   model that already has adapters; `.missingTensor` / `.shapeMismatch` for tensors that
    ///   do not fit the model, or that name a module it lacks; `.io` for unreadable files.
    public func loadingAdapter(directory: URL) throws -> GPT {
        let configURL = directory.appendingPathComponent("adapter_config.json")
        let object: [String: Any]
        do {
            let data = try Files.read(configURL)
            guard let parsed = try JSONSerialization.jsonObject(with: data) as? [String: Any] else {
                throw ModelError.invalidConfiguration("\(configURL.path) is not a JSON object")
            }
            object = parsed
        } catch let error as ModelError { throw error } catch {
            throw ModelError.io("cannot read \(configURL.path): \(error.localizedDescription)")
        }
        let lora = try Self.loraConfiguration(peft: object, file: configURL.path)
        let adapted = try architecture.adding(lora)
        let file: SafetensorsFile
        do { file = try SafetensorsFile(contentsOf: directory.appendingPathComponent("adapter_model.safetensors")) } catch {
            throw ModelError.io("\(error.localizedDescription)")
        }
        let values = ParameterBuffer(layout: adapted.adapterLayout)
        var unused = Set(file.tensorNames)
        for entry in values.layout.entries {
            let name = peftPrefix + entry.name
            guard let stored = file.entries[name] else { throw ModelError.missingTensor("the adapter has no \(name)") }
            guard stored.shape == entry.slot.shape else {
                throw ModelError.shapeMismatch("\(name): \(stored.shape) in the adapter, \(entry.slot.shape) in the model")
            }
            try ModelError.wrap(name) {
                try file.read(named: name, into: UnsafeMutableBufferPointer(start: values.values + entry.slot.offset, count: entry.slot.count))
            }
            unused.remove(name)
        }
        if let stray = unused.sorted().first {
            throw ModelError.shapeMismatch("the adapter holds \(stray), which fits no projection of the model (\(unused.count) such tensors)")
        }
        return try GPT(adapting: self, architecture: adapted, copying: values)
    }

    /// The LoRA settings of a PEFT `adapter_config.json`.
    static func loraConfiguration(peft object: [String: Any], file: String) throws -> LoRAConfiguration {
        func fail(_ message: String) -> ModelError { .invalidConfiguration("\(file): \(message)") }
        guard (object["peft_type"] as? String)?.uppercased() == "LORA" else { throw fail("peft_type must be \"LORA\"") }
        guard let rank = object["r"] as? Int else { throw fail("\"r\" must be an integer") }
        guard let alpha = (object["lora_alpha"] as? NSNumber)?.floatValue else { throw fail("\"lora_alpha\" must be a number") }
        let dropout = (object["lora_dropout"] as? NSNumber)?.floatValue ?? 0
        if (object["use_dora"] as? Bool) == true { throw fail("DoRA adapters (use_dora) are not supported") }
        if let bias = object["bias"] as? String, bias != "none" { throw fail("adapters with biases (bias \"\(bias)\") are not supported") }
        for key in ["rank_pattern", "alpha_pattern"] {
            if let pattern = object[key] as? [String: Any], !pattern.isEmpty { throw fail("per-module \(key) is not supported") }
        }
        if let modules = object["modules_to_save"] as? [Any], !modules.isEmpty { throw fail("modules_to_save is not supported") }
        for key in ["layers_to_transform", "exclude_modules", "target_parameters", "layer_replication", "trainable_token_indices"] {
            if let value = object[key], !(value is NSNull) { throw fail("\(key) is not supported") }
        }
        for key in ["lora_bias", "use_qalora", "use_bdlora"] where (object[key] as? Bool) == true { throw fail("\(key) is not supported") }
        let targets: [String]
        switch object["target_modules"] {
        case let list as [String]: targets = list
        case let single as String where single.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" || $0 == "." }): targets = [single]
        case is String: throw fail("a regular-expression target_modules is not supported: list the modules")
        default: throw fail("\"target_modules\" must be a list of module names")
        }
        let lora = LoRAConfiguration(rank: rank, alpha: alpha, dropout: dropout, targets: targets,
                                     rankStabilized: (object["use_rslora"] as? Bool) ?? false)
        do { try lora.validate() } catch { throw fail(error.localizedDescription) }
        return lora
    }
}
