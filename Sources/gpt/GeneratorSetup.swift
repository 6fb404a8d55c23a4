// The options gpt eval --task and gpt redteam share: sampling, content filters, audit log, and
// the model's chat format.
import Foundation
import GPTKit

enum GeneratorSetup {
    static let optionNames: Set<String> = ["tokenizer", "adapter", "max-tokens", "temperature", "top-k", "top-p", "seed", "filter", "audit-log",
                                           "classifier", "classifier-threshold"]
    static let switchNames: Set<String> = ["dequantize", "float-activations", "plain"]

    static func usage(maxTokens: Int) -> String { """
      --max-tokens N            tokens per reply (default \(maxTokens))
      --temperature T           0 = greedy (the default); --top-k, --top-p, --seed as for gpt generate
      --filter standard|none|FILE.jsonl  content filters, repeatable: the built-in blocklist, none,
                                or JSONL rules {"phrase"|"pattern", "category", "action": stop|redact}
      --classifier PATH         also filter with a classifier (a model with a score head) …
      --classifier-threshold P  … stopping at sigmoid(score) ≥ P (default 0.5)
      --audit-log FILE.jsonl    append one record per generation (time, model, prompt hash, counts, verdicts)
      --plain                   continue prompts as plain text even if the model has a chat template
      --adapter DIR             attach a LoRA adapter (gpt finetune --lora's output, or PEFT's)
    """ }

    /// A filtered generator for the model at `path`.
    static func make(path: String, options: Arguments, defaultFilters: [String], defaultMaxTokens: Int) throws -> FilteredGenerator {
        let loaded = try ModelLoading.load(path: path, tokenizerPath: options.string("tokenizer"), dequantize: options.has("dequantize"),
                                           floatActivations: options.has("float-activations"), adapterPath: options.string("adapter"))
        guard let tokenizer = loaded.tokenizer else { throw UsageError(message: "no tokenizer found for \(path): pass --tokenizer") }
        let sampling = SamplingParameters(
            temperature: try options.float("temperature", default: 0, range: 0...100),
            topK: try options.optionalInteger("top-k", range: 1...Int.max),
            topP: try options.optionalFloat("top-p", range: 0...1))
        let generation = GenerationOptions(maximumNewTokens: try options.integer("max-tokens", default: defaultMaxTokens, range: 1...1_000_000),
                                           sampling: sampling, seed: UInt64(try options.integer("seed", default: 0)))
        var filters: [any ContentFilter] = []
        let names = options.strings("filter").isEmpty ? defaultFilters : options.strings("filter")
        for name in names {
            switch name {
            case "none": continue
            case "standard": filters.append(try BlocklistFilter.standard())
            default: filters.append(try BlocklistFilter(contentsOf: try PathArguments.url(name, option: "filter")))
            }
        }
        if let classifierPath = options.string("classifier") {
            let classifier = try ModelLoading.load(path: classifierPath, tokenizerPath: nil)
            guard let classifierTokenizer = classifier.tokenizer else { throw UsageError(message: "--classifier: \(classifierPath) has no tokenizer") }
            filters.append(try ClassifierFilter(model: classifier.model, tokenizer: classifierTokenizer,
                                                threshold: try options.float("classifier-threshold", default: 0.5, range: 0...1),
                                                category: "classifier"))
        }
        let audit = try options.string("audit-log").map { try AuditLog(url: try PathArguments.url($0, option: "audit-log")) }
        let chat = options.has("plain") ? nil : try chatFormat(loaded, tokenizer: tokenizer, path: path, options: options)
        var plainOptions = generation
        if chat == nil, let eos = tokenizer.eosTokenID { plainOptions.stopTokens.insert(eos) }
        return FilteredGenerator(model: loaded.model, tokenizer: tokenizer, chat: chat, options: plainOptions, filters: filters,
                                 auditLog: audit, modelName: URL(fileURLWithPath: path).lastPathComponent)
    }

    /// The model's chat format: a GGUF's template and special tokens, else a folder's template;
    /// nil without one.
    static func chatFormat(_ loaded: LoadedModel, tokenizer: any Tokenizer, path: String, options: Arguments) throws -> ChatFormat? {
        if let file = loaded.gguf, options.string("tokenizer") == nil {
            return try ChatFormat(gguf: file, tokenizer: tokenizer)
        }
        guard let template = try? ModelLoading.chatTemplate(modelPath: path, gguf: loaded.gguf) else { return nil }
        func text(_ id: Int?) -> String { id.flatMap { try? tokenizer.decode([$0]) } ?? "" }
        return ChatFormat(template: try ChatTemplate(template.source), bosToken: template.bos ?? text(tokenizer.bosTokenID),
                          eosToken: template.eos ?? text(tokenizer.eosTokenID),
                          stopTokens: ChatSession.endOfTurnTokens(tokenizer, declared: [tokenizer.eosTokenID].compactMap { $0 }))
    }
}
