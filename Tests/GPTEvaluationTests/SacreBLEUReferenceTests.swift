// BLEU, sentence BLEU, chrF and the 13a tokenizer against sacrebleu 2.6.0 on the committed
// corpus (Fixtures/make_evaluation_fixtures.py): every score within 1e-9.
import Foundation
import XCTest
@testable import GPTEvaluation
import GPTKernelCore

private struct Metrics: Decodable {
    struct Tokenization: Decodable { let input: String; let output: String }
    struct CorpusBLEU: Decodable {
        let name: String, hypotheses: [String], references: [[String]], lowercase: Bool
        let smooth_method: String, smooth_value: Double?, effective_order: Bool
        let score: Double, counts: [Double], totals: [Double], precisions: [Double], bp: Double
        let sys_len: Int, ref_len: Int, signature: String
    }
    struct SentenceBLEU: Decodable {
        let hypothesis: String, references: [String], lowercase: Bool, smooth_method: String, smooth_value: Double?
        let score: Double, counts: [Double], totals: [Double], precisions: [Double], bp: Double, sys_len: Int, ref_len: Int
    }
    struct CorpusCHRF: Decodable {
        let name: String, hypotheses: [String], references: [[String]], char_order: Int, word_order: Int, beta: Int
        let lowercase: Bool, whitespace: Bool, eps_smoothing: Bool, score: Double, signature: String
    }
    struct SentenceCHRF: Decodable {
        let hypothesis: String, references: [String], char_order: Int, word_order: Int, beta: Int, score: Double
    }
    let tokenize_13a: [Tokenization]
    let bleu: [CorpusBLEU]
    let sentence_bleu: [SentenceBLEU]
    let chrf: [CorpusCHRF]
    let sentence_chrf: [SentenceCHRF]
}

final class SacreBLEUReferenceTests: XCTestCase {
    private static let metrics = Result { try loadFixture("metrics.json", as: Metrics.self) }

    func testThirteenATokenizerMatchesSacreBLEU() throws {
        let metrics = try Self.metrics.get()
        XCTAssertGreaterThan(metrics.tokenize_13a.count, 100)
        for (k, item) in metrics.tokenize_13a.enumerated() {
            XCTAssertEqual(BLEUTokenization.thirteenA.tokenize(item.input), item.output, "line \(k): \(item.input.debugDescription)")
        }
    }

    func testCorpusBLEUMatchesSacreBLEU() throws {
        let metrics = try Self.metrics.get()
        XCTAssertGreaterThan(metrics.bleu.count, 20)
        for item in metrics.bleu {
            let smoothing = try XCTUnwrap(BLEU.Smoothing(name: item.smooth_method, value: item.smooth_value))
            let bleu = BLEU(lowercase: item.lowercase, smoothing: smoothing, effectiveOrder: item.effective_order)
            let score = try bleu.corpusScore(hypotheses: item.hypotheses, references: item.references)
            assertMatches(score.score, item.score, item.name)
            assertMatches(score.brevityPenalty, item.bp, "\(item.name) BP")
            XCTAssertEqual(score.hypothesisLength, item.sys_len, item.name)
            XCTAssertEqual(score.referenceLength, item.ref_len, item.name)
            XCTAssertEqual(score.matches, item.counts, item.name)
            XCTAssertEqual(score.totals, item.totals, item.name)
            for (a, e) in zip(score.precisions, item.precisions) { assertMatches(a, e, "\(item.name) precisions") }
            XCTAssertEqual(bleu.signature(referenceCount: item.references.count), item.signature, item.name)
        }
    }

    func testSentenceBLEUMatchesSacreBLEU() throws {
        let metrics = try Self.metrics.get()
        XCTAssertGreaterThan(metrics.sentence_bleu.count, 100)
        for (k, item) in metrics.sentence_bleu.enumerated() {
            let smoothing = try XCTUnwrap(BLEU.Smoothing(name: item.smooth_method, value: item.smooth_value))
            let bleu = BLEU(lowercase: item.lowercase, smoothing: smoothing, effectiveOrder: true)
            let score = try bleu.sentenceScore(hypothesis: item.hypothesis, references: item.references)
            assertMatches(score.score, item.score, "segment \(k) \(item.smooth_method): \(item.hypothesis.debugDescription)")
            XCTAssertEqual(score.matches, item.counts, "segment \(k)")
            XCTAssertEqual(score.referenceLength, item.ref_len, "segment \(k)")
        }
    }

