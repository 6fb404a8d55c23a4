// gpt finetune: supervised fine-tuning on chat or prompt–completion data (trl's formats), of the
// whole model or of LoRA adapters over its frozen (even quantized) weights.
import Dispatch
import Foundation
import GPTKit
import GPTFiles

enum FinetuneCommand {
    static let usage = """
    usage: gpt finetune --model PATH --data FILE.jsonl [options]
      --model PATH              a GGUF file, a Hugging Face folder or a gpt train output
      --data FILE.jsonl         records in trl's formats: {"messages": […]}, {"prompt", "completion"}
                                (strings or message lists) or {"text"}; chats are rendered with the
                                model's chat template and only the replies and completions are trained
      --lora RANK               train LoRA adapters of this rank over the frozen weights, kept as
                                stored (a GGUF's Q4/Q8 blocks: QLoRA); default: the whole model
      --lora-alpha A            LoRA α (default 2 × rank)
      --lora-dropout P          dropout on the adapters' input (default 0.05)
      --lora-targets LIST       projections to adapt: q,k,v,o,gate,up,down or module names (default q,k,v,o)
      --packing                 pack several examples a row (attention kept inside each); default:
                                one example a row, padded to the batch's longest
      --epochs N | --steps N    passes over the data (default 1), or optimizer steps
      --batch N                 rows per micro-batch (default 4)
      --seq N                   tokens per example and row (default the context, at most 512)
      --drop-long               drop examples longer than --seq (default: keep their first tokens)
      --all-tokens              train on every token, not only replies and completions
      --lr X --min-lr X         peak and final learning rate (default 2e-4 with LoRA, 2e-5 without; 0)
      --warmup N                warmup steps (default 3% of the steps)
      --weight-decay X          AdamW weight decay (default 0); --clip X the gradient-norm clip (default 1)
      --accumulation N          micro-batches per step (default 1)
      --recompute none|block    gradient checkpointing (default none)
      --validation-fraction F   examples held out for the validation loss (default 0.1 from 20 examples)
      --eval-interval N         validation every N steps (default: 10 times a run, and at the end)
      --sample-tokens N         tokens per reply in samples.txt, before and after (default 64)
      --seed N                  data order, adapter initialisation and dropout (default 1)
      --out DIR                 output folder (default finetuned)
      --json                    one JSON object per step on stdout (step, loss, lr, grad_norm,
                                tokens_per_s; validation_loss when evaluated)
    Writes to --out: with --lora, the adapter in PEFT's layout (adapter_model.safetensors,
    adapter_config.json), used as gpt chat --model PATH --adapter DIR; without, the model
    (config.json, model.safetensors, the tokenizer files of a folder, chat_template.jinja; for a
    GGUF model add --tokenizer PATH.gguf). Also loss.svg and samples.txt (replies to the first
    prompts before and after).
    """

    static let optionNames: Set<String> = ["model", "tokenizer", "data", "lora", "lora-alpha", "lora-dropout", "lora-targets", "epochs",
                                           "steps", "batch", "seq", "lr", "min-lr", "warmup", "weight-decay", "clip", "accumulation",
                                           "recompute", "validation-fraction", "eval-interval", "sample-tokens", "seed", "out"]
    static let outputFiles: Set<String> = ["adapter_model.safetensors", "adapter_config.json", "config.json", "model.safetensors",
                                           "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "chat_template.jinja",
                                           "encoder.json", "vocab.bpe", "tokenizer.bin", "loss.svg", "samples.txt"]

