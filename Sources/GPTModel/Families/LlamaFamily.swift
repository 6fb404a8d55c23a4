// Llama (Hugging Face LlamaForCausalLM; also SmolLM, TinyLlama, Mistral without sliding window,
// and llama2.c checkpoints): RoPE, RMSNorm, SwiGLU, grouped-query attention, no biases.
import Foundation
import GPTLayers

/// The Llama family: parameters named as Hugging Face's `LlamaForCausalLM`
/// (`model.embed_tokens`, `model.layers.N.input_layernorm`, `…self_attn.q_proj/k_proj/v_proj/o_proj`,
/// `…post_attention_layernorm`, `…mlp.gate_proj/up_proj/down_proj`, `model.norm`, `lm_head`).
public enum LlamaFamily: ModelFamily {
    /// "llama".
    public static let modelType = "llama"
    /// "LlamaForCausalLM".
    public static let huggingFaceClass = "LlamaForCausalLM"

    /// Reads `LlamaConfig`'s keys. Defaults as `transformers`: `num_key_value_heads` =
    /// heads, `head_dim` = hidden / heads, `rms_norm_eps` 1e-6, `rope_theta` 10000, untied
    /// embeddings, no biases.
    /// - Throws: `ModelError.invalidConfiguration` for a missing size, an activation other than
    ///   `silu`, or a `rope_scaling` other than the default (linear, dynamic, YaRN and Llama 3
    ///   scaling are not implemented).
    public static func configuration(huggingFace json: [String: JSONConfigValue], file: String) throws -> GPTConfiguration {
        try LlamaConfigKeys.read(json, file: file, modelType: modelType, defaultQKVBias: false)
    }

    /// `LlamaConfig`'s keys.
    public static func huggingFaceConfig(_ configuration: GPTConfiguration) -> [String: JSONConfigValue] {
        LlamaConfigKeys.write(configuration, huggingFaceClass: huggingFaceClass)
    }

    /// `model.embed_tokens`, `model.norm`, `lm_head`.
    public static func names(_ configuration: GPTConfiguration) -> ModelParameterNames {
        ModelParameterNames(tokenEmbedding: "model.embed_tokens", positionEmbedding: "model.embed_positions", finalNorm: "model.norm",
                            outputProjection: "lm_head")
    }

    /// `model.layers.N.*`.
    public static func blockNames(_ index: Int, configuration: GPTConfiguration) -> TransformerBlockNames {
        .llama("model.layers.\(index)")
    }

    /// The same names, untransposed.
    public static func huggingFaceTensor(for name: String) -> StoredTensorName { StoredTensorName(names: [name]) }

    /// `rotary_emb.inv_freq` buffers of older exports.
    public static func isIgnoredBuffer(_ name: String) -> Bool { name.hasSuffix("rotary_emb.inv_freq") }

    /// llama.cpp's names: `token_embd`, `blk.N.attn_norm`, `blk.N.attn_q/k/v/output`,
    /// `blk.N.ffn_norm`, `blk.N.ffn_gate/up/down`, `output_norm`, `output`.
    public static func ggufName(for name: String) -> String? { LlamaConfigKeys.ggufName(for: name) }

    /// `o_proj` and `down_proj` weights.
    public static func isResidualProjection(_ name: String) -> Bool {
        name.hasSuffix("self_attn.o_proj.weight") || name.hasSuffix("mlp.down_proj.weight")
    }
}

