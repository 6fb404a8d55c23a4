// GPTConfiguration <-> Hugging Face GPT-2 `config.json`.
import Foundation
import GPTFiles
import GPTLayers
import GPTTokenizers

extension GPTConfiguration: Codable {
    enum CodingKeys: String, CodingKey {
        case vocabularySize = "vocab_size", contextLength = "n_positions", contextLengthAlias = "n_ctx"
        case layerCount = "n_layer", headCount = "n_head", keyValueHeadCount = "num_key_value_heads"
        case embeddingDimensions = "n_embd", hiddenDimensions = "n_inner"
        case positionalEncoding = "position_embedding_type", ropeTheta = "rope_theta"
        case normalization, normalizationEpsilon = "layer_norm_epsilon"
        case activation = "activation_function", usesBias = "bias", tiesEmbeddings = "tie_word_embeddings"
        case dropout = "resid_pdrop", modelType = "model_type", architectures
        case headSize = "head_dim", scoreCount = "num_labels", biases = "biases"
    }

    /// The per-projection bias flags, written only when they are not all equal.
    struct BiasKeys: Codable {
        var qkv: Bool, attention_output: Bool, mlp: Bool, norm: Bool
    }

    /// Decodes a Hugging Face GPT-2 `config.json` (unknown keys ignored). Missing optional keys
    /// take GPT-2's values: `n_inner` 4·C, `num_key_value_heads` = `n_head`, learned positions,
    /// LayerNorm with ε 1e-5, `gelu_new`, biases, tied embeddings, no dropout.
    /// - Throws: `DecodingError` for a missing size or an unknown setting (for example an
    ///   `activation_function` other than the tanh GELU forms, `swiglu` or `silu`).
    public init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        // Another family's config.json: its own keys, read by the family.
        if let type = try container.decodeIfPresent(String.self, forKey: .modelType), type != GPT2Family.modelType {
            let json = try decoder.singleValueContainer().decode([String: JSONConfigValue].self)
            do { self = try GPTConfiguration(huggingFace: json) } catch {
                throw DecodingError.dataCorruptedError(forKey: .modelType, in: container, debugDescription: error.localizedDescription)
            }
            return
        }
        let width = try container.decode(Int.self, forKey: .embeddingDimensions)
        let heads = try container.decode(Int.self, forKey: .headCount)
        let context = try container.decodeIfPresent(Int.self, forKey: .contextLength)
            ?? container.decode(Int.self, forKey: .contextLengthAlias)
        let theta = try container.decodeIfPresent(Float.self, forKey: .ropeTheta) ?? 10_000
        let positions: PositionalEncoding
        switch try container.decodeIfPresent(String.self, forKey: .positionalEncoding) ?? "learned" {
        case "learned", "absolute": positions = .learned
        case "sinusoidal": positions = .sinusoidal
        case "rope", "rotary": positions = .rotary(theta: theta)
        case let other:
            throw DecodingError.dataCorruptedError(forKey: .positionalEncoding, in: container,
                                                   debugDescription: "unknown position_embedding_type '\(other)'")
        }
        let norm: NormalizationKind
        switch try container.decodeIfPresent(String.self, forKey: .normalization) ?? "layer_norm" {
        case "layer_norm", "layernorm": norm = .layerNorm
        case "rms_norm", "rmsnorm": norm = .rmsNorm
        case let other:
            throw DecodingError.dataCorruptedError(forKey: .normalization, in: container,
                                                   debugDescription: "unknown normalization '\(other)'")
        }
        let ffn: FeedForwardKind
        switch try container.decodeIfPresent(String.self, forKey: .activation) ?? "gelu_new" {
        case "gelu_new", "gelu_pytorch_tanh", "gelu_fast": ffn = .gelu
        case "swiglu", "silu": ffn = .swiGLU
        case let other:
            throw DecodingError.dataCorruptedError(
                forKey: .activation, in: container,
                debugDescription: "unsupported activation_function '\(other)' (GPTKit has the tanh GELU and SwiGLU)")
        }
        self.init(
            vocabularySize: try container.decode(Int.self, forKey: .vocabularySize), contextLength: context,
            layerCount: try container.decode(Int.self, forKey: .layerCount), headCount: heads,
            keyValueHeadCount: try container.decodeIfPresent(Int.self, forKey: .keyValueHeadCount),
            embeddingDimensions: width, hiddenDimensions: try container.decodeIfPresent(Int.self, forKey: .hiddenDimensions),
            positionalEncoding: positions, normalization: norm,
            normalizationEpsilon: try container.decodeIfPresent(Float.self, forKey: .normalizationEpsilon) ?? 1e-5,
            feedForward: ffn, usesBias: try container.decodeIfPresent(Bool.self, forKey: .usesBias) ?? true,
            tiesEmbeddings: try container.decodeIfPresent(Bool.self, forKey: .tiesEmbeddings) ?? true,
            dropout: try container.decodeIfPresent(Float.self, forKey: .dropout) ?? 0,
            headSize: try container.decodeIfPresent(Int.self, forKey: .headSize),
            scoreCount: try Self.decodeScoreCount(container))
        if let flags = try container.decodeIfPresent(BiasKeys.self, forKey: .biases) {
            biases = BlockBiases(qkv: flags.qkv, attentionOutput: flags.attention_output, feedForward: flags.mlp, norm: flags.norm)
        }
    }

    /// `num_labels` when the `architectures` name a `…ForSequenceClassification` class (a
    /// model with a scalar head), else 0.
    static func decodeScoreCount(_ container: KeyedDecodingContainer<CodingKeys>) throws -> Int {
        let classes = (try? container.decodeIfPresent([String].self, forKey: .architectures)) ?? []
        guard classes.contains(where: { $0.hasSuffix("ForSequenceClassification") }) else { return 0 }
        return try container.decodeIfPresent(Int.self, forKey: .scoreCount) ?? 2
    }

    /// Encodes with the keys `init(from:)` reads. A configuration that is plain GPT-2 (learned
    /// positions, LayerNorm, GELU, biases, multi-head) also gets `model_type` "gpt2" and
    /// `architectures` ["GPT2LMHeadModel"], so Hugging Face's `from_pretrained` can read it.
    public func encode(to encoder: Encoder) throws {
        if modelType != GPT2Family.modelType {
            var single = encoder.singleValueContainer()
            try single.encode(huggingFaceConfig)
            return
        }
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(vocabularySize, forKey: .vocabularySize)
        try container.encode(contextLength, forKey: .contextLength)
        try container.encode(layerCount, forKey: .layerCount)
        try container.encode(headCount, forKey: .headCount)
        try container.encode(keyValueHeadCount, forKey: .keyValueHeadCount)
        try container.encode(embeddingDimensions, forKey: .embeddingDimensions)
        try container.encode(hiddenDimensions, forKey: .hiddenDimensions)
        switch positionalEncoding {
        case .learned: try container.encode("learned", forKey: .positionalEncoding)
        case .sinusoidal: try container.encode("sinusoidal", forKey: .positionalEncoding)
        case .rotary(let theta):
            try container.encode("rope", forKey: .positionalEncoding)
            try container.encode(theta, forKey: .ropeTheta)
        }
        try container.encode(normalization == .layerNorm ? "layer_norm" : "rms_norm", forKey: .normalization)
        try container.encode(normalizationEpsilon, forKey: .normalizationEpsilon)
        try container.encode(feedForward == .gelu ? "gelu_new" : "swiglu", forKey: .activation)
        try container.encode(usesBias, forKey: .usesBias)
        try container.encode(tiesEmbeddings, forKey: .tiesEmbeddings)
        try container.encode(dropout, forKey: .dropout)
        if let explicitHeadSize { try container.encode(explicitHeadSize, forKey: .headSize) }
        if biases != BlockBiases(all: true) && biases != BlockBiases(all: false) {
            try container.encode(BiasKeys(qkv: biases.qkv, attention_output: biases.attentionOutput, mlp: biases.feedForward,
                                          norm: biases.norm), forKey: .biases)
        }
        if scoreCount > 0 {
            try container.encode(scoreCount, forKey: .scoreCount)
            try container.encode(["GPT2ForSequenceClassification"], forKey: .architectures)
            if isGPT2Compatible { try container.encode("gpt2", forKey: .modelType) }
        } else if isGPT2Compatible {
            try container.encode("gpt2", forKey: .modelType)
            try container.encode(["GPT2LMHeadModel"], forKey: .architectures)
        }
    }

    /// Whether Hugging Face's GPT-2 classes can run this configuration.
    public var isGPT2Compatible: Bool {
        positionalEncoding == .learned && normalization == .layerNorm && feedForward == .gelu && usesBias
            && keyValueHeadCount == headCount
    }

    // MARK: - Files

    /// Reads a `config.json` of any registered family (by its `model_type`; GPTKit's GPT-2
    /// keys when absent) and validates it.
    /// - Throws: `ModelError.io` if unreadable, `.invalidConfiguration` naming the problem
    ///   (including an unknown `model_type`).
    public init(contentsOf url: URL) throws {
        let data: Data
        do { data = try Files.read(url) } catch {
            throw ModelError.io("cannot read \(url.path): \(error.reason)")
        }
        let file = url.lastPathComponent
        let parsed: JSONValue
        do { parsed = try JSONSyntax.parse(data, path: file) } catch let error as TokenizerError {
            throw ModelError.invalidConfiguration(error.localizedDescription)
        }
        guard case .object(let members) = parsed else {
            throw ModelError.invalidConfiguration("\(file): not a JSON object (the file holds \(parsed.summary))")
        }
        let json = members.mapValues(JSONConfigValue.init)
        try self.init(huggingFace: json, file: file)
    }

    /// A configuration from a parsed `config.json` object, read by its family.
    /// - Throws: `ModelError.invalidConfiguration` naming the file and the problem.
    public init(huggingFace json: [String: JSONConfigValue], file: String = "config.json") throws {
        var modelType = GPT2Family.modelType
        if case .string(let value)? = json["model_type"] { modelType = value }
        guard let family = ModelFamilies.family(named: modelType) else {
            throw ModelError.invalidConfiguration(
                "\(file): unknown model_type '\(modelType)' (GPTKit has \(ModelFamilies.names.joined(separator: ", ")))")
        }
        do { self = try family.configuration(huggingFace: json, file: file) } catch let error as DecodingError {
            throw ModelError.invalidConfiguration("\(file): \(Self.describe(error))")
        }
        do { try validate() } catch ModelError.invalidConfiguration(let message) {
            throw ModelError.invalidConfiguration("\(file): \(message)")
        }
    }

    /// The `config.json` object of this configuration, as its family writes it.
    public var huggingFaceConfig: [String: JSONConfigValue] {
        (ModelFamilies.family(named: modelType) ?? GPT2Family.self).huggingFaceConfig(self)
    }

    /// Writes the configuration as its family's pretty-printed `config.json`, atomically.
    public func write(to url: URL) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        do { try encoder.encode(huggingFaceConfig).write(to: url, options: .atomic) } catch {
            throw ModelError.io("cannot write \(url.path): \(Files.reason(for: error))")
        }
    }

    static func describe(_ error: DecodingError) -> String { DecodingErrors.describe(error) }
}
