import Foundation
import GPTTensor
import GPTTestSupport
import XCTest

final class SoftmaxTests: XCTestCase {
    func testMatchesReferenceOnOddWidths() {
        for columns in [1, 3, 7, 8, 17, 65, 1000] {
            let rows = 5
            let x = randomArray(rows * columns, seed: UInt64(columns), scale: 3)
            var expected = [Float](repeating: 0, count: x.count), actual = expected
            ReferenceKernels.softmaxRows(x, into: &expected, rows: rows, columns: columns)
            Kernels.softmaxRows(x, into: &actual, rows: rows, columns: columns)
            assertClose(actual, expected, rtol: 1e-5, atol: 1e-7, "columns \(columns)")
        }
    }

    func testHugeAndInfiniteValues() {
        let inf = Float.infinity
        let rows: [[Float]] = [
            [1e30, 1e30, -1e30, 0, 5, 1e30, 3, 2, 1],   // huge values must not overflow
            [-inf, 0, -inf, 1, -inf, -inf, 2, -inf, -inf], // masked entries
            [Float](repeating: -inf, count: 9),           // a fully masked row
            [88, 89, 90, -100, -200, 87, 10, 0, 1],
        ]
        let x = rows.flatMap { $0 }
        var expected = [Float](repeating: 0, count: x.count), actual = expected
        ReferenceKernels.softmaxRows(x, into: &expected, rows: rows.count, columns: 9)
        Kernels.softmaxRows(x, into: &actual, rows: rows.count, columns: 9)
        XCTAssertTrue(actual.allSatisfy(\.isFinite))
        assertClose(actual, expected, rtol: 1e-5, atol: 1e-7)
        XCTAssertEqual(actual[9], 0); XCTAssertEqual(Array(actual[18..<27]), [Float](repeating: 0, count: 9))
        for r in [0, 1, 3] { XCTAssertEqual(actual[(r * 9)..<(r * 9 + 9)].reduce(0, +), 1, accuracy: 1e-6) }
    }

    func testBackwardMatchesFiniteDifferences() {
        let columns = 11, rows = 3
        let x = randomArray(rows * columns, seed: 9), dy = randomArray(rows * columns, seed: 10)
        var y = [Float](repeating: 0, count: x.count), dx = y
        Kernels.softmaxRows(x, into: &y, rows: rows, columns: columns)
        Kernels.softmaxBackwardRows(y: y, dy: dy, dx: &dx, rows: rows, columns: columns)
        let numeric = finiteDifference(x) { input in
            var out = [Double](repeating: 0, count: input.count)
            for r in 0..<rows {
                let row = input[(r * columns)..<((r + 1) * columns)]
                let m = row.max()!
                let e = row.map { Foundation.exp($0 - m) }, s = e.reduce(0, +)
                for j in 0..<columns { out[r * columns + j] = e[j] / s }
            }
            return zip(out, dy).map { $0 * Double($1) }.reduce(0, +)
        }
        assertClose(dx, numeric, rtol: 1e-3, atol: 1e-5)
    }
}

final class NormalizationTests: XCTestCase {
    func testLayerNormForwardAndBackward() {
        for (rows, columns) in [(1, 1), (3, 7), (5, 64), (17, 65)] {
            let x = randomArray(rows * columns, seed: 1), w = randomArray(columns, seed: 2), b = randomArray(columns, seed: 3)
            let dy = randomArray(rows * columns, seed: 4)
            let reference = ReferenceKernels.layerNorm(x, weight: w, bias: b, columns: columns, epsilon: 1e-5)
            var y = [Float](repeating: 0, count: x.count), mean = [Float](repeating: 0, count: rows), rstd = mean
            Kernels.layerNormForward(x: x, weight: w, bias: b, y: &y, mean: &mean, rstd: &rstd, rows: rows, columns: columns, epsilon: 1e-5)
            assertClose(y, reference.y, rtol: 1e-4, atol: 1e-5)
            assertClose(mean, reference.mean, rtol: 1e-5, atol: 1e-6)
            let expected = ReferenceKernels.layerNormBackward(dy: dy, x: x, weight: w, columns: columns, epsilon: 1e-5)
            var dx = [Float](repeating: 0, count: x.count), dw = [Float](repeating: 0.5, count: columns), db = dw
            Kernels.layerNormBackward(dy: dy, x: x, weight: w, mean: mean, rstd: rstd, dx: &dx, dweight: &dw, dbias: &db,
                                      rows: rows, columns: columns)
            assertClose(dx, expected.dx, rtol: 1e-3, atol: 1e-4, "dx \(rows)x\(columns)")
            assertClose(dw, expected.dweight.map { $0 + 0.5 }, rtol: 1e-4, atol: 1e-5, "dweight accumulates")
            assertClose(db, expected.dbias.map { $0 + 0.5 }, rtol: 1e-4, atol: 1e-5, "dbias accumulates")
        }
    }

