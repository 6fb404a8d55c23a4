import Foundation
import GPTTensor
import XCTest

final class SamplingKernelTests: XCTestCase {
    func testArgmax() {
        XCTAssertEqual(Kernels.argmax([1, 3, 3, 2], count: 4), 1, "first of ties")
        XCTAssertEqual(Kernels.argmax([.nan, -1, .nan, 5], count: 4), 3, "NaN never wins")
        XCTAssertEqual(Kernels.argmax([-.infinity], count: 1), 0)
    }

    func testRepetitionPenalty() {
        var logits: [Float] = [2, -2, 1, 4]
        Kernels.applyRepetitionPenalty(&logits, tokens: [0, 1], tokenCount: 2, penalty: 2)
        XCTAssertEqual(logits, [1, -4, 1, 4])
    }

    /// Sample counts over `draws` uniform numbers on a grid (deterministic).
    func histogram(_ logits: [Float], temperature: Float = 1, topK: Int = 0, topP: Float = 1, draws: Int = 4000) -> [Int] {
        var counts = [Int](repeating: 0, count: logits.count)
        for i in 0..<draws {
            var row = logits
            counts[Kernels.sampleIndex(logits: &row, count: row.count, temperature: temperature, topK: topK, topP: topP,
                                       uniform: (Double(i) + 0.5) / Double(draws))] += 1
        }
        return counts
    }

    func testSamplesFollowTheDistribution() {
        let probabilities: [Double] = [0.1, 0.4, 0.05, 0.3, 0.15]
        let logits = probabilities.map { Float(Foundation.log($0)) }
        let counts = histogram(logits)
        for (count, p) in zip(counts, probabilities) { XCTAssertEqual(Double(count) / 4000, p, accuracy: 0.002) }
        // Temperature 2 flattens: p^(1/2), renormalized.
        let flat = probabilities.map { $0.squareRoot() }, total = flat.reduce(0, +)
        for (count, p) in zip(histogram(logits, temperature: 2), flat) { XCTAssertEqual(Double(count) / 4000, p / total, accuracy: 0.002) }
    }

    func testTopKAndTopPRestrictTheSupport() {
        let probabilities: [Double] = [0.1, 0.4, 0.05, 0.3, 0.15]
        let logits = probabilities.map { Float(Foundation.log($0)) }
        // Top-2: tokens 1 and 3, renormalized 4:3.
        let top2 = histogram(logits, topK: 2)
        XCTAssertEqual(top2[0] + top2[2] + top2[4], 0)
        XCTAssertEqual(Double(top2[1]) / 4000, 0.4 / 0.7, accuracy: 0.002)
        // Top-p 0.75: 0.4 + 0.3 = 0.7 < 0.75, so 0.15 joins: tokens 1, 3, 4.
        let nucleus = histogram(logits, topP: 0.75)
        XCTAssertEqual(nucleus[0] + nucleus[2], 0)
        XCTAssertEqual(Double(nucleus[4]) / 4000, 0.15 / 0.85, accuracy: 0.002)
        // Top-k then top-p on the renormalized top-k mass: top-3 = {1, 3, 4} (mass 0.85); 0.4/0.85 ≥ 0.45.
        let both = histogram(logits, topK: 3, topP: 0.45)
        XCTAssertEqual(both[1], 4000)
        // Top-k 1 and a tiny top-p are greedy.
        XCTAssertEqual(histogram(logits, topK: 1, draws: 50)[1], 50)
        XCTAssertEqual(histogram(logits, topP: 0.01, draws: 50)[1], 50)
    }

    func testLargeVocabularyTopK() {
        let logits = randomArray(5000, seed: 4, scale: 3)
        let best = Set(logits.indices.sorted { logits[$0] > logits[$1] }.prefix(40))
        var seen = Set<Int>()
        for i in 0..<100 {
            var row = logits
            seen.insert(Kernels.sampleIndex(logits: &row, count: row.count, temperature: 0.7, topK: 40, topP: 0.99, uniform: Double(i) / 100))
        }
        XCTAssertTrue(seen.isSubset(of: best))
        XCTAssertGreaterThan(seen.count, 5)
    }
}
