import Foundation
import GPTTensor
import XCTest

final class TensorTests: XCTestCase {
    func testCreationAndElementAccess() throws {
        var t = Tensor(zeros: [2, 3])
        XCTAssertEqual(t.count, 6); XCTAssertEqual(t.rank, 2)
        t[1, 2] = 5
        XCTAssertEqual(t.scalars, [0, 0, 0, 0, 0, 5])
        XCTAssertEqual(Tensor(shape: [2], repeating: 1.5).scalars, [1.5, 1.5])
        XCTAssertThrowsError(try Tensor(shape: [2, 2], scalars: [1, 2, 3])) { error in
            XCTAssertEqual(error as? TensorError, .invalidShape("shape [2, 2] holds 4 elements, got 3"))
        }
        XCTAssertThrowsError(try Tensor(shape: [-1, 2], scalars: []))
    }

    func testStorageIsAligned() {
        let t = Tensor(zeros: [3, 5])
        t.withUnsafeBufferPointer { XCTAssertEqual(Int(bitPattern: $0.baseAddress!) % 64, 0) }
    }

    func testViewsShareStorageAndWritesCopy() throws {
        let base = try Tensor(shape: [3, 2], scalars: [1, 2, 3, 4, 5, 6])
        var rows = base.slice(1..<3)
        XCTAssertEqual(rows.shape, [2, 2]); XCTAssertEqual(rows.scalars, [3, 4, 5, 6])
        XCTAssertTrue(rows.sharesStorage(with: base))
        let reshaped = try base.reshaped([2, -1])
        XCTAssertEqual(reshaped.shape, [2, 3]); XCTAssertTrue(reshaped.sharesStorage(with: base))
        XCTAssertEqual(base[row: 2].scalars, [5, 6])
        XCTAssertThrowsError(try base.reshaped([4, 2]))
        XCTAssertThrowsError(try base.reshaped([4, -1]))

        rows[0, 0] = 30  // copy on write: the base is untouched
        XCTAssertEqual(rows.scalars, [30, 4, 5, 6])
        XCTAssertEqual(base.scalars, [1, 2, 3, 4, 5, 6])
        XCTAssertFalse(rows.sharesStorage(with: base))
    }

    func testCopyOnWriteOfValues() throws {
        let a = try Tensor(shape: [2], scalars: [1, 2])
        var b = a
        XCTAssertTrue(b.sharesStorage(with: a))
        b.withUnsafeMutableBufferPointer { $0[0] = 9 }
        XCTAssertEqual(a.scalars, [1, 2]); XCTAssertEqual(b.scalars, [9, 2])
        var unique = Tensor(zeros: [2])
        let before = unique.withUnsafeBufferPointer { $0.baseAddress }
        unique[0] = 1  // uniquely referenced: written in place
        XCTAssertEqual(unique.withUnsafeBufferPointer { $0.baseAddress }, before)
    }

    func testApproximateEquality() throws {
        let a = try Tensor(shape: [3], scalars: [1, 2, 3])
        let b = try Tensor(shape: [3], scalars: [1, 2.000_01, 3])
        XCTAssertTrue(a.isApproximatelyEqual(to: b, relativeTolerance: 1e-5, absoluteTolerance: 0))
        XCTAssertFalse(a.isApproximatelyEqual(to: b, relativeTolerance: 1e-7, absoluteTolerance: 0))
        XCTAssertFalse(a.isApproximatelyEqual(to: try a.reshaped([1, 3])))
        XCTAssertEqual(a.maximumAbsoluteDifference(to: b), 0.000_01, accuracy: 1e-6)
        XCTAssertNotEqual(a, b)
    }
}

