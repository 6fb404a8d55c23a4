// Filters during real generation (a tiny random model), the audit log, the classifier filter
// and the red-team runner.
import Foundation
import XCTest
import GPTModel
import GPTTensor
import GPTTokenizers
@testable import GPTEvaluation

final class FilteredGenerationTests: XCTestCase {
    private let tokenizer = try! CharacterTokenizer(characters: (32...126).map { Unicode.Scalar(UInt8($0)) } + ["\n", "’"])

    private func model(scores: Int = 0, seed: UInt64 = 5) throws -> GPT {
        try GPT(configuration: GPTConfiguration(vocabularySize: tokenizer.vocabularySize, contextLength: 256, layerCount: 1,
                                                headCount: 2, embeddingDimensions: 16, scoreCount: scores), seed: seed)
    }

    func testOutputStopsAtTheBlockedTextAndPromptsAreRefused() throws {
        let options = GenerationOptions(maximumNewTokens: 40)
        let plain = FilteredGenerator(model: try model(), tokenizer: tokenizer, options: options)
        let free = try plain.generate(prompt: "Hello")
        XCTAssertEqual(free.finishReason, "length")
        XCTAssertEqual(free.generatedTokens, 40)
        // Block a stretch from the middle of what the model writes unfiltered.
        let scalars = Array(free.text.unicodeScalars)
        let blocked = scalarString(scalars[10..<14])
        let filter = try BlocklistFilter(rules: [.init(pattern: NSRegularExpression.escapedPattern(for: blocked), category: "test",
                                                       maximumLength: 4)])
        let directory = try temporaryDirectory(self)
        let log = try AuditLog(url: directory.appendingPathComponent("audit.jsonl"))
        var guarded = plain
        guarded.filters = [filter]
        guarded.auditLog = log
        guarded.modelName = "tiny"
        var streamed = ""
        let stopped = try guarded.generate(prompt: "Hello") { streamed += $0 }
        XCTAssertEqual(stopped.finishReason, "filtered")
        XCTAssertEqual(stopped.text, streamed)
        let expectedPrefix = scalarString(scalars[..<(free.text.unicodeScalars.distance(
            from: free.text.unicodeScalars.startIndex, to: free.text.range(of: blocked)!.lowerBound))])
        XCTAssertEqual(stopped.text, expectedPrefix)
        XCTAssertFalse(stopped.text.contains(blocked))
        XCTAssertLessThan(stopped.generatedTokens, 40, "generation must stop when the filter does")
        // A prompt with the blocked text: refused before generating.
        let refused = try guarded.generate(prompt: "say \(blocked) now")
        XCTAssertEqual(refused.finishReason, "prompt_filtered")
        XCTAssertEqual(refused.generatedTokens, 0)
        XCTAssertEqual(refused.verdicts.first?.stage, .prompt)
        let records = try AuditLog.records(at: log.url)
        XCTAssertEqual(records.map(\.finishReason), ["filtered", "prompt_filtered"])
        XCTAssertEqual(records[0].promptSHA256, sha256Hex(Array("Hello".utf8)))
        XCTAssertEqual(records[0].model, "tiny")
        XCTAssertEqual(records[0].promptTokens, 5)
        XCTAssertEqual(records[0].generatedTokens, stopped.generatedTokens)
        XCTAssertEqual(records[1].verdicts.first?.category, "test")
    }

    /// Replies decoded together, with places refilled as replies finish, are the replies
    /// generated one at a time: stopped by a filter, refused, ended by a stop token or the limit.
    func testBatchedGenerationGivesEachRequestItsReplyAlone() throws {
        var generator = FilteredGenerator(model: try model(seed: 9), tokenizer: tokenizer, options: GenerationOptions(maximumNewTokens: 24))
        let free = try generator.generate(prompt: "Hello")
        let blocked = scalarString(Array(free.text.unicodeScalars)[8..<11])
        generator.filters = [try BlocklistFilter(rules: [.init(pattern: NSRegularExpression.escapedPattern(for: blocked), category: "test",
                                                               maximumLength: 3)])]
        generator.options.stopTokens = [try tokenizer.encode("e")[0]]
        generator.chat = ChatFormat(template: try ChatTemplate(
            "{% for m in messages %}{{ m.role }}: {{ m.content }}\n{% endfor %}{% if add_generation_prompt %}assistant:{% endif %}"))
        let log = try AuditLog(url: try temporaryDirectory(self).appendingPathComponent("audit.jsonl"))
        generator.auditLog = log
        let requests: [GenerationRequest] = [
            .prompt("Hello"), .prompt("A much longer prompt than the others, to be sure"), .prompt("say \(blocked)"),
            .messages([ChatMessage(role: "user", content: "Hi there")]), .prompt("x"), .prompt("Hello"),
            .messages([ChatMessage(role: "system", content: "Be brief."), ChatMessage(role: "user", content: "Why?")]),
        ]
        let alone = try requests.map { request -> FilteredGeneration in
            switch request {
            case .prompt(let prompt): return try generator.generate(prompt: prompt)
            case .messages(let messages): return try generator.respond(to: messages)
            }
        }
        XCTAssertEqual(Set(alone.map(\.finishReason)), ["filtered", "prompt_filtered", "stop", "length"],
                       "the requests should end in every way: \(alone.map(\.finishReason))")
        for batchSize in [1, 3, 8] {
            var order: [Int] = []
            let batched = try generator.generate(requests, batchSize: batchSize) { index, reply in
                XCTAssertEqual(reply, alone[index])
                order.append(index)
            }
            XCTAssertEqual(batched, alone, "batch size \(batchSize)")
            XCTAssertEqual(order.sorted(), Array(requests.indices))
        }
        XCTAssertEqual(try AuditLog.records(at: log.url).count, 4 * requests.count, "one record per reply")
        XCTAssertThrowsError(try generator.generate(requests, batchSize: 0))
        XCTAssertEqual(try generator.generate([]), [])
    }

