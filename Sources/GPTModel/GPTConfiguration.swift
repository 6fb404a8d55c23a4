// The architecture of a decoder-only Transformer: sizes and the choice of each part.
import GPTLayers

/// How token positions enter the model.
public enum PositionalEncoding: Sendable, Hashable, Codable {
    /// A learned table `wpe [contextLength, C]` added to the token embeddings (GPT-2).
    case learned
    /// The fixed sine/cosine table of "Attention Is All You Need", added to the embeddings.
    case sinusoidal
    /// Rotary embeddings on q and k in every attention layer (Llama), base `theta`.
    case rotary(theta: Float)
}

/// The sizes and parts of a GPT-style model. Encodes and decodes the Hugging Face GPT-2
/// `config.json` keys (`vocab_size`, `n_positions`, `n_layer`, `n_head`, `n_embd`, `n_inner`,
/// `layer_norm_epsilon`, `activation_function`, `tie_word_embeddings`, `resid_pdrop`), plus
/// `num_key_value_heads`, `rope_theta`, `position_embedding_type`, `normalization` and `bias`
/// for the architectures GPT-2 lacks.
///
/// ```swift
/// var configuration = GPTConfiguration.gpt2Small
/// configuration.contextLength = 256
/// try configuration.validate()
/// let model = try GPT(configuration: configuration, seed: 1337)
/// ```
public struct GPTConfiguration: Sendable, Hashable {
    /// V, the number of token ids.
    public var vocabularySize: Int
    /// The most positions one sequence may have (`n_positions`).
    public var contextLength: Int
    /// L, the number of Transformer blocks.
    public var layerCount: Int
    /// NH, the number of query heads.
    public var headCount: Int
    /// KVH, the number of key/value heads (= NH: multi-head; 1: multi-query; between: grouped).
    public var keyValueHeadCount: Int
    /// C, the model width (`n_embd`).
    public var embeddingDimensions: Int
    /// The feed-forward hidden width (`n_inner`; GPT-2 uses 4·C).
    public var hiddenDimensions: Int
    /// Learned, sinusoidal or rotary positions.
    public var positionalEncoding: PositionalEncoding
    /// LayerNorm or RMSNorm.
    public var normalization: NormalizationKind
    /// ε of the norms.
    public var normalizationEpsilon: Float
    /// GELU MLP or SwiGLU.
    public var feedForward: FeedForwardKind
    /// Which projections (and LayerNorms) have biases.
    public var biases: BlockBiases
    /// The model family (`model_type`: "gpt2", "llama", "qwen2"; see `ModelFamilies`): its
    /// parameter names, file formats and initialisation.
    public var modelType: String
    /// HS when set explicitly (`head_dim`); nil means C / NH.
    public var explicitHeadSize: Int?
    /// The width of a scalar head `score.weight [scoreCount, C]` on the final hidden states
    /// (Hugging Face `*ForSequenceClassification`'s `num_labels`; 1 for a reward model or a
    /// value head), or 0 for none.
    public var scoreCount: Int
    /// Whether the output projection is the token embedding (`lm_head` tied to `wte`).
    public var tiesEmbeddings: Bool
    /// Dropout probability for training (`resid_pdrop`): applied by `GPTWorkspace.forward` when it
    /// is given a `dropoutSeed` (the `Trainer` does), never in evaluation or generation.
    public var dropout: Float

    /// A configuration from its parts; `keyValueHeadCount` defaults to `headCount`,
    /// `hiddenDimensions` to 4·C, the rest to GPT-2's choices.
    public init(
        vocabularySize: Int, contextLength: Int, layerCount: Int, headCount: Int, keyValueHeadCount: Int? = nil,
        embeddingDimensions: Int, hiddenDimensions: Int? = nil, positionalEncoding: PositionalEncoding = .learned,
        normalization: NormalizationKind = .layerNorm, normalizationEpsilon: Float = 1e-5,
        feedForward: FeedForwardKind = .gelu, usesBias: Bool = true, tiesEmbeddings: Bool = true, dropout: Float = 0,
        modelType: String = "gpt2", headSize: Int? = nil, biases: BlockBiases? = nil, scoreCount: Int = 0
    ) {
        self.vocabularySize = vocabularySize
        self.contextLength = contextLength
        self.layerCount = layerCount
        self.headCount = headCount
        self.keyValueHeadCount = keyValueHeadCount ?? headCount
        self.embeddingDimensions = embeddingDimensions
        self.hiddenDimensions = hiddenDimensions ?? embeddingDimensions.multipliedReportingOverflow(by: 4).partialValue
        self.positionalEncoding = positionalEncoding
        self.normalization = normalization
        self.normalizationEpsilon = normalizationEpsilon
        self.feedForward = feedForward
        self.biases = biases ?? BlockBiases(all: usesBias)
        self.modelType = modelType
        self.explicitHeadSize = headSize
        self.scoreCount = scoreCount
        self.tiesEmbeddings = tiesEmbeddings
        self.dropout = dropout
    }

