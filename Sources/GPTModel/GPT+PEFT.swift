// LoRA adapters in PEFT's file layout: adapter_model.safetensors (PEFT's tensor names) and
// adapter_config.json, written atomically and read with every setting GPTKit cannot apply refused.
import Foundation
import GPTFiles
import GPTLayers
import GPTTensor

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