    func testLayerNormConstantRowsAreFinite() {
        let columns = 16
        let x = [Float](repeating: 3.25, count: columns) + [Float](repeating: -1e4, count: columns)
        let w = randomArray(columns, seed: 5), b = randomArray(columns, seed: 6)
        var y = [Float](repeating: 0, count: x.count), mean = [Float](repeating: 0, count: 2), rstd = mean
        Kernels.layerNormForward(x: x, weight: w, bias: b, y: &y, mean: &mean, rstd: &rstd, rows: 2, columns: columns, epsilon: 1e-5)
        assertClose(y, b + b, rtol: 1e-5, atol: 1e-5)  // (x − mean) = 0, so y = bias
        var dx = [Float](repeating: 0, count: x.count), dw = [Float](repeating: 0, count: columns), db = dw
        Kernels.layerNormBackward(dy: randomArray(x.count, seed: 7), x: x, weight: w, mean: mean, rstd: rstd,
                                  dx: &dx, dweight: &dw, dbias: &db, rows: 2, columns: columns)
        XCTAssertTrue(dx.allSatisfy(\.isFinite))
    }

    func testRMSNormForwardAndBackward() {
        for (rows, columns) in [(1, 1), (3, 7), (4, 65)] {
            let x = randomArray(rows * columns, seed: 11), w = randomArray(columns, seed: 12), dy = randomArray(rows * columns, seed: 13)
            var y = [Float](repeating: 0, count: x.count), rstd = [Float](repeating: 0, count: rows)
            Kernels.rmsNormForward(x: x, weight: w, y: &y, rstd: &rstd, rows: rows, columns: columns, epsilon: 1e-5)
            assertClose(y, ReferenceKernels.rmsNorm(x, weight: w, columns: columns, epsilon: 1e-5), rtol: 1e-4, atol: 1e-5)
            var dx = [Float](repeating: 1, count: x.count), dw = [Float](repeating: 0, count: columns)
            Kernels.rmsNormBackward(dy: dy, x: x, weight: w, rstd: rstd, dx: &dx, dweight: &dw, rows: rows, columns: columns,
                                    accumulateInput: true)
            let rmsLoss = { (input: [Double], weight: [Double]) -> Double in
                var total = 0.0
                for r in 0..<rows {
                    let row = input[(r * columns)..<((r + 1) * columns)]
                    let s = 1 / (row.map { $0 * $0 }.reduce(0, +) / Double(columns) + 1e-5).squareRoot()
                    for j in 0..<columns { total += row[r * columns + j] * s * weight[j] * Double(dy[r * columns + j]) }
                }
                return total
            }
            let wd = w.map(Double.init), xd = x.map(Double.init)
            assertClose(dx.map { $0 - 1 }, finiteDifference(x) { rmsLoss($0, wd) }, rtol: 1e-3, atol: 1e-4, "dx")
            assertClose(dw, finiteDifference(w) { rmsLoss(xd, $0) }, rtol: 1e-3, atol: 1e-4, "dweight")
        }
    }
}

final class ActivationTests: XCTestCase {
    let x = randomArray(1001, seed: 21, scale: 4) + [0, -0.0, 30, -30, 1e-4, -1e-4, 88, -88]

