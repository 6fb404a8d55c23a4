// Qwen2 (Hugging Face Qwen2ForCausalLM): Llama-shaped, with biases on the q, k and v projections
// only.
import GPTLayers

/// The Qwen2 family: Llama's parameter names, plus `self_attn.q_proj/k_proj/v_proj.bias`.
public enum Qwen2Family: ModelFamily {
    /// "qwen2".
    public static let modelType = "qwen2"
    /// "Qwen2ForCausalLM".
    public static let huggingFaceClass = "Qwen2ForCausalLM"

    /// Reads `Qwen2Config`'s keys (Llama's, with q/k/v biases always on).
    /// - Throws: `ModelError.invalidConfiguration` as `LlamaFamily`, and for
    ///   `use_sliding_window: true`.
    public static func configuration(huggingFace json: [String: JSONConfigValue], file: String) throws -> GPTConfiguration {
        var json = json
        json["attention_bias"] = .bool(true)  // Qwen2 always has q/k/v biases; no o_proj bias
        return try LlamaConfigKeys.read(json, file: file, modelType: modelType, defaultQKVBias: true)
    }

    /// `Qwen2Config`'s keys.
    public static func huggingFaceConfig(_ configuration: GPTConfiguration) -> [String: JSONConfigValue] {
        var json = LlamaConfigKeys.write(configuration, huggingFaceClass: huggingFaceClass)
        json["attention_bias"] = nil
        json["mlp_bias"] = nil
        json["use_sliding_window"] = .bool(false)
        return json
    }

    /// As Llama.
    public static func names(_ configuration: GPTConfiguration) -> ModelParameterNames { LlamaFamily.names(configuration) }

    /// As Llama.
    public static func blockNames(_ index: Int, configuration: GPTConfiguration) -> TransformerBlockNames {
        LlamaFamily.blockNames(index, configuration: configuration)
    }

    /// As Llama.
    public static func huggingFaceTensor(for name: String) -> StoredTensorName { LlamaFamily.huggingFaceTensor(for: name) }

    /// As Llama.
    public static func isIgnoredBuffer(_ name: String) -> Bool { LlamaFamily.isIgnoredBuffer(name) }

    /// As Llama (llama.cpp's `qwen2` architecture uses the same tensor names).
    public static func ggufName(for name: String) -> String? { LlamaConfigKeys.ggufName(for: name) }

    /// As Llama.
    public static func isResidualProjection(_ name: String) -> Bool { LlamaFamily.isResidualProjection(name) }
}
