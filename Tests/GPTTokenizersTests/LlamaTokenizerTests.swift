// LlamaTokenizerTests: the llama2.c tokenizer (stories260K's tok512.bin) against run.c's
// reference ids and text in ../shared/data/stories260K/PROVENANCE.md, and its file errors.

import Foundation
import XCTest
import GPTTestSupport
@testable import GPTTokenizers

final class LlamaTokenizerTests: XCTestCase {
    // MARK: - Reference (stories260K/PROVENANCE.md, from run.c at llama2.c 350e04fe)

    /// `./run stories260K.bin -z tok512.bin -t 0 -n 64 -i "Once upon a time"`: BOS + prompt ids.
    static let promptIDs = [1, 403, 407, 261, 378]
    /// The 60 generated ids of that run.
    static let generatedIDs = [
        432, 383, 286, 261, 376, 298, 315, 421, 395, 317, 426, 338, 401, 396, 267, 337, 410, 408, 419, 292,
        411, 322, 265, 282, 295, 433, 426, 385, 328, 432, 358, 394, 261, 370, 432, 352, 266, 268, 388, 426,
        338, 391, 266, 267, 337, 335, 312, 432, 398, 312, 286, 267, 414, 270, 333, 415, 426, 13, 438, 310,
    ]
    /// That run's stdout (run.c prints a newline after the last token).
    static let referenceOutput = """
        Once upon a time, there was a little girl named Lily. She loved to play outside in the park. \
        One day, she saw a big, red ball. She wanted to play with it, but it was too high.
        Lily

        """

    func tok512() throws -> LlamaTokenizer {
        try LlamaTokenizer(contentsOf: try TestData.shared("stories260K/tok512.bin"))
    }

    func testEncodesThePromptToTheReferenceIDs() throws {
        let tokenizer = try tok512()
        XCTAssertEqual(tokenizer.vocabularySize, 512)
        XCTAssertEqual(try tokenizer.encode("Once upon a time", bos: true, eos: false), Self.promptIDs)
        XCTAssertEqual(try tokenizer.encode("Once upon a time"), Array(Self.promptIDs.dropFirst()))
        XCTAssertEqual(try tokenizer.encode("Once upon a time", bos: true, eos: true), Self.promptIDs + [2])
    }

    func testDecodesTheGeneratedIDsToTheReferenceText() throws {
        let tokenizer = try tok512()
        let prompt = "Once upon a time"
        XCTAssertEqual(prompt + (try tokenizer.decode(Self.generatedIDs)) + "\n", Self.referenceOutput)
        XCTAssertEqual(try tokenizer.decode(Self.promptIDs + Self.generatedIDs) + "\n", Self.referenceOutput)
    }

    func testStreamingDecodeMatchesTheReference() throws {
        let tokenizer = try tok512()
        var stream = tokenizer.makeStreamingDecoder()
        var text = ""
        for id in Self.promptIDs + Self.generatedIDs { text += try stream.append(id) }
        text += stream.finish()
        XCTAssertEqual(text + "\n", Self.referenceOutput)
    }

    func testRoundTripWithByteFallbackForUnknownCharacters() throws {
        let tokenizer = try tok512()
        var generator = SplitMix64(seed: 260)
        var texts = ["Lily saw a café 🌍 and 日本!", "", " leading space", "tabs\tand\nnewlines\n"]
        texts += (0..<100).map { _ in generator.unicodeString(count: Int.random(in: 1...30, using: &generator)) }
        for text in texts {
            let ids = try tokenizer.encode(text, bos: true, eos: false)
            XCTAssertEqual(try tokenizer.decode(ids), text, text.debugDescription)
        }
        // A character without a piece becomes its UTF-8 bytes as <0xNN> tokens (id = byte + 3).
        let globe = try tokenizer.encode("🌍")
        XCTAssertEqual(Array(globe.dropFirst()), Array("🌍".utf8).map { Int($0) + 3 })
    }

    func testAgreesWithAPlainPortOfRunCEncode() throws {
        let tokenizer = try tok512()
        var generator = SplitMix64(seed: 2)
        let words = ["Once", " upon", "a", "time", "Lily", "played", "happy", "the", "ball", ",", ".", "!", " ", "\n", "é", "🌍"]
        for _ in 0..<200 {
            let text = (0..<Int.random(in: 0...12, using: &generator)).map { _ in words.randomElement(using: &generator)! }.joined()
            XCTAssertEqual(try tokenizer.encode(text, bos: true, eos: false), Self.runCEncode(tokenizer, text), text.debugDescription)
        }
    }

