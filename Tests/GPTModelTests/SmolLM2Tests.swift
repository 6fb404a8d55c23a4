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
    /// The same file with its matrices in their stored formats (Q4_1, Q8_0), multiplied by the
    /// quantized kernels with float32 activations.
    let stored: GPT
    /// The stored formats with 8-bit activations and integer products (the default, as
    /// llama.cpp computes).
    let storedInt8: GPT
    let tokenizer: GPT2Tokenizer

    init() throws {
        file = try GGUFFile(contentsOf: smolLM2File)
        model = try GPT(gguf: file, name: smolLM2File.lastPathComponent, weights: .dequantized)
        stored = try GPT(gguf: file, name: smolLM2File.lastPathComponent, activations: .float32)
        storedInt8 = try GPT(gguf: file, name: smolLM2File.lastPathComponent)
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

    /// The stored-format model (Q4_1/Q8_0 multiplied as stored, float32 activations) against
    /// transformers' float32 computation on the dequantized weights: last-position logits within
    /// 1e-3 relative, prefilled at once (dequantized panels) and token by token (the direct
    /// kernels), and the same greedy replies.
    func testStoredFormatModelStaysCloseToTheFloat32Reference() throws {
        let smol = try SmolLM2.load()
        XCTAssertEqual(Set(smol.stored.weights.formats), [.q4_1, .q8_0, .float32])
        let reference = try SafetensorsFile(contentsOf: smolLM2Fixtures.appendingPathComponent("logits.safetensors"))
        for (index, item) in try cases().enumerated() {
            let expected = try reference.tensor(named: "case\(index).logits").scalars
            let logits = try smol.stored.forward(tokens: item.prompt_ids, cache: smol.stored.makeCache(capacity: 256)).scalars
            let scale = expected.map(abs).max()!
            let worst = zip(logits, expected).map { abs($0 - $1) }.max()!
            print("\(item.name): stored max |Δ| \(worst) of \(scale)")
            XCTAssertLessThanOrEqual(worst / scale, 1e-3, "\(item.name): max |Δ| \(worst) of max |logit| \(scale)")
            // One row at a time (the decoding kernels) gives the same last-position logits.
            let cache = smol.stored.makeCache(capacity: 256)
            var last: [Float] = []
            for token in item.prompt_ids { last = try smol.stored.forward(tokens: [token], cache: cache).scalars }
            let stepWorst = zip(last, expected).map { abs($0 - $1) }.max()!
            print("\(item.name): stored one-by-one max |Δ| \(stepWorst)")
            let session = try GenerationSession(model: smol.stored, options: GenerationOptions(maximumNewTokens: 48, stopTokens: [2]),
                                                cacheCapacity: 256)
            var reply = try session.generate(prompt: item.prompt_ids)
            if item.reply_ids.last == 2 && reply.count < 48 { reply.append(2) }
            XCTAssertEqual(reply, item.reply_ids, "\(item.name): the stored-format model's greedy reply")
            XCTAssertLessThanOrEqual(stepWorst / scale, 1e-3, "\(item.name) token by token: max |Δ| \(stepWorst)")
        }
    }

    /// The stored-format model against llama.cpp on the same Q4_1 file
    /// (Fixtures/make_llamacpp_fixtures.py). llama.cpp quantizes activations to 8 bits, so its
    /// logits are up to 1.15 from the float32 reference (which GPTKit matches within 1e-4) and
    /// move by up to 1.25 with its own batch size; on "What is the capital of France?" that
    /// rounding flips a near tie ("L" over "The", 0.35 apart in llama.cpp's logits).
    func testStoredFormatModelAgreesWithLlamaCpp() throws {
        let smol = try SmolLM2.load()
        struct Conversation: Decodable { let name: String; let prompt_ids: [Int]; let generated_ids: [Int] }
        struct Fixture: Decodable { let conversations: [Conversation] }
        let folder = repositoryRoot.appendingPathComponent("Fixtures/llamacpp")
        let fixture = try JSONDecoder().decode(Fixture.self, from: Data(contentsOf: folder.appendingPathComponent("smollm2-q4_1.json")))
        let logits = try SafetensorsFile(contentsOf: folder.appendingPathComponent("smollm2-q4_1-logits.safetensors"))
        XCTAssertEqual(fixture.conversations.count, 5)
        for (model, mode) in [(smol.stored, "float32"), (smol.storedInt8, "int8")] {
            var sameNextToken = 0, commonTokens = 0, totalTokens = 0
            for (index, item) in fixture.conversations.enumerated() {
                let expected = Array(try logits.tensor(named: "conv\(index).logits").scalars.prefix(49152))
                let cache = model.makeCache(capacity: 512)
                let ours = try model.forward(tokens: item.prompt_ids, cache: cache).scalars
                let worst = zip(ours, expected).map { abs($0 - $1) }.max()!
                let session = try GenerationSession(model: model, options: GenerationOptions(maximumNewTokens: 64, stopTokens: [2]),
                                                    cacheCapacity: 512)
                let reply = try session.generate(prompt: item.prompt_ids)
                let common = zip(reply, item.generated_ids).prefix { $0 == $1 }.count
                commonTokens += common
                totalTokens += item.generated_ids.count
                let ourBest = ours.indices.max { ours[$0] < ours[$1] }!, theirBest = expected.indices.max { expected[$0] < expected[$1] }!
                print("llama.cpp \(item.name), \(mode) activations: max |Δ logit| \(worst), argmax \(ourBest) vs \(theirBest), common prefix \(common) of \(item.generated_ids.count)")
                if ourBest == theirBest { sameNextToken += 1 }
                XCTAssertLessThanOrEqual(worst, 1.5, "\(item.name), \(mode): max |Δ logit| against llama.cpp")
                if item.name != "capital" { XCTAssertGreaterThanOrEqual(common, 1, "\(item.name), \(mode)") }
            }
            print("llama.cpp, \(mode) activations: next token \(sameNextToken) of 5, \(commonTokens) of \(totalTokens) generated tokens in common prefixes")
            // With 8-bit activations, as llama.cpp computes, the near tie goes llama.cpp's way too.
            XCTAssertGreaterThanOrEqual(sameNextToken, mode == "int8" ? 5 : 4, "\(mode): the next token after the prompt, as llama.cpp's")
        }
    }

    /// The default (8-bit activations) model against the float32 reference: the activations'
    /// rounding moves the logits by as much as llama.cpp's own (1.15 from the reference on these
    /// prompts, and up to 1.25 between two of its batch sizes; measured here 0.58–1.6, 2–6% of
    /// the largest logit).
    func testInt8ActivationModelStaysNearTheFloat32Reference() throws {
        let smol = try SmolLM2.load()
        let reference = try SafetensorsFile(contentsOf: smolLM2Fixtures.appendingPathComponent("logits.safetensors"))
        for (index, item) in try cases().enumerated() {
            let expected = try reference.tensor(named: "case\(index).logits").scalars
            let cache = smol.storedInt8.makeCache(capacity: 256)
            var last: [Float] = []
            for token in item.prompt_ids { last = try smol.storedInt8.forward(tokens: [token], cache: cache).scalars }
            let scale = expected.map(abs).max()!
            let worst = zip(last, expected).map { abs($0 - $1) }.max()!
            print("\(item.name): int8 activations, max |Δ| \(worst) of \(scale)")
            XCTAssertLessThanOrEqual(worst, 2, "\(item.name): max |Δ| \(worst) of max |logit| \(scale)")
            XCTAssertGreaterThan(worst, 0, "\(item.name): 8-bit activations cannot give the float32 logits exactly")
        }
    }
}
