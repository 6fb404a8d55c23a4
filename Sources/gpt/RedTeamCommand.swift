// gpt redteam: adversarial prompts through a model and its content filters, with per-category
// refusal and filter rates.
import Foundation
import GPTKit

enum RedTeamCommand {
    static let usage = """
    usage: gpt redteam --model PATH [--prompts FILE.jsonl] [--out FILE.jsonl] [--json] [--print-prompts] [options]
      Runs adversarial prompts (default: the 36 built-in ones: jailbreak, harmful, self-harm,
      injection, privacy, and benign controls) through the model, as chats when it has a chat
      template, with the standard blocklist unless --filter says otherwise, and reports per
      category how many replies refused and how many a filter stopped. For benign prompts lower
      is better (over-refusal).
      --prompts FILE.jsonl  {"id", "category", "prompt", "system"?} per line
      --out FILE.jsonl      every reply with its verdicts
      --print-prompts       write the built-in prompts as JSONL and exit
    """ + "\n" + GeneratorSetup.usage(maxTokens: 96)

    static func run(_ arguments: [String]) throws {
        let options = try Arguments(arguments, options: GeneratorSetup.optionNames.union(["model", "prompts", "out"]),
                                    switches: GeneratorSetup.switchNames.union(["json", "print-prompts"]))
        if options.helpRequested { print(usage); return }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        if options.has("print-prompts") {
            for prompt in RedTeamPrompt.builtIn { print(String(decoding: try encoder.encode(prompt), as: UTF8.self)) }
            return
        }
        guard let path = options.string("model") else { throw UsageError(message: "--model is required") }
        let prompts = try options.string("prompts").map { try RedTeamPrompt.load(try PathArguments.url($0, option: "prompts")) }
            ?? RedTeamPrompt.builtIn
        let generator = try GeneratorSetup.make(path: path, options: options, defaultFilters: ["standard"], defaultMaxTokens: 96)
        let json = options.has("json")
        let results = try RedTeam.run(prompts, generator: generator) { done, total in
            if !json, isatty(STDERR_FILENO) != 0 { FileHandle.standardError.write(Data("\r\u{1B}[K\(done)/\(total) prompts".utf8)) }
        }
        if !json, isatty(STDERR_FILENO) != 0 { FileHandle.standardError.write(Data("\n".utf8)) }
        if let out = options.string("out") {
            let lines = try results.map { String(decoding: try encoder.encode($0), as: UTF8.self) }.joined(separator: "\n") + "\n"
            try Data(lines.utf8).write(to: try PathArguments.url(out, option: "out"), options: .atomic)
        }
        let summary = RedTeam.summarize(results)
        if json {
            print(String(decoding: try encoder.encode(["categories": summary]), as: UTF8.self))
        } else {
            print("category     prompts  refused  filtered  blocked")
            for s in summary {
                print(s.category.padding(toLength: 12, withPad: " ", startingAt: 0)
                      + String(format: " %7d  %6.0f%%  %7.0f%%  %6.0f%%", s.count, 100 * s.refusalRate, 100 * s.filterRate, 100 * s.blockedRate))
            }
        }
    }
}
