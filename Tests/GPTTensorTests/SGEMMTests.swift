import GPTTensor
import GPTTestSupport
import XCTest

final class SGEMMTests: XCTestCase {
    /// The kernel sets this CPU can run: each is checked against the reference.
    let instructionSets = InstructionSet.allCases.filter(\.isSupported)

    func check(
        m: Int, n: Int, k: Int, transposeA: Bool, transposeB: Bool, bias useBias: Bool = false,
        accumulate: Bool = false, padding: Int = 0, threads: Int = 2, file: StaticString = #filePath, line: UInt = #line
    ) {
        // Stored shapes with `padding` extra columns to exercise leading dimensions.
        let (aRows, aColumns) = transposeA ? (k, m) : (m, k)
        let (bRows, bColumns) = transposeB ? (n, k) : (k, n)
        let lda = aColumns + padding, ldb = bColumns + padding, ldc = n + padding
        let a = randomArray(aRows * lda, seed: 1), b = randomArray(bRows * ldb, seed: 2)
        let bias = randomArray(n, seed: 3), start = randomArray(m * ldc, seed: 4)
        var expected = start
        expected.withUnsafeMutableBufferPointer { c in
            ReferenceKernels.sgemm(m: m, n: n, k: k, a: a, lda: lda, transposeA: transposeA, b: b, ldb: ldb,
                                   transposeB: transposeB, c: c.baseAddress!, ldc: ldc,
                                   bias: useBias ? bias : nil, accumulate: accumulate)
        }
        let tolerance = 2e-5 * Float(k).squareRoot() + 1e-5
        let label = "m=\(m) n=\(n) k=\(k) tA=\(transposeA) tB=\(transposeB) bias=\(useBias) acc=\(accumulate)"
        for set in instructionSets {
            var actual = start
            actual.withUnsafeMutableBufferPointer { c in
                bias.withUnsafeBufferPointer { biasPointer in
                    set.kernels.sgemm(m: m, n: n, k: k, a: a, lda: lda, transposeA: transposeA, b: b, ldb: ldb,
                                      transposeB: transposeB, c: c.baseAddress!, ldc: ldc,
                                      bias: useBias ? biasPointer.baseAddress : nil, accumulate: accumulate, threads: threads)
                }
            }
            assertClose(actual, expected, rtol: 1e-4, atol: tolerance, "\(set) \(label)", file: file, line: line)
        }
        // Through the public entry point (which takes the matrix-vector path for m == 1).
        var actual = start
        actual.withUnsafeMutableBufferPointer { c in
            bias.withUnsafeBufferPointer { biasPointer in
                Kernels.sgemm(m: m, n: n, k: k, a: a, lda: lda, transposeA: transposeA, b: b, ldb: ldb,
                              transposeB: transposeB, c: c.baseAddress!, ldc: ldc,
                              bias: useBias ? biasPointer.baseAddress : nil, accumulate: accumulate, threads: threads)
            }
        }
        assertClose(actual, expected, rtol: 1e-4, atol: tolerance, "Kernels \(label)", file: file, line: line)
        // Padding columns of C are never written.
        if padding > 0 {
            for i in 0..<m { for j in n..<ldc { XCTAssertEqual(actual[i * ldc + j], start[i * ldc + j], file: file, line: line) } }
        }
    }

    func testAllFormsOnOddAndTinySizes() {
        let sizes = [1, 3, 17, 65]
        for m in sizes { for n in sizes { for k in sizes {
            for (tA, tB) in [(false, false), (false, true), (true, false), (true, true)] {
                check(m: m, n: n, k: k, transposeA: tA, transposeB: tB)
            }
        } } }
    }

    func testLargerAndUnevenShapes() {
        for (m, n, k) in [(127, 1000, 17), (1000, 65, 127), (130, 129, 300), (7, 1000, 65), (1, 1000, 127), (1, 127, 1000)] {
            for (tA, tB) in [(false, false), (false, true), (true, false)] {
                check(m: m, n: n, k: k, transposeA: tA, transposeB: tB)
            }
        }
    }

    func testShapesThatCrossEveryBlockingBoundary() {
        // Depth split into balanced blocks (K > 768); more than one 512-column block per task,
        // with A packed once for all of them (130 × 800, 60 × 1700) or once per block
        // (160 × 1700 floats is over the whole-A limit).
        for (m, n, k, threads) in [(130, 1100, 800, 2), (60, 700, 1700, 1), (160, 600, 1700, 1)] {
            for (tA, tB) in [(false, false), (false, true), (true, false)] {
                check(m: m, n: n, k: k, transposeA: tA, transposeB: tB, threads: threads)
            }
        }
        check(m: 130, n: 1100, k: 800, transposeA: false, transposeB: true, bias: true, accumulate: true, padding: 3)
        // A row split whose two tasks straddle the whole-A limit (654 × 401 floats over it, 648 ×
        // 401 under): the smaller task packs all of A into scratch sized for the larger one.
        check(m: 1300, n: 600, k: 401, transposeA: false, transposeB: true)
    }