    func testCHRFMatchesSacreBLEU() throws {
        let metrics = try Self.metrics.get()
        XCTAssertGreaterThan(metrics.chrf.count, 10)
        for item in metrics.chrf {
            let chrF = CHRF(characterOrder: item.char_order, wordOrder: item.word_order, beta: item.beta, lowercase: item.lowercase,
                            includesWhitespace: item.whitespace, epsilonSmoothing: item.eps_smoothing)
            let score = try chrF.corpusScore(hypotheses: item.hypotheses, references: item.references)
            assertMatches(score.score, item.score, item.name)
            XCTAssertEqual(chrF.signature(referenceCount: item.references.count), item.signature, item.name)
        }
        for (k, item) in metrics.sentence_chrf.enumerated() {
            let chrF = CHRF(characterOrder: item.char_order, wordOrder: item.word_order, beta: item.beta)
            let score = try chrF.sentenceScore(hypothesis: item.hypothesis, references: item.references)
            assertMatches(score.score, item.score, "segment \(k): \(item.hypothesis.debugDescription)")
        }
    }

    func testScoresDoNotDependOnTheThreadCount() throws {
        let item = try XCTUnwrap(try Self.metrics.get().bleu.max { $0.hypotheses.count < $1.hypotheses.count })
        let many = try BLEU().corpusScore(hypotheses: item.hypotheses, references: item.references)
        let saved = Parallel.threadCount
        defer { Parallel.threadCount = saved }
        Parallel.threadCount = 1
        XCTAssertEqual(try BLEU().corpusScore(hypotheses: item.hypotheses, references: item.references), many)
    }

    func testBadInputThrows() {
        XCTAssertThrowsError(try BLEU().corpusScore(hypotheses: [], references: [[]]))
        XCTAssertThrowsError(try BLEU().corpusScore(hypotheses: ["a", "b"], references: [["a"]]))
        XCTAssertThrowsError(try BLEU().corpusScore(hypotheses: ["a"], references: []))
        XCTAssertThrowsError(try CHRF().corpusScore(hypotheses: ["a"], references: [["a"], ["b", "c"]]))
        XCTAssertThrowsError(try BLEU(maxOrder: 0).corpusScore(hypotheses: ["a"], references: [["a"]]))
    }
}

/// Options and statistics outside the usual ranges are errors or well-defined, never traps.
final class MetricEdgeTests: XCTestCase {
    func testUnusualOrdersAndStatistics() throws {
        XCTAssertThrowsError(try CHRF(wordOrder: -1).corpusScore(hypotheses: ["a"], references: [["a"]]))
        XCTAssertThrowsError(try CHRF(characterOrder: -1, wordOrder: 2).corpusScore(hypotheses: ["a"], references: [["a"]]))
        XCTAssertEqual(try CHRF(beta: 4_000_000_000).corpusScore(hypotheses: ["abc"], references: [["abc"]]).score, 100, accuracy: 1e-9)
        XCTAssertEqual(BLEU(maxOrder: 0).statistics(hypothesis: "a b", references: ["a b"]), .zero(0))
        XCTAssertEqual(BLEU(maxOrder: 0).score(from: BLEUStatistics(hypothesisLength: 1, referenceLength: 1, matches: [1], totals: [1])).score, 0)
        let short = BLEUStatistics(hypothesisLength: 1, referenceLength: 1, matches: [1], totals: [1])
        XCTAssertEqual(BLEU().score(from: short).precisions.count, 4)
        XCTAssertEqual((short + .zero(4)).matches, [1, 0, 0, 0])
        XCTAssertEqual(BLEU().statistics(hypothesis: "a b", references: []).referenceLength, 0)
        XCTAssertEqual(BLEUStatistics.zero(-1).matches, [])
        XCTAssertThrowsError(try ROUGE(types: [.n(0)]).scores(predictions: ["a"], references: [["a"]]))
        XCTAssertThrowsError(try ROUGE(types: [.n(-2)]).score(prediction: "a b", reference: "a b"))
        XCTAssertEqual(try ROUGE(types: [.n(3)]).score(prediction: "a b c d", reference: "a b c e")[.n(3)]?.fmeasure ?? -1, 0.5, accuracy: 1e-12)
    }
}
