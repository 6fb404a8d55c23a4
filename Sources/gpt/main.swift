// gpt: train, generate, evaluate and inspect GPT models from the command line.
import Foundation
import GPTKit
import GPTFiles

let usage = """
usage: gpt <command> [options]      (gpt <command> --help for a command's options)
commands:
  train      train a model on a text (without --data: on generated addition problems)
  finetune   supervised fine-tuning on chat or prompt–completion data, whole or with LoRA adapters
  generate   continue a prompt (or, with --chat, answer it) with any model --model takes
  eval       perplexity and bits per byte on a text, or generations scored on a task file
  info       configuration and size of a model (and a GGUF's metadata)
  chat       an interactive conversation with a chat model (SmolLM2, Llama, Qwen2 GGUF files)
  tokenize   the token ids of standard input under a model's tokenizer
  quantize   a GGUF model with its matrices in another format (q8_0, q4_0, q4_1, q4_k, q6_k, f16, bf16)
  score      BLEU, chrF and ROUGE of predictions against references (as sacrebleu and rouge-score)
  redteam    adversarial prompts through a model and content filters: refusal and filter rates
Every command takes --threads N (default: GPTKIT_THREADS, else one per core).
"""

var arguments = Array(CommandLine.arguments.dropFirst())
guard let command = arguments.first else {
    printError(usage)
    exit(2)
}
arguments.removeFirst()
let commands: [String: (run: ([String]) throws -> Void, usage: String)] = [
    "train": (TrainCommand.run, TrainCommand.usage), "generate": (GenerateCommand.run, GenerateCommand.usage),
    "eval": (EvalCommand.run, EvalCommand.usage), "info": (InfoCommand.run, InfoCommand.usage),
    "tokenize": (TokenizeCommand.run, TokenizeCommand.usage), "chat": (ChatCommand.run, ChatCommand.usage),
    "quantize": (QuantizeCommand.run, QuantizeCommand.usage), "score": (ScoreCommand.run, ScoreCommand.usage),
    "redteam": (RedTeamCommand.run, RedTeamCommand.usage), "finetune": (FinetuneCommand.run, FinetuneCommand.usage),
]
if ["-h", "--help", "help"].contains(command) {
    print(usage)
    exit(0)
}
guard let entry = commands[command] else {
    printError("gpt: unknown command '\(command)'\n\(usage)")
    exit(2)
}
do {
    // --threads N, for every command: taken out before the command parses its own options.
    if let index = arguments.firstIndex(of: "--threads") {
        guard index + 1 < arguments.count, let threads = Int(arguments[index + 1]), (1...1024).contains(threads) else {
            throw UsageError(message: "--threads needs a whole number from 1 to 1024")
        }
        Parallel.threadCount = threads
        arguments.removeSubrange(index...(index + 1))
    }
    try entry.run(arguments)
} catch let error as UsageError {
    printError("gpt \(command): \(PathArguments.displayed(error.message))\n\n\(entry.usage)")
    exit(2)
} catch {
    // GPTKit's errors describe themselves; anything else (a Foundation error) is put in words.
    let message = (error as? LocalizedError)?.errorDescription ?? Files.describe(error)
    printError("gpt \(command): \(PathArguments.displayed(message))")
    exit(1)
}
