// gpt train: train a model on a text file (or the built-in arithmetic task) and write a
// checkpoint, a loss curve and samples.
import Dispatch
import Foundation
import GPTKit
import GPTFiles
import Synchronization

enum TrainCommand {
    static let usage = """
    usage: gpt train [--data FILE] [options]
      --data FILE               training text (or an llm.c .bin token shard); without it, GPTKit
                                trains on addition problems it generates (e.g. 47+85=132) and
                                reports its accuracy on 200 held-out problems
      --digits N                operand digits of the built-in task (default 2)
      --tokenizer T             char (default), gpt2, or a path (GPT-2 directory, tokenizer.json, tok*.bin)
      --preset P                nano, mini, gpt2-small, gpt2-medium (default: 4 layers, 4 heads,
                                width 128; 2 layers for the built-in task)
      --layers N --heads N --width N --context N   explicit sizes (override the preset)
      --dropout P               dropout rate (default 0)
      --batch N --seq N         batch size (default 12) and sequence length (default 64; 32 and 32
                                for the built-in task)
      --steps N                 optimizer steps (default 2000)
      --lr X --min-lr X         peak and final learning rate (default 1e-3, 3e-3 for the built-in
                                task, and lr/10)
      --warmup N                warmup steps (default 100; 30 for the built-in task)
      --weight-decay X          AdamW weight decay (default 0.1); --beta2 X its β2 (default 0.99 as
                                nanoGPT's character models; 0.95 for the built-in task)
      --clip X                  gradient-norm clip, 0 = off (default 1)
      --accumulation N          micro-batches per step (default 1)
      --recompute none|block    gradient checkpointing (default none)
      --seed N                  initialisation and data seed (default 1337)
      --eval-interval N         validation every N steps (default 250; 500 for the built-in task)
      --eval-batches N          validation batches per evaluation (default 20)
      --out DIR                 where to write the checkpoint, loss.svg and samples.txt (default out)
      --resume DIR              continue a run from its checkpoint (written back there unless --out;
                                --steps sets the new total)
      --sample-tokens N         tokens per sample in samples.txt (default 200)
      --checkpoint-interval N   also write the checkpoint (with its tokenizer) every N steps, so a
                                killed run loses at most N steps (default 0: only at the end)
    A checkpoint is replaced atomically: --out always holds one whole checkpoint. SIGINT or
    SIGTERM (Ctrl-C) stops after the current step, writes the checkpoint and exits with 130/143.
    """

    static let optionNames: Set<String> = ["data", "tokenizer", "preset", "layers", "heads", "width", "context", "dropout", "batch", "seq",
                                           "steps", "lr", "min-lr", "warmup", "weight-decay", "clip", "accumulation", "recompute",
                                           "seed", "eval-interval", "eval-batches", "out", "resume", "sample-tokens", "digits", "beta2",
                                           "checkpoint-interval"]

    /// The training recipe: check the arguments, read the data, build the trainer, train,
    /// write the checkpoint and its companions, and report.
    static func run(_ arguments: [String]) throws {
        let options = try Arguments(arguments, options: optionNames, switches: [])
        if options.helpRequested { print(usage); return }
        let out = try checkedOutput(options)
        let data = try loadData(options)
        let trainer = try makeTrainer(options, data: data)
        let interval = try options.integer("checkpoint-interval", default: 0, range: 0...Int(Int32.max))
        let seconds = try train(trainer) { step in
            // Mid-run checkpoints carry their tokenizer, so each one can be resumed as it is.
            if interval > 0 && step % interval == 0 { try trainer.saveCheckpoint(to: out, extraFiles: data.saveTokenizer) }
        } interrupted: { signal in
            try trainer.saveCheckpoint(to: out, extraFiles: data.saveTokenizer)
            printError("stopped by signal \(signal) after step \(trainer.step); wrote the checkpoint to \(PathArguments.displayed(out.path))")
            exit(128 + signal)
        }
        let model = trainer.model  // the trained weights, published once
        try writeOutputs(trainer, model: model, data: data, to: out, options: options)
        print(String(format: "trained %d steps in %.1f s; final train loss %.4f, validation loss %@", trainer.step, seconds,
                     trainer.trainingLosses.last?.loss ?? .nan, trainer.validationLosses.last.map { String(format: "%.4f", $0.loss) } ?? "-"))
        print("wrote \(PathArguments.displayed(out.path))/: checkpoint (config.json, model.safetensors, optimizer.safetensors, trainer.json), tokenizer, loss.svg, samples.txt")
        if let task = data.task { try reportArithmetic(task, model: model, tokenizer: data.tokenizer) }
    }

