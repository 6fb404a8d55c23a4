// gpt eval (loss and perplexity on a text) and gpt info (what a checkpoint holds).
import Foundation
import GPTKit
import GPTFiles

enum EvalCommand {
    static let usage = """
    usage: gpt eval --model PATH (--data FILE | --task FILE.jsonl) [--tokenizer PATH] [options]
      --data FILE: sliding-window perplexity and bits per byte of the model on FILE (a text, or an
      llm.c .bin shard: no bits per byte), as the Hugging Face perplexity recipe windows it
      (each window scores the tokens the last one did not reach, with the rest of it as context).
        --window N           tokens per window (default: the context, at most 1024)
        --stride N           tokens between window starts (default: half a window)
        --batch N            windows per forward pass (default 4)
        --max-tokens N       only the first N tokens of the text
        --quantize FORMAT    evaluate with the matrices quantized in memory to q8_0|q4_0|q4_1|q4_k|q6_k|f16|bf16
        --dequantize         a GGUF in float32 from its dequantized weights (default: as stored)
        --float-activations  Q8_0/Q4 products with float32 activations instead of 8-bit ones
      --task FILE.jsonl: generates a reply for each line {"prompt": … or "messages": […],
      "reference": … or […]} (greedy by default; chats use the model's template) and scores the
      replies (leading and trailing whitespace trimmed) with --metric (default bleu,chrf,rouge);
      writes generations.jsonl and scores.json to --out DIR (default: TASKNAME-eval).
        --batch N            replies decoded together in each step (default 8; a finished
                             reply's place goes to the next prompt at once)
    """ + "\n" + GeneratorSetup.usage(maxTokens: 128) + """

      --metric LIST        bleu, chrf, rouge (comma-separated)
      --stem               ROUGE with the Porter stemmer
      --json               print the result as one JSON object
    """

    static func run(_ arguments: [String]) throws {
        let options = try Arguments(arguments, options: GeneratorSetup.optionNames.union(
                                        ["model", "adapter", "data", "task", "window", "stride", "batch", "quantize", "out", "metric"]),
                                    switches: GeneratorSetup.switchNames.union(["json", "stem"]))
        if options.helpRequested { print(usage); return }
        guard let path = options.string("model") else { throw UsageError(message: "--model is required") }
        switch (options.string("data"), options.string("task")) {
        case (let data?, nil): try perplexity(path: path, dataPath: data, options: options)
        case (nil, let taskFile?): try runTask(path: path, taskPath: taskFile, options: options)
        case (nil, nil): throw UsageError(message: "--data FILE or --task FILE.jsonl is required")
        default: throw UsageError(message: "give --data or --task, not both")
        }
    }

    // MARK: - Perplexity

