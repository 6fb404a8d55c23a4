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

    convenience init(adapting base: GPT, architecture adapted: Architecture, copying values: ParameterBuffer) throws {
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