    func testGELUForwardAndBackward() {
        var y = [Float](repeating: 0, count: x.count)
        Kernels.geluForward(x, into: &y, count: x.count)
        assertClose(y, x.map(ReferenceKernels.gelu), rtol: 1e-5, atol: 1e-6)
        let dy = randomArray(x.count, seed: 22)
        var dx = [Float](repeating: 0, count: x.count)
        Kernels.geluBackward(x: x, dy: dy, dx: &dx, count: x.count)
        let g = { (v: Double) in 0.5 * v * (1 + Foundation.tanh((2 / Double.pi).squareRoot() * (v + 0.044715 * v * v * v))) }
        let numeric = x.indices.map { i -> Float in
            let v = Double(x[i]), h = 1e-5
            return Float((g(v + h) - g(v - h)) / (2 * h)) * dy[i]
        }
        assertClose(dx, numeric, rtol: 1e-4, atol: 1e-5)
    }

    func testSiLUForwardAndBackward() {
        var y = [Float](repeating: 0, count: x.count)
        Kernels.siluForward(x, into: &y, count: x.count)
        assertClose(y, x.map(ReferenceKernels.silu), rtol: 1e-5, atol: 1e-6)
        let dy = randomArray(x.count, seed: 23)
        var dx = [Float](repeating: 2, count: x.count)
        Kernels.siluBackward(x: x, dy: dy, dx: &dx, count: x.count, accumulate: true)
        let s = { (v: Double) in v / (1 + Foundation.exp(-v)) }
        let numeric = x.indices.map { i -> Float in
            let v = Double(x[i]), h = 1e-5
            return Float((s(v + h) - s(v - h)) / (2 * h)) * dy[i] + 2
        }
        assertClose(dx, numeric, rtol: 1e-4, atol: 1e-5)
    }
}

final class ElementwiseTests: XCTestCase {
    func testElementwiseAndReductions() {
        for count in [0, 1, 7, 8, 9, 4097, 300_001] {
            let a = randomArray(count, seed: 31), b = randomArray(count, seed: 32)
            var out = [Float](repeating: 0, count: count)
            Kernels.add(a, b, into: &out, count: count)
            XCTAssertEqual(out, zip(a, b).map(+))
            Kernels.multiply(a, b, into: &out, count: count)
            XCTAssertEqual(out, zip(a, b).map(*))
            var y = b
            Kernels.axpy(alpha: 0.5, x: a, y: &y, count: count)
            assertClose(y, zip(a, b).map { 0.5 * $0 + $1 }, rtol: 1e-6, atol: 1e-6)
            Kernels.scale(&y, by: 2, count: count)
            assertClose(y, zip(a, b).map { $0 + 2 * $1 }, rtol: 1e-5, atol: 1e-5)
            XCTAssertEqual(Double(Kernels.sum(a, count: count)), a.map(Double.init).reduce(0, +), accuracy: 1e-3)
            XCTAssertEqual(Kernels.squaredNorm(a, count: count), a.map { Double($0) * Double($0) }.reduce(0, +),
                           accuracy: 1e-6 * Double(max(1, count)))
            XCTAssertEqual(Kernels.max(a, count: count), a.max() ?? -.infinity)
        }
        XCTAssertTrue(Kernels.max([1, .nan, 2], count: 3).isNaN)
    }

    func testReductionsAreIdenticalForAnyThreadCount() {
        let a = randomArray(1_000_003, seed: 33)
        var sums: [Float] = []
        for threads in [1, 2, 8] {
            Parallel.threadCount = threads
            sums.append(Kernels.sum(a, count: a.count))
        }
        Parallel.threadCount = 0
        XCTAssertEqual(sums[0], sums[1]); XCTAssertEqual(sums[0], sums[2])
    }
}

/// Central differences of a Double-valued function of `x`, as Float gradients.
func finiteDifference(_ x: [Float], step: Double = 1e-4, _ f: ([Double]) -> Double) -> [Float] {
    var input = x.map(Double.init)
    return x.indices.map { i in
        let saved = input[i]
        input[i] = saved + step; let plus = f(input)
        input[i] = saved - step; let minus = f(input)
        input[i] = saved
        return Float((plus - minus) / (2 * step))
    }
}
