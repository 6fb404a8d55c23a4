// The byte dot products under the quantized kernels (vpmaddubsw, vpsignb and vpmaddwd on x86)
// of every kernel set this CPU runs, against plain integer sums.
import GPTKernelCore
import GPTTensor
import GPTTestSupport
import XCTest

final class ByteDotProductTests: XCTestCase {
    /// The exact lane sums: lane i is Σ of products 4i..<4i+4.
    func reference(_ a: [Int], _ b: [Int]) -> [Int32] {
        var sums = [Int32](repeating: 0, count: 8)
        for i in 0..<32 { sums[i / 4] += Int32(a[i] * b[i]) }
        return sums
    }

    func testEveryKernelSetGivesTheExactLaneSums() throws {
        let sets = InstructionSet.allCases.filter(\.isSupported)
        XCTAssertTrue(sets.contains(.portable))
        var random = SplitMix64(seed: 41)
        for trial in 0..<2000 {
            // Extremes first (every nibble 15 or byte −128 against ±127), then random values.
            let unsigned: [Int] = (0..<32).map { _ in trial < 2 ? (trial == 0 ? 15 : 128) : Int(random.next() % 16) }
            let signedWeights: [Int] = (0..<32).map { _ in trial < 2 ? -128 : Int(random.next() % 256) - 128 }
            let activations: [Int] = (0..<32).map { i in trial < 2 ? (i % 2 == 0 ? 127 : -127) : Int(random.next() % 255) - 127 }
            let u = SIMD32<UInt8>(unsigned.map { UInt8($0) }), w = SIMD32<Int8>(signedWeights.map { Int8($0) })
            let s = SIMD32<Int8>(activations.map { Int8($0) })
            let expectedUnsigned = reference(unsigned, activations), expectedSigned = reference(signedWeights, activations)
            for set in sets {
                let kernels = set.kernels
                XCTAssertEqual((0..<8).map { kernels.dot(unsigned: u, s)[$0] }, expectedUnsigned, "\(set), unsigned, trial \(trial)")
                XCTAssertEqual((0..<8).map { kernels.dot(signed: w, s)[$0] }, expectedSigned, "\(set), signed, trial \(trial)")
            }
        }
    }
}