    /// What the run trains on.
    struct TrainingData {
        let task: ArithmeticTask?
        let tokenizer: any Tokenizer
        let saveTokenizer: (URL) throws -> Void
        let train: TokenDataset, validation: TokenDataset
        /// The prompt of text samples: a newline when the tokenizer has one, else the text's
        /// first token (checked before training, so sampling cannot fail after it).
        let samplePrompt: String
    }

    /// The output directory, after checking that the arguments fit together and that a
    /// checkpoint may be written there (a directory holding other files is never replaced).
    static func checkedOutput(_ options: Arguments) throws -> URL {
        // A resumed run writes back into its checkpoint unless --out says otherwise.
        let outArgument = options.string("out") ?? options.string("resume") ?? "out"
        let outOption = options.string("out") == nil && options.string("resume") != nil ? "resume" : "out"
        let out = try PathArguments.url(outArgument, option: outOption, creatingFolder: true)
        do { try Trainer.checkCheckpointDestination(out) } catch let error as TrainingError {
            throw UsageError(message: "--\(outOption): \(error.localizedDescription); choose an empty or new directory")
        }
        if options.string("data") == nil, options.string("tokenizer") != nil, options.string("resume") == nil {
            throw UsageError(message: "--tokenizer needs --data (the built-in task uses characters)")
        }
        // Options read only after training are checked before it.
        _ = try options.integer("sample-tokens", default: 200, range: 1...100_000)
        if options.string("data") != nil, options.string("digits") != nil {
            throw UsageError(message: "--digits sets the built-in task; it cannot be combined with --data")
        }
        if let resume = options.string("resume") {
            // The model, the optimizer, the schedule and the tokenizer come from the checkpoint.
            let fixed = ["tokenizer", "preset", "layers", "heads", "width", "context", "dropout", "batch", "seq", "lr", "min-lr",
                         "warmup", "weight-decay", "clip", "accumulation", "recompute", "seed", "eval-interval", "eval-batches",
                         "beta2", "digits"].filter { options.string($0) != nil }
            guard fixed.isEmpty else {
                throw UsageError(message: "--\(fixed[0]) cannot change when resuming \(resume): it comes from the checkpoint (only --data, --steps, --out and --sample-tokens may be given)")
            }
        }
        do { try Files.createFolder(out) } catch { throw UsageError(message: "--out: \(error)") }
        return out
    }

    /// The tokenizer and the token streams: a text or token-shard file, or the built-in task.
    static func loadData(_ options: Arguments) throws -> TrainingData {
        let task: ArithmeticTask?
        let tokenizer: any Tokenizer
        let saveTokenizer: (URL) throws -> Void
        let tokens: TokenDataset
        // On resume, the checkpoint's own tokenizer (kept in memory: saving replaces its files).
        let resumed = try options.string("resume").map { try checkpointTokenizer(PathArguments.url($0, option: "resume")) }
        func chooseTokenizer(_ name: String, text: String?) throws -> (any Tokenizer, (URL) throws -> Void) {
            try resumed ?? makeTokenizer(name, text: text)
        }
        if let dataPath = options.string("data") {
            task = nil
            let url = try PathArguments.url(dataPath, option: "data")
            if let problem = Files.problemReading(url) { throw UsageError(message: "--data: \(dataPath): \(problem)") }
            if url.pathExtension == "bin" {
                tokens = try TokenDataset(shard: url)
                (tokenizer, saveTokenizer) = try chooseTokenizer(options.string("tokenizer") ?? "gpt2", text: nil)
            } else {
                let text: String
                do { text = try Files.readText(url) } catch { throw UsageError(message: "--data: \(dataPath): \(error.reason)") }
                (tokenizer, saveTokenizer) = try chooseTokenizer(options.string("tokenizer") ?? "char", text: text)
                tokens = try TokenDataset(tokens: tokenizer.encode(text))
            }
        } else {
            if let resume = options.string("resume"), let (checkpointTokenizer, _) = resumed,
               !isArithmeticTokenizer(checkpointTokenizer) {
                throw UsageError(message: "--resume \(resume) needs --data: the checkpoint was not trained on the built-in task")
            }
            let digits = try options.integer("digits", default: 2, range: 1...6)
            let arithmetic = ArithmeticTask(maximumOperand: Int(pow(10, Double(digits))) - 1, heldOutCount: 200, seed: 7)
            task = arithmetic
            let text = arithmetic.trainingText(lines: 50_000)
            (tokenizer, saveTokenizer) = try chooseTokenizer("char", text: ArithmeticTask.alphabet)
            tokens = try TokenDataset(tokens: tokenizer.encode(text))
        }
        let (train, validation) = tokens.split(validationFraction: 0.1)
        var samplePrompt = "\n"
        if task == nil, (try? tokenizer.encode(samplePrompt)) == nil {
            guard let first = tokens.tokens.first else { throw UsageError(message: "--data holds no tokens") }
            samplePrompt = try tokenizer.decode([Int(first)])
        }
        return TrainingData(task: task, tokenizer: tokenizer, saveTokenizer: saveTokenizer, train: train, validation: validation,
                            samplePrompt: samplePrompt)
    }

