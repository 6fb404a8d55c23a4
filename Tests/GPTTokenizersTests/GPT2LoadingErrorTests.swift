// GPT2LoadingErrorTests: a tiny hand-made byte-level vocabulary in GPT-2's file formats loads
// and merges as specified; malformed files throw the specific TokenizerError.

import Foundation
import XCTest
@testable import GPTTokenizers

final class GPT2LoadingErrorTests: XCTestCase {
    // MARK: - A tiny vocabulary

    /// The 256 byte tokens (GPT-2 order), then Ġt, he, Ġthe, then <|endoftext|>.
    static let tinyMerges = ["Ġ t", "h e", "Ġt he"]

    static func tinyVocabulary() -> [(String, Int)] {
        var entries = ByteLevelAlphabet.bytesInVocabularyOrder.enumerated().map {
            (ByteLevelAlphabet.text(of: [$0.element]), $0.offset)
        }
        entries += [("Ġt", 256), ("he", 257), ("Ġthe", 258), ("<|endoftext|>", 259)]
        return entries
    }

    static func encoderJSON(_ entries: [(String, Int)]) -> String {
        "{" + entries.map { "\(BPEVocabulary.quoted($0.0)): \($0.1)" }.joined(separator: ", ") + "}"
    }

    /// Writes encoder.json and vocab.bpe into a new directory and returns it.
    func writeFiles(encoder: String, merges: [String]) throws -> URL {
        let directory = try makeTemporaryDirectory(self)
        try encoder.write(to: directory.appendingPathComponent("encoder.json"), atomically: true, encoding: .utf8)
        let bpe = "#version: 0.2\n" + merges.map { $0 + "\n" }.joined()
        try bpe.write(to: directory.appendingPathComponent("vocab.bpe"), atomically: true, encoding: .utf8)
        return directory
    }

    func testTinyVocabularyLoadsAndMergesByRank() throws {
        let directory = try writeFiles(encoder: Self.encoderJSON(Self.tinyVocabulary()), merges: Self.tinyMerges)
        let tokenizer = try GPT2Tokenizer(directory: directory)
        XCTAssertEqual(tokenizer.vocabularySize, 260)
        XCTAssertEqual(tokenizer.specialTokens, ["<|endoftext|>": 259])
        let space = ByteLevelAlphabet.bytesInVocabularyOrder.firstIndex(of: 0x20)!
        XCTAssertEqual(try tokenizer.encode(" the he"), [258, space, 257])
        XCTAssertEqual(try tokenizer.encode(" the<|endoftext|>", allowedSpecial: ["<|endoftext|>"]), [258, 259])
        XCTAssertEqual(try tokenizer.decode([258, space, 257, 259]), " the he<|endoftext|>")
    }

    // MARK: - encoder.json