    /// HS: `explicitHeadSize`, else C / NH.
    public var headSize: Int { explicitHeadSize ?? embeddingDimensions / max(1, headCount) }

    /// Whether every projection and LayerNorm has a bias (GPT-2); setting it sets them all.
    public var usesBias: Bool {
        get { biases == BlockBiases(all: true) }
        set { biases = BlockBiases(all: newValue) }
    }

    // MARK: - Presets

    /// A tiny GPT-2 for tests: V 64, context 32, L 2, NH 4, C 32, hidden 128.
    public static let nano = GPTConfiguration(vocabularySize: 64, contextLength: 32, layerCount: 2, headCount: 4,
                                              embeddingDimensions: 32)
    /// A small GPT-2 for benchmarks: V 50257, context 256, L 4, NH 4, C 256.
    public static let mini = GPTConfiguration(vocabularySize: 50257, contextLength: 256, layerCount: 4, headCount: 4,
                                              embeddingDimensions: 256)
    /// GPT-2 small (124M): V 50257, context 1024, L 12, NH 12, C 768.
    public static let gpt2Small = GPTConfiguration(vocabularySize: 50257, contextLength: 1024, layerCount: 12, headCount: 12,
                                                   embeddingDimensions: 768)
    /// GPT-2 medium (350M): V 50257, context 1024, L 24, NH 16, C 1024.
    public static let gpt2Medium = GPTConfiguration(vocabularySize: 50257, contextLength: 1024, layerCount: 24, headCount: 16,
                                                    embeddingDimensions: 1024)

    /// The llama2.c family (as `run.c` computes it): RoPE θ 10000 (applied rotate-half, with
    /// the loader permuting wq/wk), RMSNorm ε 1e-5, SwiGLU, no biases, grouped-query heads.
    /// The sizes come from a checkpoint's header; see `GPT(llama2cCheckpointAt:)`.
    public static func llama2c(
        dimensions: Int, hiddenDimensions: Int, layerCount: Int, headCount: Int, keyValueHeadCount: Int,
        vocabularySize: Int, contextLength: Int, sharedClassifier: Bool
    ) -> GPTConfiguration {
        GPTConfiguration(vocabularySize: vocabularySize, contextLength: contextLength, layerCount: layerCount,
                         headCount: headCount, keyValueHeadCount: keyValueHeadCount, embeddingDimensions: dimensions,
                         hiddenDimensions: hiddenDimensions, positionalEncoding: .rotary(theta: 10_000),
                         normalization: .rmsNorm, normalizationEpsilon: 1e-5, feedForward: .swiGLU, usesBias: false,
                         tiesEmbeddings: sharedClassifier, modelType: LlamaFamily.modelType)
    }

    // MARK: - Validation

