// Fine-tuning data: trl's record formats, the trained-token flags, overlong examples, and
// padded and packed batches (the same loss and gradients either way).
import Foundation
@testable import GPTFineTuning
import GPTModel
import GPTTensor
import GPTTokenizers
import GPTTraining
import XCTest

final class SFTDatasetTests: XCTestCase {
    private let tokenizer = try! CharacterTokenizer(characters: (32...126).map { Unicode.Scalar(UInt8($0)) } + ["\n"])
    private let chat = ChatFormat(template: try! ChatTemplate(
        "{% for m in messages %}[{{ m.role }}]{{ m.content }}|{% endfor %}{% if add_generation_prompt %}[assistant]{% endif %}"))

    private func directory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("gptkit-sft-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: url) }
        return url
    }

    private func write(_ lines: [String], to name: String) throws -> URL {
        let url = try directory().appendingPathComponent(name)
        try Data(lines.joined(separator: "\n").utf8).write(to: url)
        return url
    }

    private func text(_ example: SFTExample, trained: Bool) throws -> String {
        try tokenizer.decode(zip(example.tokens, example.trained).filter { $0.1 == trained }.map { Int($0.0) })
    }

    func testEveryRecordFormatIsReadAndTheCompletionsAreWhatIsTrained() throws {
        let url = try write([
            #"{"messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello!"}, {"role": "user", "content": "Bye"}, {"role": "assistant", "content": "Ciao."}]}"#,
            "",
            #"{"prompt": "2+2=", "completion": "4"}"#,
            #"{"prompt": [{"role": "user", "content": "Name?"}], "completion": [{"role": "assistant", "content": "Tiny."}]}"#,
            #"{"text": "Just text."}"#,
            "",
        ], to: "data.jsonl")
        let data = try SFTDataset(contentsOf: url, tokenizer: tokenizer, chat: chat, options: SFTDataOptions(maximumLength: 512))
        XCTAssertEqual(data.examples.map(\.line), [1, 3, 4, 5])
        XCTAssertEqual(data.report.records, 4)
        XCTAssertEqual(data.report.blankLines, 1)
        let conversation = data.examples[0]
        XCTAssertEqual(try tokenizer.decode(conversation.tokens.map(Int.init)),
                       "[system]Be brief.|[user]Hi|[assistant]Hello!|[user]Bye|[assistant]Ciao.|")
        XCTAssertEqual(try text(conversation, trained: true), "Hello!|Ciao.|", "the assistant turns and their end markers")
        XCTAssertEqual(try text(data.examples[1], trained: true), "4")
        XCTAssertEqual(try text(data.examples[1], trained: false), "2+2=")
        XCTAssertEqual(try text(data.examples[2], trained: true), "Tiny.|")
        XCTAssertEqual(try text(data.examples[2], trained: false), "[user]Name?|[assistant]")
        XCTAssertEqual(try text(data.examples[3], trained: false), "J", "text trains every token after the first")
        XCTAssertEqual(data.report.trainedTokens, data.examples.reduce(0) { $0 + $1.trainedCount })
        // Training on every token.
        let all = try SFTDataset(contentsOf: url, tokenizer: tokenizer, chat: chat,
                                 options: SFTDataOptions(maximumLength: 512, lossTokens: .all))
        for example in all.examples {
            XCTAssertEqual(example.trained, [false] + Array(repeating: true, count: example.tokens.count - 1))
        }
    }

