// Finding a model and its tokenizer from a path given on the command line.
import Foundation
import GPTKit
import GPTFiles

/// A model with the tokenizer that goes with it.
struct LoadedModel {
    let model: GPT
    let tokenizer: (any Tokenizer)?
    let description: String
    /// Prepend BOS to prompts (llama2.c models were trained with it).
    let prependsBOS: Bool
    /// The parsed file of a GGUF model (its metadata: chat template, special tokens).
    var gguf: GGUFFile? = nil
}

enum ModelLoading {
    /// Loads `path`: a `gpt train` output or Hugging Face directory (config.json +
    /// model.safetensors), or a llama2.c `.bin` checkpoint. The tokenizer comes from
    /// `tokenizerPath` when given, else from files in the directory. A GGUF's matrices stay in
    /// their stored formats unless `dequantize`; `floatActivations` multiplies its Q8_0/Q4
    /// matrices with float32 activations rather than 8-bit ones.
    /// With `adapterPath`, the PEFT LoRA adapter in that directory is attached (not merged).
    static func load(path: String, tokenizerPath: String?, dequantize: Bool = false, floatActivations: Bool = false,
                     adapterPath: String? = nil) throws -> LoadedModel {
        let loaded = try loadBase(path: path, tokenizerPath: tokenizerPath, dequantize: dequantize, floatActivations: floatActivations)
        guard let adapterPath else { return loaded }
        let directory = try PathArguments.url(adapterPath, option: "adapter")
        let adapted = try loaded.model.loadingAdapter(directory: directory)
        return LoadedModel(model: adapted, tokenizer: loaded.tokenizer, description: loaded.description + " with the adapter \(adapterPath)",
                           prependsBOS: loaded.prependsBOS, gguf: loaded.gguf)
    }

