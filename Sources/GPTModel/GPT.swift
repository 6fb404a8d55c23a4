// The model: its configuration, its layers, and its immutable weights.
import Foundation
import GPTLayers
import GPTTensor

/// A decoder-only Transformer of one of the registered families (GPT-2, Llama, Qwen2; see
/// `ModelFamilies`), with immutable weights.
///
/// Parameters are named as the family's Hugging Face checkpoints name them (GPT-2: `wte.weight`,
/// `h.N.attn.c_attn.weight`, …; Llama and Qwen2: `model.embed_tokens.weight`,
/// `model.layers.N.self_attn.q_proj.weight`, …). Matrices are `[out, in]`.
///
/// A `GPT` never changes: its `weights` are a `WeightStore` nothing writes, so the model is
/// genuinely `Sendable` and any number of `GenerationSession`s and `GPTWorkspace`s may use it
/// from any tasks. Gradients live in each workspace; a `Trainer` trains its own mutable copy and
/// publishes new `GPT` snapshots (`trainer.model`).
///
/// ```swift
/// let model = try GPT(configuration: .nano, seed: 42)
/// let logits = try model.forward(tokens: [1, 2, 3, 4, 5, 6], batch: 2, time: 3)   // [2, 3, V]
/// let session = try GenerationSession(model: model, options: GenerationOptions(maximumNewTokens: 8))
/// let tokens = try session.generate(prompt: [1, 2, 3])
/// ```
public final class GPT: Sendable {
    /// The architecture.
    public let configuration: GPTConfiguration
    /// Every parameter's value, read-only.
    public let weights: WeightStore
    let architecture: Architecture

    /// The names, shapes and offsets of all parameters.
    public var layout: ParameterLayout { architecture.layout }
    /// The number of parameters (tied embeddings counted once).
    public var parameterCount: Int { layout.parameterCount }
    /// The model's family.
    public var family: any ModelFamily.Type { architecture.family }
    /// The output projection `[V, C]`: the token table when the embeddings are tied.
    public var outputProjection: ParameterSlot { architecture.outputWeight }

    /// A model over `weights`, which must follow the architecture's layout.
    init(architecture: Architecture, weights: WeightStore) {
        precondition(weights.layout == architecture.layout, "GPT: weights of another layout")
        self.configuration = architecture.configuration
        self.architecture = architecture
        self.weights = weights
    }

    /// A model with the values of `parameters` (copied into an immutable store).
    /// - Throws: `ModelError.invalidConfiguration` for an impossible configuration, or
    ///   `.shapeMismatch` if `parameters` follows another layout.
    public convenience init(configuration: GPTConfiguration, parameters: ParameterBuffer) throws {
        let architecture = try Architecture(configuration)
        guard parameters.layout == architecture.layout else {
            throw ModelError.shapeMismatch("the parameters follow another layout than the configuration's")
        }
        self.init(architecture: architecture, weights: WeightStore(copying: parameters))
    }

    /// A model of `model`'s architecture that reads `parameters` in place: a trainer's live view
    /// of the weights it trains and mutates between its own passes. Package-only: such a model
    /// must never reach another task.
    package convenience init(borrowing parameters: ParameterBuffer, architectureOf model: GPT) {
        self.init(architecture: model.architecture, weights: WeightStore(borrowing: parameters))
    }

    /// A model with GPT-2's initialisation drawn from `seed`: every matrix and embedding
    /// `N(0, 0.02²)`, except the residual output projections (the family's
    /// `isResidualProjection`: GPT-2's `c_proj`, Llama's `o_proj`/`down_proj`) with standard
    /// deviation `0.02 / √(2·L)`; biases 0; norm weights 1, norm biases 0. Parameters are drawn
    /// in layout order from one `RandomGenerator(seed:)`.
    /// - Throws: `ModelError.invalidConfiguration` if the configuration is impossible.
    public convenience init(configuration: GPTConfiguration, seed: UInt64) throws {
        let architecture = try Architecture(configuration)
        let weights = WeightStore(layout: architecture.layout) { values in
            Self.initialize(values, layout: architecture.layout, configuration: configuration, family: architecture.family, seed: seed)
        }
        self.init(architecture: architecture, weights: weights)
    }

    /// Writes the initialisation of `init(configuration:seed:)` into a flat buffer in `layout`.
    static func initialize(
        _ values: UnsafeMutablePointer<Float>, layout: ParameterLayout, configuration: GPTConfiguration,
        family: any ModelFamily.Type, seed: UInt64
    ) {
        var generator = RandomGenerator(seed: seed)
        let residualScale = 1 / Float(2 * configuration.layerCount).squareRoot()
        for entry in layout.entries {
            let pointer = values + entry.slot.offset
            switch entry.role {
            case .matrix, .embedding:
                let scale: Float = family.isResidualProjection(entry.name) ? residualScale : 1
                Kernels.fillNormal(pointer, count: entry.slot.count, standardDeviation: 0.02 * scale, generator: &generator)
            case .bias:
                Kernels.fill(pointer, count: entry.slot.count, value: 0)
            case .norm:
                Kernels.fill(pointer, count: entry.slot.count, value: entry.name.hasSuffix(".weight") ? 1 : 0)
            }
        }
    }

    // MARK: - Parameters by name

    /// A copy of the parameter `name` (shape as in `layout`), or nil if there is none.
    public func parameter(named name: String) -> Tensor? {
        layout.entry(named: name).flatMap { try? weights.value(of: $0.slot) }
    }

    /// A mutable float32 copy of every parameter (for training, or to edit weights and build a
    /// new model with `init(configuration:parameters:)`).
    /// - Throws: `LayerError.invalidConfiguration` if a weight is stored in a format without kernels.
    public func makeParameters() throws -> ParameterBuffer { try ParameterBuffer(copying: weights) }
}


extension GPT {
    /// A new model with the named parameters replaced (this model is unchanged).
    ///
    /// ```swift
    /// let edited = try model.replacingParameters(["ln_f.bias": Tensor(zeros: [768])])
    /// ```
    /// - Throws: `ModelError.missingTensor` for an unknown name, `.shapeMismatch` for a wrong shape.
    public func replacingParameters(_ replacements: [String: Tensor]) throws -> GPT {
        for (name, tensor) in replacements.sorted(by: { $0.key < $1.key }) {
            guard let entry = layout.entry(named: name) else { throw ModelError.missingTensor("no parameter named \(name)") }
            guard tensor.shape == entry.slot.shape else {
                throw ModelError.shapeMismatch("\(name): expected \(entry.slot.shape), got \(tensor.shape)")
            }
        }
        let parameters = try ModelError.wrap("parameters") { try makeParameters() }
        for (name, tensor) in replacements {
            try ModelError.wrap(name) { try parameters.setValue(tensor, of: layout.entry(named: name)!.slot) }
        }
        return GPT(architecture: architecture, weights: WeightStore(copying: parameters))
    }
}