    static func perplexity(path: String, dataPath: String, options: Arguments) throws {
        let loaded = try ModelLoading.load(path: path, tokenizerPath: options.string("tokenizer"), dequantize: options.has("dequantize"),
                                           floatActivations: options.has("float-activations"), adapterPath: options.string("adapter"))
        let url = try PathArguments.url(dataPath, option: "data")
        if let problem = Files.problemReading(url) { throw UsageError(message: "--data: \(dataPath): \(problem)") }
        var tokens: [Int]
        var bytes: Int?
        if url.pathExtension == "bin" {
            tokens = try TokenDataset(shard: url).tokens.map(Int.init)
        } else {
            guard let tokenizer = loaded.tokenizer else { throw UsageError(message: "no tokenizer found for \(path): pass --tokenizer") }
            let text = try EvaluationFiles.text(of: url)
            tokens = try tokenizer.encode(text)
            if loaded.prependsBOS, let bos = tokenizer.bosTokenID { tokens.insert(bos, at: 0) }
            bytes = text.utf8.count
        }
        if let limit = try options.optionalInteger("max-tokens", range: 2...Int.max), limit < tokens.count {
            // Bits per byte needs the bytes of the tokens kept: without them, none.
            tokens.removeLast(tokens.count - limit)
            bytes = nil
        }
        var model = loaded.model
        if let name = options.string("quantize") {
            let formats: [String: WeightFormat] = ["q8_0": .q8_0, "q4_0": .q4_0, "q4_1": .q4_1, "q4_k": .q4_K, "q6_k": .q6_K, "f16": .float16, "bf16": .bfloat16]
            guard let format = formats[name.lowercased()] else {
                throw UsageError(message: "--quantize: '\(name)' is not one of \(formats.keys.sorted().joined(separator: ", "))")
            }
            model = try model.quantized(to: format, activations: options.has("float-activations") ? .float32 : .int8)
        }
        let context = model.configuration.contextLength
        guard context >= 2 else { throw UsageError(message: "the model's context (\(context)) is too short for perplexity") }
        let window = try options.integer("window", default: min(context, 1024), range: 2...context)
        let stride = try options.integer("stride", default: max(1, window / 2), range: 1...window)
        let batch = try options.integer("batch", default: 4, range: 1...4096)
        let json = options.has("json")
        let start = Date()
        let result = try model.perplexity(tokens: tokens, windowLength: window, stride: stride, batchSize: batch, byteCount: bytes) { p in
            guard !json, isatty(STDERR_FILENO) != 0 else { return }
            let elapsed = Date().timeIntervalSince(start)
            let remaining = elapsed / Double(p.windowsDone) * Double(p.windowCount - p.windowsDone)
            FileHandle.standardError.write(Data("\r\u{1B}[Kwindow \(p.windowsDone)/\(p.windowCount)  ETA \(ProgressDisplay.duration(remaining))".utf8))
        }
        if !json, isatty(STDERR_FILENO) != 0 { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
        let seconds = Date().timeIntervalSince(start)
        if json {
            var object: [String: Any] = ["loss": result.meanNegativeLogLikelihood, "perplexity": result.perplexity, "tokens": result.tokenCount,
                                         "windows": result.windowCount, "window": window, "stride": stride,
                                         "nll_sum": result.negativeLogLikelihood, "tokens_per_second": Double(result.tokenCount) / seconds]
            if let bpb = result.bitsPerByte { object["bits_per_byte"] = bpb; object["bytes"] = result.byteCount }
            print(String(decoding: try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]), as: UTF8.self))
        } else {
            print(String(format: "loss %.4f  perplexity %.4f  ", result.meanNegativeLogLikelihood, result.perplexity)
                  + (result.bitsPerByte.map { String(format: "bits/byte %.4f  ", $0) } ?? "")
                  + "(\(result.tokenCount) tokens scored in \(result.windowCount) windows of \(window), stride \(stride))")
        }
    }

    // MARK: - Task

    static func runTask(path: String, taskPath: String, options: Arguments) throws {
        let taskURL = try PathArguments.url(taskPath, option: "task")
        let examples = try EvaluationFiles.taskExamples(of: taskURL)
        let batchSize = try options.integer("batch", default: 8, range: 1...256)
        let metrics: [TextMetric]
        do { metrics = try TextMetric.list(options.string("metric") ?? "bleu,chrf,rouge") } catch {
            throw UsageError(message: "--metric: \(error.localizedDescription)")
        }
        let generator = try GeneratorSetup.make(path: path, options: options, defaultFilters: ["none"], defaultMaxTokens: 128)
        let out = try PathArguments.url(options.string("out") ?? taskURL.deletingPathExtension().lastPathComponent + "-eval",
                                        option: "out", creatingFolder: true)
        try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
        let json = options.has("json")
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let requests = examples.map { example in
            example.messages.map(GenerationRequest.messages) ?? .prompt(example.prompt ?? "")
        }
        let start = Date()
        var finished = 0
        let generations = try generator.generate(requests, batchSize: batchSize) { _, _ in
            finished += 1
            if !json, isatty(STDERR_FILENO) != 0 {
                let elapsed = Date().timeIntervalSince(start)
                let remaining = elapsed / Double(finished) * Double(examples.count - finished)
                FileHandle.standardError.write(Data("\r\u{1B}[K\(finished)/\(examples.count) generated  ETA \(ProgressDisplay.duration(remaining))".utf8))
            }
        }
        var lines: [String] = []
        var predictions: [String] = []
        for (index, (example, generation)) in zip(examples, generations).enumerated() {
            let prediction = generation.text.trimmingCharacters(in: .whitespacesAndNewlines)
            predictions.append(prediction)
            let record = TaskRecord(index: index, prompt: example.prompt, messages: example.messages, generation: prediction,
                                    references: example.references, result: generation)
            lines.append(String(decoding: try encoder.encode(record), as: UTF8.self))
        }
        if !json, isatty(STDERR_FILENO) != 0 { FileHandle.standardError.write(Data("\n".utf8)) }
        let scores = try MetricScores(predictions: predictions, references: examples.map(\.references), metrics: metrics,
                                      rouge: ROUGE(stemming: options.has("stem")))
        let scoresJSON = try ScoreCommand.json(scores, intervals: nil)
        try Data((lines.joined(separator: "\n") + "\n").utf8).write(to: out.appendingPathComponent("generations.jsonl"), options: .atomic)
        try Data((scoresJSON + "\n").utf8).write(to: out.appendingPathComponent("scores.json"), options: .atomic)
        if json {
            print(scoresJSON)
        } else {
            print(scores.report)
            print("generations and scores written to \(out.path)")
        }
    }

    /// One line of generations.jsonl.
    struct TaskRecord: Encodable {
        let index: Int
        let prompt: String?
        let messages: [ChatMessage]?
        let generation: String
        let references: [String]
        let result: FilteredGeneration

        enum CodingKeys: String, CodingKey {
            case index, prompt, messages, generation, references, verdicts
            case finishReason = "finish_reason", promptTokens = "prompt_tokens", generatedTokens = "generated_tokens"
        }

        func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(index, forKey: .index)
            try c.encodeIfPresent(prompt, forKey: .prompt)
            try c.encodeIfPresent(messages, forKey: .messages)
            try c.encode(generation, forKey: .generation)
            try c.encode(references, forKey: .references)
            try c.encode(result.finishReason, forKey: .finishReason)
            try c.encode(result.promptTokens, forKey: .promptTokens)
            try c.encode(result.generatedTokens, forKey: .generatedTokens)
            try c.encode(result.verdicts, forKey: .verdicts)
        }
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
                                           floatActivations: options.has("float-activations"), adapterPath: options.string("adapter"))
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

