// gpt eval (loss and perplexity on a text) and gpt info (what a checkpoint holds).
import Foundation
import GPTKit
import GPTFiles

enum EvalCommand {
    static let usage = """
    usage: gpt eval --model PATH --data FILE [--tokenizer PATH] [--batch N] [--seq N] [--batches N]
                    [--quantize q8_0|q4_0|q4_1|q4_k|q6_k|f16|bf16] [--dequantize] [--float-activations]
      Mean next-token loss and perplexity of the model on consecutive windows of FILE
      (a text, or an llm.c .bin shard). Defaults: batch 8, seq = the model's context (at most 256),
      as many batches as the text fills (at most --batches, default 50).
      --quantize FORMAT    evaluate the model with its matrices quantized to FORMAT in memory
                           (GPT.quantized(to:)), to measure what quantizing costs
      --dequantize         a GGUF in float32 from its dequantized weights (default: as stored)
      --float-activations  Q8_0/Q4 products with float32 activations instead of 8-bit ones
    """

    static func run(_ arguments: [String]) throws {
        let options = try Arguments(arguments, options: ["model", "data", "tokenizer", "batch", "seq", "batches", "quantize"],
                                    switches: ["dequantize", "float-activations"])
        if options.helpRequested { print(usage); return }
        guard let path = options.string("model") else { throw UsageError(message: "--model is required") }
        guard let dataPath = options.string("data") else { throw UsageError(message: "--data is required") }
        let loaded = try ModelLoading.load(path: path, tokenizerPath: options.string("tokenizer"), dequantize: options.has("dequantize"),
                                           floatActivations: options.has("float-activations"))
        let url = try PathArguments.url(dataPath, option: "data")
        if let problem = Files.problemReading(url) { throw UsageError(message: "--data: \(dataPath): \(problem)") }
        let data: TokenDataset
        if url.pathExtension == "bin" {
            data = try TokenDataset(shard: url)
        } else {
            guard let tokenizer = loaded.tokenizer else { throw UsageError(message: "no tokenizer found for \(path): pass --tokenizer") }
            data = try TokenDataset(contentsOf: url, tokenizer: tokenizer)
        }
        var model = loaded.model
        if let name = options.string("quantize") {
            let formats: [String: WeightFormat] = ["q8_0": .q8_0, "q4_0": .q4_0, "q4_1": .q4_1, "q4_k": .q4_K, "q6_k": .q6_K, "f16": .float16, "bf16": .bfloat16]
            guard let format = formats[name.lowercased()] else {
                throw UsageError(message: "--quantize: '\(name)' is not one of \(formats.keys.sorted().joined(separator: ", "))")
            }
            model = try model.quantized(to: format, activations: options.has("float-activations") ? .float32 : .int8)
        }
        let seq = try options.integer("seq", default: min(256, model.configuration.contextLength), range: 1...model.configuration.contextLength)
        let batch = try options.integer("batch", default: 8, range: 1...100_000)
        let available = max(1, (data.tokens.count - 1) / (batch * seq))
        let batches = min(available, try options.integer("batches", default: 50, range: 1...1_000_000))
        let loss = try model.meanLoss(on: data, batchSize: batch, sequenceLength: seq, batches: batches)
        print(String(format: "loss %.4f  perplexity %.2f  (%d batches of %d × %d tokens)", loss, Foundation.exp(Double(loss)), batches, batch, seq))
    }
}

enum InfoCommand {
    static let usage = """
    usage: gpt info --model PATH [--tokenizer PATH]
      The configuration, parameter count and memory of a checkpoint, and its training state.
    """

    static func run(_ arguments: [String]) throws {
        let options = try Arguments(arguments, options: ["model", "tokenizer"], switches: [])
        if options.helpRequested { print(usage); return }
        guard let path = options.string("model") else { throw UsageError(message: "--model is required") }
        let loaded = try ModelLoading.load(path: path, tokenizerPath: options.string("tokenizer"), dequantize: options.has("dequantize"),
                                           floatActivations: options.has("float-activations"))
        let c = loaded.model.configuration
        print("model: \(loaded.description)")
        print("parameters: \(loaded.model.parameterCount) (\(String(format: "%.1f", Double(loaded.model.parameterCount) * 4 / 1_048_576)) MiB as Float32)")
        print("layers \(c.layerCount), heads \(c.headCount) (key/value heads \(c.keyValueHeadCount)), width \(c.embeddingDimensions), "
              + "hidden \(c.hiddenDimensions), context \(c.contextLength), vocabulary \(c.vocabularySize)")
        print("positions \(c.positionalEncoding), norm \(c.normalization) (ε \(c.normalizationEpsilon)), feed-forward \(c.feedForward), "
              + "biases \(c.usesBias), tied embeddings \(c.tiesEmbeddings), dropout \(c.dropout)")
        let nonFinite = loaded.model.weights.nonFiniteParameters()
        if nonFinite.isEmpty {
            print("weights: all finite")
        } else {
            print("weights: \(nonFinite.count) tensor(s) hold NaN or infinity: "
                + nonFinite.prefix(5).map { "\($0.name) (\($0.count) elements)" }.joined(separator: ", "))
        }
        if let file = loaded.gguf { printSummary(of: file) }
        if let tokenizer = loaded.tokenizer { print("tokenizer: \(type(of: tokenizer)), \(tokenizer.vocabularySize) tokens") }
        let state = try PathArguments.url(path, option: "model").appendingPathComponent("trainer.json")
        if let data = try? Data(contentsOf: state), let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
           let step = object["step"] as? Int {
            let losses = object["trainingLosses"] as? [Double] ?? [], validation = object["validationLosses"] as? [Double] ?? []
            print("training: step \(step), last loss \(losses.last.map { String(format: "%.4f", $0) } ?? "-"), "
                  + "last validation loss \(validation.last.map { String(format: "%.4f", $0) } ?? "-")")
        }
    }
}

extension InfoCommand {
    /// A GGUF's metadata in brief: architecture, tensor formats, tokenizer, chat template.
    static func printSummary(of file: GGUFFile) {
        let m = file.metadata
        var formats: [String: Int] = [:]
        for tensor in file.tensors { formats[tensor.format.rawValue, default: 0] += 1 }
        print("GGUF v\(file.version): \(m["general.name"]?.string.map { "'\($0)', " } ?? "")architecture \(m["general.architecture"]?.string ?? "?"), "
              + "\(file.metadata.count) metadata keys, \(file.tensors.count) tensors ("
              + formats.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key)" }.joined(separator: ", ") + ")")
        let tokens = m["tokenizer.ggml.tokens"]?.array?.count ?? 0, merges = m["tokenizer.ggml.merges"]?.array?.count ?? 0
        print("GGUF tokenizer: \(m["tokenizer.ggml.model"]?.string ?? "none") (pre \(m["tokenizer.ggml.pre"]?.string ?? "default")), "
              + "\(tokens) tokens, \(merges) merges, bos \(m["tokenizer.ggml.bos_token_id"]?.integer.map(String.init) ?? "-"), "
              + "eos \(m["tokenizer.ggml.eos_token_id"]?.integer.map(String.init) ?? "-")")
        if let template = m["tokenizer.chat_template"]?.string { print("chat template: \(template.utf8.count) bytes") }
    }
}

