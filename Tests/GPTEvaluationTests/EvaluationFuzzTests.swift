// A bounded fuzz of the evaluation readers in `swift test`: the real seed files of
// Fixtures/fuzz/evaluation mutated (bytes flipped, cut, duplicated, inserted) and read by every
// parser and metric; only thrown errors are allowed (Fuzz/Sources/FuzzEvaluation runs longer).
import Foundation
import XCTest
import GPTTensor
@testable import GPTEvaluation

final class EvaluationFuzzTests: XCTestCase {
    func testMutatedFilesOnlyThrow() throws {
        let seeds = try FileManager.default.contentsOfDirectory(at: fixturesDirectory.appendingPathComponent("fuzz/evaluation"),
                                                                includingPropertiesForKeys: nil).sorted { $0.path < $1.path }
        XCTAssertEqual(seeds.count, 5)
        let directory = try temporaryDirectory(self)
        let file = directory.appendingPathComponent("input.jsonl")
        var generator = RandomGenerator(seed: 21)
        let blocklist = try BlocklistFilter.standard()
        var parsed = 0
        for round in 0..<400 {
            var bytes = Array(try Data(contentsOf: seeds[round % seeds.count]))
            for _ in 0..<Int.random(in: 1...4, using: &generator) where !bytes.isEmpty {
                let i = Int.random(in: 0..<bytes.count, using: &generator)
                switch Int.random(in: 0..<5, using: &generator) {
                case 0: bytes[i] ^= UInt8(1 << Int.random(in: 0..<8, using: &generator))
                case 1: bytes.removeSubrange(i..<min(bytes.count, i + Int.random(in: 1...8, using: &generator)))
                case 2: bytes.insert(contentsOf: bytes[i..<min(bytes.count, i + 6)], at: i)
                case 3: bytes.insert([0x22, 0x7B, 0x5B, 0x5C, 0x0A, 0xFF, 0x00, 0xE2][Int.random(in: 0..<8, using: &generator)], at: i)
                default: bytes.removeLast(Int.random(in: 0...min(bytes.count, 10), using: &generator))
                }
            }
            try Data(bytes).write(to: file)
            if let pairs = try? EvaluationFiles.pairs(of: file) {
                parsed += 1
                _ = try? MetricScores(predictions: pairs.map(\.prediction), references: pairs.map(\.references), metrics: TextMetric.allCases)
            }
            _ = try? EvaluationFiles.taskExamples(of: file)
            if let rules = try? BlocklistFilter(contentsOf: file) {
                var stream = FilteredTextStream(filters: [rules])
                _ = try? stream.filterWhole("review 123-45-6789 and a secret code")
            }
            _ = try? RedTeamPrompt.load(file)
            let text = String(decoding: bytes, as: UTF8.self)
            let lines = text.split(separator: "\n").map(String.init)
            if lines.count >= 2 {
                _ = try BLEU().corpusScore(hypotheses: [lines[0]], references: [[lines[1]]])
                _ = try CHRF(wordOrder: 2).corpusScore(hypotheses: [lines[0]], references: [[lines[1]]])
                _ = try? ROUGE(stemming: true).score(prediction: lines[0], reference: lines[1])
            }
            var stream = FilteredTextStream(filters: [blocklist])
            for piece in text.split(separator: " ", omittingEmptySubsequences: false) { _ = try stream.append(String(piece) + " ") }
            _ = try stream.finish()
        }
        XCTAssertGreaterThan(parsed, 10, "some mutations should still parse")
    }

    func testMetricFallbacksAgreeWithThePackedPath() throws {
        // The dictionary path (segments whose n-gram keys do not fit 64 bits) against the packed
        // one on the reference corpus, and on a segment with over 1024 distinct characters.
        struct Corpus: Decodable { struct Item: Decodable { let hypothesis: String; let references: [String] }; let corpus: [Item] }
        let corpus = try loadFixture("metrics.json", as: Corpus.self).corpus
        let hypotheses = corpus.map(\.hypothesis), references = corpus.map(\.references)
        for order in [0, 2] {
            var slow = CHRF(wordOrder: order)
            slow.usesPackedKeys = false
            for (h, r) in zip(hypotheses, references) {
                XCTAssertEqual(CHRF(wordOrder: order).statistics(hypothesis: h, references: r), slow.statistics(hypothesis: h, references: r), h)
            }
        }
        var slowBLEU = BLEU()
        slowBLEU.usesPackedKeys = false
        for (h, r) in zip(hypotheses, references) {
            XCTAssertEqual(BLEU().statistics(hypothesis: h, references: r), slowBLEU.statistics(hypothesis: h, references: r), h)
        }
        let wide = String(String.UnicodeScalarView((0x4E00..<0x4E00 + 1200).compactMap(Unicode.Scalar.init)))
        var slow = CHRF()
        slow.usesPackedKeys = false
        let fallback = CHRF().statistics(hypothesis: String(wide.dropFirst(10)), references: [wide + " end"])
        XCTAssertEqual(fallback, slow.statistics(hypothesis: String(wide.dropFirst(10)), references: [wide + " end"]))
        XCTAssertEqual(fallback[2], 1190, "every unigram of the hypothesis matches")
    }
}
