// Products with weights in their stored formats against the float32 product of the dequantized
// weights (itself bit-identical to gguf-py's dequantization, see GGUFTests): within the bound
// the 8-bit activation rounding allows for the integer kernels, within float rounding for the
// float32-activation, F16/BF16 and panel paths; independent of the thread count.
import Foundation
import XCTest
import GPTTestSupport
import GPTKernelCore
@testable import GPTTensor

final class StoredFormatKernelTests: XCTestCase {
    /// Random bytes for `blocks` blocks of `format` with finite, moderate f16 scales.
    static func randomBlocks(_ format: WeightFormat, blocks: Int, seed: UInt64) -> [UInt8] {
        var random = SplitMix64(seed: seed)
        var bytes = (0..<(blocks * format.bytesPerBlock)).map { _ in UInt8(truncatingIfNeeded: random.next()) }
        func half(_ value: Float) -> (UInt8, UInt8) {
            let bits = Float16(value).bitPattern
            return (UInt8(bits & 0xFF), UInt8(bits >> 8))
        }
        for block in 0..<blocks {
            let base = block * format.bytesPerBlock
            switch format {
            case .q8_0, .q4_0, .q4_1, .q5_0, .q5_1:
                let scale = Float(random.next() % 1000 + 1) * 1e-5
                (bytes[base], bytes[base + 1]) = half(scale)
                if format == .q4_1 || format == .q5_1 {
                    (bytes[base + 2], bytes[base + 3]) = half(Float(Int(random.next() % 200) - 100) * 1e-4)
                }
            case .float16:
                (bytes[base], bytes[base + 1]) = half(Float(Int(random.next() % 2001) - 1000) * 1e-3)
            case .bfloat16:
                let bits = (Float(Int(random.next() % 2001) - 1000) * 1e-3).bitPattern >> 16
                (bytes[base], bytes[base + 1]) = (UInt8(bits & 0xFF), UInt8(bits >> 8))
            case .q4_K, .q5_K:
                (bytes[base], bytes[base + 1]) = half(Float(random.next() % 100 + 1) * 1e-3)
                (bytes[base + 2], bytes[base + 3]) = half(Float(random.next() % 100 + 1) * 1e-3)
            case .q6_K:
                (bytes[base + 208], bytes[base + 209]) = half(Float(random.next() % 100 + 1) * 1e-4)
            case .float32:
                break
            }
        }
        return bytes
    }

    func check(_ format: WeightFormat, outputs: Int, inputs: Int, rows: Int, activations: StoredProductActivations = .float32,
               line: UInt = #line) {
        let weights = Self.randomBlocks(format, blocks: outputs * inputs / format.blockSize, seed: UInt64(outputs * 31 + inputs + rows))
        var random = SplitMix64(seed: 99)
        let x = (0..<(rows * inputs)).map { _ in Float(Int(random.next() % 2001) - 1000) * 1e-3 }
        let bias = (0..<outputs).map { Float($0 % 7) * 0.25 }
        var dequantized = [Float](repeating: 0, count: outputs * inputs)
        weights.withUnsafeBytes { Kernels.dequantize(format, $0.baseAddress!, count: outputs * inputs, into: &dequantized) }
        // The float64 reference on the dequantized weights, and the bound per output.
        var expected = [Double](repeating: 0, count: rows * outputs), bound = [Double](repeating: 0, count: rows * outputs)
        let direct = rows <= Kernels.directRowLimit && [.q8_0, .q4_0, .q4_1, .q5_0, .q5_1].contains(format) && activations == .int8
        for r in 0..<rows {
            for j in 0..<outputs {
                var sum = Double(bias[j]), limit = 0.0
                for b in 0..<(inputs / 32) {
                    var amax: Float = 0, weightMass = 0.0
                    for p in (b * 32)..<(b * 32 + 32) {
                        sum += Double(x[r * inputs + p]) * Double(dequantized[j * inputs + p])
                        amax = max(amax, abs(x[r * inputs + p]))
                        weightMass += abs(Double(dequantized[j * inputs + p]))
                        limit += 1e-6 * abs(Double(x[r * inputs + p]) * Double(dequantized[j * inputs + p]))
                    }
                    if direct { limit += Double(amax) / 127 / 2 * weightMass * 1.0001 }
                }
                expected[r * outputs + j] = sum
                bound[r * outputs + j] = limit + 1e-5
            }
        }
        var results: [[Float]] = []
        for threads in [1, 2, 3] {
            var y = [Float](repeating: 0, count: rows * outputs)
            weights.withUnsafeBytes { w in
                Kernels.multiplyStored(format, w: w.baseAddress!, outputs: outputs, inputs: inputs, x: x, rows: rows, into: &y,
                                       bias: bias, activations: activations, threads: threads)
            }
            results.append(y)
        }
        XCTAssertEqual(results[0], results[1], "\(format) rows \(rows): thread count changed the result", line: line)
        XCTAssertEqual(results[0], results[2], "\(format) rows \(rows): thread count changed the result", line: line)
        var worst = 0.0
        for index in 0..<(rows * outputs) {
            let error = abs(Double(results[0][index]) - expected[index])
            worst = max(worst, error / bound[index])
        }
        XCTAssertLessThanOrEqual(worst, 1, "\(format) \(outputs)×\(inputs), rows \(rows), \(activations): error / bound", line: line)
    }

    func testEveryFormatAgreesWithTheDequantizedProduct() {
        for format in WeightFormat.allCases where format != .float32 {
            for rows in [1, 3, 8, 19] {
                check(format, outputs: 37, inputs: 512, rows: rows)
                check(format, outputs: 37, inputs: 512, rows: rows, activations: .int8)
            }
        }
    }

