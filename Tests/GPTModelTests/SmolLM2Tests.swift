// SmolLM2-135M-Instruct from its Q4_1 GGUF (../shared/data) against Hugging Face transformers on
// the same file dequantized to float32 (Fixtures/make_smollm2_fixtures.py): the tokenizer's ids
// on a corpus, the last-position logits of five chat prompts, and the greedy replies.
import Foundation
import XCTest
@testable import GPTModel
import GPTTensor
import GPTTokenizers

let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
let smolLM2File = repositoryRoot.deletingLastPathComponent()
    .appendingPathComponent("shared/data/smollm2-135m-instruct/SmolLM2-135M-Instruct.Q4_1.gguf")
let smolLM2Fixtures = repositoryRoot.appendingPathComponent("Fixtures/smollm2")

/// The model, its tokenizer and file, loaded once for every test of the class.
final class SmolLM2: Sendable {
    static let shared: Result<SmolLM2, any Error>? = FileManager.default.fileExists(atPath: smolLM2File.path)
        ? Result { try SmolLM2() } : nil
    let file: GGUFFile
    let model: GPT
    let tokenizer: GPT2Tokenizer

    init() throws {
        file = try GGUFFile(contentsOf: smolLM2File)
        model = try GPT(gguf: file, name: smolLM2File.lastPathComponent)
        tokenizer = try XCTUnwrap(file.tokenizer(name: smolLM2File.lastPathComponent) as? GPT2Tokenizer)
    }

    static func load() throws -> SmolLM2 {
        guard let shared else { throw XCTSkip("../shared/data/smollm2-135m-instruct is absent") }
        return try shared.get()
    }
}

struct SmolLM2Case: Decodable {
    let name: String
    let messages: [ChatMessage]
    let prompt: String
    let prompt_ids: [Int]
    let reply_ids: [Int]
    let reply: String
}

struct SmolLM2Cases: Decodable { let cases: [SmolLM2Case] }

struct CorpusEntry: Decodable {
    let text: String
    let ids: [Int]
    let ids_split_special_tokens: [Int]
    let ids_digits_pretokenizer: [Int]
    let decoded: String
}

struct Corpus: Decodable { let entries: [CorpusEntry] }

final class SmolLM2Tests: XCTestCase {
    func cases() throws -> [SmolLM2Case] {
        try JSONDecoder().decode(SmolLM2Cases.self, from: Data(contentsOf: smolLM2Fixtures.appendingPathComponent("cases.json"))).cases
    }

    func testTheConfigurationComesFromTheMetadata() throws {
        let c = try SmolLM2.load().model.configuration
        XCTAssertEqual([c.layerCount, c.embeddingDimensions, c.headCount, c.keyValueHeadCount, c.hiddenDimensions, c.vocabularySize,
                        c.contextLength], [30, 576, 9, 3, 1536, 49152, 8192])
        XCTAssertEqual(c.positionalEncoding, .rotary(theta: 100_000))
        XCTAssertTrue(c.tiesEmbeddings)
        XCTAssertEqual(c.normalizationEpsilon, 1e-5)
    }

    func testTokenIDsEqualTheModelsTokenizerOnTheCorpus() throws {
        let tokenizer = try SmolLM2.load().tokenizer
        let corpus = try JSONDecoder().decode(Corpus.self, from: Data(contentsOf: smolLM2Fixtures.appendingPathComponent("tokenizer-corpus.json")))
        XCTAssertGreaterThan(corpus.entries.count, 30)
        let specials = Set(tokenizer.specialTokens.keys)
        // SmolLM2's tokenizer (its tokenizer.json on the Hub, and llama.cpp for GGUF `pre` =
        // smollm) splits every number character before GPT-2's pattern; transformers' GGUF
        // loader does not know `smollm` and skips that step. The two agree on every string but
        // those with numerals other than ASCII digits (½, ², ٣), where GPTKit follows the model's
        // own tokenizer: `ids_digits_pretokenizer`.
        var differing = 0
        for entry in corpus.entries {
            XCTAssertEqual(try tokenizer.encode(entry.text, allowedSpecial: specials), entry.ids_digits_pretokenizer, entry.text.debugDescription)
            guard entry.ids == entry.ids_digits_pretokenizer else {
                differing += 1
                continue
            }
            XCTAssertEqual(try tokenizer.encode(entry.text), entry.ids_split_special_tokens, entry.text.debugDescription)
            XCTAssertEqual(try tokenizer.decode(entry.ids), entry.decoded, entry.text.debugDescription)
        }
        XCTAssertEqual(differing, 1, "only the non-ASCII numerals string differs between the two")
        XCTAssertEqual(tokenizer.bosTokenID, 1)
        XCTAssertEqual(tokenizer.eosTokenID, 2)
    }

    func testLastPositionLogitsMatchTransformersWithin1e3Relative() throws {
        let smol = try SmolLM2.load()
        let reference = try SafetensorsFile(contentsOf: smolLM2Fixtures.appendingPathComponent("logits.safetensors"))
        for (index, item) in try cases().enumerated() {
            XCTAssertEqual(try smol.tokenizer.encode(item.prompt, allowedSpecial: Set(smol.tokenizer.specialTokens.keys)), item.prompt_ids, item.name)
            let expected = try reference.tensor(named: "case\(index).logits").scalars
            let logits = try smol.model.forward(tokens: item.prompt_ids, cache: smol.model.makeCache(capacity: 256)).scalars
            let scale = expected.map(abs).max()!
            let worst = zip(logits, expected).map { abs($0 - $1) }.max()!
            XCTAssertLessThanOrEqual(worst / scale, 1e-3, "\(item.name): max |Δ| \(worst) of max |logit| \(scale)")
        }
    }

    func testGreedyRepliesEqualTransformers() throws {
        let smol = try SmolLM2.load()
        for item in try cases() {
            let session = try GenerationSession(model: smol.model, options: GenerationOptions(maximumNewTokens: 48, stopTokens: [2]),
                                                cacheCapacity: 256)
            var reply = try session.generate(prompt: item.prompt_ids)
            if item.reply_ids.last == 2 && reply.count < 48 { reply.append(2) }  // the stop token is not returned
            XCTAssertEqual(reply, item.reply_ids, "\(item.name): \((try? smol.tokenizer.decode(reply))?.debugDescription ?? "?")")
            XCTAssertGreaterThanOrEqual(item.reply_ids.count, 8)
        }
        XCTAssertEqual(try cases().first?.reply, "The capital of France is Paris.<|im_end|>")
    }
}