    func testMalformedLinesAreNamedByNumber() throws {
        let good = #"{"prompt": "a", "completion": "b"}"#
        let cases: [(String, [String])] = [
            ("not json", ["line 2", "not JSON"]),
            ("[1, 2]", ["line 2", "not a JSON object"]),
            (#"{"prompt": "a"}"#, ["line 2", "needs"]),
            (#"{"prompt": "a", "completion": [{"role": "assistant", "content": "b"}]}"#, ["line 2", "both be strings"]),
            (#"{"messages": []}"#, ["line 2", "non-empty"]),
            (#"{"messages": [{"role": "user"}]}"#, ["line 2", "messages[0]"]),
            (#"{"messages": [{"role": "user", "content": "no reply"}]}"#, ["line 2", "no \"assistant\""]),
            (#"{"text": "x", "prompt": "y", "completion": "z"}"#, ["line 2", "one format"]),
        ]
        for (line, fragments) in cases {
            let url = try write([good, line, good], to: "bad.jsonl")
            XCTAssertThrowsError(try SFTDataset(contentsOf: url, tokenizer: tokenizer, chat: chat, options: SFTDataOptions(maximumLength: 64))) { error in
                for fragment in fragments { XCTAssertTrue("\(error.localizedDescription)".contains(fragment), "\(error) lacks \(fragment)") }
            }
        }
        // A conversation without a chat template, invalid UTF-8, an empty file.
        let url = try write([#"{"messages": [{"role": "assistant", "content": "x"}]}"#], to: "chat.jsonl")
        XCTAssertThrowsError(try SFTDataset(contentsOf: url, tokenizer: tokenizer, chat: nil, options: SFTDataOptions(maximumLength: 64)))
        let binary = try directory().appendingPathComponent("binary.jsonl")
        try Data([0x7B, 0xFF, 0x7D]).write(to: binary)
        XCTAssertThrowsError(try SFTDataset(contentsOf: binary, tokenizer: tokenizer, chat: chat, options: SFTDataOptions(maximumLength: 64)))
        let empty = try write(["", "  "], to: "empty.jsonl")
        XCTAssertThrowsError(try SFTDataset(contentsOf: empty, tokenizer: tokenizer, chat: chat, options: SFTDataOptions(maximumLength: 64)))
    }

    func testOverlongExamplesAreTruncatedOrDroppedAndCounted() throws {
        let records: [SFTRecord] = [.promptCompletion(prompt: "short", completion: "yes"),
                                    .promptCompletion(prompt: "a much longer prompt", completion: "and its completion"),
                                    .text("tiny")]
        let truncated = try SFTDataset(records: records, tokenizer: tokenizer, chat: nil, options: SFTDataOptions(maximumLength: 10))
        XCTAssertEqual(truncated.examples.map(\.tokens.count), [8, 10, 4])
        XCTAssertEqual(truncated.report.truncated, 1)
        XCTAssertEqual(try tokenizer.decode(truncated.examples[1].tokens.map(Int.init)), "a much lon")
        let dropped = try SFTDataset(records: records, tokenizer: tokenizer, chat: nil,
                                     options: SFTDataOptions(maximumLength: 10, overlong: .drop))
        XCTAssertEqual(dropped.examples.map(\.line), [1, 3])
        XCTAssertEqual(dropped.report.dropped, 1)
        XCTAssertEqual(dropped.report.droppedLines, [2])
        XCTAssertTrue(dropped.report.summary.contains("1 dropped"))
        XCTAssertThrowsError(try SFTDataset(records: records, tokenizer: tokenizer, chat: nil, options: SFTDataOptions(maximumLength: 1)))
    }

    func testPackingPlacesWholeExamplesByBestFitDecreasing() throws {
        let lengths = [7, 3, 5, 2, 6, 1]  // inputs per example
        let data = SFTDataset(examples: lengths.enumerated().map { index, n in
            SFTExample(tokens: (0...n).map { Int32(($0 + index) % 9 + 1) }, trained: [false] + Array(repeating: true, count: n), line: index + 1)
        })
        XCTAssertEqual(data.packRows(Array(data.examples.indices), capacity: 8), [[0, 5], [4, 3], [2, 1]])
        let batches = try data.batches(batchSize: 2, sequenceLength: 8, packing: true, padTokenID: 0)
        XCTAssertEqual(batches.map(\.batchSize), [2, 1])
        XCTAssertEqual(batches[0].sequenceLength, 8)
        XCTAssertEqual(batches[1].sequenceLength, 8)
        XCTAssertEqual(batches[0].positions, [0, 1, 2, 3, 4, 5, 6, 0] + [0, 1, 2, 3, 4, 5, 0, 1])
        let counted = batches.reduce(0) { $0 + $1.targets.filter { $0 != -100 }.count }
        XCTAssertEqual(counted, lengths.reduce(0, +))
        let padded = try data.batches(batchSize: 4, sequenceLength: 8, packing: false, padTokenID: 0)
        XCTAssertEqual(padded.map(\.batchSize), [4, 2])
        XCTAssertEqual(padded.map(\.sequenceLength), [7, 6], "each batch padded to its longest example")
        XCTAssertNil(padded[0].positions)
        XCTAssertThrowsError(try data.batches(batchSize: 2, sequenceLength: 6, packing: true, padTokenID: 0), "an example longer than a row")
        XCTAssertEqual(Set(data.shuffled(seed: 3)), Set(data.examples.indices))
        XCTAssertEqual(data.shuffled(seed: 3), data.shuffled(seed: 3))
    }

    /// The loss and gradients of a batch of examples are the same padded and packed.
    func testPackedAndPaddedBatchesTrainAlike() throws {
        let configuration = GPTConfiguration(vocabularySize: tokenizer.vocabularySize, contextLength: 64, layerCount: 2, headCount: 4,
                                             keyValueHeadCount: 2, embeddingDimensions: 32, hiddenDimensions: 48,
                                             positionalEncoding: .rotary(theta: 10_000), normalization: .rmsNorm, feedForward: .swiGLU,
                                             usesBias: false, tiesEmbeddings: false)
        let model = try GPT(configuration: configuration, seed: 5)
        let records: [SFTRecord] = [
            .messages([ChatMessage(role: "user", content: "Hi"), ChatMessage(role: "assistant", content: "Hello there")]),
            .promptCompletion(prompt: "Q: 3+4?", completion: " 7"),
            .conversationalPromptCompletion(prompt: [ChatMessage(role: "user", content: "Colour?")],
                                            completion: [ChatMessage(role: "assistant", content: "Blue")]),
            .text("The sky is clear."),
        ]
        let data = try SFTDataset(records: records, tokenizer: tokenizer, chat: chat, options: SFTDataOptions(maximumLength: 64))
        let packed = try data.batches(batchSize: 8, sequenceLength: 48, packing: true, padTokenID: 0)
        let padded = try data.batches(batchSize: 8, sequenceLength: 48, packing: false, padTokenID: 0)
        XCTAssertEqual(packed.count, 1)
        XCTAssertEqual(padded.count, 1)
        XCTAssertLessThan(packed[0].inputs.count, padded[0].inputs.count, "packing wastes fewer positions")
        var results: [(Float, [[Float]])] = []
        for batch in [packed[0], padded[0]] {
            let workspace = GPTWorkspace(model: model)
            let loss = try CrossEntropyObjective().accumulate(batch, in: workspace, scale: 1, dropoutSeed: nil)
            results.append((loss, model.layout.entries.map { workspace.gradients.gradient(of: $0.slot).scalars }))
        }
        XCTAssertEqual(results[0].0, results[1].0, accuracy: 1e-6 * results[1].0)
        for (index, (a, b)) in zip(results[0].1, results[1].1).enumerated() {
            let scale = b.map(abs).max() ?? 1
            XCTAssertLessThanOrEqual(zip(a, b).map { abs($0 - $1) }.max() ?? 0, 1e-4 * scale + 1e-7, model.layout.entries[index].name)
        }
    }

    func testSplitHoldsOutASeededShare() throws {
        let data = SFTDataset(examples: (0..<10).map { SFTExample(tokens: [1, Int32($0)], trained: [false, true], line: $0 + 1) })
        let (train, validation) = data.split(validationFraction: 0.2, seed: 1)
        XCTAssertEqual(train.examples.count, 8)
        XCTAssertEqual(validation.examples.count, 2)
        XCTAssertEqual(Set(train.examples.map(\.line) + validation.examples.map(\.line)), Set(1...10))
        XCTAssertEqual(data.split(validationFraction: 0.2, seed: 1).validation.examples, validation.examples)
        XCTAssertEqual(data.split(validationFraction: 0, seed: 1).train.examples.count, 10)
    }

    /// SmolLM2's own template and tokenizer: the trained tokens are the assistant replies with
    /// their `<|im_end|>` (and the newline the template writes after it).
    func testSmolLM2ChatExamplesTrainTheRepliesOnly() throws {
        let file = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("shared/data/smollm2-135m-instruct/SmolLM2-135M-Instruct.Q4_1.gguf")
        guard FileManager.default.fileExists(atPath: file.path) else { throw XCTSkip("../shared/data/smollm2-135m-instruct is absent") }
        let gguf = try GGUFFile(contentsOf: file)
        let tokenizer = try XCTUnwrap(try gguf.tokenizer(name: "SmolLM2"))
        let chat = try XCTUnwrap(try ChatFormat(gguf: gguf, tokenizer: tokenizer))
        let messages = [ChatMessage(role: "user", content: "What is 2+2?"), ChatMessage(role: "assistant", content: "It is 4."),
                        ChatMessage(role: "user", content: "And 3+3?"), ChatMessage(role: "assistant", content: "It is 6.")]
        let data = try SFTDataset(records: [.messages(messages)], tokenizer: tokenizer, chat: chat, options: SFTDataOptions(maximumLength: 512))
        let example = data.examples[0]
        let whole = try tokenizer.encodeParsingSpecialTokens(try chat.render(messages, addGenerationPrompt: false))
        XCTAssertEqual(example.tokens.map(Int.init), whole, "tokenized in pieces, the same ids as the whole rendering")
        let trained = try tokenizer.decode(zip(example.tokens, example.trained).filter(\.1).map { Int($0.0) })
        XCTAssertEqual(trained, "It is 4.<|im_end|>\nIt is 6.<|im_end|>\n")
    }

    /// Mutated data files (bytes flipped, inserted, deleted, lines cut) are read or refused with
    /// an error, never a crash or a hang.
    func testMutatedDataFilesAreReadOrRefused() throws {
        let lines = [
            #"{"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello!"}]}"#,
            #"{"prompt": "2+2=", "completion": "4"}"#,
            #"{"prompt": [{"role": "user", "content": "Name?"}], "completion": [{"role": "assistant", "content": "Tiny."}]}"#,
            #"{"text": "Just text."}"#,
        ]
        let original = Array((lines.joined(separator: "\n") + "\n").utf8)
        let url = try directory().appendingPathComponent("fuzz.jsonl")
        var generator = RandomGenerator(seed: 17)
        var accepted = 0
        for _ in 0..<300 {
            var bytes = original
            for _ in 0..<(1 + Int(generator.next() % 4)) {
                let at = Int(generator.next() % UInt64(bytes.count))
                switch generator.next() % 4 {
                case 0: bytes[at] = UInt8(truncatingIfNeeded: generator.next())
                case 1: bytes.insert(Array("{}[]\",:\n\u{FF}".utf8)[Int(generator.next() % 9)], at: at)
                case 2: if bytes.count > 1 { bytes.remove(at: at) }
                default: bytes.removeLast(min(bytes.count - 1, Int(generator.next() % 20)))
                }
            }
            try Data(bytes).write(to: url)
            do {
                let data = try SFTDataset(contentsOf: url, tokenizer: tokenizer, chat: chat, options: SFTDataOptions(maximumLength: 64))
                XCTAssertFalse(data.examples.isEmpty)
                accepted += 1
            } catch let error as TrainingError {
                XCTAssertFalse(error.localizedDescription.isEmpty)
            }
        }
        XCTAssertGreaterThan(accepted, 0, "some mutations leave a valid file")
    }
}