    /// Throws `ModelError.invalidConfiguration` naming the first impossible setting: a size that
    /// is not positive, a width not divisible by the heads, heads not a multiple of the KV
    /// heads, an odd rotary head size, a non-positive ε or θ, dropout outside [0, 1), or a model
    /// too large to address (over 2^36 parameters or 2^22 positions).
    public func validate() throws {
        func fail(_ message: String) -> ModelError { .invalidConfiguration(message) }
        let sizes: [(String, Int)] = [
            ("vocabulary size", vocabularySize), ("context length", contextLength), ("layer count", layerCount),
            ("head count", headCount), ("key/value head count", keyValueHeadCount),
            ("embedding width", embeddingDimensions), ("hidden width", hiddenDimensions),
        ]
        for (name, value) in sizes where value <= 0 { throw fail("\(name) must be positive, got \(value)") }
        guard vocabularySize <= Int(Int32.max) else { throw fail("vocabulary size \(vocabularySize) exceeds Int32") }
        guard contextLength <= 1 << 22 else { throw fail("context length \(contextLength) exceeds 2^22 positions") }
        guard layerCount <= 4096 else { throw fail("layer count \(layerCount) exceeds 4096") }
        if let explicitHeadSize {
            guard explicitHeadSize > 0 else { throw fail("head size must be positive, got \(explicitHeadSize)") }
        } else {
            guard embeddingDimensions % headCount == 0 else {
                throw fail("embedding width \(embeddingDimensions) is not divisible by \(headCount) heads")
            }
        }
        guard scoreCount >= 0, scoreCount <= 1 << 20 else { throw fail("score head width \(scoreCount) is out of range") }
        guard ModelFamilies.family(named: modelType) != nil else {
            throw fail("unknown model_type '\(modelType)' (GPTKit has \(ModelFamilies.names.joined(separator: ", ")))")
        }
        guard headCount % keyValueHeadCount == 0 else {
            throw fail("\(headCount) heads are not a multiple of \(keyValueHeadCount) key/value heads")
        }
        switch positionalEncoding {
        case .learned: break
        case .sinusoidal:
            guard embeddingDimensions % 2 == 0 else { throw fail("sinusoidal positions need an even width, got \(embeddingDimensions)") }
        case .rotary(let theta):
            guard headSize % 2 == 0 else { throw fail("rotary embeddings need an even head size, got \(headSize)") }
            guard theta > 0, theta.isFinite else { throw fail("rotary theta must be positive, got \(theta)") }
        }
        guard normalizationEpsilon > 0, normalizationEpsilon.isFinite else {
            throw fail("normalization epsilon must be positive, got \(normalizationEpsilon)")
        }
        guard dropout >= 0, dropout < 1 else { throw fail("dropout must be in [0, 1), got \(dropout)") }
        guard let count = parameterBound, count <= 1 << 36 else {
            throw fail("the model would have more than 2^36 parameters")
        }
    }

    /// The number of parameters the model has, from its layout (tied embeddings counted once;
    /// `Int.max` for a configuration that does not validate).
    public var parameterCount: Int { (try? GPT.Architecture(self))?.layout.parameterCount ?? .max }

    /// An upper bound of the parameter count (every bias counted), or nil on overflow: checked
    /// before any layout arithmetic, so sizes read from files cannot overflow it.
    var parameterBound: Int? {
        // Sizes from files can be anything: bound them before any unchecked arithmetic below.
        let limit = 1 << 31
        guard [vocabularySize, contextLength, layerCount, headCount, keyValueHeadCount, embeddingDimensions, hiddenDimensions]
            .allSatisfy({ $0 >= 0 && $0 <= limit }) else { return nil }
        func product(_ values: Int...) -> Int? {
            values.reduce(Int?(1)) { partial, value in
                guard let partial else { return nil }
                let (result, overflow) = partial.multipliedReportingOverflow(by: value)
                return overflow ? nil : result
            }
        }
        guard headSize >= 0, headSize <= limit, scoreCount >= 0, scoreCount <= limit,
              let q = product(headCount, headSize), let kv = product(keyValueHeadCount, headSize) else { return nil }
        let c = embeddingDimensions, h = hiddenDimensions
        let bias = 1
        let normParameters = 2 * c
        guard let embeddings = product(vocabularySize, c), let positions = product(contextLength, c),
              let attention = product(c, q + 2 * kv), let projection = product(q, c), let score = product(scoreCount, c),
              let up = product(c, h), let down = product(h, c), q <= limit, kv <= limit else { return nil }
        func sum(_ values: Int...) -> Int? {
            values.reduce(Int?(0)) { partial, value in
                guard let partial else { return nil }
                let (result, overflow) = partial.addingReportingOverflow(value)
                return overflow ? nil : result
            }
        }
        // Every term is below 2^63 / 8 here (sizes ≤ 2^31, products checked), so the sums of a
        // few terms are checked only where they can grow: the totals.
        guard let ffn = feedForward == .swiGLU ? sum(up, up, down, bias * (2 * h + c)) : sum(up, down, bias * (h + c)),
              let block = sum(attention, bias * (q + 2 * kv), projection, bias * c, 2 * normParameters, ffn),
              let blocks = product(block, layerCount) else { return nil }
        let learned = positionalEncoding == .learned ? positions : 0
        return sum(embeddings, blocks, learned, normParameters, tiesEmbeddings ? 0 : embeddings, score)
    }
}
