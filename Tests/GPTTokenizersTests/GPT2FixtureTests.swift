// GPT2FixtureTests: GPTKit's GPT-2 tokenizer against the ids of Hugging Face tokenizers (cross-
// checked with tiktoken) in Fixtures/tokenizers/gpt2_cases.json.

import Foundation
import XCTest
@testable import GPTTokenizers

final class GPT2FixtureTests: XCTestCase {
    // MARK: - Encoding

    func testFixtureCoversSpecialAndPlainEndOfText() throws {
        let fixture = try TestData.gpt2Fixture()
        let withEndOfText = fixture.cases.filter { $0.text.contains(GPT2Tokenizer.endOfText) }
        XCTAssertTrue(withEndOfText.contains { $0.allowedSpecial && $0.ids.contains(50256) })
        XCTAssertTrue(withEndOfText.contains { !$0.allowedSpecial && !$0.ids.contains(50256) })
        XCTAssertGreaterThan(fixture.cases.count, 100)
    }

    func testEncodesEveryFixtureCaseExactly() throws {
        let tokenizer = try TestData.gpt2()
        for testCase in try TestData.gpt2Fixture().cases {
            let allowed: Set<String> = testCase.allowedSpecial ? [GPT2Tokenizer.endOfText] : []
            let ids = try tokenizer.encode(testCase.text, allowedSpecial: allowed)
            XCTAssertEqual(ids, testCase.ids, "case '\(testCase.name)': \(testCase.text.debugDescription)")
        }
    }

    func testPlainEncodeTreatsEndOfTextAsText() throws {
        let tokenizer = try TestData.gpt2()
        for testCase in try TestData.gpt2Fixture().cases where !testCase.allowedSpecial {
            XCTAssertEqual(try tokenizer.encode(testCase.text), testCase.ids, "case '\(testCase.name)'")
        }
    }

    func testDecodesEveryFixtureCaseBackToItsText() throws {
        let tokenizer = try TestData.gpt2()
        for testCase in try TestData.gpt2Fixture().cases {
            XCTAssertEqual(try tokenizer.decode(testCase.ids), testCase.text, "case '\(testCase.name)'")
        }
    }

    func testPreTokenizerMatchesHuggingFacePieces() throws {
        var checked = 0
        for testCase in try TestData.gpt2Fixture().cases {
            guard let expected = testCase.pieces else { continue }
            var text = testCase.text
            let pieces = text.withUTF8 { utf8 in
                var pieces: [String] = []
                GPT2PreTokenizer.forEachPiece(in: utf8) { start, end in
                    pieces.append(String(decoding: UnsafeBufferPointer(rebasing: utf8[start..<end]), as: UTF8.self))
                }
                return pieces
            }
            XCTAssertEqual(pieces, expected, "case '\(testCase.name)': \(testCase.text.debugDescription)")
            checked += 1
        }
        XCTAssertGreaterThan(checked, 50)
    }

    func testInvalidSurrogateBytesDecodeToTheFixtureText() throws {
        let cases = try TestData.gpt2Fixture().cases.filter { $0.rawUTF8Hex != nil }
        XCTAssertFalse(cases.isEmpty)
        for testCase in cases {
            let raw = bytes(hex: testCase.rawUTF8Hex!)
            XCTAssertNil(String(validating: raw, as: UTF8.self), "the raw bytes should be invalid UTF-8")
            XCTAssertEqual(String(decoding: raw, as: UTF8.self), testCase.text)
            XCTAssertTrue(testCase.text.unicodeScalars.contains("\u{FFFD}"))
        }
    }

    // MARK: - tokenizer.json

    func testTokenizerJSONGivesTheSameIDs() throws {
        let fromJSON = try GPT2Tokenizer(tokenizerJSON: try TestData.shared("gpt2-tokenizer/tokenizer.json"))
        let fromFiles = try TestData.gpt2()
        XCTAssertEqual(fromJSON.vocabularySize, fromFiles.vocabularySize)
        XCTAssertEqual(fromJSON.specialTokens, fromFiles.specialTokens)
        XCTAssertEqual(fromJSON.model.tokenBytes, fromFiles.model.tokenBytes)
        for testCase in try TestData.gpt2Fixture().cases {
            let allowed: Set<String> = testCase.allowedSpecial ? [GPT2Tokenizer.endOfText] : []
            XCTAssertEqual(try fromJSON.encode(testCase.text, allowedSpecial: allowed), testCase.ids, "case '\(testCase.name)'")
        }
    }

    // MARK: - Whole corpus

    func testTinyShakespeareIDsMatchTheRecordedChecksum() throws {
        let tokenizer = try TestData.gpt2()
        let corpora = try TestData.gpt2Fixture().corpora
        XCTAssertFalse(corpora.isEmpty)
        for corpus in corpora {
            let url = try TestData.shared(corpus.file)
            let text = String(decoding: try Data(contentsOf: url), as: UTF8.self)
            let ids = try tokenizer.encode(text)
            XCTAssertEqual(ids.count, corpus.tokenCount, corpus.file)
            XCTAssertEqual(fnv1a64(ids), corpus.idsFNV1a64, corpus.file)
            XCTAssertEqual(try tokenizer.decode(ids), text)
        }
    }
}
