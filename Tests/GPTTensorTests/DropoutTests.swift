import GPTTensor
import XCTest

final class DropoutTests: XCTestCase {
    func testRateScaleDeterminismAndThreadIndependence() {
        let count = 400_000
        let x = [Float](repeating: 2, count: count)
        var results: [[Float]] = []
        for threads in [1, 2, 8] {
            Parallel.threadCount = threads
            var y = [Float](repeating: 0, count: count)
            Kernels.dropout(x, into: &y, count: count, Dropout(rate: 0.25, seed: 42))
            results.append(y)
        }
        Parallel.threadCount = 0
        XCTAssertEqual(results[0], results[1]); XCTAssertEqual(results[0], results[2])
        let zeros = results[0].filter { $0 == 0 }.count
        XCTAssertEqual(Double(zeros) / Double(count), 0.25, accuracy: 0.005)
        XCTAssertTrue(results[0].allSatisfy { $0 == 0 || $0 == 2 / 0.75 })  // kept elements scaled by 1/(1 − p)
        var other = [Float](repeating: 0, count: count)
        Kernels.dropout(x, into: &other, count: count, Dropout(rate: 0.25, seed: 43))
        XCTAssertNotEqual(other, results[0])
        // An offset continues the same site: the second half equals a call on the second half.
        var half = [Float](repeating: 0, count: count / 2)
        x.withUnsafeBufferPointer { Kernels.dropout($0.baseAddress! + count / 2, into: &half, count: count / 2, Dropout(rate: 0.25, seed: 42), offset: count / 2) }
        XCTAssertEqual(half, Array(results[0][(count / 2)...]))
        // Sites are independent streams.
        let base = Dropout(rate: 0.5, seed: 1)
        XCTAssertNotEqual((0..<64).map { base.site(1).keeps($0) }, (0..<64).map { base.site(2).keeps($0) })
    }
}