    func testBadJSONThrowsMalformedJSONWithTheOffset() throws {
        let directory = try writeFiles(encoder: #"{"a": 1,, "b": 2}"#, merges: [])
        let path = directory.appendingPathComponent("encoder.json").path
        assertThrows({ try GPT2Tokenizer(directory: directory) }) {
            guard case .malformedJSON(path, 8, _) = $0 else { return false }
            return true
        }
        let huge = try writeFiles(encoder: #"{"!": 1e400}"#, merges: [])
        assertThrows({ try GPT2Tokenizer(directory: huge) }) {
            guard case .malformedJSON(_, 6, let reason) = $0 else { return false }
            return reason == "number '1e400' is out of range of a 64-bit float"
        }
        let truncated = try writeFiles(encoder: #"{"!": 0, "\"": 1"#, merges: [])
        assertThrows({ try GPT2Tokenizer(directory: truncated) }) {
            guard case .malformedJSON(_, 16, _) = $0 else { return false }
            return true
        }
    }

    func testIDGapAndDuplicateIDAreInvalidVocabulary() throws {
        var gap = Self.tinyVocabulary()
        gap[gap.count - 1].1 = 300
        let gapDirectory = try writeFiles(encoder: Self.encoderJSON(gap), merges: Self.tinyMerges)
        assertThrows({ try GPT2Tokenizer(directory: gapDirectory) }) {
            guard case .invalidVocabulary(_, let reason) = $0 else { return false }
            return reason.contains("id 300")
        }
        var duplicate = Self.tinyVocabulary()
        duplicate[duplicate.count - 1].1 = 5
        let duplicateDirectory = try writeFiles(encoder: Self.encoderJSON(duplicate), merges: Self.tinyMerges)
        assertThrows({ try GPT2Tokenizer(directory: duplicateDirectory) }) {
            guard case .invalidVocabulary(_, let reason) = $0 else { return false }
            return reason.contains("id 5 is used twice")
        }
    }

    func testSymbolOutsideTheByteLevelAlphabetIsInvalidVocabulary() throws {
        let vocabulary = Self.tinyVocabulary() + [("two words", 260)]
        let directory = try writeFiles(encoder: Self.encoderJSON(vocabulary), merges: Self.tinyMerges)
        assertThrows({ try GPT2Tokenizer(directory: directory) }) {
            guard case .invalidVocabulary(_, let reason) = $0 else { return false }
            return reason.contains("'two words'") && reason.contains("U+20")
        }
    }

    func testMissingByteTokenIsInvalidVocabulary() throws {
        // Drop the token of byte "A" and renumber.
        let vocabulary = Self.tinyVocabulary().filter { $0.0 != "A" }.enumerated().map { ($0.element.0, $0.offset) }
        let directory = try writeFiles(encoder: Self.encoderJSON(vocabulary), merges: [])
        assertThrows({ try GPT2Tokenizer(directory: directory) }) {
            guard case .invalidVocabulary(_, let reason) = $0 else { return false }
            return reason.contains("no token for byte 0x41")
        }
    }

    // MARK: - vocab.bpe

    func testMergeNamingAnUnknownSymbolThrows() throws {
        let directory = try writeFiles(encoder: Self.encoderJSON(Self.tinyVocabulary()), merges: ["Ġ t", "Ġ zzz"])
        let path = directory.appendingPathComponent("vocab.bpe").path
        XCTAssertThrowsTokenizerError(.unknownMergeSymbol(path: path, line: 3, symbol: "zzz")) {
            try GPT2Tokenizer(directory: directory)
        }
    }

    func testMergeWhoseResultIsNotInTheVocabularyThrows() throws {
        let directory = try writeFiles(encoder: Self.encoderJSON(Self.tinyVocabulary()), merges: ["Ġ t", "t h"])
        let path = directory.appendingPathComponent("vocab.bpe").path
        XCTAssertThrowsTokenizerError(.unknownMergeSymbol(path: path, line: 3, symbol: "th")) {
            try GPT2Tokenizer(directory: directory)
        }
    }

    func testMalformedMergeLinesThrow() throws {
        for bad in ["Ġt", "a b c", "a  b", " a"] {
            let directory = try writeFiles(encoder: Self.encoderJSON(Self.tinyVocabulary()), merges: ["Ġ t", bad])
            let path = directory.appendingPathComponent("vocab.bpe").path
            XCTAssertThrowsTokenizerError(.malformedMerge(path: path, line: 3, text: bad)) {
                try GPT2Tokenizer(directory: directory)
            }
        }
    }

    func testEmptyOrVersionlessMergesFileIsInvalid() throws {
        let directory = try writeFiles(encoder: Self.encoderJSON(Self.tinyVocabulary()), merges: Self.tinyMerges)
        let bpe = directory.appendingPathComponent("vocab.bpe")
        for contents in ["", "Ġ t\nh e\nĠt he\n"] {
            try contents.write(to: bpe, atomically: true, encoding: .utf8)
            assertThrows({ try GPT2Tokenizer(directory: directory) }) {
                guard case .invalidVocabulary(bpe.path, let reason) = $0 else { return false }
                return reason.contains(contents.isEmpty ? "the file is empty" : "#version") && reason.contains("truncated")
            }
        }
    }

    func testTruncatedMergesFileLeavesTokensUnreachableAndThrows() throws {
        // Two of the three merges: 'Ġthe' (id 258) is then produced by no merge.
        let directory = try writeFiles(encoder: Self.encoderJSON(Self.tinyVocabulary()), merges: Array(Self.tinyMerges.prefix(2)))
        let path = directory.appendingPathComponent("vocab.bpe").path
        assertThrows({ try GPT2Tokenizer(directory: directory) }) {
            guard case .invalidVocabulary(path, let reason) = $0 else { return false }
            return reason.contains("1 token(s)") && reason.contains("'Ġthe', id 258") && reason.contains("after 2 merge(s)")
        }
    }

    func testMissingFileThrowsFileAccess() throws {
        let directory = try makeTemporaryDirectory(self)
        let path = directory.appendingPathComponent("encoder.json").path
        XCTAssertThrowsTokenizerError(.fileAccess(path: path, reason: "no such file or folder")) {
            try GPT2Tokenizer(directory: directory)
        }
    }

    // MARK: - Helpers

    func assertThrows<T>(
        _ body: () throws -> T, file: StaticString = #filePath, line: UInt = #line,
        matching predicate: (TokenizerError) -> Bool
    ) {
        do {
            _ = try body()
            XCTFail("nothing was thrown", file: file, line: line)
        } catch let error as TokenizerError {
            XCTAssertTrue(predicate(error), "unexpected error: \(error.localizedDescription)", file: file, line: line)
        } catch {
            XCTFail("unexpected error type: \(error)", file: file, line: line)
        }
    }
}