    func testLongTextsAgreeWithThePlainPort() throws {
        // Real text, long enough for many merges to interact (the heap-based merge against the
        // quadratic rescan), then a 200 KB text that the quadratic loop needed half a minute for.
        let tokenizer = try tok512()
        let text = try String(contentsOf: try TestData.shared("tinyshakespeare/input.txt"), encoding: .utf8)
        let characters = Array(text.unicodeScalars)
        for start in stride(from: 0, to: 4000, by: 800) {
            var slice = String.UnicodeScalarView()
            slice.append(contentsOf: characters[start..<(start + 400)])
            let piece = String(slice)
            XCTAssertEqual(try tokenizer.encode(piece, bos: true, eos: false), Self.runCEncode(tokenizer, piece), "at \(start)")
        }
        var large = String.UnicodeScalarView()
        large.append(contentsOf: characters.prefix(200_000))
        let ids = try tokenizer.encode(String(large), bos: true, eos: false)
        XCTAssertEqual(try tokenizer.decode(ids), String(large), "a 200 KB text round-trips")
    }

    /// run.c's `encode` transcribed directly: rescan every pair on every iteration.
    static func runCEncode(_ tokenizer: LlamaTokenizer, _ text: String) -> [Int] {
        var pieces: [[UInt8]: Int] = [:]
        for id in (0..<tokenizer.vocabularySize).reversed() { pieces[Array(tokenizer.piece(id))] = id }
        var tokens = [1]
        if !text.isEmpty { tokens.append(pieces[[0x20]]!) }
        for scalar in text.unicodeScalars {
            let bytes = Array(String(scalar).utf8)
            if let id = pieces[bytes] { tokens.append(id) } else { tokens += bytes.map { Int($0) + 3 } }
        }
        while true {
            var best: (score: Float, id: Int, index: Int) = (-1e10, -1, -1)
            for index in 0..<(tokens.count - 1) {
                let joined = Array(tokenizer.piece(tokens[index]) + tokenizer.piece(tokens[index + 1]))
                if let id = pieces[joined], tokenizer.scores[id] > best.score { best = (tokenizer.scores[id], id, index) }
            }
            if best.index < 0 { break }
            tokens[best.index] = best.id
            tokens.remove(at: best.index + 1)
        }
        return tokens
    }

    // MARK: - Errors

    func testTruncatedFilesThrowTruncatedFile() throws {
        let data = try Data(contentsOf: try TestData.shared("stories260K/tok512.bin"))
        let directory = try makeTemporaryDirectory(self)
        let cases: [(Int, String)] = [
            (2, "the header (max_token_length)"), (6, "the score of token 0"), (10, "the length of token 0"),
            (data.count - 1, "the 3 bytes of token 511"),
        ]
        for (length, expected) in cases {
            let url = directory.appendingPathComponent("cut\(length).bin")
            try data.prefix(length).write(to: url)
            XCTAssertThrowsTokenizerError(.truncatedFile(path: url.path, offset: length, expected: expected)) {
                try LlamaTokenizer(contentsOf: url)
            }
        }
        let whole = directory.appendingPathComponent("whole.bin")
        try data.write(to: whole)
        XCTAssertThrowsTokenizerError(.truncatedFile(path: whole.path, offset: data.count, expected: "the score of token 512")) {
            try LlamaTokenizer(contentsOf: whole, vocabularySize: 513)
        }
        XCTAssertEqual(try LlamaTokenizer(contentsOf: whole, vocabularySize: 300).vocabularySize, 300)
    }

    func testNegativeLengthIsInvalidVocabulary() throws {
        var bytes: [UInt8] = [4, 0, 0, 0]          // max_token_length = 4
        bytes += [0, 0, 0, 0, 0xFF, 0xFF, 0xFF, 0xFF]  // score 0, length -1
        let url = try makeTemporaryDirectory(self).appendingPathComponent("bad.bin")
        try Data(bytes).write(to: url)
        XCTAssertThrowsTokenizerError(.invalidVocabulary(path: url.path, reason: "token 0 has negative length -1")) {
            try LlamaTokenizer(contentsOf: url)
        }
    }

    func testDecodeRejectsUnknownIDs() throws {
        let tokenizer = try tok512()
        XCTAssertThrowsTokenizerError(.unknownTokenID(512, vocabularySize: 512)) { try tokenizer.decode([1, 512]) }
    }
}