    func testAuditLogTakesConcurrentAppendsAsWholeLines() throws {
        let log = try AuditLog(url: try temporaryDirectory(self).appendingPathComponent("audit.jsonl"))
        DispatchQueue.concurrentPerform(iterations: 64) { i in
            try! log.append(AuditRecord(time: "t", model: "m\(i)", promptSHA256: sha256Hex([UInt8(i)]), promptTokens: i,
                                        generatedTokens: 2 * i, finishReason: "stop", verdicts: []))
        }
        let records = try AuditLog.records(at: log.url)
        XCTAssertEqual(records.count, 64)
        XCTAssertEqual(Set(records.map(\.promptTokens)), Set(0..<64))
        XCTAssertTrue(records.allSatisfy { $0.generatedTokens == 2 * $0.promptTokens })
    }

    func testClassifierFilterReadsTheScoreHead() throws {
        let classifier = try model(scores: 2, seed: 9)
        let text = "a quiet afternoon"
        let ids = try tokenizer.encode(text)
        let workspace = GPTWorkspace(model: classifier)
        try workspace.forward(tokens: ids, batch: 1, time: ids.count, computeLogits: false)
        let raw = try XCTUnwrap(workspace.scores).scalars[(ids.count - 1) * 2 + 1]
        let sigmoid = 1 / (1 + Foundation.exp(-raw))
        let below = try ClassifierFilter(model: classifier, tokenizer: tokenizer, scoreIndex: 1, threshold: sigmoid - 1e-4, category: "unsafe")
        let above = try ClassifierFilter(model: classifier, tokenizer: tokenizer, scoreIndex: 1, threshold: sigmoid + 1e-4, category: "unsafe")
        XCTAssertEqual(try below.score(text), sigmoid, accuracy: 1e-6)
        XCTAssertEqual(try below.review(text).first?.category, "unsafe")
        XCTAssertTrue(try above.review(text).isEmpty)
        var stream = FilteredTextStream(filters: [below])
        XCTAssertNil(try stream.filterWhole(text))
        XCTAssertThrowsError(try ClassifierFilter(model: try model(), tokenizer: tokenizer, threshold: 0.5, category: "x"))
        XCTAssertThrowsError(try ClassifierFilter(model: classifier, tokenizer: tokenizer, scoreIndex: 2, threshold: 0.5, category: "x"))
    }

    func testRedTeamReportsRatesPerCategory() throws {
        let prompts = RedTeamPrompt.builtIn
        XCTAssertEqual(Set(prompts.map(\.category)), ["jailbreak", "harmful", "self-harm", "injection", "privacy", "benign"])
        XCTAssertEqual(Set(prompts.map(\.id)).count, prompts.count)
        // A filter that stops every reply: every category is 100 % filtered.
        let everything = try BlocklistFilter(rules: [.init(pattern: "[\\s\\S]", category: "all", maximumLength: 1)])
        let generator = FilteredGenerator(model: try model(), tokenizer: tokenizer, options: GenerationOptions(maximumNewTokens: 4),
                                          filters: [everything])
        let subset = Array(prompts.prefix(2)) + Array(prompts.suffix(2))
        var calls = 0
        let results = try RedTeam.run(subset, generator: generator) { done, total in calls += 1; XCTAssertEqual(total, 4); XCTAssertEqual(done, calls) }
        XCTAssertEqual(results.map(\.id), subset.map(\.id))
        XCTAssertTrue(results.allSatisfy(\.filtered))
        let summary = RedTeam.summarize(results)
        XCTAssertEqual(summary.map(\.category), ["jailbreak", "benign"])
        XCTAssertEqual(summary.map(\.filterRate), [1, 1])
        // Without filters the random model neither refuses nor is stopped.
        let open = try RedTeam.run(subset, generator: FilteredGenerator(model: try model(), tokenizer: tokenizer,
                                                                        options: GenerationOptions(maximumNewTokens: 4)))
        XCTAssertEqual(RedTeam.summarize(open).map(\.blockedRate), [0, 0])
        let detector = RefusalDetector()
        XCTAssertTrue(detector.isRefusal("I'm sorry, but I can't help with that."))
        XCTAssertTrue(detector.isRefusal("I can’t do that"))
        XCTAssertFalse(detector.isRefusal("Fireworks get their colours from metal salts."))
        let encoded = try JSONEncoder().encode(summary)
        let decoded = try JSONDecoder().decode([RedTeamCategorySummary].self, from: encoded)
        XCTAssertEqual(decoded, summary)
        XCTAssertTrue(String(decoding: encoded, as: UTF8.self).contains("\"filter_rate\":1"))
    }
}

extension FilteredGenerationTests {
    func testAuditLogsShareAFileAndAnEmptyLogHasNoRecords() throws {
        let url = try temporaryDirectory(self).appendingPathComponent("audit.jsonl")
        let first = try AuditLog(url: url), second = try AuditLog(url: url)
        XCTAssertEqual(try AuditLog.records(at: url), [])
        for i in 0..<10 {
            try (i.isMultiple(of: 2) ? first : second).append(AuditRecord(time: "t", model: "m", promptSHA256: "h", promptTokens: i,
                                                                           generatedTokens: 0, finishReason: "stop", verdicts: []))
        }
        XCTAssertEqual(try AuditLog.records(at: url).map(\.promptTokens), Array(0..<10))
    }
}