    /// Whether `tokenizer` is the built-in task's character tokenizer.
    static func isArithmeticTokenizer(_ tokenizer: any Tokenizer) -> Bool {
        let reference = CharacterTokenizer(trainingText: ArithmeticTask.alphabet)
        guard tokenizer.vocabularySize == reference.vocabularySize else { return false }
        let ids = Array(0..<reference.vocabularySize)
        return (try? tokenizer.decode(ids)) == (try? reference.decode(ids))
    }

    /// A trainer resumed from `--resume`, or a new model and trainer from the options.
    static func makeTrainer(_ options: Arguments, data: TrainingData) throws -> Trainer {
        let trainer: Trainer
        if let resume = options.string("resume") {
            trainer = try Trainer(resumingFrom: PathArguments.url(resume, option: "resume"), training: data.train, validation: data.validation,
                                  steps: try options.optionalInteger("steps"))
        } else {
            let configuration = try modelConfiguration(options, vocabularySize: data.tokenizer.vocabularySize,
                                                       defaultContext: data.task == nil ? 64 : 32)
            let model = try GPT(configuration: configuration, seed: UInt64(try options.integer("seed", default: 1337)))
            trainer = try Trainer(model: model, configuration: try trainingConfiguration(options, arithmetic: data.task != nil),
                                  training: data.train, validation: data.validation)
        }
        let c = trainer.modelConfiguration
        printError("model: \(trainer.parameters.layout.parameterCount) parameters, \(c.layerCount) layers, \(c.headCount) heads, "
                   + "width \(c.embeddingDimensions), context \(c.contextLength); "
                   + "data: \(data.train.tokens.count) training and \(data.validation.tokens.count) validation tokens")
        return trainer
    }

    /// The loop, with a live line on a terminal and plain lines otherwise; returns its seconds.
    /// `afterStep` runs after every step (mid-run checkpoints); after SIGINT or SIGTERM the loop
    /// stops at the end of the current step and `interrupted` is called with the signal.
    static func train(_ trainer: Trainer, afterStep: (Int) throws -> Void, interrupted: (Int32) throws -> Void) throws -> Double {
        let display = ProgressDisplay()
        let start = DispatchTime.now().uptimeNanoseconds
        var lastValidation: Float?
        let stop = StopSignal()
        try trainer.run { progress in
            if let loss = progress.validationLoss { lastValidation = loss }
            display.show(progress, validationLoss: lastValidation)
            try afterStep(progress.step)
            if let signal = stop.received {
                display.finish()
                try interrupted(signal)
            }
        }
        display.finish()
        return Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-9
    }

    /// The checkpoint with its companions — the tokenizer, the loss curve and three samples —
    /// all written before the checkpoint replaces the previous one.
    static func writeOutputs(_ trainer: Trainer, model: GPT, data: TrainingData, to out: URL, options: Arguments) throws {
        var curve = LossCurve(title: "GPTKit training loss")
        curve.train = trainer.trainingLosses
        curve.validation = trainer.validationLosses
        try curve.write(to: out.appendingPathComponent("loss.svg"))
        var samples = ""
        for seed in 0..<3 {
            let prompt = data.task.map { $0.heldOut[seed].prompt } ?? data.samplePrompt
            samples += "--- sample \(seed + 1) (prompt \(prompt.debugDescription))\n"
            samples += try complete(model, data.tokenizer, prompt: prompt,
                                    maximumTokens: try options.integer("sample-tokens", default: data.task == nil ? 200 : 24, range: 1...100_000),
                                    temperature: data.task == nil ? 0.8 : 0, seed: UInt64(seed)) + "\n"
        }
        try trainer.saveCheckpoint(to: out) { directory in
            try data.saveTokenizer(directory)
            try curve.write(to: directory.appendingPathComponent("loss.svg"))
            try Data(samples.utf8).write(to: directory.appendingPathComponent("samples.txt"), options: .atomic)
        }
    }

