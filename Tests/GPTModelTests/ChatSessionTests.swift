// ChatSession on SmolLM2 (../shared/data): the model's own template renders the prompts that
// transformers' apply_chat_template gave (Fixtures/smollm2/cases.json), replies equal
// transformers' greedy ones, and a second turn prefills only its new tokens.
import Foundation
import XCTest
@testable import GPTModel
import GPTTokenizers

final class ChatSessionTests: XCTestCase {
    func testRepliesEqualTransformersAndTurnsReuseTheCache() throws {
        let smol = try SmolLM2.load()
        let cases = try JSONDecoder().decode(SmolLM2Cases.self, from: Data(contentsOf: smolLM2Fixtures.appendingPathComponent("cases.json"))).cases
        let chat = try ChatSession(gguf: smol.file, model: smol.model, options: GenerationOptions(maximumNewTokens: 48), cacheCapacity: 512)
        XCTAssertTrue(chat.options.stopTokens.contains(2), "<|im_end|> ends a turn")
        for item in cases {
            // The template renders exactly transformers' prompt ids for each conversation.
            XCTAssertEqual(try chat.promptTokens(for: item.messages), item.prompt_ids, item.name)
        }
        var streamed = ""
        let first = cases[0]
        let answer = try chat.send(first.messages[0].content) { streamed += $0 }
        XCTAssertEqual(answer, "The capital of France is Paris.")
        XCTAssertEqual(streamed, answer)
        XCTAssertEqual(chat.finishReason, .stopToken(2))
        XCTAssertEqual(chat.messages.map(\.role), ["user", "assistant"])
        // The second turn's prompt begins with the first turn: only the new part is run.
        try chat.send("And of Italy?")
        XCTAssertGreaterThanOrEqual(chat.reusedTokenCount, first.prompt_ids.count + first.reply_ids.count - 2)
        // A history (system message, multi-turn) replies as transformers did.
        for item in cases where item.messages.count > 1 {
            let reply = try chat.respond(to: item.messages)
            let expected = item.reply.replacingOccurrences(of: "<|im_end|>", with: "")
            XCTAssertEqual(reply, expected, item.name)
        }
    }
}
