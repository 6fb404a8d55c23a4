// Quantization into GGUF formats against gguf-py's reference quantizers: the tensors of
// Fixtures/gguf/quants.gguf were written by `gguf.quants.quantize` from the float32 `source`
// matrix stored beside them, so quantizing `source` here must give the same bytes.
import Foundation
import XCTest
import GPTTestSupport
@testable import GPTTensor

final class QuantizeTests: XCTestCase {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Fixtures/gguf")

    func testQuantizersAreByteIdenticalToGGUFPy() throws {
        let file = try GGUFFile(contentsOf: Self.fixtures.appendingPathComponent("quants.gguf"))
        let reference = try SafetensorsFile(contentsOf: Self.fixtures.appendingPathComponent("quants-reference.safetensors"))
        let source = try reference.tensor(named: "source").scalars
        XCTAssertEqual(source.count, 3 * 512)
        for format in [WeightFormat.float16, .bfloat16, .q8_0, .q4_0, .q4_1] {
            let tensor = try XCTUnwrap(file.tensor(named: "\(format.rawValue.lowercased()).weight"), format.rawValue)
            XCTAssertEqual(tensor.format, format)
            let expected = Array(UnsafeRawBufferPointer(start: file.bytes(of: tensor), count: tensor.byteCount))
            var bytes = [UInt8](repeating: 0xAA, count: tensor.byteCount)
            bytes.withUnsafeMutableBytes { Kernels.quantize(format, source, count: source.count, into: $0.baseAddress!) }
            XCTAssertEqual(bytes, expected, "\(format): the bytes gguf-py wrote")
        }
    }

    /// Q6_K and Q4_K against llama.cpp's own reference quantizers (Fixtures/make_q6k_fixtures.py:
    /// ggml's `ggml_quantize_chunk` on rows of several scales, a zero row, an outlier, one-signed
    /// rows): the same bytes, and the dequantized values close to the source.
    func testKQuantizersAreByteIdenticalToLlamaCpp() throws {
        let file = try GGUFFile(contentsOf: Self.fixtures.appendingPathComponent("q6k.gguf"))
        let source = try file.floats(of: "source")
        XCTAssertEqual(source.count, 8 * 512)
        for (format, name, levels) in [(WeightFormat.q6_K, "q6_k.weight", Float(32)), (.q4_K, "q4_k.weight", 8)] {
            let tensor = try XCTUnwrap(file.tensor(named: name))
            XCTAssertEqual(tensor.format, format)
            let size = format.bytesPerBlock
            let expected = Array(UnsafeRawBufferPointer(start: file.bytes(of: tensor), count: tensor.byteCount))
            var bytes = [UInt8](repeating: 0xAA, count: tensor.byteCount)
            bytes.withUnsafeMutableBytes { Kernels.quantize(format, source, count: source.count, into: $0.baseAddress!) }
            for block in 0..<(bytes.count / size) {
                XCTAssertEqual(Array(bytes[(size * block)..<(size * block + size)]), Array(expected[(size * block)..<(size * block + size)]),
                               "\(format) super-block \(block)")
            }
            var values = [Float](repeating: 0, count: source.count)
            bytes.withUnsafeBytes { Kernels.dequantize(format, $0.baseAddress!, count: source.count, into: &values) }
            for row in 0..<8 {
                let slice = (512 * row)..<(512 * row + 512)
                let span = slice.map { source[$0] }.max()! - min(0, slice.map { source[$0] }.min()!)
                let worst = slice.map { abs(values[$0] - source[$0]) }.max()!
                XCTAssertLessThanOrEqual(worst, max(span, slice.map { abs(source[$0]) }.max()!) / levels, "\(format) row \(row): error \(worst)")
            }
        }
    }

    /// The portable half conversion equals `Float16(_:)` on every class of value.
    func testPortableHalfConversionMatchesFloat16() {
        var values: [Float] = [0, -0, 1, -1, 65504, 65520, 65519.99, 1e-8, 6e-8, 5.96e-8, 2.98e-8, 3e-8, .infinity, -.infinity,
                               0.1, 1.0009765625, 1.00048828125, 1.000732421875, 6.1035156e-5, 6.097555e-5]
        var random = SplitMix64(seed: 2024)
        for _ in 0..<20_000 { values.append(Float(bitPattern: UInt32(truncatingIfNeeded: random.next()))) }
        for value in values where !value.isNaN {
            XCTAssertEqual(Kernels.halfBitsPortable(value), Float16(value).bitPattern, "\(value)")
        }
    }
}

extension QuantizeTests {
    /// A re-quantized copy keeps the metadata (with `general.file_type`) and the vectors, and
    /// every matrix equals `quantize(dequantize(original))`.
    func testWriteQuantizedCopiesMetadataAndConvertsMatrices() throws {
        let file = try GGUFFile(contentsOf: Self.fixtures.appendingPathComponent("quants.gguf"))
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("gptkit-quantized-\(UUID().uuidString).gguf")
        defer { try? FileManager.default.removeItem(at: url) }
        let converted = try file.writeQuantized(to: url, format: .q8_0)
        XCTAssertEqual(converted, file.tensors.filter { $0.format != .q8_0 }.count)
        let copy = try GGUFFile(contentsOf: url)
        XCTAssertEqual(copy.metadataKeys, file.metadataKeys + (file.metadata["general.file_type"] == nil ? ["general.file_type"] : []))
        XCTAssertEqual(copy.metadata["general.file_type"], .uint32(7))
        for key in file.metadataKeys where key != "general.file_type" { XCTAssertEqual(copy.metadata[key], file.metadata[key], key) }
        for tensor in file.tensors {
            let out = try XCTUnwrap(copy.tensor(named: tensor.name))
            XCTAssertEqual(out.shape, tensor.shape)
            XCTAssertEqual(out.format, .q8_0, tensor.name)
            var values = [Float](repeating: 0, count: tensor.elementCount)
            Kernels.dequantize(tensor.format, file.bytes(of: tensor), count: values.count, into: &values)
            var expected = [UInt8](repeating: 0, count: out.byteCount)
            expected.withUnsafeMutableBytes { Kernels.quantize(.q8_0, values, count: values.count, into: $0.baseAddress!) }
            XCTAssertEqual(Array(UnsafeRawBufferPointer(start: copy.bytes(of: out), count: out.byteCount)), expected, tensor.name)
        }
        XCTAssertThrowsError(try file.writeQuantized(to: url, format: .q5_K)) { error in
            XCTAssertTrue("\(error)".contains("no quantizer for Q5_K"), "\(error)")
        }
    }
}