    /// Greedy answers to five held-out problems, and the accuracy on all of them.
    static func reportArithmetic(_ task: ArithmeticTask, model: GPT, tokenizer: any Tokenizer) throws {
        print("\nsamples (greedy):")
        for problem in task.heldOut.prefix(5) {
            let output = try complete(model, tokenizer, prompt: problem.prompt, maximumTokens: 6, temperature: 0, seed: 0)
            let answer = output.split(separator: "\n", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? ""
            print("  \(problem.prompt)\(answer)   \(answer == problem.answer ? "✓" : "✗ (expected \(problem.answer))")")
        }
        let accuracy = try task.accuracy(on: task.heldOut) { prompt in
            try complete(model, tokenizer, prompt: prompt, maximumTokens: 6, temperature: 0, seed: 0)
        }
        print(String(format: "held-out accuracy: %.1f%%", accuracy * 100))
    }

    /// The continuation of `prompt`, stopping at a newline for greedy arithmetic.
    static func complete(_ model: GPT, _ tokenizer: any Tokenizer, prompt: String, maximumTokens: Int, temperature: Float, seed: UInt64) throws -> String {
        let ids = try tokenizer.encode(prompt)
        let session = try GenerationSession(model: model, options: GenerationOptions(
            maximumNewTokens: maximumTokens, sampling: SamplingParameters(temperature: temperature), seed: seed, contextOverflow: .slide))
        return try tokenizer.decode(session.generate(prompt: ids))
    }

    /// A checkpoint's tokenizer, and a function that writes its files (read now) into a directory.
    static func checkpointTokenizer(_ directory: URL) throws -> (any Tokenizer, (URL) throws -> Void) {
        guard let tokenizer = try ModelLoading.tokenizerInDirectory(directory) else {
            throw UsageError(message: "--resume \(directory.path): no tokenizer files in the checkpoint")
        }
        var files: [String: Data] = [:]
        for name in ["tokenizer.json", "tokenizer.bin", "encoder.json", "vocab.bpe"] {
            if let data = try? Data(contentsOf: directory.appendingPathComponent(name)) { files[name] = data }
        }
        return (tokenizer, { target in
            for (name, data) in files { try data.write(to: target.appendingPathComponent(name), options: .atomic) }
        })
    }

    /// The tokenizer `name` names, and a function that writes its files into a checkpoint
    /// directory (called after the checkpoint is saved: saving replaces the directory).
    static func makeTokenizer(_ name: String, text: String?) throws -> (any Tokenizer, (URL) throws -> Void) {
        switch name {
        case "char":
            guard let text else { throw UsageError(message: "--tokenizer char needs a text file") }
            let tokenizer = CharacterTokenizer(trainingText: text)
            return (tokenizer, { try tokenizer.save(to: $0.appendingPathComponent("tokenizer.json")) })
        case "gpt2":
            let directory = try ModelLoading.gpt2TokenizerDirectory()
            return (try GPT2Tokenizer(directory: directory), { try copyTokenizerFiles(from: directory, to: $0) })
        default:
            let source = try PathArguments.url(name, option: "tokenizer")
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: source.path, isDirectory: &isDirectory), isDirectory.boolValue {
                return (try GPT2Tokenizer(directory: source), { try copyTokenizerFiles(from: source, to: $0) })
            }
            let tokenizer = try ModelLoading.loadTokenizer(url: source)
            let targetName = source.pathExtension == "bin" ? "tokenizer.bin" : "tokenizer.json"
            return (tokenizer, { try Data(contentsOf: source).write(to: $0.appendingPathComponent(targetName), options: .atomic) })
        }
    }

    /// Copies GPT-2's encoder.json + vocab.bpe beside the checkpoint, so it is self-contained.
    static func copyTokenizerFiles(from directory: URL, to out: URL) throws {
        for name in ["encoder.json", "vocab.bpe"] {
            try Data(contentsOf: directory.appendingPathComponent(name)).write(to: out.appendingPathComponent(name), options: .atomic)
        }
    }