    private static func loadBase(path: String, tokenizerPath: String?, dequantize: Bool, floatActivations: Bool) throws -> LoadedModel {
        let url = try PathArguments.url(path, option: "model")
        // A checkpoint whose save was cut between the renames of a non-atomic switch is put back.
        Trainer.recoverCheckpoint(at: url)
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory) else {
            throw UsageError(message: "--model: no such file or directory: \(path)")
        }
        if isDirectory.boolValue {
            let model = try GPT(directory: url)
            let tokenizer = try tokenizerPath.map { try loadTokenizer($0) } ?? tokenizerInDirectory(url)
            return LoadedModel(model: model, tokenizer: tokenizer, description: "directory \(path)", prependsBOS: addsBOS(tokenizer))
        }
        if url.pathExtension.lowercased() == "gguf" {
            let file = try GGUFFile(contentsOf: url)
            let model = try GPT(gguf: file, name: url.lastPathComponent, weights: dequantize ? .dequantized : .stored,
                                activations: floatActivations ? .float32 : .int8)
            let tokenizer = try tokenizerPath.map { try loadTokenizer($0, vocabularySize: model.configuration.vocabularySize) }
                ?? file.tokenizer(name: url.lastPathComponent)
            return LoadedModel(model: model, tokenizer: tokenizer, description: "GGUF \(path)", prependsBOS: addsBOS(tokenizer), gguf: file)
        }
        let model = try GPT(llama2cCheckpointAt: url)
        let tokenizer = try tokenizerPath.map { try loadTokenizer($0, vocabularySize: model.configuration.vocabularySize) }
        return LoadedModel(model: model, tokenizer: tokenizer, description: "llama2.c checkpoint \(path)", prependsBOS: true)
    }

    /// Whether prompts get BOS: a SentencePiece tokenizer that says so (GGUF
    /// `tokenizer.ggml.add_bos_token`, a tokenizer.json post-processor).
    static func addsBOS(_ tokenizer: (any Tokenizer)?) -> Bool {
        (tokenizer as? SentencePieceTokenizer)?.addsBOSToken ?? false
    }

    /// The chat template of a model: a GGUF's `tokenizer.chat_template`, else a folder's
    /// `chat_template.jinja` or the `chat_template` of its `tokenizer_config.json` (with that
    /// file's `bos_token` and `eos_token`).
    static func chatTemplate(modelPath: String, gguf: GGUFFile?) throws -> (source: String, bos: String?, eos: String?) {
        if let source = gguf?.metadata["tokenizer.chat_template"]?.string { return (source, nil, nil) }
        let folder = try PathArguments.url(modelPath, option: "model")
        var bos: String?, eos: String?, source: String?
        let config = folder.appendingPathComponent("tokenizer_config.json")
        if let data = try? Files.read(config), let json = try? JSONSerialization.jsonObject(with: data) as? [String: Any] {
            func token(_ value: Any?) -> String? { value as? String ?? (value as? [String: Any])?["content"] as? String }
            bos = token(json["bos_token"])
            eos = token(json["eos_token"])
            if let text = json["chat_template"] as? String { source = text }
            if let named = json["chat_template"] as? [[String: Any]] {
                source = named.first { $0["name"] as? String == "default" }?["template"] as? String ?? named.first?["template"] as? String
            }
        }
        if let text = try? Files.readText(folder.appendingPathComponent("chat_template.jinja")) { source = text }
        guard let source else {
            throw UsageError(message: "\(modelPath) has no chat template (a GGUF's tokenizer.chat_template, chat_template.jinja or tokenizer_config.json)")
        }
        return (source, bos, eos)
    }

    /// Only the tokenizer of `modelPath` (no weights are loaded): `tokenizerPath` if given,
    /// else a GGUF's metadata or a folder's tokenizer files.
    static func tokenizer(modelPath: String, tokenizerPath: String?) throws -> (any Tokenizer)? {
        if let tokenizerPath { return try loadTokenizer(tokenizerPath) }
        let url = try PathArguments.url(modelPath, option: "model")
        if url.pathExtension.lowercased() == "gguf" { return try GGUFFile(contentsOf: url).tokenizer(name: url.lastPathComponent) }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory) else {
            throw UsageError(message: "--model: no such file or directory: \(modelPath)")
        }
        return isDirectory.boolValue ? try tokenizerInDirectory(url) : nil
    }

    /// The tokenizer files a directory holds: `tokenizer.json` (characters or Hugging Face),
    /// `encoder.json` + `vocab.bpe` (GPT-2), or `tokenizer.bin` (llama2.c).
    static func tokenizerInDirectory(_ directory: URL) throws -> (any Tokenizer)? {
        let manager = FileManager.default
        func exists(_ name: String) -> Bool { manager.fileExists(atPath: directory.appendingPathComponent(name).path) }
        if exists("encoder.json") && exists("vocab.bpe") { return try GPT2Tokenizer(directory: directory) }
        if exists("tokenizer.json") { return try loadTokenizer(url: directory.appendingPathComponent("tokenizer.json")) }
        if exists("tokenizer.bin") { return try LlamaTokenizer(contentsOf: directory.appendingPathComponent("tokenizer.bin")) }
        return nil
    }

    /// `char` is not a file; anything else is a directory (GPT-2 files), a `.json` (character
    /// tokenizer or Hugging Face tokenizer.json) or a llama2.c `.bin`.
    static func loadTokenizer(_ path: String, vocabularySize: Int? = nil) throws -> any Tokenizer {
        let url = try PathArguments.url(path, option: "tokenizer")
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory) else {
            throw UsageError(message: "--tokenizer: no such file or directory: \(path)")
        }
        if isDirectory.boolValue { return try GPT2Tokenizer(directory: url) }
        return try loadTokenizer(url: url, vocabularySize: vocabularySize)
    }

    /// A tokenizer file: a llama2.c `.bin`, a GGUF's metadata, else a character tokenizer's JSON
    /// or a Hugging Face tokenizer.json.
    static func loadTokenizer(url: URL, vocabularySize: Int? = nil) throws -> any Tokenizer {
        if url.pathExtension == "bin" { return try LlamaTokenizer(contentsOf: url, vocabularySize: vocabularySize) }
        if url.pathExtension.lowercased() == "gguf" {
            // A GGUF's own tokenizer (e.g. for a model fully fine-tuned from it).
            guard let tokenizer = try GGUFFile(contentsOf: url).tokenizer(name: url.lastPathComponent) else {
                throw UsageError(message: "--tokenizer: \(url.path) holds no tokenizer")
            }
            return tokenizer
        }
        // A character tokenizer's JSON, else a Hugging Face tokenizer.json.
        if let characters = try? CharacterTokenizer(contentsOf: url) { return characters }
        return try TokenizerJSON.load(contentsOf: url)
    }

    /// Where `--tokenizer gpt2` finds OpenAI's files: `$GPTKIT_GPT2_TOKENIZER`, else
    /// `../shared/data/gpt2-tokenizer` or `./gpt2-tokenizer`.
    static func gpt2TokenizerDirectory() throws -> URL {
        var candidates = ["../shared/data/gpt2-tokenizer", "gpt2-tokenizer"]
        if let configured = ProcessInfo.processInfo.environment["GPTKIT_GPT2_TOKENIZER"] { candidates.insert(configured, at: 0) }
        for candidate in candidates where FileManager.default.fileExists(atPath: candidate + "/encoder.json") {
            return URL(fileURLWithPath: candidate)
        }
        throw UsageError(message: "--tokenizer gpt2: encoder.json + vocab.bpe not found in \(candidates.joined(separator: ", ")); give a directory instead")
    }
}
