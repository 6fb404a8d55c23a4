// GPT2TokenizerTests: behaviour of the GPT-2 tokenizer beyond the fixture ids: round trips of
// random Unicode, the two merge loops, special tokens, bad ids, concurrent use.

import Foundation
import XCTest
import GPTTestSupport
@testable import GPTTokenizers

final class GPT2TokenizerTests: XCTestCase {
    // MARK: - Vocabulary

    func testVocabularyAndSpecialTokens() throws {
        let tokenizer = try TestData.gpt2()
        XCTAssertEqual(tokenizer.vocabularySize, 50257)
        XCTAssertEqual(tokenizer.specialTokens, [GPT2Tokenizer.endOfText: 50256])
        XCTAssertEqual(tokenizer.bosTokenID, 50256)
        XCTAssertEqual(tokenizer.eosTokenID, 50256)
        XCTAssertEqual(tokenizer.model.merges.count, 50000)
        XCTAssertEqual(try tokenizer.decode([50256]), GPT2Tokenizer.endOfText)
    }

    // MARK: - Round trips

    func testRandomUnicodeStringsRoundTrip() throws {
        let tokenizer = try TestData.gpt2()
        var generator = SplitMix64(seed: 0x6770_7432)
        for _ in 0..<300 {
            let text = generator.unicodeString(count: Int.random(in: 0...80, using: &generator))
            let ids = try tokenizer.encode(text)
            XCTAssertTrue(ids.allSatisfy { $0 >= 0 && $0 < 50256 }, text.debugDescription)
            XCTAssertEqual(try tokenizer.decode(ids), text, text.debugDescription)
        }
    }

    func testRandomTextWithAllowedSpecialTokensRoundTrips() throws {
        let tokenizer = try TestData.gpt2()
        var generator = SplitMix64(seed: 17)
        for _ in 0..<100 {
            let parts = (0..<4).map { _ in generator.unicodeString(count: Int.random(in: 0...20, using: &generator)) }
            let text = parts.joined(separator: GPT2Tokenizer.endOfText)
            let ids = try tokenizer.encode(text, allowedSpecial: [GPT2Tokenizer.endOfText])
            XCTAssertEqual(ids.filter { $0 == 50256 }.count, 3, text.debugDescription)
            XCTAssertEqual(try tokenizer.decode(ids), text)
        }
    }

    // MARK: - Merge loops

    func testHeapAndScanMergeLoopsAgree() throws {
        let model = try TestData.gpt2().model
        var generator = SplitMix64(seed: 99)
        let letters = Array("aeiou rstlnmpqxyzAEIOU'!0123456789".utf8)
        for round in 0..<400 {
            let length = round < 200 ? Int.random(in: 2...40, using: &generator) : Int.random(in: 40...300, using: &generator)
            let word = (0..<length).map { _ in letters.randomElement(using: &generator)! }
            var byScan = word.map { model.initialTokens[Int($0)] }
            var byHeap = byScan
            let scanCount = byScan.withUnsafeMutableBufferPointer { BytePairMerge.applyByScan(model.merges, to: $0) }
            let heapCount = byHeap.withUnsafeMutableBufferPointer { BytePairMerge.applyByHeap(model.merges, to: $0) }
            XCTAssertEqual(Array(byScan[..<scanCount]), Array(byHeap[..<heapCount]), String(decoding: word, as: UTF8.self))
            let decoded = byScan[..<scanCount].flatMap { model.bytes(of: Int($0)) }
            XCTAssertEqual(decoded, word)
        }
    }

    func testCachedPiecesGiveTheIDsOfFreshMerges() throws {
        let tokenizer = try TestData.gpt2()
        var generator = SplitMix64(seed: 3)
        // Longer than PieceEncoder.localCacheThreshold, so both cache levels are used.
        var text = String(repeating: "The cat's whiskers twitched; the cat's tail swished.\n", count: 80)
        for _ in 0..<80 { text += generator.unicodeString(count: 12) + " the cat's " }
        XCTAssertGreaterThan(text.utf8.count, PieceEncoder.localCacheThreshold)
        let encoded = try tokenizer.encode(text)
        // Merge every pre-token afresh, without the cache.
        var fresh: [Int] = []
        var utf8Text = text
        utf8Text.withUTF8 { utf8 in
            GPT2PreTokenizer.forEachPiece(in: utf8) { start, end in
                var symbols: [Int32] = []
                tokenizer.model.encodePiece(UnsafeBufferPointer(rebasing: utf8[start..<end]), appendingTo: &symbols)
                fresh += symbols.map { Int($0) }
            }
        }
        XCTAssertEqual(encoded, fresh)
    }

    // MARK: - Special tokens and bad input

    func testAllowedSpecialMustNameASpecialToken() throws {
        let tokenizer = try TestData.gpt2()
        XCTAssertThrowsTokenizerError(.unknownSpecialToken("<|im_start|>")) {
            try tokenizer.encode("hi", allowedSpecial: ["<|im_start|>"])
        }
    }

    func testDecodeRejectsIDsOutsideTheVocabulary() throws {
        let tokenizer = try TestData.gpt2()
        XCTAssertThrowsTokenizerError(.unknownTokenID(50257, vocabularySize: 50257)) { try tokenizer.decode([15496, 50257]) }
        XCTAssertThrowsTokenizerError(.unknownTokenID(-1, vocabularySize: 50257)) { try tokenizer.decode([-1]) }
    }

    func testDecodeOfAPartialCharacterGivesReplacementCharacter() throws {
        let tokenizer = try TestData.gpt2()
        let ids = try tokenizer.encode("🌍")
        XCTAssertGreaterThan(ids.count, 1)
        XCTAssertEqual(try tokenizer.decode(Array(ids.dropLast())), "\u{FFFD}")
    }

    // MARK: - Concurrency

    func testConcurrentEncodesGiveTheSerialResult() async throws {
        let tokenizer = try TestData.gpt2()
        var generator = SplitMix64(seed: 5)
        // Short texts use only the shared cache, long ones a per-call cache too.
        let texts = (0..<16).map { generator.unicodeString(count: $0 % 2 == 0 ? 400 : 5000) }
        let serial = try texts.map { try tokenizer.encode($0) }
        let concurrent = try await withThrowingTaskGroup(of: (Int, [Int]).self) { group in
            for (index, text) in texts.enumerated() {
                group.addTask { (index, try tokenizer.encode(text)) }
            }
            var results = [[Int]](repeating: [], count: texts.count)
            for try await (index, ids) in group { results[index] = ids }
            return results
        }
        XCTAssertEqual(concurrent, serial)
    }

    // MARK: - Pre-tokenizer details

    func testASCIIClassificationMatchesUnicodeProperties() {
        for byte in UInt8(0)..<128 {
            XCTAssertEqual(ScalarClass.classifyASCII(byte), ScalarClass.classify(Unicode.Scalar(byte)), "byte \(byte)")
        }
    }

    func testByteLevelAlphabetIsABijection() {
        XCTAssertEqual(Set(ByteLevelAlphabet.scalarValue).count, 256)
        for byte in 0..<256 {
            XCTAssertEqual(ByteLevelAlphabet.byte(for: ByteLevelAlphabet.scalarValue[byte]), UInt8(byte))
        }
        XCTAssertEqual(ByteLevelAlphabet.text(of: Array(" \n".utf8)), "ĠĊ")
        XCTAssertEqual(ByteLevelAlphabet.bytesInVocabularyOrder.count, 256)
        XCTAssertEqual(Set(ByteLevelAlphabet.bytesInVocabularyOrder).count, 256)
    }
}
