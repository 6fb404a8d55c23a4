import GPTTensor
import GPTTestSupport
import XCTest

/// `WeightMatrix` products in both storage orientations, and the matrix-vector kernels they use.
final class WeightMatrixTests: XCTestCase {
    func testProductsAgreeInBothOrientations() throws {
        // Sizes cross the column-block edges of every kernel set (64 or 128 columns) with a tail.
        let (outputs, inputs) = (200, 37)
        let w = randomArray(outputs * inputs, seed: 1)   // W [out, in]
        var wT = [Float](repeating: 0, count: w.count)   // Wᵀ [in, out]
        for o in 0..<outputs { for i in 0..<inputs { wT[i * outputs + o] = w[o * inputs + i] } }
        let bias = randomArray(outputs, seed: 2)
        for rows in [1, 5] {
            let x = randomArray(rows * inputs, seed: 3 + UInt64(rows))
            let start = randomArray(rows * outputs, seed: 9)
            var expected = start
            ReferenceKernels.sgemm(m: rows, n: outputs, k: inputs, a: x, b: w, transposeB: true, c: &expected, bias: bias, accumulate: true)
            for transposed in [false, true] {
                var y = start
                let storage = transposed ? wT : w
                storage.withUnsafeBytes { raw in
                    let matrix = WeightMatrix(base: raw.baseAddress!, format: .float32, outputs: outputs, inputs: inputs,
                                              isTransposed: transposed)
                    // Twice: the second product reuses the untransposed copy made by the first.
                    for _ in 0..<2 {
                        y = start
                        y.withUnsafeMutableBufferPointer { matrix.multiply(x, rows: rows, into: $0.baseAddress!, bias: bias, accumulate: true) }
                    }
                }
                assertClose(y, expected, rtol: 1e-5, atol: 1e-5, "rows \(rows), transposed \(transposed)")
            }
        }
    }

    func testColumnMatrixVectorProductMatchesTheReference() {
        for (n, k) in [(200, 37), (64, 5), (7, 300), (4096, 80)] {
            let b = randomArray(n * k, seed: 4), x = randomArray(k, seed: 5), bias = randomArray(n, seed: 6)
            var y = randomArray(n, seed: 7), expected = y
            ReferenceKernels.sgemm(m: 1, n: n, k: k, a: x, b: b, c: &expected, bias: bias, accumulate: true)
            Kernels.sgemm(m: 1, n: n, k: k, a: x, b: b, c: &y, bias: bias, accumulate: true)
            assertClose(y, expected, rtol: 1e-5, atol: 1e-5, "x · B, n \(n), k \(k)")
            // The same for one thread and two: results do not depend on the split.
            var one = y, two = y
            Kernels.sgemm(m: 1, n: n, k: k, a: x, b: b, c: &one, threads: 1)
            Kernels.sgemm(m: 1, n: n, k: k, a: x, b: b, c: &two, threads: 2)
            XCTAssertEqual(one, two)
        }
    }
}
