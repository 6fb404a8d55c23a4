import Foundation
import GPTTensor
import GPTTestSupport
import XCTest

final class CrossEntropyKernelTests: XCTestCase {
    /// Runs the fast kernels: (mean loss, count, gradient of lossScale · mean).
    func run(_ logits: [Float], _ targets: [Int32], weights: [Float]? = nil, vocabulary: Int, lossScale: Float = 1,
             inPlace: Bool = false) -> (Float, Float, [Float]) {
        let rows = targets.count
        var statistics = [Float](repeating: .nan, count: 2 * rows), losses = [Float](repeating: .nan, count: rows)
        let (loss, count) = Kernels.crossEntropyForward(logits: logits, targets: targets, weights: weights, rows: rows,
                                                        vocabulary: vocabulary, statistics: &statistics, losses: &losses)
        var gradient = inPlace ? logits : [Float](repeating: .nan, count: logits.count)
        let scale = count > 0 ? lossScale / count : 0
        if inPlace {
            gradient.withUnsafeMutableBufferPointer { g in
                Kernels.crossEntropyBackward(logits: g.baseAddress!, statistics: statistics, targets: targets, weights: weights, rows: rows,
                                             vocabulary: vocabulary, scale: scale, gradient: g.baseAddress!)
            }
        } else {
            Kernels.crossEntropyBackward(logits: logits, statistics: statistics, targets: targets, weights: weights, rows: rows,
                                         vocabulary: vocabulary, scale: scale, gradient: &gradient)
        }
        return (loss, count, gradient)
    }

    func testMatchesReference() {
        for vocabulary in [1, 5, 8, 67, 1000] {
            let rows = 6
            let logits = randomArray(rows * vocabulary, seed: UInt64(vocabulary), scale: 4)
            var generator = RandomGenerator(seed: 1)
            let targets = (0..<rows).map { _ in Int32(generator.next() % UInt64(vocabulary)) }
            let expected = ReferenceKernels.crossEntropy(logits: logits, targets: targets, weights: nil, vocabulary: vocabulary, lossScale: 0.5)
            for inPlace in [false, true] {
                let (loss, count, gradient) = run(logits, targets, vocabulary: vocabulary, lossScale: 0.5, inPlace: inPlace)
                XCTAssertEqual(count, 6)
                XCTAssertEqual(loss, expected.loss, accuracy: 1e-5 * max(1, expected.loss), "V \(vocabulary)")
                assertClose(gradient, expected.gradient, rtol: 1e-4, atol: 1e-7, "V \(vocabulary) in place \(inPlace)")
            }
        }
    }

    func testIgnoredTargetsAndWeights() {
        let vocabulary = 13, rows = 5
        let logits = randomArray(rows * vocabulary, seed: 3, scale: 2)
        let targets: [Int32] = [4, -100, 12, 0, -100]
        let weights: [Float] = [1, 1, 0.5, 2, 1]
        let expected = ReferenceKernels.crossEntropy(logits: logits, targets: targets, weights: weights, vocabulary: vocabulary)
        let (loss, count, gradient) = run(logits, targets, weights: weights, vocabulary: vocabulary)
        XCTAssertEqual(count, 3.5)
        XCTAssertEqual(loss, expected.loss, accuracy: 1e-5)
        assertClose(gradient, expected.gradient, rtol: 1e-4, atol: 1e-7)
        XCTAssertEqual(Array(gradient[vocabulary..<(2 * vocabulary)]), [Float](repeating: 0, count: vocabulary), "ignored row")
        // Gradient rows of counted targets sum to zero (softmax minus one-hot).
        XCTAssertEqual(gradient[0..<vocabulary].reduce(0, +), 0, accuracy: 1e-6)
        // Nothing counted: loss 0 and a zero gradient, not NaN.
        let none = run(logits, [Int32](repeating: -100, count: rows), vocabulary: vocabulary)
        XCTAssertEqual(none.0, 0)
        XCTAssertEqual(none.1, 0)
        XCTAssertTrue(none.2.allSatisfy { $0 == 0 })
    }

    func testHugeLogitsStayFinite() {
        let logits: [Float] = [1e30, -1e30, 0, 88, 1e4, 1e4 - 1, -1e4, 0, -87.5, -1000, 0, 3]
        let targets: [Int32] = [1, 2, 0]
        let (loss, _, gradient) = run(logits, targets, vocabulary: 4)
        let expected = ReferenceKernels.crossEntropy(logits: logits, targets: targets, weights: nil, vocabulary: 4)
        XCTAssertTrue(loss.isFinite && gradient.allSatisfy(\.isFinite))
        XCTAssertEqual(loss, expected.loss, accuracy: 1e-3 * expected.loss)
        assertClose(gradient, expected.gradient, rtol: 1e-4, atol: 1e-6)
    }
}

final class LayoutKernelTests: XCTestCase {
    func testTranspose() {
        for (rows, columns) in [(1, 1), (3, 5), (33, 70), (64, 32)] {
            let x = randomArray(rows * columns, seed: UInt64(rows))
            var y = [Float](repeating: .nan, count: x.count)
            Kernels.transpose(x, rows: rows, columns: columns, into: &y)
            for r in 0..<rows { for c in 0..<columns where y[c * rows + r] != x[r * columns + c] { return XCTFail("\(rows)x\(columns) at \(r), \(c)") } }
        }
    }

    func testFillNormalIsSeeded() {
        var a = [Float](repeating: 0, count: 1000), b = a
        var g1 = RandomGenerator(seed: 9), g2 = RandomGenerator(seed: 9)
        Kernels.fillNormal(&a, count: 1000, mean: 1, standardDeviation: 0.5, generator: &g1)
        Kernels.fillNormal(&b, count: 1000, mean: 1, standardDeviation: 0.5, generator: &g2)
        XCTAssertEqual(a, b)
        XCTAssertEqual(a.reduce(0, +) / 1000, 1, accuracy: 0.06)
    }
}
