// The model: its layers and every parameter in one flat buffer.
import Foundation
import GPTLayers
import GPTTensor

/// A decoder-only Transformer (GPT-2, or the Llama-style variants its configuration selects).
///
/// All parameters live in one flat `ParameterBuffer` (values and gradients) under Hugging Face
/// GPT-2 names: `wte.weight`, `wpe.weight` (learned positions only), `h.N.ln_1.*`,
/// `h.N.attn.c_attn.*`, `h.N.attn.c_proj.*`, `h.N.ln_2.*`, `h.N.mlp.c_fc.*`/`c_proj.*` (GELU)
/// or `h.N.mlp.w1/w2/w3.*` (SwiGLU), `ln_f.*`, and `lm_head.weight` only when untied. Matrices
/// are stored `[out, in]`.
///
/// The model is `Sendable` and its weights are read-only during inference: any number of
/// `GenerationSession`s (each with its own `KVCache` and random generator) may use one model
/// from different tasks. Training state lives in a `GPTWorkspace`.
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
    /// Every parameter's value and gradient, in `layout`.
    public let parameters: ParameterBuffer
    let architecture: Architecture

    /// The names, shapes and offsets of all parameters.
    public var layout: ParameterLayout { parameters.layout }
    /// The number of parameters (tied embeddings counted once).
    public var parameterCount: Int { layout.parameterCount }

    /// A model with zero parameters (for loaders, which then fill them).
    init(architecture: Architecture) {
        self.configuration = architecture.configuration
        self.architecture = architecture
        self.parameters = ParameterBuffer(layout: architecture.layout)
    }

    /// A model with GPT-2's initialisation drawn from `seed`: every matrix and embedding
    /// `N(0, 0.02²)`, except the residual output projections (`attn.c_proj`, `mlp.c_proj`,
    /// `mlp.w2`) with standard deviation `0.02 / √(2·L)`; biases 0; norm weights 1, norm biases 0.
    /// Parameters are drawn in layout order from one `RandomGenerator(seed:)`.
    /// - Throws: `ModelError.invalidConfiguration` if the configuration is impossible.
    public convenience init(configuration: GPTConfiguration, seed: UInt64) throws {
        self.init(architecture: try Architecture(configuration))
        var generator = RandomGenerator(seed: seed)
        let residualScale = 1 / Float(2 * configuration.layerCount).squareRoot()
        for entry in layout.entries {
            let pointer = parameters.values + entry.slot.offset
            switch entry.role {
            case .matrix, .embedding:
                let isResidualProjection = ["attn.c_proj.weight", "mlp.c_proj.weight", "mlp.w2.weight"]
                    .contains { entry.name.hasSuffix($0) }
                Kernels.fillNormal(pointer, count: entry.slot.count, standardDeviation: 0.02 * (isResidualProjection ? residualScale : 1),
                                   generator: &generator)
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
        layout.entry(named: name).map { parameters.value(of: $0.slot) }
    }

    /// A copy of the gradient of parameter `name`, or nil if there is none.
    public func gradient(named name: String) -> Tensor? {
        layout.entry(named: name).map { parameters.gradient(of: $0.slot) }
    }

    /// Overwrites the parameter `name`.
    /// - Throws: `ModelError.missingTensor` for an unknown name, `.shapeMismatch` for a wrong shape.
    public func setParameter(_ tensor: Tensor, named name: String) throws {
        guard let entry = layout.entry(named: name) else { throw ModelError.missingTensor("no parameter named \(name)") }
        guard tensor.shape == entry.slot.shape else {
            throw ModelError.shapeMismatch("\(name): expected \(entry.slot.shape), got \(tensor.shape)")
        }
        try ModelError.wrap(name) { try parameters.setValue(tensor, of: entry.slot) }
    }
}

// MARK: - Architecture

extension GPT {
    /// The layers of a configuration and the parameter layout they register; building it
    /// allocates no parameters, so loaders can check a file against it first.
    struct Architecture: Sendable {
        let configuration: GPTConfiguration
        let layout: ParameterLayout
        let tokenEmbedding: Embedding
        let positionEmbedding: LearnedPositionalEmbedding?
        let sinusoidal: SinusoidalPositionalEncoding?
        let blocks: [TransformerBlock]
        let finalNorm: Normalization
        /// The output projection `[V, C]`: `wte.weight` when tied, else `lm_head.weight`.
        let outputWeight: ParameterSlot

        init(_ configuration: GPTConfiguration) throws {
            try configuration.validate()
            let c = configuration
            var layout = ParameterLayout()
            tokenEmbedding = Embedding(vocabularySize: c.vocabularySize, dimensions: c.embeddingDimensions, name: "wte", layout: &layout)
            var rotary: RotaryEmbedding?
            switch c.positionalEncoding {
            case .learned:
                positionEmbedding = LearnedPositionalEmbedding(maximumPositions: c.contextLength, dimensions: c.embeddingDimensions,
                                                               name: "wpe", layout: &layout)
                sinusoidal = nil
            case .sinusoidal:
                positionEmbedding = nil
                sinusoidal = SinusoidalPositionalEncoding(maximumPositions: c.contextLength, dimensions: c.embeddingDimensions)
            case .rotary(let theta):
                positionEmbedding = nil
                sinusoidal = nil
                rotary = RotaryEmbedding(headSize: c.headSize, maximumPositions: c.contextLength, theta: theta)
            }
            blocks = try (0..<c.layerCount).map { index in
                try ModelError.wrap("h.\(index)") {
                    try TransformerBlock(dimensions: c.embeddingDimensions, heads: c.headCount, keyValueHeads: c.keyValueHeadCount,
                                         hiddenSize: c.hiddenDimensions, normalization: c.normalization,
                                         epsilon: c.normalizationEpsilon, feedForward: c.feedForward, bias: c.usesBias,
                                         rotary: rotary, name: "h.\(index)", layout: &layout)
                }
            }
            finalNorm = Normalization(kind: c.normalization, dimensions: c.embeddingDimensions, epsilon: c.normalizationEpsilon,
                                      bias: c.usesBias, name: "ln_f", layout: &layout)
            outputWeight = c.tiesEmbeddings
                ? tokenEmbedding.weight
                : layout.add("lm_head.weight", shape: [c.vocabularySize, c.embeddingDimensions], role: .matrix)
            self.configuration = configuration
            self.layout = layout
        }
    }

    // MARK: - Shared steps of every pass

    /// Writes the embeddings of `rows` tokens (one sequence of `time` per batch entry, positions
    /// from `positionOffset`) into `x [B·T, C]`. Ids must already be checked.
    func embed(ids: UnsafePointer<Int32>, batch: Int, time: Int, positionOffset: Int, into x: UnsafeMutablePointer<Float>) throws {
        let a = architecture
        a.tokenEmbedding.forward(ids: ids, rows: batch * time, parameters: parameters, into: x)
        try ModelError.wrap("positions") {
            try a.positionEmbedding?.forward(x, batch: batch, time: time, positionOffset: positionOffset, parameters: parameters)
            try a.sinusoidal?.forward(x, batch: batch, time: time, positionOffset: positionOffset)
        }
    }

    /// `logits [rows, V] = x [rows, C] · Wᵀ` with the output projection W `[V, C]`.
    func projectToVocabulary(_ x: UnsafePointer<Float>, rows: Int, into logits: UnsafeMutablePointer<Float>) {
        Kernels.sgemm(m: rows, n: configuration.vocabularySize, k: configuration.embeddingDimensions, a: x,
                      b: parameters.values + architecture.outputWeight.offset, transposeB: true, c: logits)
    }

    /// Converts token ids to `Int32`, checking each is in the vocabulary.
    func checkedIDs(_ tokens: [Int], into ids: inout [Int32]) throws {
        ids.removeAll(keepingCapacity: true)
        let vocabulary = configuration.vocabularySize
        for token in tokens {
            guard token >= 0 && token < vocabulary else { throw ModelError.tokenOutOfRange(token: token, vocabularySize: vocabulary) }
            ids.append(Int32(token))
        }
    }
}