    /// Sizes of real models: SmolLM2's 576 and 1536, odd output counts that leave partial
    /// groups, and enough work to run on several threads.
    func testModelSizes() {
        for format in [WeightFormat.q8_0, .q4_0, .q4_1, .q5_0, .q5_1, .bfloat16] {
            for activations in [StoredProductActivations.float32, .int8] {
                check(format, outputs: 193, inputs: 576, rows: 1, activations: activations)
                check(format, outputs: 65, inputs: 1536, rows: 2, activations: activations)
            }
        }
    }

    /// The transposed product (input gradients over frozen stored weights) equals dy · W of
    /// the dequantized weights; rows of an embedding table dequantize as the whole table does.
    func testTransposedProductAndGatheredRows() {
        for format in [WeightFormat.q8_0, .q4_1, .q6_K, .float16] {
            let outputs = 300, inputs = 256
            let weights = Self.randomBlocks(format, blocks: outputs * inputs / format.blockSize, seed: 5)
            var dequantized = [Float](repeating: 0, count: outputs * inputs)
            weights.withUnsafeBytes { Kernels.dequantize(format, $0.baseAddress!, count: outputs * inputs, into: &dequantized) }
            var random = SplitMix64(seed: 3)
            let rows = 5
            let dy = (0..<(rows * outputs)).map { _ in Float(Int(random.next() % 2001) - 1000) * 1e-3 }
            var dx = [Float](repeating: 1, count: rows * inputs)
            weights.withUnsafeBytes {
                Kernels.multiplyStoredTransposed(format, w: $0.baseAddress!, outputs: outputs, inputs: inputs, dy: dy, rows: rows, into: &dx)
            }
            for r in 0..<rows {
                for i in 0..<inputs {
                    var sum = 0.0, mass = 0.0
                    for j in 0..<outputs {
                        sum += Double(dy[r * outputs + j]) * Double(dequantized[j * inputs + i])
                        mass += abs(Double(dy[r * outputs + j]) * Double(dequantized[j * inputs + i]))
                    }
                    XCTAssertEqual(Double(dx[r * inputs + i]), sum, accuracy: 1e-5 * mass + 1e-6, "\(format) dx")
                }
            }
            let ids: [Int32] = [299, 0, 17, 17]
            var gathered = [Float](repeating: 0, count: ids.count * inputs)
            weights.withUnsafeBytes {
                Kernels.gatherStoredRows(format, table: $0.baseAddress!, columns: inputs, ids: ids, count: ids.count, into: &gathered)
            }
            for (r, id) in ids.enumerated() {
                XCTAssertEqual(Array(gathered[(r * inputs)..<((r + 1) * inputs)]),
                               Array(dequantized[(Int(id) * inputs)..<((Int(id) + 1) * inputs)]), "\(format) row \(id)")
            }
        }
    }

    /// Several matrices over one input in one dispatch (q, k, v; gate, up) give exactly what
    /// one product each gives, for any thread count.
    func testGroupedProductsEqualSeparateOnes() {
        for format in [WeightFormat.q8_0, .q4_0, .q4_1, .q6_K] {
            let inputs = 256, sizes = [37, 8, 91]
            let matrices = sizes.enumerated().map { Self.randomBlocks(format, blocks: $0.element * inputs / format.blockSize, seed: UInt64(40 + $0.offset)) }
            var random = SplitMix64(seed: 8)
            for rows in [1, 2, 9] {
                let x = (0..<(rows * inputs)).map { _ in Float(Int(random.next() % 2001) - 1000) * 1e-3 }
                let bias = (0..<91).map { Float($0) * 0.01 }
                var separate = sizes.map { [Float](repeating: 0, count: rows * $0) }
                for (i, bytes) in matrices.enumerated() {
                    bytes.withUnsafeBytes { w in
                        Kernels.multiplyStored(format, w: w.baseAddress!, outputs: sizes[i], inputs: inputs, x: x, rows: rows,
                                               into: &separate[i], bias: i == 1 ? nil : bias)
                    }
                }
                for threads in [1, 2, 3] {
                    let outputs = sizes.map { UnsafeMutablePointer<Float>.allocate(capacity: rows * $0) }
                    let weights = matrices.map { bytes -> UnsafeMutableRawPointer in
                        let copy = UnsafeMutableRawPointer.allocate(byteCount: bytes.count, alignment: 64)
                        bytes.withUnsafeBytes { copy.copyMemory(from: $0.baseAddress!, byteCount: bytes.count) }
                        return copy
                    }
                    let biasCopy = UnsafeMutablePointer<Float>.allocate(capacity: bias.count)
                    biasCopy.initialize(from: bias, count: bias.count)
                    defer {
                        outputs.forEach { $0.deallocate() }
                        weights.forEach { $0.deallocate() }
                        biasCopy.deallocate()
                    }
                    let parts = sizes.indices.map { i in
                        StoredProductPart(w: weights[i], outputs: sizes[i], y: outputs[i], ldy: sizes[i], bias: i == 1 ? nil : UnsafePointer(biasCopy))
                    }
                    Kernels.multiplyStored(format, parts: parts, inputs: inputs, x: x, rows: rows, threads: threads)
                    let grouped = sizes.indices.map { Array(UnsafeBufferPointer(start: outputs[$0], count: rows * sizes[$0])) }
                    XCTAssertEqual(grouped, separate, "\(format), \(rows) rows, \(threads) threads")
                }
            }
        }
    }
}
