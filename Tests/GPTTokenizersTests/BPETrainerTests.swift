// BPETrainerTests: a trained byte-level BPE compresses and round-trips its text, reloads from
// the saved GPT-2 files with identical ids, and is deterministic.

import Foundation
import XCTest
import GPTTestSupport
@testable import GPTTokenizers

final class BPETrainerTests: XCTestCase {
    /// A small English-like text from a seeded generator (no data files needed).
    static func sampleText(seed: UInt64, sentences: Int) -> String {
        var generator = SplitMix64(seed: seed)
        let words = ["the", "cat", "sat", "on", "a", "mat", "and", "looked", "at", "dog", "who", "was", "sleeping",
                     "in", "sun", "it's", "they're", "happily", "running", "jumped", "over", "fence", "café", "日本"]
        var text = ""
        for _ in 0..<sentences {
            let count = Int.random(in: 3...12, using: &generator)
            var sentence = (0..<count).map { _ in words.randomElement(using: &generator)! }.joined(separator: " ")
            sentence = sentence.prefix(1).uppercased() + sentence.dropFirst()
            text += sentence + [". ", "! ", "?\n", ".\n\n", ", 42 "].randomElement(using: &generator)!
        }
        return text
    }

    func testTrainedVocabularyCompressesRoundTripsAndReloads() throws {
        let text = Self.sampleText(seed: 1, sentences: 400)
        let directory = try makeTemporaryDirectory(self)
        let corpus = directory.appendingPathComponent("corpus.txt")
        try text.write(to: corpus, atomically: true, encoding: .utf8)

        let vocabulary = try BPETrainer(vocabularySize: 300).train(files: [corpus])
        XCTAssertEqual(vocabulary.vocabularySize, 300)
        XCTAssertEqual(vocabulary.merges.count, 300 - 256 - 1)
        let tokenizer = try vocabulary.makeTokenizer()
        XCTAssertEqual(tokenizer.specialTokens, [GPT2Tokenizer.endOfText: 299])
        let ids = try tokenizer.encode(text)
        XCTAssertLessThan(ids.count, text.utf8.count * 2 / 3, "a trained BPE should compress its own text")
        XCTAssertEqual(try tokenizer.decode(ids), text)

        let saved = directory.appendingPathComponent("bpe")
        try vocabulary.save(to: saved)
        let reloaded = try GPT2Tokenizer(directory: saved)
        XCTAssertEqual(reloaded.vocabularySize, 300)
        XCTAssertEqual(try reloaded.encode(text), ids)
        let other = Self.sampleText(seed: 2, sentences: 50) + "unseen wörds 🌍"
        XCTAssertEqual(try reloaded.encode(other), try tokenizer.encode(other))
        XCTAssertEqual(try reloaded.decode(try reloaded.encode(other)), other)
        XCTAssertEqual(Set(try FileManager.default.contentsOfDirectory(atPath: saved.path)), ["encoder.json", "vocab.bpe"])
    }

    func testEveryMergeIsUsedToSpellItsToken() throws {
        // Each learned token, encoded alone as a pre-token, is a single id.
        let text = Self.sampleText(seed: 3, sentences: 300)
        let vocabulary = try BPETrainer(vocabularySize: 320, specialTokens: []).train(texts: [text])
        let tokenizer = try vocabulary.makeTokenizer()
        var checked = 0
        for id in 256..<vocabulary.vocabularySize {
            let bytes = vocabulary.tokens[id]
            guard let token = String(validating: bytes, as: UTF8.self) else { continue }
            var utf8 = token
            let isOnePiece = utf8.withUTF8 { GPT2PreTokenizer.pieceEnd(in: $0, from: 0) == $0.count }
            guard isOnePiece else { continue }
            XCTAssertEqual(try tokenizer.encode(token), [id], token.debugDescription)
            checked += 1
        }
        XCTAssertGreaterThan(checked, 30)
    }

    func testTrainingIsDeterministicAndSpecialTokensAreNotLearned() throws {
        // 40 documents separated by <|endoftext|>: were the separators learned from, "<|" and
        // "|>" (39 occurrences each) would be among the first merges.
        let documents = (0..<40).map { Self.sampleText(seed: UInt64(10 + $0), sentences: 5) }
        let text = documents.joined(separator: GPT2Tokenizer.endOfText)
        let first = try BPETrainer(vocabularySize: 300).train(texts: [text])
        let second = try BPETrainer(vocabularySize: 300).train(texts: [text])
        XCTAssertEqual(first.tokens, second.tokens)
        XCTAssertEqual(first.merges.map { [$0.left, $0.right] }, second.merges.map { [$0.left, $0.right] })
        let learned = first.tokens[256..<299]
        XCTAssertFalse(learned.contains { $0.contains(UInt8(ascii: "|")) || $0.contains(UInt8(ascii: "<")) })
        let tokenizer = try first.makeTokenizer()
        let ids = try tokenizer.encode(text, allowedSpecial: [GPT2Tokenizer.endOfText])
        XCTAssertEqual(ids.filter { $0 == 299 }.count, 39)
        XCTAssertEqual(try tokenizer.decode(ids), text)
    }

    func testTinyTextStopsWhenNoPairsRemain() throws {
        let vocabulary = try BPETrainer(vocabularySize: 1000, specialTokens: []).train(texts: ["ab ab"])
        // "ab" and " ab" are the only words: merges a+b, then " "+ab.
        XCTAssertEqual(vocabulary.vocabularySize, 258)
        XCTAssertEqual(try vocabulary.makeTokenizer().encode("ab ab"), [256, 257])
    }

    func testInvalidConfigurationsThrow() {
        XCTAssertThrowsTokenizerError(
            .invalidArgument("vocabularySize 256 is too small: 256 byte tokens + 1 special tokens need 257")
        ) {
            try BPETrainer(vocabularySize: 256)
        }
        XCTAssertThrowsTokenizerError(.invalidArgument("special tokens must be non-empty and distinct: [\"<a>\", \"<a>\"]")) {
            try BPETrainer(vocabularySize: 300, specialTokens: ["<a>", "<a>"])
        }
        // "Ġab" would be the encoder.json key of the learned token " ab".
        XCTAssertThrowsTokenizerError(
            .invalidArgument("special token 'Ġab' is also a learned token; use a name the pre-tokenizer splits, such as <|Ġab|>")
        ) {
            try BPETrainer(vocabularySize: 300, specialTokens: ["Ġab"]).train(texts: ["ab ab ab"])
        }
    }

    func testLearnsTheMergesOfHuggingFaceBpeTrainer() throws {
        for expected in try TestData.gpt2Fixture().training {
            let url = try TestData.shared(expected.file)
            let trainer = try BPETrainer(vocabularySize: expected.vocabularySize, specialTokens: expected.specialTokens)
            let vocabulary = try trainer.train(files: [url])
            let merges = vocabulary.merges.map {
                ByteLevelAlphabet.text(of: vocabulary.tokens[$0.left]) + " " + ByteLevelAlphabet.text(of: vocabulary.tokens[$0.right])
            }
            XCTAssertEqual(merges, expected.merges, expected.file)
            let tokenizer = try vocabulary.makeTokenizer()
            let text = String(decoding: try Data(contentsOf: url), as: UTF8.self)
            let ids = try tokenizer.encode(text)
            XCTAssertEqual(ids.count, expected.tokenCount)
            XCTAssertLessThan(ids.count, text.utf8.count)
            XCTAssertEqual(try tokenizer.decode(ids), text)
        }
    }
}