final class RandomGeneratorTests: XCTestCase {
    func testMatchesTheXoshiroReference() {
        // The first outputs of xoshiro256** seeded by SplitMix64(42), computed with an
        // independent Python transcription of the published algorithms.
        var generator = RandomGenerator(seed: 42)
        XCTAssertEqual([generator.next(), generator.next(), generator.next()],
                       [0x1578_0b2e_0c2e_c716, 0x6104_d986_6d11_3a7e, 0xae17_5332_39e4_99a1])
    }

    func testSameSeedSameStreamAndStateRoundTrip() throws {
        var a = RandomGenerator(seed: 7), b = RandomGenerator(seed: 7), c = RandomGenerator(seed: 8)
        XCTAssertEqual((0..<10).map { _ in a.nextNormal() }, (0..<10).map { _ in b.nextNormal() })
        XCTAssertNotEqual(a.next(), c.next())
        _ = a.nextNormal()  // leaves a spare normal in the state
        let saved = try JSONEncoder().encode(a)
        var restored = try JSONDecoder().decode(RandomGenerator.self, from: saved)
        XCTAssertEqual((0..<5).map { _ in restored.nextNormal() }, (0..<5).map { _ in a.nextNormal() })
        XCTAssertThrowsError(try JSONDecoder().decode(RandomGenerator.self, from: Data(#"{"state":[0,0,0,0]}"#.utf8)))
    }

    func testNormalAndUniformStatistics() {
        var generator = RandomGenerator(seed: 3)
        let n = 200_000
        let samples = (0..<n).map { _ in Double(generator.nextNormal()) }
        let mean = samples.reduce(0, +) / Double(n)
        let variance = samples.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(n)
        XCTAssertEqual(mean, 0, accuracy: 0.01); XCTAssertEqual(variance, 1, accuracy: 0.02)
        let uniform = Tensor(randomUniform: [n], in: -2..<2, generator: &generator).scalars
        XCTAssertTrue(uniform.allSatisfy { $0 >= -2 && $0 < 2 })
        XCTAssertEqual(uniform.map(Double.init).reduce(0, +) / Double(n), 0, accuracy: 0.02)
    }
}

final class SafetensorsTests: XCTestCase {
    var directory: URL!

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("gptkit-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: directory) }

    func testRoundTripWithMetadata() throws {
        var generator = RandomGenerator(seed: 1)
        let tensors = ["b.weight": Tensor(randomNormal: [3, 5], generator: &generator),
                       "a.bias": Tensor(randomNormal: [7], generator: &generator), "empty": Tensor(zeros: [0, 4])]
        let url = directory.appendingPathComponent("model.safetensors")
        try SafetensorsFile.write(tensors, metadata: ["format": "pt"], to: url)
        let file = try SafetensorsFile(contentsOf: url)
        XCTAssertEqual(file.tensorNames, ["a.bias", "b.weight", "empty"])
        XCTAssertEqual(file.metadata, ["format": "pt"])
        for (name, tensor) in tensors { XCTAssertEqual(try file.tensor(named: name), tensor) }
        XCTAssertThrowsError(try file.tensor(named: "missing")) { XCTAssertEqual($0 as? TensorError, .missingTensor("missing")) }
        // No temporary file is left beside the result.
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: directory.path), ["model.safetensors"])
    }

    /// Builds a file by hand: header JSON + raw bytes.
    func file(header: String, data: [UInt8]) -> Data {
        var bytes = Data()
        withUnsafeBytes(of: UInt64(header.utf8.count).littleEndian) { bytes.append(contentsOf: $0) }
        bytes.append(contentsOf: Array(header.utf8))
        bytes.append(contentsOf: data)
        return bytes
    }

    func testReadsHalfBFloatAndIntegers() throws {
        // F16: 1.0 = 0x3C00, -2.0 = 0xC000, 2^-24 (smallest subnormal) = 0x0001, inf = 0x7C00.
        // BF16: 1.0 = 0x3F80, -0.5 = 0xBF00. I32: 7, -3.
        let header = #"{"h":{"dtype":"F16","shape":[4],"data_offsets":[0,8]},"b":{"dtype":"BF16","shape":[2],"data_offsets":[8,12]},"i":{"dtype":"I32","shape":[2],"data_offsets":[12,20]}}"#
        let data: [UInt8] = [0x00, 0x3C, 0x00, 0xC0, 0x01, 0x00, 0x00, 0x7C, 0x80, 0x3F, 0x00, 0xBF,
                             7, 0, 0, 0, 0xFD, 0xFF, 0xFF, 0xFF]
        let parsed = try SafetensorsFile(data: file(header: header, data: data))
        XCTAssertEqual(try parsed.tensor(named: "h").scalars, [1, -2, 0x1p-24, .infinity])
        XCTAssertEqual(try parsed.tensor(named: "b").scalars, [1, -0.5])
        XCTAssertEqual(try parsed.integers(named: "i"), [7, -3])
        XCTAssertThrowsError(try parsed.tensor(named: "i")) { XCTAssertTrue(($0 as? TensorError).map { if case .unsupportedDataType = $0 { true } else { false } } ?? false) }
    }

    func testMalformedFilesThrowClearErrors() {
        func expectMalformed(_ data: Data, containing phrase: String, line: UInt = #line) {
            XCTAssertThrowsError(try SafetensorsFile(data: data), line: line) { error in
                guard case .malformedFile(let message) = error as? TensorError else { return XCTFail("\(error)", line: line) }
                XCTAssertTrue(message.contains(phrase), "'\(message)' lacks '\(phrase)'", line: line)
            }
        }
        expectMalformed(Data([1, 2, 3]), containing: "shorter than")
        expectMalformed(file(header: "{}", data: []).prefix(9), containing: "exceeds the file")
        expectMalformed(file(header: "{not json", data: []), containing: "not valid JSON")
        expectMalformed(file(header: "[1]", data: []), containing: "not a JSON object")
        expectMalformed(file(header: #"{"x":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#, data: [0, 0, 0, 0]),
                        containing: "fall outside")
        expectMalformed(file(header: #"{"x":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}"#, data: Array(repeating: 0, count: 8)),
                        containing: "8 bytes for shape [3]")
        expectMalformed(file(header: #"{"x":{"dtype":"F32","shape":[2]}}"#, data: []), containing: "lacks dtype")
        expectMalformed(file(header: #"{"x":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,0]}}"#, data: []),
                        containing: "impossibly large shape")
        // The tensors must tile the data exactly, with whole-number shapes, in a UTF-8 header.
        let two = #"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[A,B]}}"#
        expectMalformed(file(header: two.replacingOccurrences(of: "[A,B]", with: "[0,4]"), data: Array(repeating: 0, count: 8)),
                        containing: "overlaps another tensor")
        expectMalformed(file(header: two.replacingOccurrences(of: "[A,B]", with: "[8,12]"), data: Array(repeating: 0, count: 12)),
                        containing: "belong to no tensor")
        expectMalformed(file(header: #"{"x":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}"#, data: Array(repeating: 0, count: 5)),
                        containing: "1 bytes after the last tensor")
        expectMalformed(file(header: #"{"x":{"dtype":"F32","shape":[1.5],"data_offsets":[0,4]}}"#, data: Array(repeating: 0, count: 4)),
                        containing: "whole-number shape")
        var utf16 = Data()
        let header = Array(#"{"x":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}"#.utf16)
        withUnsafeBytes(of: UInt64(header.count * 2 + 2).littleEndian) { utf16.append(contentsOf: $0) }
        utf16.append(contentsOf: [0xFF, 0xFE])  // a UTF-16 byte-order mark
        for unit in header { withUnsafeBytes(of: unit.littleEndian) { utf16.append(contentsOf: $0) } }
        utf16.append(contentsOf: [0, 0, 0, 0])
        expectMalformed(utf16, containing: "not a JSON object in UTF-8")
    }
}
