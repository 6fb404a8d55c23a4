// Half-precision weights for GPTKit's own models: F16/BF16 safetensors saved (rounded as
// PyTorch's .half()/.bfloat16() round), and loaded either widened to float32 or kept in half
// precision and multiplied with float32 accumulation.
import Foundation
import GPTModel
import GPTTensor
import XCTest

final class HalfPrecisionTests: XCTestCase {
    func testSavedHalfCheckpointsHoldTheRoundedWeightsAndHalveTheFile() throws {
        let model = try randomModel(llamaNano, seed: 21)
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("gptkit-half-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        try model.save(directory: directory.appendingPathComponent("f32"))
        let f32Size = try FileManager.default.attributesOfItem(atPath: directory.appendingPathComponent("f32/model.safetensors").path)[.size] as! Int
        for format in [WeightFormat.bfloat16, .float16] {
            let folder = directory.appendingPathComponent(format.rawValue)
            try model.save(directory: folder, dataType: format)
            let file = try SafetensorsFile(contentsOf: folder.appendingPathComponent("model.safetensors"))
            XCTAssertEqual(Set(file.entries.values.map(\.dataType)), [format == .bfloat16 ? "BF16" : "F16"])
            let size = try FileManager.default.attributesOfItem(atPath: folder.appendingPathComponent("model.safetensors").path)[.size] as! Int
            XCTAssertLessThan(Double(size), 0.55 * Double(f32Size), "\(format): \(size) bytes against \(f32Size)")
            // Widened on load: every value is the float32 one rounded to the format, exactly.
            let widened = try GPT(directory: folder)
            for entry in model.layout.entries {
                let original = try model.weights.value(of: entry.slot).scalars
                var bytes = [UInt8](repeating: 0, count: 2 * original.count)
                var rounded = [Float](repeating: 0, count: original.count)
                Kernels.quantize(format, original, count: original.count, into: &bytes)
                bytes.withUnsafeBytes { Kernels.dequantize(format, $0.baseAddress!, count: original.count, into: &rounded) }
                XCTAssertEqual(try widened.weights.value(of: entry.slot).scalars, rounded, "\(format) \(entry.name)")
            }
            // Kept in half precision: the matrices stay F16/BF16 (mapped), vectors float32, and the
            // logits equal the widened model's up to the order of float32 sums.
            let half = try GPT(directory: folder, halfPrecision: .stored)
            XCTAssertEqual(Set(half.weights.formats), [format, .float32])
            let tokens = randomTokens(12, vocabulary: llamaNano.vocabularySize, seed: 4)
            let a = try widened.forward(tokens: tokens, batch: 1, time: tokens.count).scalars
            let b = try half.forward(tokens: tokens, batch: 1, time: tokens.count).scalars
            assertClose(b, a, rtol: 1e-5, atol: 1e-5, "\(format) prefill")
            let cacheA = widened.makeCache(), cacheB = half.makeCache()
            for token in tokens {
                let stepA = try widened.forward(tokens: [token], cache: cacheA).scalars
                let stepB = try half.forward(tokens: [token], cache: cacheB).scalars
                assertClose(stepB, stepA, rtol: 1e-5, atol: 1e-5, "\(format) decoding")
            }
            // Saved again from half precision (widened as it is written): the same bytes.
            try half.save(directory: folder.appendingPathComponent("again"), dataType: format)
            XCTAssertEqual(try Data(contentsOf: folder.appendingPathComponent("again/model.safetensors")),
                           try Data(contentsOf: folder.appendingPathComponent("model.safetensors")))
        }
        XCTAssertThrowsError(try model.save(directory: directory.appendingPathComponent("q8"), dataType: .q8_0))
    }

    /// Transformers' BF16 checkpoints run in BF16 as stored, within the tolerance of the widened
    /// model against transformers.
    func testBFloat16CheckpointsRunInBFloat16() throws {
        let reference = try SafetensorsFile(contentsOf: fixturesDirectory.appendingPathComponent("tiny-bf16-reference.safetensors"))
        for (folder, prefix) in [("tiny-llama-bf16", "llama"), ("tiny-qwen2-bf16", "qwen2")] {
            let model = try GPT(directory: fixturesDirectory.appendingPathComponent(folder), halfPrecision: .stored)
            XCTAssertTrue(model.weights.formats.contains(.bfloat16), folder)
            let tokens = try reference.integers(named: "\(prefix).tokens")
            let logits = try model.forward(tokens: tokens, batch: 2, time: 7)
            assertClose(logits.scalars, try reference.tensor(named: "\(prefix).logits").scalars, rtol: 1e-4, atol: 1e-4, "\(folder) logits")
        }
    }
}
