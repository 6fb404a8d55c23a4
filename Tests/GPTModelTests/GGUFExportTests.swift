// Writing GPTKit models as GGUF (GPT.writeGGUF): the file loads back into the model quantized
// in memory, byte for byte, for the GPT-2 and Llama layouts.
import Foundation
import GPTLayers
import GPTModel
import GPTTensor
import XCTest

final class GGUFExportTests: XCTestCase {
    func roundTrip(_ model: GPT, format: WeightFormat, file: StaticString = #filePath, line: UInt = #line) throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("gptkit-export-\(UUID().uuidString).gguf")
        defer { try? FileManager.default.removeItem(at: url) }
        try model.writeGGUF(to: url, format: format)
        let gguf = try GGUFFile(contentsOf: url)
        XCTAssertEqual(gguf.metadata["tokenizer.ggml.model"]?.string, "no_vocab", file: file, line: line)
        XCTAssertNil(try gguf.tokenizer(), "no vocabulary: no tokenizer", file: file, line: line)
        let loaded = try GPT(gguf: gguf, activations: .float32)
        let expected = try model.quantized(to: format, activations: .float32)
        XCTAssertEqual(loaded.configuration, expected.configuration, file: file, line: line)
        XCTAssertEqual(loaded.weights.formats, expected.weights.formats, file: file, line: line)
        // Every parameter's bytes as the in-memory quantization stores them (q/k rows back in
        // GPTKit's order after llama.cpp's).
        for entry in model.layout.entries {
            let a = loaded.weights.matrix(entry.slot), b = expected.weights.matrix(entry.slot)
            let bytes = a.format == .float32 ? 4 * a.outputs * a.inputs : a.outputs * Kernels.rowBytes(a.format, inputs: a.inputs)
            XCTAssertEqual(Data(bytes: a.base, count: bytes), Data(bytes: b.base, count: bytes), "\(entry.name)", file: file, line: line)
        }
        let tokens = randomTokens(9, vocabulary: model.configuration.vocabularySize, seed: 2)
        XCTAssertEqual(try loaded.forward(tokens: tokens, batch: 1, time: 9).scalars, try expected.forward(tokens: tokens, batch: 1, time: 9).scalars,
                       file: file, line: line)
    }

    func testGPT2AndLlamaModelsRoundTripThroughGGUF() throws {
        var gpt2 = GPTConfiguration.nano
        gpt2.embeddingDimensions = 64
        try roundTrip(try randomModel(gpt2, seed: 1), format: .q8_0)
        try roundTrip(try GPT(directory: fixturesDirectory.appendingPathComponent("tiny-gpt2")), format: .float16)
        var llama = llamaNano
        llama.embeddingDimensions = 64
        llama.hiddenDimensions = 96
        llama.modelType = "llama"
        try roundTrip(try randomModel(llama, seed: 2), format: .q4_1)
        try roundTrip(try randomModel(llama, seed: 3), format: .q4_0)
        var qwen2 = llama
        qwen2.modelType = "qwen2"
        qwen2.biases = BlockBiases(qkv: true, attentionOutput: false, feedForward: false, norm: false)
        try roundTrip(try randomModel(qwen2, seed: 4), format: .bfloat16)
        // What llama.cpp's architectures cannot express is refused: GPTKit's GPT-2 with
        // rotary positions (llamaNano's family is gpt2), sinusoidal positions.
        XCTAssertThrowsError(try randomModel(llamaNano, seed: 1).writeGGUF(to: FileManager.default.temporaryDirectory
            .appendingPathComponent("gptkit-never.gguf"), format: .q8_0))
        var sinusoidal = GPTConfiguration.nano
        sinusoidal.positionalEncoding = .sinusoidal
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("gptkit-export-\(UUID().uuidString).gguf")
        XCTAssertThrowsError(try randomModel(sinusoidal, seed: 1).writeGGUF(to: url, format: .q8_0))
        XCTAssertThrowsError(try randomModel(.nano, seed: 1).writeGGUF(to: url, format: .q5_K))
        XCTAssertFalse(FileManager.default.fileExists(atPath: url.path))
    }
}
