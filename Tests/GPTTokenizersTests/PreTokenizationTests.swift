// The Llama 3 and Qwen2 pre-tokenization patterns against Hugging Face tokenizers' Split with the
// same Regex (Fixtures/make_pretokenizer_fixtures.py), on the SmolLM2 corpus and edge cases of
// every alternative.
import Foundation
import XCTest
@testable import GPTTokenizers

final class PreTokenizationTests: XCTestCase {
    struct Fixture: Decodable {
        let cases: [[String: PiecesOrText]]
    }

    enum PiecesOrText: Decodable {
        case text(String), pieces([String])
        init(from decoder: Decoder) throws {
            let container = try decoder.singleValueContainer()
            if let text = try? container.decode(String.self) { self = .text(text) } else { self = .pieces(try container.decode([String].self)) }
        }
    }

    func pieces(_ text: String, _ mode: PreTokenization) -> [String] {
        var text = text
        return text.withUTF8 { utf8 in
            var result: [String] = []
            GPT2PreTokenizer.forEachPiece(in: utf8, mode: mode) { result.append(String(decoding: utf8[$0..<$1], as: UTF8.self)) }
            return result
        }
    }

    func testLlama3AndQwen2PiecesEqualHuggingFace() throws {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fixtures/tokenizers/pretokenizers.json")
        let fixture = try JSONDecoder().decode(Fixture.self, from: Data(contentsOf: url))
        XCTAssertGreaterThan(fixture.cases.count, 60)
        for item in fixture.cases {
            guard case .text(let text)? = item["text"] else { return XCTFail("a case without text") }
            for (name, mode) in [("llama3", PreTokenization.llama3), ("qwen2", .qwen2)] {
                guard case .pieces(let expected)? = item[name] else { return XCTFail("no \(name) pieces") }
                XCTAssertEqual(pieces(text, mode), expected, "\(name): \(text.debugDescription)")
            }
        }
    }
}