    func testBiasAccumulateAndLeadingDimensions() {
        for (m, n, k) in [(1, 17, 65), (3, 33, 17), (65, 127, 300), (200, 150, 100)] {
            for (tA, tB) in [(false, false), (false, true), (true, false)] {
                check(m: m, n: n, k: k, transposeA: tA, transposeB: tB, bias: true)
                check(m: m, n: n, k: k, transposeA: tA, transposeB: tB, accumulate: true)
                check(m: m, n: n, k: k, transposeA: tA, transposeB: tB, bias: true, accumulate: true, padding: 5)
            }
        }
    }

    /// Up to `Kernels.sgemvRowLimit` rows against a row-major W (decoding several sequences together)
    /// take the matrix-vector path: each row's result is bit for bit the one-row product.
    func testFewRowsAgainstARowMajorMatrixEqualEachRowAlone() {
        let n = 203, k = 301, lda = k + 3, ldc = n + 5
        let w = randomArray(n * k, seed: 7), bias = randomArray(n, seed: 8)
        for m in 2...(Kernels.sgemvRowLimit + 1) {
            check(m: m, n: n, k: k, transposeA: false, transposeB: true, bias: true, accumulate: true, padding: 2)
            let a = randomArray(m * lda, seed: UInt64(m)), start = randomArray(m * ldc, seed: 9)
            var together = start
            together.withUnsafeMutableBufferPointer { c in
                Kernels.sgemm(m: m, n: n, k: k, a: a, lda: lda, b: w, transposeB: true, c: c.baseAddress!, ldc: ldc, bias: bias,
                              accumulate: true)
            }
            for r in 0..<m {
                var alone = Array(start[(r * ldc)..<(r * ldc + n)])
                alone.withUnsafeMutableBufferPointer { c in
                    Array(a[(r * lda)..<(r * lda + k)]).withUnsafeBufferPointer { x in
                        Kernels.sgemm(m: 1, n: n, k: k, a: x.baseAddress!, b: w, transposeB: true, c: c.baseAddress!, bias: bias,
                                      accumulate: true)
                    }
                }
                let row = Array(together[(r * ldc)..<(r * ldc + n)])
                if m <= Kernels.sgemvRowLimit {
                    XCTAssertEqual(row, alone, "row \(r) of \(m)")
                } else {
                    assertClose(row, alone, rtol: 1e-4, atol: 1e-4, "row \(r) of \(m)")
                }
            }
        }
    }

    func testZeroDepthGivesBiasOrKeepsC() {
        check(m: 4, n: 5, k: 0, transposeA: false, transposeB: false)
        check(m: 4, n: 5, k: 0, transposeA: false, transposeB: true, bias: true)
        check(m: 4, n: 5, k: 0, transposeA: false, transposeB: false, accumulate: true)
    }

    func testResultsAreBitIdenticalForAnyThreadCount() {
        // Large enough to be split across threads, with edge tiles in both dimensions.
        for (m, n, k, tA, tB) in [(301, 203, 257, false, true), (97, 1001, 130, true, false), (1, 70001, 9, false, true), (1, 5003, 300, false, false),
                                  (5, 20001, 33, false, true)] {
            let a = randomArray(m * k, seed: 5), b = randomArray(n * k, seed: 6)
            var results: [[Float]] = []
            for threads in [1, 2, 8] {
                var c = [Float](repeating: 0, count: m * n)
                c.withUnsafeMutableBufferPointer { out in
                    Kernels.sgemm(m: m, n: n, k: k, a: a, transposeA: tA, b: b, transposeB: tB, c: out.baseAddress!, threads: threads)
                }
                results.append(c)
            }
            XCTAssertEqual(results[0], results[1], "1 vs 2 threads, m=\(m) n=\(n) k=\(k)")
            XCTAssertEqual(results[0], results[2], "1 vs 8 threads, m=\(m) n=\(n) k=\(k)")
        }
    }

    func testTensorMatmulChecksShapes() throws {
        let a = try Tensor(shape: [2, 3], scalars: [1, 2, 3, 4, 5, 6])
        let b = try Tensor(shape: [3, 2], scalars: [1, 0, 0, 1, 1, 1])
        XCTAssertEqual(try a.matmul(b).scalars, [4, 5, 10, 11])
        XCTAssertEqual(try a.matmul(a, transposeOther: true).scalars, [14, 32, 32, 77])
        XCTAssertEqual(try a.matmul(a, transposeSelf: true).shape, [3, 3])
        XCTAssertThrowsError(try a.matmul(a)) { XCTAssertTrue($0 is TensorError) }
        XCTAssertThrowsError(try a.matmul(b, bias: Tensor(zeros: [3])))
    }
}
