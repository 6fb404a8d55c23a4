// Reading a model's configuration from GGUF metadata: llama.cpp's keys (`<arch>.block_count`,
// `<arch>.attention.head_count`, …) are translated into the family's Hugging Face config.json
// keys, so one reader validates both kinds of file (unsupported RoPE scaling, sliding windows).
import GPTTensor

/// GGUF architectures GPTKit reads, and their translation to Hugging Face configurations.
public enum GGUFArchitectures {
    /// `general.architecture` → Hugging Face `model_type`.
    public static let modelTypes: [String: String] = ["llama": "llama", "qwen2": "qwen2", "gpt2": "gpt2"]

    /// The Hugging Face `config.json` object equivalent to a GGUF file's metadata (sizes from
    /// the metadata; tied embeddings and biases from which tensors exist).
    /// - Throws: `ModelError.invalidConfiguration` naming the missing or unsupported key.
    public static func huggingFaceConfig(of file: GGUFFile, name: String) throws -> [String: JSONConfigValue] {
        let metadata = file.metadata
        guard let architecture = metadata["general.architecture"]?.string else {
            throw ModelError.invalidConfiguration("\(name): no 'general.architecture' string in the metadata")
        }
        guard let modelType = modelTypes[architecture] else {
            throw ModelError.unsupported("\(name): GGUF architecture '\(architecture)' (GPTKit reads \(modelTypes.keys.sorted().joined(separator: ", ")))")
        }
        func key(_ suffix: String) -> String { "\(architecture).\(suffix)" }
        func integer(_ suffix: String) throws -> JSONConfigValue? {
            guard let value = metadata[key(suffix)] else { return nil }
            guard let number = value.integer else { throw ModelError.invalidConfiguration("\(name): '\(key(suffix))' must be an integer, got \(value.type.name)") }
            return .integer(number)
        }
        func number(_ suffix: String) throws -> JSONConfigValue? {
            guard let value = metadata[key(suffix)] else { return nil }
            guard let number = value.number else { throw ModelError.invalidConfiguration("\(name): '\(key(suffix))' must be a number, got \(value.type.name)") }
            return .number(number)
        }
        func required(_ value: JSONConfigValue?, _ suffix: String) throws -> JSONConfigValue {
            guard let value else { throw ModelError.invalidConfiguration("\(name): the metadata has no '\(key(suffix))'") }
            return value
        }
        guard let embedding = file.tensor(named: "token_embd.weight"), embedding.shape.count == 2 else {
            throw ModelError.missingTensor("\(name): token_embd.weight (a matrix) is missing")
        }
        let vocabulary = try integer("vocab_size") ?? .integer(embedding.shape[0])
        let tied = file.tensor(named: "output.weight") == nil
        var json: [String: JSONConfigValue] = ["model_type": .string(modelType), "vocab_size": vocabulary, "tie_word_embeddings": .bool(tied)]
        if modelType == "gpt2" {
            json["n_positions"] = try required(integer("context_length"), "context_length")
            json["n_embd"] = try required(integer("embedding_length"), "embedding_length")
            json["n_layer"] = try required(integer("block_count"), "block_count")
            json["n_head"] = try required(integer("attention.head_count"), "attention.head_count")
            json["n_inner"] = try integer("feed_forward_length")
            json["layer_norm_epsilon"] = try number("attention.layer_norm_epsilon")
            return json
        }
        json["hidden_act"] = .string("silu")
        json["max_position_embeddings"] = try required(integer("context_length"), "context_length")
        json["hidden_size"] = try required(integer("embedding_length"), "embedding_length")
        json["num_hidden_layers"] = try required(integer("block_count"), "block_count")
        json["intermediate_size"] = try required(integer("feed_forward_length"), "feed_forward_length")
        json["num_attention_heads"] = try required(integer("attention.head_count"), "attention.head_count")
        json["num_key_value_heads"] = try integer("attention.head_count_kv")
        json["rms_norm_eps"] = try number("attention.layer_norm_rms_epsilon")
        json["rope_theta"] = try number("rope.freq_base")
        json["head_dim"] = try integer("attention.key_length")
        if modelType == "llama" { json["attention_bias"] = .bool(file.tensor(named: "blk.0.attn_q.bias") != nil) }
        // What GPTKit does not implement is refused by the family's reader, not run wrong.
        if let scaling = metadata[key("rope.scaling.type")]?.string, scaling != "none" {
            json["rope_scaling"] = .object(["type": .string(scaling)])
        }
        if let window = try integer("attention.sliding_window") {
            json["use_sliding_window"] = .bool(true)
            json["sliding_window"] = window
        }
        if let keyLength = metadata[key("attention.key_length")]?.integer, let valueLength = metadata[key("attention.value_length")]?.integer,
           keyLength != valueLength {
            throw ModelError.unsupported("\(name): key head size \(keyLength) differs from value head size \(valueLength)")
        }
        if let rotary = try integer("rope.dimension_count")?.integerValue {
            let heads = json["num_attention_heads"]?.integerValue ?? 1, width = json["hidden_size"]?.integerValue ?? 0
            let headSize = json["head_dim"]?.integerValue ?? (heads > 0 ? width / heads : 0)
            guard rotary == headSize else {
                throw ModelError.unsupported("\(name): '\(key("rope.dimension_count"))' is \(rotary), not the head size \(headSize) (partial rotary embeddings are not supported)")
            }
        }
        return json
    }

    /// Whether the file's q and k projection rows are in llama.cpp's interleaved rotary order
    /// (its converter permutes Hugging Face's Llama weights; Qwen2's are left as they are).
    public static func permutesQueryKey(_ file: GGUFFile) -> Bool { file.metadata["general.architecture"]?.string == "llama" }
}

extension JSONConfigValue {
    /// The value as an integer, if it is one.
    var integerValue: Int? { if case .integer(let value) = self { value } else { nil } }
}
