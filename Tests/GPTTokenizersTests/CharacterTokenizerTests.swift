// CharacterTokenizerTests: vocabulary from text, round trips, unknown characters, JSON save and
// load (atomic), malformed files.

import Foundation
import XCTest
import GPTTestSupport
@testable import GPTTokenizers

final class CharacterTokenizerTests: XCTestCase {
    func testVocabularyIsTheSortedDistinctScalars() throws {
        let text = "hello, world\r\nCafé e\u{301} 🌍"
        let tokenizer = CharacterTokenizer(trainingText: text)
        let distinct = Set(text.unicodeScalars.map(\.value)).sorted()
        XCTAssertEqual(tokenizer.characters.map(\.value), distinct)
        XCTAssertEqual(tokenizer.vocabularySize, distinct.count)
        let ids = try tokenizer.encode(text)
        XCTAssertEqual(ids.count, text.unicodeScalars.count)
        XCTAssertEqual(ids.map { tokenizer.characters[$0] }, Array(text.unicodeScalars))
        XCTAssertEqual(try tokenizer.decode(ids), text)
    }

    func testRandomTextRoundTrips() throws {
        var generator = SplitMix64(seed: 11)
        let text = generator.unicodeString(count: 2000)
        let tokenizer = CharacterTokenizer(trainingText: text)
        XCTAssertEqual(try tokenizer.decode(try tokenizer.encode(text)), text)
    }

    func testUnknownCharacterThrowsWithItsOffset() throws {
        let tokenizer = CharacterTokenizer(trainingText: "abc ")
        XCTAssertThrowsTokenizerError(.unknownCharacter("é", offset: 4)) { try tokenizer.encode("cab é") }
        XCTAssertThrowsTokenizerError(.unknownTokenID(4, vocabularySize: 4)) { try tokenizer.decode([0, 4]) }
    }

    func testDuplicateCharactersAreRejected() {
        XCTAssertThrowsTokenizerError(.invalidVocabulary(path: "(characters)", reason: "U+61 appears twice")) {
            try CharacterTokenizer(characters: ["a", "b", "a"])
        }
    }

    func testSavesAndLoadsTheSameVocabularyAtomically() throws {
        let directory = try makeTemporaryDirectory(self)
        let url = directory.appendingPathComponent("characters.json")
        let text = "To be, or not to be: that is the question.\n\"Quoth\" the raven\t\\ 日本 🌍\u{0}"
        let tokenizer = CharacterTokenizer(trainingText: text)
        try tokenizer.save(to: url)
        let reloaded = try CharacterTokenizer(contentsOf: url)
        XCTAssertEqual(reloaded.characters, tokenizer.characters)
        XCTAssertEqual(try reloaded.encode(text), try tokenizer.encode(text))
        // Saving again replaces the file and leaves no temporary file behind.
        try CharacterTokenizer(trainingText: "xyz").save(to: url)
        XCTAssertEqual(try CharacterTokenizer(contentsOf: url).characters, ["x", "y", "z"])
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: directory.path), ["characters.json"])
    }

    func testMalformedFilesThrowSpecificErrors() throws {
        let directory = try makeTemporaryDirectory(self)
        func write(_ text: String) throws -> URL {
            let url = directory.appendingPathComponent("\(UUID().uuidString).json")
            try text.write(to: url, atomically: true, encoding: .utf8)
            return url
        }
        let badJSON = try write(#"{"type": "character", "characters": ["a", }"#)
        do {
            _ = try CharacterTokenizer(contentsOf: badJSON)
            XCTFail("accepted bad JSON")
        } catch let error as TokenizerError {
            guard case .malformedJSON(badJSON.path, 42, _) = error else { return XCTFail("wrong error \(error)") }
        }
        let wrongType = try write(#"{"type": "bpe", "characters": ["a"]}"#)
        XCTAssertThrowsTokenizerError(.unexpectedJSON(path: wrongType.path, reason: "type is 'bpe', expected 'character'")) {
            try CharacterTokenizer(contentsOf: wrongType)
        }
        let twoScalars = try write(#"{"type": "character", "characters": ["a", "bc"]}"#)
        XCTAssertThrowsTokenizerError(
            .invalidVocabulary(path: twoScalars.path, reason: "entry 1 is 2 scalars, expected exactly one")
        ) {
            try CharacterTokenizer(contentsOf: twoScalars)
        }
        let duplicate = try write(#"{"type": "character", "characters": ["a", "a"]}"#)
        XCTAssertThrowsTokenizerError(.invalidVocabulary(path: duplicate.path, reason: "U+61 appears twice")) {
            try CharacterTokenizer(contentsOf: duplicate)
        }
        let missing = directory.appendingPathComponent("missing.json")
        XCTAssertThrowsTokenizerError(.fileAccess(path: missing.path, reason: "no such file or folder")) {
            try CharacterTokenizer(contentsOf: missing)
        }
    }

    func testStreamingDecoderEmitsEachCharacter() throws {
        let tokenizer = CharacterTokenizer(trainingText: "a🌍b")
        var stream = tokenizer.makeStreamingDecoder()
        XCTAssertEqual(try tokenizer.encode("b🌍a").map { try stream.append($0) }, ["b", "🌍", "a"])
        XCTAssertEqual(stream.finish(), "")
    }
}
