// StreamingDecoderTests: ids fed one at a time emit only complete UTF-8 and concatenate to the
// full text; the UTF-8 completeness rule on its own.

import Foundation
import XCTest
import GPTTestSupport
@testable import GPTTokenizers

final class StreamingDecoderTests: XCTestCase {
    func testSplitCharactersAreEmittedOnlyWhenComplete() throws {
        let tokenizer = try TestData.gpt2()
        for name in ["emoji", "cjk", "scripts", "accents"] {
            let testCase = try XCTUnwrap(try TestData.gpt2Fixture().cases.first { $0.name == name })
            // The case must really split a character across tokens, or the test proves nothing.
            let splitting = testCase.ids.filter { String(validating: tokenizer.model.bytes(of: $0), as: UTF8.self) == nil }
            XCTAssertFalse(splitting.isEmpty, name)

            var stream = tokenizer.makeStreamingDecoder()
            var chunks: [String] = []
            for id in testCase.ids { chunks.append(try stream.append(id)) }
            chunks.append(stream.finish())
            XCTAssertTrue(chunks.contains(""), "\(name): some token should wait for the rest of its character")
            for chunk in chunks { XCTAssertFalse(chunk.unicodeScalars.contains("\u{FFFD}"), "\(name): \(chunk.debugDescription)") }
            XCTAssertEqual(chunks.joined(), testCase.text, name)
        }
    }

    func testRandomIDsStreamToTheSameTextAsDecode() throws {
        let tokenizer = try TestData.gpt2()
        var generator = SplitMix64(seed: 42)
        // Byte tokens (ids 0..<256 spell single bytes, many of them partial UTF-8) and others.
        for _ in 0..<300 {
            let ids = (0..<Int.random(in: 1...12, using: &generator)).map { _ in
                Bool.random(using: &generator) ? Int.random(in: 0..<256, using: &generator) : Int.random(in: 0..<50257, using: &generator)
            }
            var stream = tokenizer.makeStreamingDecoder()
            var text = ""
            for id in ids { text += try stream.append(id) }
            text += stream.finish()
            XCTAssertEqual(text, try tokenizer.decode(ids), "\(ids)")
        }
    }

    func testUnknownIDThrowsAndLeavesTheDecoderUsable() throws {
        let tokenizer = try TestData.gpt2()
        var stream = tokenizer.makeStreamingDecoder()
        XCTAssertThrowsTokenizerError(.unknownTokenID(60000, vocabularySize: 50257)) { try stream.append(60000) }
        XCTAssertEqual(try stream.append(15496), "Hello")
    }

    func testCompletePrefixLength() {
        let cases: [([UInt8], Int)] = [
            ([], 0), ([0x41], 1), ([0xE6, 0x97], 0), ([0x41, 0xE6, 0x97], 1), ([0xE6, 0x97, 0xA5], 3),
            ([0xF0, 0x9F, 0x8C], 0), ([0xF0, 0x9F, 0x8C, 0x8D], 4),
            ([0x80], 1),                // a lone continuation byte can never complete
            ([0xC0], 1), ([0xFF], 1),   // bytes that never start a sequence
            ([0xE0, 0x80], 2),          // E0 needs A0...BF next: already invalid
            ([0xED, 0xA0], 2),          // a surrogate: invalid
            ([0xF4, 0x90], 2),          // above U+10FFFF: invalid
            ([0x41, 0xC3], 1),
        ]
        for (bytes, expected) in cases {
            XCTAssertEqual(UTF8Completion.completePrefixLength(of: bytes), expected, "\(bytes)")
        }
    }
}