    static func run(_ arguments: [String]) throws {
        let options = try Arguments(arguments, options: optionNames, switches: ["packing", "json", "drop-long", "all-tokens"])
        if options.helpRequested { print(usage); return }
        guard let path = options.string("model") else { throw UsageError(message: "--model is required") }
        guard let dataPath = options.string("data") else { throw UsageError(message: "--data FILE.jsonl is required") }
        let json = options.has("json")
        let rank = try options.optionalInteger("lora", range: 1...4096)
        let seed = UInt64(try options.integer("seed", default: 1))
        let out = try PathArguments.url(options.string("out") ?? "finetuned", option: "out", creatingFolder: true)
        try checkOutput(out)
        try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
        if options.string("steps") != nil && options.string("epochs") != nil { throw UsageError(message: "give --epochs or --steps, not both") }

        let loaded = try ModelLoading.load(path: path, tokenizerPath: options.string("tokenizer"))
        guard let tokenizer = loaded.tokenizer else { throw UsageError(message: "no tokenizer found for \(path): pass --tokenizer") }
        let chat = try GeneratorSetup.chatFormat(loaded, tokenizer: tokenizer, path: path, options: options)
        let context = loaded.model.configuration.contextLength
        let sequence = try options.integer("seq", default: min(context, 512), range: 2...context)
        let dataOptions = SFTDataOptions(maximumLength: min(context, sequence + 1), overlong: options.has("drop-long") ? .drop : .truncate,
                                         lossTokens: options.has("all-tokens") ? .all : .completions)
        let all = try SFTDataset(contentsOf: try PathArguments.url(dataPath, option: "data"), tokenizer: tokenizer, chat: chat,
                                 options: dataOptions)
        guard !all.examples.isEmpty else { throw UsageError(message: "--data: no example is left (\(all.report.summary))") }
        let fraction = try options.optionalDouble("validation-fraction") ?? (all.examples.count >= 20 ? 0.1 : 0)
        guard (0...0.5).contains(fraction) else { throw UsageError(message: "--validation-fraction must be between 0 and 0.5") }
        let (train, validation) = all.split(validationFraction: fraction, seed: seed)
        if !json {
            print("data: \(all.report.summary); \(train.examples.count) for training, \(validation.examples.count) held out")
        }

        // The model to train: the whole of it, or adapters over it.
        var model = loaded.model
        if let rank {
            let targets = options.string("lora-targets").map { $0.split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) } }
                ?? ["q", "k", "v", "o"]
            let lora = LoRAConfiguration(rank: rank, alpha: try options.float("lora-alpha", default: Float(2 * rank), range: 1e-6...1e6),
                                         dropout: try options.float("lora-dropout", default: 0.05, range: 0...0.99), targets: targets)
            model = try model.addingAdapters(lora, seed: seed)
        }
        let padID = Int32(tokenizer.eosTokenID ?? 0)
        let packing = options.has("packing"), batch = try options.integer("batch", default: 4, range: 1...100_000)
        let accumulation = try options.integer("accumulation", default: 1, range: 1...10_000)
        let perEpoch = try train.batches(batchSize: batch, sequenceLength: sequence, packing: packing, padTokenID: padID).count
        let stepsPerEpoch = max(1, perEpoch / accumulation)
        let steps = try options.string("steps") != nil ? options.integer("steps", default: 1, range: 1...10_000_000)
            : stepsPerEpoch * options.integer("epochs", default: 1, range: 1...100_000)
        var settings = TrainingConfiguration(batchSize: batch, sequenceLength: sequence, steps: steps)
        let lr = try options.float("lr", default: rank == nil ? 2e-5 : 2e-4, range: 0...10)
        settings.schedule = .warmupCosine(maximum: lr, minimum: try options.float("min-lr", default: 0, range: 0...10),
                                          warmupSteps: try options.integer("warmup", default: max(0, steps * 3 / 100), range: 0...10_000_000),
                                          decaySteps: steps)
        settings.beta2 = 0.999
        settings.weightDecay = try options.float("weight-decay", default: 0, range: 0...10)
        settings.gradientClip = try options.float("clip", default: 1, range: 0...1e6)
        settings.accumulationSteps = accumulation
        settings.seed = seed
        switch options.string("recompute") ?? "none" {
        case "none": settings.recompute = .none
        case "block": settings.recompute = .perBlock
        case let other: throw UsageError(message: "--recompute must be none or block, got '\(other)'")
        }
        let trainer = try Trainer(model: model, configuration: settings, training: nil)
        let sampleTokens = try options.integer("sample-tokens", default: 64, range: 1...100_000)
        let prompts = Array((validation.examples.isEmpty ? train.examples : validation.examples).prefix(3)).map(promptTokens)
        var stops = chat?.stopTokens ?? []
        if let eos = tokenizer.eosTokenID { stops.insert(eos) }
        let before = try replies(trainer.model, tokenizer: tokenizer, prompts: prompts, maximumTokens: sampleTokens, stops: stops)

        // The loop: epochs of shuffled batches, `accumulation` micro-batches a step.
        let interval = try options.integer("eval-interval", default: max(1, steps / 10), range: 1...10_000_000)
        let display = ProgressDisplay()
        let start = DispatchTime.now().uptimeNanoseconds
        var pending: [TokenBatch] = [], epoch = 0, lastValidation: Float?, validationLosses: [(step: Int, loss: Float)] = []
        while trainer.step < steps {
            let order = train.shuffled(seed: seed &+ UInt64(epoch))
            epoch += 1
            for microBatch in try train.batches(batchSize: batch, sequenceLength: sequence, packing: packing, padTokenID: padID, order: order) {
                pending.append(microBatch)
                guard pending.count == accumulation else { continue }
                let t0 = DispatchTime.now().uptimeNanoseconds
                let result = try trainer.step(on: pending)
                let seconds = Double(DispatchTime.now().uptimeNanoseconds - t0) * 1e-9
                let tokens = pending.reduce(0) { $0 + $1.inputs.count }
                pending.removeAll()
                var validationLoss: Float?
                if !validation.examples.isEmpty && (trainer.step % interval == 0 || trainer.step == steps) {
                    validationLoss = try meanLoss(trainer.model, validation, batch: batch, sequence: sequence, packing: packing, pad: padID)
                    lastValidation = validationLoss
                    validationLosses.append((trainer.step, validationLoss!))
                }
                let elapsed = Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-9
                if json {
                    var object: [String: Any] = ["step": trainer.step, "loss": Double(result.loss), "lr": Double(result.learningRate),
                                                 "grad_norm": Double(result.gradientNorm), "tokens_per_s": Double(tokens) / max(seconds, 1e-9)]
                    if let validationLoss { object["validation_loss"] = Double(validationLoss) }
                    print(String(decoding: try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]), as: UTF8.self))
                    fflush(nil)
                } else {
                    display.show(TrainingProgress(step: trainer.step, totalSteps: steps, loss: result.loss, validationLoss: validationLoss,
                                                  learningRate: result.learningRate, gradientNorm: result.gradientNorm,
                                                  tokensPerSecond: Double(tokens) / max(seconds, 1e-9), elapsed: elapsed,
                                                  remaining: elapsed / Double(trainer.step) * Double(steps - trainer.step)),
                                 validationLoss: lastValidation)
                }
                if trainer.step == steps { break }
            }
        }
        if !json { display.finish() }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-9

        // Outputs.
        let trained = trainer.model
        let after = try replies(trained, tokenizer: tokenizer, prompts: prompts, maximumTokens: sampleTokens, stops: stops)
        if rank != nil {
            try trained.saveAdapter(directory: out, baseModelName: path)
        } else {
            try trained.save(directory: out)
            try writeCompanions(of: path, loaded: loaded, to: out)
        }
        var curve = LossCurve(title: "GPTKit fine-tuning loss")
        curve.train = trainer.trainingLosses
        curve.validation = validationLosses
        try curve.write(to: out.appendingPathComponent("loss.svg"))
        var samples = ""
        for (index, prompt) in prompts.enumerated() {
            samples += "--- prompt \(index + 1)\n\(try tokenizer.decode(prompt.map(Int.init)))\n--- before\n\(before[index])\n--- after\n\(after[index])\n\n"
        }
        try Data(samples.utf8).write(to: out.appendingPathComponent("samples.txt"), options: .atomic)
        if !json {
            print(String(format: "fine-tuned %d steps in %.1f s; final train loss %.4f, validation loss %@", trainer.step, seconds,
                         trainer.trainingLosses.last?.loss ?? .nan, lastValidation.map { String(format: "%.4f", $0) } ?? "-"))
            print("wrote \(PathArguments.displayed(out.path))/: " + (rank != nil ? "adapter_model.safetensors, adapter_config.json" : "config.json, model.safetensors")
                  + ", loss.svg, samples.txt")
            if rank != nil { print("chat with it: gpt chat --model \(path) --adapter \(PathArguments.displayed(out.path))") }
        }
    }

    /// Refuses an output folder that holds files this command does not write.
    static func checkOutput(_ out: URL) throws {
        guard let existing = try? FileManager.default.contentsOfDirectory(atPath: out.path) else {
            if FileManager.default.fileExists(atPath: out.path) { throw UsageError(message: "--out: \(out.path) is a file") }
            return
        }
        let foreign = existing.filter { !outputFiles.contains($0) && !$0.hasPrefix(".") }.sorted()
        guard foreign.isEmpty else {
            throw UsageError(message: "--out: \(out.path) holds other files (\(foreign.prefix(3).joined(separator: ", "))); choose another folder")
        }
    }

    /// The tokens of an example before its first trained token: its prompt.
    static func promptTokens(_ example: SFTExample) -> [Int32] {
        let first = example.trained.firstIndex(of: true) ?? example.tokens.count
        return Array(example.tokens.prefix(max(1, first)))
    }

    /// Greedy replies to `prompts`, decoded together.
    static func replies(_ model: GPT, tokenizer: any Tokenizer, prompts: [[Int32]], maximumTokens: Int, stops: Set<Int>) throws -> [String] {
        let options = GenerationOptions(maximumNewTokens: maximumTokens, stopTokens: stops)
        let sessions = try prompts.map { prompt in
            let session = try GenerationSession(model: model, options: options,
                                                cacheCapacity: min(model.configuration.contextLength, prompt.count + maximumTokens + 1))
            try session.start(prompt: prompt.map(Int.init))
            return session
        }
        var produced = [[Int]](repeating: [], count: prompts.count)
        while case let step = try GenerationSession.next(sessions), step.contains(where: { $0 != nil }) {
            for (index, token) in step.enumerated() { if let token { produced[index].append(token) } }
        }
        return try produced.map { try tokenizer.decode($0) }
    }

    /// The mean cross-entropy over the counted tokens of `data`.
    static func meanLoss(_ model: GPT, _ data: SFTDataset, batch: Int, sequence: Int, packing: Bool, pad: Int32) throws -> Float {
        let workspace = GPTWorkspace(model: model)
        var total = 0.0, counted = 0
        for rows in try data.batches(batchSize: batch, sequenceLength: sequence, packing: packing, padTokenID: pad) {
            let loss = try workspace.forward(tokens: rows.inputs, targets: rows.targets, positions: rows.positions,
                                             batch: rows.batchSize, time: rows.sequenceLength) ?? 0
            let count = rows.targets.filter { $0 != -100 }.count
            total += Double(loss) * Double(count)
            counted += count
        }
        return Float(total / Double(max(1, counted)))
    }

    /// What a fully fine-tuned model needs beside its weights: a folder's tokenizer files, and
    /// the chat template (a GGUF's, as chat_template.jinja).
    static func writeCompanions(of path: String, loaded: LoadedModel, to out: URL) throws {
        let source = URL(fileURLWithPath: path)
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: source.path, isDirectory: &isDirectory), isDirectory.boolValue {
            for name in ["tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "chat_template.jinja", "encoder.json", "vocab.bpe",
                         "tokenizer.bin"] {
                let file = source.appendingPathComponent(name)
                if FileManager.default.fileExists(atPath: file.path) {
                    try Files.read(file).write(to: out.appendingPathComponent(name), options: .atomic)
                }
            }
        } else if let template = loaded.gguf?.metadata["tokenizer.chat_template"]?.string {
            try Data(template.utf8).write(to: out.appendingPathComponent("chat_template.jinja"), options: .atomic)
        }
    }
}