    static func modelConfiguration(_ options: Arguments, vocabularySize: Int, defaultContext: Int) throws -> GPTConfiguration {
        let presets: [String: GPTConfiguration] = ["nano": .nano, "mini": .mini, "gpt2-small": .gpt2Small, "gpt2-medium": .gpt2Medium]
        var configuration: GPTConfiguration
        if let name = options.string("preset") {
            guard let preset = presets[name] else {
                throw UsageError(message: "--preset must be one of \(presets.keys.sorted().joined(separator: ", ")), got '\(name)'")
            }
            configuration = preset
        } else {
            // The built-in task (context 32) gets 2 layers: in its two minutes it learns more with
            // twice the steps than with twice the depth (measured: 80% vs 74.5% held-out accuracy).
            configuration = GPTConfiguration(vocabularySize: vocabularySize, contextLength: defaultContext,
                                             layerCount: defaultContext == 32 ? 2 : 4, headCount: 4,
                                             embeddingDimensions: 128)
        }
        configuration.vocabularySize = vocabularySize
        configuration.layerCount = try options.integer("layers", default: configuration.layerCount, range: 1...1000)
        configuration.headCount = try options.integer("heads", default: configuration.headCount, range: 1...1000)
        configuration.keyValueHeadCount = configuration.headCount
        let width = try options.integer("width", default: configuration.embeddingDimensions, range: 1...100_000)
        if width != configuration.embeddingDimensions {
            configuration.embeddingDimensions = width
            configuration.hiddenDimensions = 4 * width
        }
        let sequenceLength = try options.integer("seq", default: defaultContext)
        configuration.contextLength = try options.integer("context", default: max(options.string("preset") == nil ? defaultContext : configuration.contextLength,
                                                                                   sequenceLength), range: 1...1_000_000)
        configuration.dropout = try options.float("dropout", default: 0, range: 0...0.99)
        try configuration.validate()
        return configuration
    }

    static func trainingConfiguration(_ options: Arguments, arithmetic: Bool) throws -> TrainingConfiguration {
        var settings = TrainingConfiguration(batchSize: try options.integer("batch", default: arithmetic ? 32 : 12, range: 1...100_000),
                                             sequenceLength: try options.integer("seq", default: arithmetic ? 32 : 64, range: 1...1_000_000),
                                             steps: try options.integer("steps", default: 2000))
        let lr = try options.float("lr", default: arithmetic ? 3e-3 : 1e-3, range: 0...10)
        let warmup = try options.integer("warmup", default: arithmetic ? 30 : 100)
        settings.schedule = .warmupCosine(maximum: lr, minimum: try options.float("min-lr", default: lr / 10, range: 0...10),
                                          warmupSteps: warmup, decaySteps: settings.steps)
        settings.weightDecay = try options.float("weight-decay", default: 0.1, range: 0...10)
        // nanoGPT's character-level configuration uses β2 = 0.99 (few tokens per step).
        settings.beta2 = try options.float("beta2", default: arithmetic ? 0.95 : 0.99, range: 0...0.9999)
        settings.gradientClip = try options.float("clip", default: 1, range: 0...1e6)
        settings.accumulationSteps = try options.integer("accumulation", default: 1, range: 1...10_000)
        settings.seed = UInt64(try options.integer("seed", default: 1337))
        settings.evaluationInterval = try options.integer("eval-interval", default: arithmetic ? 500 : 250)
        settings.evaluationBatches = try options.integer("eval-batches", default: 20, range: 1...100_000)
        switch options.string("recompute") ?? "none" {
        case "none": settings.recompute = .none
        case "block": settings.recompute = .perBlock
        case let other: throw UsageError(message: "--recompute must be none or block, got '\(other)'")
        }
        return settings
    }
}

/// SIGINT and SIGTERM, turned from "die now" into "stop after this step": the signals are
/// ignored by the default handler and delivered to a dispatch source that records them.
final class StopSignal {
    /// The first signal received (0: none yet), set from the dispatch sources' queue.
    final class Flag: Sendable {
        let value = Atomic<Int32>(0)
    }

    private let flag = Flag()
    private var sources: [any DispatchSourceSignal] = []

    init() {
        let flag = self.flag
        for number in [SIGINT, SIGTERM] {
            Foundation.signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { _ = flag.value.compareExchange(expected: 0, desired: number, ordering: .relaxed) }
            source.resume()
            sources.append(source)
        }
    }

    /// The first signal received, if any.
    var received: Int32? {
        let number = flag.value.load(ordering: .relaxed)
        return number == 0 ? nil : number
    }
}
