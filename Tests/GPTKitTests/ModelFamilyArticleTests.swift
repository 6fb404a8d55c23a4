import Foundation
import GPTKit
import XCTest

// BEGIN ARTICLE
public enum TinystralFamily: ModelFamily {
    public static let modelType = "tinystral"
    public static let huggingFaceClass = "TinystralForCausalLM"

    public static func configuration(huggingFace json: [String: JSONConfigValue], file: String) throws -> GPTConfiguration {
        let reader = ConfigReader(json, file: file)
        var configuration = try LlamaFamily.configuration(huggingFace: json, file: file)
        configuration.modelType = modelType
        configuration.biases = BlockBiases(qkv: true, attentionOutput: true, feedForward: false, norm: false)
        _ = try reader.integer("hidden_size")          // typed reads name the file and the key on error
        return configuration
    }

    public static func huggingFaceConfig(_ configuration: GPTConfiguration) -> [String: JSONConfigValue] {
        var json = LlamaFamily.huggingFaceConfig(configuration)
        json["model_type"] = .string(modelType)
        json["architectures"] = .array([.string(huggingFaceClass)])
        return json
    }

    public static func names(_ configuration: GPTConfiguration) -> ModelParameterNames {
        ModelParameterNames(tokenEmbedding: "model.embed_tokens", positionEmbedding: "model.embed_positions",
                            finalNorm: "model.final_norm", outputProjection: "lm_head")
    }

    public static func blockNames(_ index: Int, configuration: GPTConfiguration) -> TransformerBlockNames {
        .llama("model.layers.\(index)")
    }

    public static func huggingFaceTensor(for name: String) -> StoredTensorName { StoredTensorName(names: [name]) }
    public static func isIgnoredBuffer(_ name: String) -> Bool { false }
    public static func ggufName(for name: String) -> String? { LlamaFamily.ggufName(for: name) }
    public static func isResidualProjection(_ name: String) -> Bool { LlamaFamily.isResidualProjection(name) }
}
// END ARTICLE

/// The DocC article "Adding a model family": its family compiles, registers, and round-trips
/// through `config.json` and `model.safetensors`.
final class ModelFamilyArticleTests: XCTestCase {
    func testArticleCodeIsCopyIdentical() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let article = try String(contentsOf: root.appendingPathComponent("Sources/GPTKit/GPTKit.docc/AddingAModelFamily.md"), encoding: .utf8)
        let source = try String(contentsOf: URL(fileURLWithPath: #filePath), encoding: .utf8)
        let code = source.components(separatedBy: "// BEGIN ARTICLE\n")[1].components(separatedBy: "// END ARTICLE")[0]
        XCTAssertTrue(article.contains("```swift\nimport GPTLayers\n\n" + code + "```"), "the article's family differs from this test's")
    }

    func testARegisteredFamilyLoadsSavesAndTrains() throws {
        try ModelFamilies.register(TinystralFamily.self)
        XCTAssertThrowsError(try ModelFamilies.register(LlamaFamily.self), "built-in families cannot be replaced")
        let configuration = GPTConfiguration(vocabularySize: 32, contextLength: 16, layerCount: 1, headCount: 2, keyValueHeadCount: 1,
                                             embeddingDimensions: 16, hiddenDimensions: 24, positionalEncoding: .rotary(theta: 10_000),
                                             normalization: .rmsNorm, feedForward: .swiGLU, tiesEmbeddings: false, modelType: "tinystral",
                                             biases: BlockBiases(qkv: true, attentionOutput: true, feedForward: false, norm: false))
        let model = try GPT(configuration: configuration, seed: 1)
        XCTAssertNotNil(model.layout.entry(named: "model.layers.0.self_attn.o_proj.bias"))
        XCTAssertNotNil(model.layout.entry(named: "model.final_norm.weight"))
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("gptkit-tinystral-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        try model.save(directory: directory)
        let loaded = try GPT(directory: directory)
        XCTAssertEqual(loaded.configuration, configuration)
        XCTAssertEqual(try loaded.forward(tokens: [1, 2, 3], batch: 1, time: 3), try model.forward(tokens: [1, 2, 3], batch: 1, time: 3))
    }
}
