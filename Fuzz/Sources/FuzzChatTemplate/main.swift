// Any bytes as a chat template (UTF-8, invalid bytes replaced): parsed, then rendered over a
// short conversation with and without the generation prompt. Only thrown errors are allowed;
// the interpreter bounds its output, loops and recursion, so nothing hangs.
import Foundation
import FuzzSupport
import GPTKit

let conversation = [ChatMessage(role: "system", content: "Be brief."), ChatMessage(role: "user", content: "Hi <b>'\"\n"),
                    ChatMessage(role: "assistant", content: "Hello!"), ChatMessage(role: "user", content: "2+2?")]

func fuzzChatTemplate(_ input: UnsafeBufferPointer<UInt8>) {
    guard let template = try? ChatTemplate(String(decoding: input, as: UTF8.self)) else { return }
    for generation in [false, true] {
        _ = try? template.render(messages: conversation, addGenerationPrompt: generation, bosToken: "<s>", eosToken: "</s>")
    }
}

exit(runFuzzer(fuzzChatTemplate))
