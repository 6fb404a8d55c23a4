// GPT-2 (Hugging Face GPT2LMHeadModel): learned positions, LayerNorm, GELU, fused c_attn, all
// biases, tied embeddings; Conv1D weights stored [in, out]. GPTKit also runs variants of it
// (RoPE, RMSNorm, SwiGLU, grouped-query heads) under the same names.
import Foundation
import GPTLayers

/// The GPT-2 family: parameters `wte`, `wpe`, `h.N.ln_1`, `h.N.attn.c_attn`, `h.N.attn.c_proj`,
/// `h.N.ln_2`, `h.N.mlp.c_fc`, `h.N.mlp.c_proj` (SwiGLU variants: `h.N.mlp.w1/w2/w3`), `ln_f`,
/// `lm_head` (untied only), as Hugging Face names them without the `transformer.` prefix.
public enum GPT2Family: ModelFamily {
    /// "gpt2".
    public static let modelType = "gpt2"
    /// "GPT2LMHeadModel".
    public static let huggingFaceClass = "GPT2LMHeadModel"

    /// Reads GPT-2's keys (`n_embd`, `n_head`, `n_layer`, `n_positions`, …) and GPTKit's
    /// extensions (see `GPTConfiguration`'s `Codable` conformance).
    public static func configuration(huggingFace json: [String: JSONConfigValue], file: String) throws -> GPTConfiguration {
        // Numbers beyond any integer would not survive the round trip through JSONEncoder.
        for (key, value) in json.sorted(by: { $0.key < $1.key }) {
            if case .number(let number) = value, abs(number) >= 0x1p63 {
                throw ModelError.invalidConfiguration("\(file): '\(key)' is \(number), out of range")
            }
        }
        let data = try JSONEncoder().encode(json)
        do { return try JSONDecoder().decode(GPTConfiguration.self, from: data) } catch let error as DecodingError {
            throw ModelError.invalidConfiguration("\(file): \(GPTConfiguration.describe(error))")
        }
    }

    /// GPT-2's keys, plus `model_type`/`architectures` when Hugging Face can run it.
    public static func huggingFaceConfig(_ configuration: GPTConfiguration) -> [String: JSONConfigValue] {
        // Encoding a configuration of plain values cannot fail.
        let data = try! JSONEncoder().encode(configuration)
        return try! JSONDecoder().decode([String: JSONConfigValue].self, from: data)
    }

    /// `wte`, `wpe`, `ln_f`, `lm_head`.
    public static func names(_ configuration: GPTConfiguration) -> ModelParameterNames {
        ModelParameterNames(tokenEmbedding: "wte", positionEmbedding: "wpe", finalNorm: "ln_f", outputProjection: "lm_head")
    }

    /// `h.N.*`.
    public static func blockNames(_ index: Int, configuration: GPTConfiguration) -> TransformerBlockNames {
        .gpt2("h.\(index)", feedForward: configuration.feedForward)
    }

    /// The name itself or with `transformer.`; `attn.c_attn`, `attn.c_proj`, `mlp.c_fc` and
    /// `mlp.c_proj` weights transposed (`Conv1D`).
    public static func huggingFaceTensor(for name: String) -> StoredTensorName {
        StoredTensorName(names: [name, "transformer." + name], isTransposed: isConv1DWeight(name))
    }

    /// Whether a parameter is one of GPT-2's `Conv1D` weights, which Hugging Face stores
    /// `[in, out]` (the transpose of GPTKit's `[out, in]`).
    public static func isConv1DWeight(_ name: String) -> Bool {
        [".attn.c_attn.weight", ".attn.c_proj.weight", ".mlp.c_fc.weight", ".mlp.c_proj.weight"].contains { name.hasSuffix($0) }
    }

    /// The causal-mask buffers `attn.bias` and `attn.masked_bias`.
    public static func isIgnoredBuffer(_ name: String) -> Bool {
        name.hasSuffix(".attn.bias") && !name.hasSuffix(".c_attn.bias") || name.hasSuffix(".attn.masked_bias")
    }

    /// llama.cpp's GPT-2 names (`token_embd`, `position_embd`, `blk.N.attn_qkv`, …).
    public static func ggufName(for name: String) -> String? {
        let fixed = ["wte.weight": "token_embd.weight", "wpe.weight": "position_embd.weight", "ln_f.weight": "output_norm.weight",
                     "ln_f.bias": "output_norm.bias", "lm_head.weight": "output.weight"]
        if let mapped = fixed[name] { return mapped }
        let parts = name.split(separator: ".", maxSplits: 2).map(String.init)
        guard parts.count == 3, parts[0] == "h", let layer = Int(parts[1]) else { return nil }
        let inner = ["ln_1": "attn_norm", "attn.c_attn": "attn_qkv", "attn.c_proj": "attn_output", "ln_2": "ffn_norm",
                     "mlp.c_fc": "ffn_up", "mlp.c_proj": "ffn_down", "mlp.w1": "ffn_gate", "mlp.w2": "ffn_down", "mlp.w3": "ffn_up"]
        guard let dot = parts[2].lastIndex(of: "."), let mapped = inner[String(parts[2][..<dot])] else { return nil }
        return "blk.\(layer).\(mapped)\(parts[2][dot...])"
    }

    /// `attn.c_proj`, `mlp.c_proj` and `mlp.w2` weights.
    public static func isResidualProjection(_ name: String) -> Bool {
        ["attn.c_proj.weight", "mlp.c_proj.weight", "mlp.w2.weight"].contains { name.hasSuffix($0) }
    }
}
