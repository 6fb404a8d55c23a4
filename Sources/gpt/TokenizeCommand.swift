// gpt tokenize: the token ids of standard input under a model's own tokenizer.
import Foundation
import GPTKit

enum TokenizeCommand {
    static let usage = """
    usage: gpt tokenize --model PATH [--tokenizer PATH] [--json] [--special]
      Prints the token ids of standard input (UTF-8) under the model's own tokenizer (a GGUF's
      metadata, the tokenizer files of a folder, or --tokenizer), space-separated, or as a JSON
      array with --json. --special parses special-token names in the text (e.g. <|im_start|>)
      as those tokens; without it they are plain text.
    """

    static func run(_ arguments: [String]) throws {
        let options = try Arguments(arguments, options: ["model", "tokenizer"], switches: ["json", "special"])
        if options.helpRequested { print(usage); return }
        guard let path = options.string("model") ?? options.string("tokenizer") else { throw UsageError(message: "--model is required") }
        guard let tokenizer = try ModelLoading.tokenizer(modelPath: path, tokenizerPath: options.string("tokenizer")) else {
            throw UsageError(message: "no tokenizer found for \(path): pass --tokenizer")
        }
        let input = FileHandle.standardInput.readDataToEndOfFile()
        guard let text = String(validating: input, as: UTF8.self) else { throw UsageError(message: "standard input is not UTF-8 text") }
        let ids: [Int]
        if options.has("special"), let bpe = tokenizer as? GPT2Tokenizer {
            ids = try bpe.encode(text, allowedSpecial: Set(bpe.specialTokens.keys))
        } else {
            ids = try tokenizer.encode(text)
        }
        print(options.has("json") ? "[" + ids.map(String.init).joined(separator: ", ") + "]" : ids.map(String.init).joined(separator: " "))
    }
}
