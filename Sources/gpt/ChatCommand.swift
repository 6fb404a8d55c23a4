// gpt chat: an interactive conversation with a chat model on a terminal; and the chat mode of
// gpt generate (one reply to a prompt or to a history of messages).
import Foundation
import GPTFiles
import GPTKit

enum ChatCommand {
    static let usage = """
    usage: gpt chat --model PATH [--system TEXT] [--max-tokens N] [--temperature T] [--top-k K] [--top-p P]
                    [--repetition-penalty R] [--seed S] [--dequantize] [--float-activations] [--kv-cache f32|f16]
      An interactive chat with a chat model (a GGUF file, or a Hugging Face folder with a chat
      template in tokenizer_config.json or chat_template.jinja), rendered by the model's own
      template; replies stream as they are generated (default: greedy, up to 512 tokens).
      Type a message and Return. /reset forgets the conversation, /system TEXT starts a new one
      with that system message, /exit or Ctrl-D ends.
      --dequantize   run a GGUF in float32 from its dequantized weights (the reference mode that
                     computes what transformers computes); by default its matrices stay in their
                     stored formats and the quantized kernels multiply them
      --float-activations  multiply Q8_0/Q4_0/Q4_1 matrices with float32 activations (each
                     product exact up to float rounding) instead of 8-bit ones as llama.cpp does
      --kv-cache f16 keep keys and values in half precision (half the memory; default f32)
      --adapter DIR  attach a LoRA adapter (gpt finetune --lora's output, or PEFT's) without merging
    """

    static func run(_ arguments: [String]) throws {
        let options = try Arguments(arguments, options: chatOptionNames, switches: ["dequantize", "float-activations"])
        if options.helpRequested { print(usage); return }
        guard let path = options.string("model") else { throw UsageError(message: "--model is required") }
        let chat = try makeSession(path: path, options: options, defaultTemperature: 0)
        let interactive = isatty(STDIN_FILENO) == 1
        if interactive { printError("chatting with \(path) — /reset, /system TEXT, /exit or Ctrl-D") }
        while true {
            if interactive { FileHandle.standardOutput.write(Data("> ".utf8)) }
            guard let line = readLine(strippingNewline: true) else { break }
            let text = line.trimmingCharacters(in: .whitespaces)
            if text.isEmpty { continue }
            if text == "/exit" { break }
            if text == "/reset" { chat.reset(system: options.string("system")); continue }
            if text.hasPrefix("/system ") { chat.reset(system: String(text.dropFirst(8))); continue }
            try chat.send(line) { FileHandle.standardOutput.write(Data($0.utf8)) }
            FileHandle.standardOutput.write(Data("\n".utf8))
        }
    }

    /// The options `gpt chat` and `gpt generate --chat` share.
    static let chatOptionNames: Set<String> = ["model", "adapter", "tokenizer", "system", "max-tokens", "temperature", "top-k", "top-p",
                                               "repetition-penalty", "seed", "prompt", "messages", "kv-cache"]

    /// `--kv-cache f32|f16` (default f32).
    static func cachePrecision(_ options: Arguments) throws -> KVCachePrecision {
        switch options.string("kv-cache") ?? "f32" {
        case "f32": return .float32
        case "f16": return .float16
        case let other: throw UsageError(message: "--kv-cache: '\(other)' is not f32 or f16")
        }
    }

    /// A chat session on the model at `path` with the sampling options given.
    static func makeSession(path: String, options: Arguments, defaultTemperature: Float) throws -> ChatSession {
        let loaded = try ModelLoading.load(path: path, tokenizerPath: options.string("tokenizer"), dequantize: options.has("dequantize"),
                                           floatActivations: options.has("float-activations"), adapterPath: options.string("adapter"))
        guard let tokenizer = loaded.tokenizer else { throw UsageError(message: "no tokenizer found for \(path): pass --tokenizer") }
        let sampling = SamplingParameters(
            temperature: try options.float("temperature", default: defaultTemperature, range: 0...100),
            topK: try options.optionalInteger("top-k", range: 1...Int.max),
            topP: try options.optionalFloat("top-p", range: 0...1),
            repetitionPenalty: try options.float("repetition-penalty", default: 1, range: 0.01...100))
        let generation = GenerationOptions(maximumNewTokens: try options.integer("max-tokens", default: 512, range: 1...1_000_000),
                                           sampling: sampling, seed: UInt64(try options.integer("seed", default: 0)),
                                           cachePrecision: try cachePrecision(options))
        if let file = loaded.gguf, options.string("tokenizer") == nil {
            return try ChatSession(gguf: file, model: loaded.model, options: generation, system: options.string("system"))
        }
        let template = try ModelLoading.chatTemplate(modelPath: path, gguf: loaded.gguf)
        var withStops = generation
        withStops.stopTokens = ChatSession.endOfTurnTokens(tokenizer, declared: [tokenizer.eosTokenID].compactMap { $0 })
        func text(_ id: Int?) -> String { id.flatMap { try? tokenizer.decode([$0]) } ?? "" }
        return try ChatSession(model: loaded.model, tokenizer: tokenizer, template: ChatTemplate(template.source),
                               bosToken: template.bos ?? text(tokenizer.bosTokenID), eosToken: template.eos ?? text(tokenizer.eosTokenID),
                               options: withStops, system: options.string("system"))
    }

    /// `gpt generate --chat`: the reply to `--prompt` (after `--system`) or to the history in
    /// `--messages FILE.json`, printed alone.
    static func generateReply(_ options: Arguments, path: String) throws {
        let chat = try makeSession(path: path, options: options, defaultTemperature: 0)
        let output = FileHandle.standardOutput
        if let file = options.string("messages") {
            guard options.string("prompt") == nil else { throw UsageError(message: "give --prompt or --messages, not both") }
            let messages = try readMessages(file)
            try chat.respond(to: messages) { output.write(Data($0.utf8)) }
        } else {
            guard let prompt = options.string("prompt") else { throw UsageError(message: "--chat needs --prompt TEXT or --messages FILE.json") }
            try chat.send(prompt) { output.write(Data($0.utf8)) }
        }
        output.write(Data("\n".utf8))
    }

    /// A JSON array of `{"role": …, "content": …}` objects.
    static func readMessages(_ path: String) throws -> [ChatMessage] {
        let url = try PathArguments.url(path, option: "messages")
        let data: Data
        do { data = try Files.read(url) } catch { throw UsageError(message: "--messages: \(path): \(error.reason)") }
        let messages: [ChatMessage]
        do { messages = try JSONDecoder().decode([ChatMessage].self, from: data) } catch {
            throw UsageError(message: "--messages: \(path): expected a JSON array of {\"role\": …, \"content\": …} objects")
        }
        guard !messages.isEmpty else { throw UsageError(message: "--messages: \(path): the conversation is empty") }
        return messages
    }
}