/// The configuration keys and GGUF names Llama-shaped families share.
enum LlamaConfigKeys {
    static func read(_ json: [String: JSONConfigValue], file: String, modelType: String, defaultQKVBias: Bool) throws -> GPTConfiguration {
        let reader = ConfigReader(json, file: file)
        let activation = try reader.string("hidden_act", default: "silu")
        guard activation == "silu" else { throw reader.fail("hidden_act", "is '\(activation)'; the Llama family needs 'silu'") }
        // RoPE settings: transformers 5 writes `rope_parameters` {rope_theta, rope_type}; older
        // files have `rope_theta` and an optional `rope_scaling` {type or rope_type, …}.
        var theta = try reader.number("rope_theta", default: 10_000)
        for key in ["rope_scaling", "rope_parameters"] {
            guard let value = json[key], value != .null else { continue }
            guard case .object(let object) = value else { throw reader.fail(key, "must be an object") }
            var kind = "default"
            for field in ["rope_type", "type"] { if case .string(let name)? = object[field] { kind = name } }
            guard kind == "default" else {
                throw reader.fail(key, "of type '\(kind)' is not supported (GPTKit implements plain RoPE only)")
            }
            if key == "rope_parameters" { theta = try ConfigReader(object, file: reader.file).number("rope_theta", default: theta) }
        }
        if try reader.bool("use_sliding_window", default: false) {
            throw reader.fail("use_sliding_window", "is true; sliding-window attention is not supported")
        }
        // Mistral applies its window whenever `sliding_window` is set (Qwen2 only with
        // `use_sliding_window`): a window shorter than the context would change the attention.
        if case .string("mistral")? = json["model_type"], reader.has("sliding_window"),
           try reader.integer("sliding_window") < (try reader.integer("max_position_embeddings")) {
            throw reader.fail("sliding_window", "is shorter than max_position_embeddings; sliding-window attention is not supported")
        }
        let width = try reader.integer("hidden_size"), heads = try reader.integer("num_attention_heads")
        guard heads > 0 else { throw reader.fail("num_attention_heads", "must be positive") }
        let qkvBias = try reader.bool("attention_bias", default: defaultQKVBias)
        let outputBias = modelType == LlamaFamily.modelType ? qkvBias : false  // Llama's attention_bias covers o_proj too
        let epsilon = try reader.number("rms_norm_eps", default: 1e-6)
        let headSize = reader.has("head_dim") ? try reader.integer("head_dim") : nil
        return GPTConfiguration(
            vocabularySize: try reader.integer("vocab_size"), contextLength: try reader.integer("max_position_embeddings"),
            layerCount: try reader.integer("num_hidden_layers"), headCount: heads,
            keyValueHeadCount: try reader.integer("num_key_value_heads", default: heads), embeddingDimensions: width,
            hiddenDimensions: try reader.integer("intermediate_size"), positionalEncoding: .rotary(theta: Float(theta)),
            normalization: .rmsNorm, normalizationEpsilon: Float(epsilon), feedForward: .swiGLU, usesBias: false,
            tiesEmbeddings: try reader.bool("tie_word_embeddings", default: false), modelType: modelType,
            headSize: headSize == width / heads && width % heads == 0 ? nil : headSize,
            biases: BlockBiases(qkv: qkvBias, attentionOutput: outputBias, feedForward: try reader.bool("mlp_bias", default: false),
                                norm: false),
            scoreCount: try scoreCount(reader))
    }

    /// `num_labels` for a `…ForSequenceClassification` class (a scalar head), else 0.
    static func scoreCount(_ reader: ConfigReader) throws -> Int {
        guard case .array(let classes)? = reader.json["architectures"],
              classes.contains(where: { if case .string(let name) = $0 { return name.hasSuffix("ForSequenceClassification") }; return false })
        else { return 0 }
        return try reader.integer("num_labels", default: 2)
    }

    static func write(_ c: GPTConfiguration, huggingFaceClass: String) -> [String: JSONConfigValue] {
        var theta: Float = 10_000
        if case .rotary(let value) = c.positionalEncoding { theta = value }
        let className = c.scoreCount > 0 ? huggingFaceClass.replacingOccurrences(of: "ForCausalLM", with: "ForSequenceClassification")
            : huggingFaceClass
        var json: [String: JSONConfigValue] = [
            "model_type": .string(c.modelType), "architectures": .array([.string(className)]),
            "vocab_size": .integer(c.vocabularySize), "max_position_embeddings": .integer(c.contextLength),
            "num_hidden_layers": .integer(c.layerCount), "num_attention_heads": .integer(c.headCount),
            "num_key_value_heads": .integer(c.keyValueHeadCount), "hidden_size": .integer(c.embeddingDimensions),
            "intermediate_size": .integer(c.hiddenDimensions), "head_dim": .integer(c.headSize),
            "rms_norm_eps": .number(Double(c.normalizationEpsilon)), "rope_theta": .number(Double(theta)),
            "tie_word_embeddings": .bool(c.tiesEmbeddings), "attention_bias": .bool(c.biases.qkv),
            "mlp_bias": .bool(c.biases.feedForward), "hidden_act": .string("silu"), "torch_dtype": .string("float32"),
        ]
        if c.scoreCount > 0 { json["num_labels"] = .integer(c.scoreCount) }
        return json
    }

    static func ggufName(for name: String) -> String? {
        let fixed = ["model.embed_tokens.weight": "token_embd.weight", "model.norm.weight": "output_norm.weight",
                     "lm_head.weight": "output.weight"]
        if let mapped = fixed[name] { return mapped }
        let prefix = "model.layers."
        guard name.hasPrefix(prefix) else { return nil }
        let rest = name.dropFirst(prefix.count)
        guard let dot = rest.firstIndex(of: "."), let layer = Int(rest[..<dot]) else { return nil }
        let inner = String(rest[rest.index(after: dot)...])
        let map = ["input_layernorm": "attn_norm", "self_attn.q_proj": "attn_q", "self_attn.k_proj": "attn_k",
                   "self_attn.v_proj": "attn_v", "self_attn.o_proj": "attn_output", "post_attention_layernorm": "ffn_norm",
                   "mlp.gate_proj": "ffn_gate", "mlp.up_proj": "ffn_up", "mlp.down_proj": "ffn_down"]
        guard let last = inner.lastIndex(of: "."), let mapped = map[String(inner[..<last])] else { return nil }
        return "blk.\(layer).\(mapped)\(inner[last...])"
    }
}
