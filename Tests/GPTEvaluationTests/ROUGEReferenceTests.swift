// ROUGE, its tokenizer and the Porter stemmer against rouge-score 0.1.2 and nltk 3.10.4 on the
// committed corpus (Fixtures/make_evaluation_fixtures.py): every score within 1e-9.
import Foundation
import XCTest
@testable import GPTEvaluation

private struct ROUGEFixtures: Decodable {
    struct Tokens: Decodable { let input: String; let use_stemmer: Bool; let tokens: [String] }
    struct Measure: Decodable { let precision: Double; let recall: Double; let fmeasure: Double }
    struct Pair: Decodable { let prediction: String; let references: [String]; let scores: [String: Measure] }
    struct Case: Decodable { let name: String; let use_stemmer: Bool; let split_summaries: Bool; let pairs: [Pair]; let mean: [String: Measure] }
    let rouge_tokens: [Tokens]
    let rouge: [Case]
}

final class ROUGEReferenceTests: XCTestCase {
    private static let fixtures = Result { try loadFixture("metrics.json", as: ROUGEFixtures.self) }

    func testTokenizerMatchesRougeScore() throws {
        let fixtures = try Self.fixtures.get()
        XCTAssertGreaterThan(fixtures.rouge_tokens.count, 100)
        for item in fixtures.rouge_tokens {
            XCTAssertEqual(ROUGE(stemming: item.use_stemmer).tokenize(item.input), item.tokens,
                           "\(item.input.debugDescription) stem \(item.use_stemmer)")
        }
    }

    func testScoresMatchRougeScore() throws {
        let fixtures = try Self.fixtures.get()
        XCTAssertGreaterThan(fixtures.rouge.count, 4)
        for item in fixtures.rouge where !item.split_summaries {
            let scorer = ROUGE(stemming: item.use_stemmer)
            let scores = try scorer.scores(predictions: item.pairs.map(\.prediction), references: item.pairs.map(\.references))
            for (k, (pair, actual)) in zip(item.pairs, scores).enumerated() {
                for (name, expected) in pair.scores {
                    let type = try XCTUnwrap(ROUGEType(name: name))
                    let got = try XCTUnwrap(actual[type])
                    let context = "\(item.name) pair \(k) \(name): \(pair.prediction.debugDescription)"
                    assertMatches(got.precision, expected.precision, context)
                    assertMatches(got.recall, expected.recall, context)
                    assertMatches(got.fmeasure, expected.fmeasure, context)
                }
            }
            let mean = try ROUGE.mean(scores)
            for (name, expected) in item.mean {
                let got = try XCTUnwrap(mean[try XCTUnwrap(ROUGEType(name: name))])
                assertMatches(got.fmeasure, expected.fmeasure, "\(item.name) mean \(name)")
            }
        }
    }

    /// nltk's stems (rouge-score's stemmer) for every word of tiny Shakespeare and the Porter
    /// test words; the fixture is checked against the shared text when it is present.
    func testPorterStemmerMatchesNLTK() throws {
        let text = try String(contentsOf: fixturesDirectory.appendingPathComponent("evaluation/porter.tsv"), encoding: .utf8)
        let stemmer = PorterStemmer()
        var count = 0
        var words = Set<String>()
        for line in text.split(separator: "\n") {
            let parts = line.split(separator: "\t", omittingEmptySubsequences: false)
            XCTAssertEqual(parts.count, 2, String(line))
            let word = String(parts[0]), expected = String(parts[1])
            words.insert(word)
            let got = word.count > 3 ? stemmer.stem(word) : word
            XCTAssertEqual(got, expected, word)
            count += 1
        }
        XCTAssertGreaterThan(count, 10_000)
        let shakespeare = sharedDataDirectory.appendingPathComponent("tinyshakespeare/input.txt")
        guard let corpus = try? String(contentsOf: shakespeare, encoding: .utf8) else {
            throw XCTSkip("../shared/data/tinyshakespeare is absent")
        }
        let missing = Set(ROUGE().tokenize(corpus)).subtracting(words)
        XCTAssertTrue(missing.isEmpty, "Shakespeare words without a reference stem: \(missing.prefix(10))")
    }

    func testBootstrapIsSeededAndBracketsTheMean() throws {
        let fixtures = try Self.fixtures.get()
        let item = try XCTUnwrap(fixtures.rouge.first { $0.pairs.count > 100 })
        let scores = try ROUGE().scores(predictions: item.pairs.map(\.prediction), references: item.pairs.map(\.references))
        let a = try ROUGE.bootstrap(scores, samples: 500, seed: 7)
        XCTAssertEqual(a, try ROUGE.bootstrap(scores, samples: 500, seed: 7))
        XCTAssertNotEqual(a, try ROUGE.bootstrap(scores, samples: 500, seed: 8))
        let mean = try ROUGE.mean(scores)
        for type in ROUGEType.standard {
            let interval = try XCTUnwrap(a[type]), m = try XCTUnwrap(mean[type]).fmeasure
            XCTAssertLessThan(interval.low.fmeasure, m)
            XCTAssertGreaterThan(interval.high.fmeasure, m)
            XCTAssertEqual(interval.mid.fmeasure, m, accuracy: 0.01)
        }
        // Identical segments: every resampling has the same mean.
        let same = Array(repeating: scores[0], count: 20)
        let flat = try XCTUnwrap(try ROUGE.bootstrap(same, samples: 50, seed: 1)[.n(1)])
        XCTAssertEqual(flat.low, flat.high)
        XCTAssertThrowsError(try ROUGE.bootstrap([], samples: 10))
        XCTAssertThrowsError(try ROUGE.bootstrap(scores, samples: 0))
    }

    func testBadInputThrows() {
        XCTAssertThrowsError(try ROUGE().scores(predictions: [], references: []))
        XCTAssertThrowsError(try ROUGE().scores(predictions: ["a"], references: [["a"], ["b"]]))
        XCTAssertThrowsError(try ROUGE().scores(predictions: ["a"], references: [[]]))
        XCTAssertNil(ROUGEType(name: "rouge0"))
        XCTAssertNil(ROUGEType(name: "rougeX"))
    }
}
