// What quantizing a trained model costs in perplexity: a character model trained on tiny
// Shakespeare (the engine of `gpt train`), evaluated on held-out text in float32, and with its
// matrices and token table in Q8_0 (within 0.5%) and in 4-bit formats (within 5%).
import Foundation
import GPTModel
import GPTTensor
import GPTTokenizers
import GPTTraining
import XCTest

final class QuantizedQualityTests: XCTestCase {
    func testQuantizedPerplexityStaysNearFloat32() throws {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("shared/data/tinyshakespeare/input.txt")
        guard FileManager.default.fileExists(atPath: url.path) else { throw XCTSkip("../shared/data is absent") }
        let text = String(decoding: try Data(contentsOf: url).prefix(300_000), as: UTF8.self)
        let tokenizer = CharacterTokenizer(trainingText: text)
        let all = try TokenDataset(tokens: try tokenizer.encode(text))
        let (training, validation) = all.split(validationFraction: 0.1)
        // Rows of 64 values: whole Q8_0/Q4 blocks in every matrix and in the token table.
        let configuration = GPTConfiguration(vocabularySize: tokenizer.vocabularySize, contextLength: 64, layerCount: 2, headCount: 4,
                                             embeddingDimensions: 64)
        var settings = TrainingConfiguration(batchSize: 8, sequenceLength: 64, steps: 300)
        settings.schedule = .warmupCosine(maximum: 3e-3, minimum: 3e-4, warmupSteps: 30, decaySteps: 300)
        let trainer = try Trainer(model: GPT(configuration: configuration, seed: 5), configuration: settings, training: training)
        try trainer.run()
        let model = trainer.model
        func perplexity(_ model: GPT) throws -> Double {
            Foundation.exp(Double(try model.meanLoss(on: validation, batchSize: 8, sequenceLength: 64, batches: 8)))
        }
        let float32 = try perplexity(model)
        // Trained: far below the uniform guess over the characters.
        XCTAssertLessThan(float32, Double(tokenizer.vocabularySize) / 4)
        for (format, bound) in [(WeightFormat.q8_0, 0.005), (.q4_0, 0.05), (.q4_1, 0.05), (.float16, 0.005), (.bfloat16, 0.005)] {
            let quantized = try model.quantized(to: format)
            XCTAssertTrue(quantized.weights.formats.contains(format), "\(format)")
            XCTAssertTrue(quantized.weights.formats.contains(.float32), "\(format): norms and biases stay float32")
            let value = try perplexity(quantized)
            print("perplexity float32 \(float32), \(format) \(value): \(String(format: "%+.3f%%", 100 * (value / float32 - 1)))")
            XCTAssertLessThanOrEqual(abs(value / float32 - 1), bound, "\(format): perplexity \(value) against \(float32)")
            XCTAssertNotEqual(value, float32, "\(format): quantizing must change something")
        }
        // Decoding the quantized copy through its KV cache gives its own full forward pass.
        let q8 = try model.quantized(to: .q8_0, activations: .float32)
        let prompt = try tokenizer.encode("ROMEO:\nWhat light")
        let full = try q8.forward(tokens: prompt, batch: 1, time: prompt.count).scalars.suffix(tokenizer.vocabularySize)
        let cache = q8.makeCache()
        var last: [Float] = []
        for token in prompt { last = try q8.forward(tokens: [token], cache: cache).scalars }
        XCTAssertLessThanOrEqual(zip(Array(full), last).map { abs($0 - $1) }.max()!, 1e-3)
        XCTAssertThrowsError(try model.quantized(to: .q5_K))
    }
}
