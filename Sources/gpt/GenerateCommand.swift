// gpt generate: stream a prompt's continuation to stdout.
import Dispatch
import Foundation
import GPTKit

enum GenerateCommand {
    static let usage = """
    usage: gpt generate --model PATH [--tokenizer PATH] [--prompt TEXT] [options]
      --model PATH              a `gpt train` output or Hugging Face folder, a GGUF file, or a llama2.c .bin
      --tokenizer PATH          tokenizer files (required for a llama2.c .bin: its tok*.bin)
      --adapter DIR             attach a LoRA adapter (gpt finetune --lora's output, or PEFT's)
      --prompt TEXT             the text to continue (default: empty; llama2.c models start from BOS)
      --max-tokens N            tokens to generate (default 128)
      --temperature T           0 = greedy (default 0.8)
      --top-k K, --top-p P      restrict sampling to the K most likely / the nucleus of mass P
      --repetition-penalty R    divide logits of tokens already seen by R (default 1: off)
      --seed S                  sampling seed (default 0)
      --chat                    a chat model's reply to --prompt (rendered by the model's own chat
                                template), printed alone; default greedy, up to 512 tokens
      --system TEXT             with --chat: a system message first
      --messages FILE.json      with --chat, instead of --prompt: a history, a JSON array of
                                {"role": "system"|"user"|"assistant", "content": TEXT}
      --dequantize              run a GGUF in float32 from its dequantized weights (the reference
                                mode that computes what transformers does); by default its matrices
                                stay in their stored formats, multiplied by the quantized kernels
      --float-activations       multiply Q8_0/Q4_0/Q4_1 matrices with float32 activations (each
                                product exact up to float rounding) instead of 8-bit ones, as
                                llama.cpp does
      --kv-cache f32|f16        how the KV cache stores keys and values (f16: half the memory and
                                the bytes each step reads, as llama.cpp's default; default f32)
    Prints the prompt and the generated text to stdout as they are produced, tokens/s to stderr.
    """

    /// The tokens that end a plain generation: llama2.c models stop at BOS (as run.c does),
    /// SentencePiece models at their EOS.
    static func stopTokens(_ loaded: LoadedModel, _ tokenizer: any Tokenizer) -> Set<Int> {
        if tokenizer is SentencePieceTokenizer { return Set([tokenizer.eosTokenID].compactMap { $0 }) }
        return loaded.prependsBOS ? [LlamaTokenizer.beginTokenID] : []
    }

    static func run(_ arguments: [String]) throws {
        let options = try Arguments(arguments, options: ChatCommand.chatOptionNames, switches: ["chat", "dequantize", "float-activations"])
        if options.helpRequested { print(usage); return }
        guard let path = options.string("model") else { throw UsageError(message: "--model is required") }
        if options.has("chat") { return try ChatCommand.generateReply(options, path: path) }
        for chatOnly in ["system", "messages"] where options.string(chatOnly) != nil {
            throw UsageError(message: "--\(chatOnly) needs --chat")
        }
        let loaded = try ModelLoading.load(path: path, tokenizerPath: options.string("tokenizer"), dequantize: options.has("dequantize"),
                                           floatActivations: options.has("float-activations"), adapterPath: options.string("adapter"))
        guard let tokenizer = loaded.tokenizer else {
            throw UsageError(message: "no tokenizer found for \(path): pass --tokenizer")
        }
        let sampling = SamplingParameters(
            temperature: try options.float("temperature", default: 0.8, range: 0...100),
            topK: try options.optionalInteger("top-k", range: 1...Int.max),
            topP: try options.optionalFloat("top-p", range: 0...1),
            repetitionPenalty: try options.float("repetition-penalty", default: 1, range: 0.01...100))
        let generation = GenerationOptions(maximumNewTokens: try options.integer("max-tokens", default: 128, range: 0...1_000_000),
                                           sampling: sampling, seed: UInt64(try options.integer("seed", default: 0)),
                                           stopTokens: Self.stopTokens(loaded, tokenizer),
                                           contextOverflow: .slide, cachePrecision: try ChatCommand.cachePrecision(options))
        let prompt = options.string("prompt") ?? ""
        var ids = try tokenizer.encode(prompt)
        if loaded.prependsBOS, let bos = tokenizer.bosTokenID { ids.insert(bos, at: 0) }
        guard !ids.isEmpty else { throw UsageError(message: "--prompt is empty and this tokenizer has no BOS token: give a prompt") }

        let session = try GenerationSession(model: loaded.model, options: generation)
        var decoder = tokenizer.makeStreamingDecoder()
        let output = FileHandle.standardOutput
        // The prompt is echoed without its BOS (a SentencePiece BOS would print as "<s>").
        for id in ids.dropFirst(loaded.prependsBOS && tokenizer is SentencePieceTokenizer ? 1 : 0) { output.write(Data(try decoder.append(id).utf8)) }
        let start = DispatchTime.now().uptimeNanoseconds
        try session.start(prompt: ids)
        var count = 0
        while let token = try session.next() {
            output.write(Data(try decoder.append(token).utf8))
            count += 1
        }
        output.write(Data((decoder.finish() + "\n").utf8))
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-9
        printError(String(format: "generated %d tokens in %.2f s: %.1f tokens/s", count, seconds, Double(count) / max(seconds, 1e-9)))
    }
}
