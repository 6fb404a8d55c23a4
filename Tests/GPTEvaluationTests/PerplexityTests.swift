// Sliding-window perplexity against transformers/PyTorch on the same weights, windows and stride
// (Fixtures/make_perplexity_fixtures.py): stories260K (llama2.c) on a story, SmolLM2-135M (the
// shared GGUF, float32) on tiny Shakespeare. Needs ../shared/data; skips without it.
import Foundation
import XCTest
import GPTModel
import GPTTokenizers
import GPTTensor
@testable import GPTEvaluation

private struct PerplexityFixtures: Decodable {
    struct Window: Decodable { let begin: Int; let end: Int; let scored: Int; let nll_sum: Double }
    struct Source: Decodable { let file: String; let characters: Int }
    struct Case: Decodable {
        let name: String, model: String, text: String?, text_source: Source?, bytes: Int, add_bos: Bool
        let tokens: [Int], window: Int, stride: Int, windows: [Window], scored: Int, nll_sum: Double
        let perplexity: Double, bits_per_byte: Double
    }
    let cases: [Case]
}

final class PerplexityTests: XCTestCase {
    private func fixtures() throws -> [PerplexityFixtures.Case] {
        try loadFixture("perplexity.json", as: PerplexityFixtures.self).cases
    }

    func testWindowsFollowTheRecipe() throws {
        for item in try fixtures() {
            let windows = perplexityWindows(tokenCount: item.tokens.count, window: item.window, stride: item.stride)
            XCTAssertEqual(windows.map(\.begin), item.windows.map(\.begin), item.name)
            XCTAssertEqual(windows.map(\.end), item.windows.map(\.end), item.name)
            XCTAssertEqual(windows.map { $0.end - $0.firstScored }, item.windows.map(\.scored), item.name)
        }
    }

    func testStories260KMatchesTransformers() throws {
        let url = sharedDataDirectory.appendingPathComponent("stories260K/stories260K.bin")
        guard FileManager.default.fileExists(atPath: url.path) else { throw XCTSkip("\(url.path) is absent") }
        let model = try GPT(llama2cCheckpointAt: url)
        let tokenizer = try LlamaTokenizer(contentsOf: sharedDataDirectory.appendingPathComponent("stories260K/tok512.bin"))
        let cases = try fixtures().filter { $0.model == "stories260K" }
        XCTAssertEqual(cases.count, 3)
        for item in cases {
            let text = try XCTUnwrap(item.text)
            XCTAssertEqual(try tokenizer.encode(text, bos: true, eos: false), item.tokens, "\(item.name): tokens")
            var reports: [PerplexityProgress] = []
            let result = try model.perplexity(of: text, tokenizer: tokenizer, windowLength: item.window, stride: item.stride,
                                              batchSize: 3, progress: { reports.append($0) })
            check(result, item)
            XCTAssertEqual(reports.last?.windowsDone, item.windows.count)
            XCTAssertEqual(reports.last?.tokensScored, item.scored)
            // One window per pass gives the same sums.
            let single = try model.perplexity(tokens: item.tokens, windowLength: item.window, stride: item.stride, byteCount: item.bytes)
            XCTAssertEqual(single.negativeLogLikelihood, result.negativeLogLikelihood, accuracy: 1e-9 * result.negativeLogLikelihood)
        }
    }

    func testSmolLM2MatchesTransformers() throws {
        let modelURL = sharedDataDirectory.appendingPathComponent("smollm2-135m-instruct/SmolLM2-135M-Instruct.Q4_1.gguf")
        let textURL = sharedDataDirectory.appendingPathComponent("tinyshakespeare/input.txt")
        guard FileManager.default.fileExists(atPath: modelURL.path) else { throw XCTSkip("\(modelURL.path) is absent") }
        let file = try GGUFFile(contentsOf: modelURL)
        // transformers dequantizes the GGUF to float32; so does this.
        let model = try GPT(gguf: file, weights: .dequantized)
        let tokenizer = try XCTUnwrap(try file.tokenizer(name: "SmolLM2"))
        let shakespeare = try String(contentsOf: textURL, encoding: .utf8)
        for item in try fixtures().filter({ $0.model == "smollm2" }) {
            let source = try XCTUnwrap(item.text_source)
            let text = String(String.UnicodeScalarView(shakespeare.unicodeScalars.prefix(source.characters)))
            XCTAssertEqual(text.utf8.count, item.bytes)
            XCTAssertEqual(try tokenizer.encode(text), item.tokens, "\(item.name): tokens")
            let result = try model.perplexity(of: text, tokenizer: tokenizer, windowLength: item.window, stride: item.stride, batchSize: 2)
            check(result, item)
        }
    }

    private func check(_ result: PerplexityResult, _ item: PerplexityFixtures.Case, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(result.tokenCount, item.scored, item.name, file: file, line: line)
        XCTAssertEqual(result.windowCount, item.windows.count, item.name, file: file, line: line)
        XCTAssertEqual(result.byteCount, item.bytes, item.name, file: file, line: line)
        let relative = abs(result.negativeLogLikelihood - item.nll_sum) / item.nll_sum
        XCTAssertLessThan(relative, 1e-5, "\(item.name): NLL \(result.negativeLogLikelihood) vs \(item.nll_sum)", file: file, line: line)
        XCTAssertEqual(result.perplexity, item.perplexity, accuracy: 1e-4 * item.perplexity, item.name, file: file, line: line)
        XCTAssertEqual(result.bitsPerByte ?? 0, item.bits_per_byte, accuracy: 1e-4 * item.bits_per_byte, item.name, file: file, line: line)
    }

    func testBadSizesThrow() throws {
        let url = sharedDataDirectory.appendingPathComponent("stories260K/stories260K.bin")
        guard FileManager.default.fileExists(atPath: url.path) else { throw XCTSkip("\(url.path) is absent") }
        let model = try GPT(llama2cCheckpointAt: url)
        XCTAssertThrowsError(try model.perplexity(tokens: [1]))
        XCTAssertThrowsError(try model.perplexity(tokens: [1, 2, 3], windowLength: 1))
        XCTAssertThrowsError(try model.perplexity(tokens: [1, 2, 3], windowLength: 1000))
        XCTAssertThrowsError(try model.perplexity(tokens: [1, 2, 3], windowLength: 4, stride: 5))
        XCTAssertThrowsError(try model.perplexity(tokens: [1, 2, 3], batchSize: 0))
        XCTAssertThrowsError(try model.perplexity(tokens: [1, 2, 9999]))
    }
}

extension PerplexityTests {
    func testWindowsWithoutATokenToScoreAreSkipped() throws {
        // 2·W + 1 tokens with stride W: the last window would hold one token and score nothing.
        let windows = perplexityWindows(tokenCount: 9, window: 4, stride: 4)
        XCTAssertEqual(windows.map(\.begin), [0, 4])
        XCTAssertEqual(windows.map(\.end), [4, 8])
        let url = sharedDataDirectory.appendingPathComponent("stories260K/stories260K.bin")
        guard FileManager.default.fileExists(atPath: url.path) else { throw XCTSkip("\(url.path) is absent") }
        let model = try GPT(llama2cCheckpointAt: url)
        let result = try model.perplexity(tokens: [1, 403, 407, 261, 378, 432, 383, 286, 261], windowLength: 4, stride: 4)
        XCTAssertEqual(result.tokenCount, 6)
        XCTAssertEqual(result.windowCount, 2)
    }
}
