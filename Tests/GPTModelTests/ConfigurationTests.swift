import Foundation
import GPTLayers
import GPTModel
import GPTTensor
import XCTest

final class ConfigurationTests: XCTestCase {
    func testPresetsHaveTheKnownParameterCounts() throws {
        XCTAssertEqual(GPTConfiguration.gpt2Small.parameterCount, 124_439_808)
        XCTAssertEqual(GPTConfiguration.gpt2Medium.parameterCount, 354_823_168)
        for configuration in [GPTConfiguration.nano, .mini, .gpt2Small, .gpt2Medium, llamaNano] { try configuration.validate() }
        // The formula agrees with the layout the model builds.
        var sinusoidal = GPTConfiguration.nano
        sinusoidal.positionalEncoding = .sinusoidal
        sinusoidal.usesBias = false
        for configuration in [GPTConfiguration.nano, llamaNano, sinusoidal] {
            XCTAssertEqual(try GPT(configuration: configuration, seed: 1).parameterCount, configuration.parameterCount)
        }
    }

    func testHugeSizesThrowInsteadOfOverflowing() {
        var huge = GPTConfiguration.nano
        huge.embeddingDimensions = 1 << 30
        huge.hiddenDimensions = Int(Int32.max)
        huge.headCount = 1
        huge.keyValueHeadCount = 1
        XCTAssertThrowsError(try huge.validate())
        XCTAssertEqual(huge.parameterCount, .max)
        let fromInit = GPTConfiguration(vocabularySize: 1, contextLength: 1, layerCount: 1, headCount: 1, embeddingDimensions: Int.max / 2)
        XCTAssertThrowsError(try fromInit.validate())
    }

    func testValidationNamesTheProblem() {
        func check(_ change: (inout GPTConfiguration) -> Void, _ fragment: String, line: UInt = #line) {
            var configuration = GPTConfiguration.nano
            change(&configuration)
            XCTAssertThrowsError(try configuration.validate(), line: line) { error in
                guard case .invalidConfiguration(let message) = error as? ModelError else { return XCTFail("\(error)", line: line) }
                XCTAssertTrue(message.contains(fragment), message, line: line)
            }
            XCTAssertThrowsError(try GPT(configuration: configuration, seed: 0), line: line)
        }
        check({ $0.layerCount = 0 }, "layer count")
        check({ $0.vocabularySize = -3 }, "vocabulary size")
        check({ $0.headCount = 5 }, "not divisible by 5 heads")
        check({ $0.keyValueHeadCount = 3 }, "not a multiple of 3")
        check({ $0.positionalEncoding = .rotary(theta: 0) }, "theta")
        check({ $0.embeddingDimensions = 36; $0.headCount = 12; $0.keyValueHeadCount = 12; $0.positionalEncoding = .rotary(theta: 1e4) },
              "even head size")
        check({ $0.normalizationEpsilon = 0 }, "epsilon")
        check({ $0.dropout = 1 }, "dropout")
        check({ $0.embeddingDimensions = 1 << 20; $0.vocabularySize = 1 << 20 }, "2^36")
        check({ $0.contextLength = 1 << 30 }, "2^22")
    }

    func testHuggingFaceKeysDecode() throws {
        let json = #"""
            {"vocab_size": 50257, "n_positions": 1024, "n_embd": 768, "n_layer": 12, "n_head": 12, "n_inner": null,
             "layer_norm_epsilon": 1e-05, "activation_function": "gelu_new", "resid_pdrop": 0.1, "model_type": "gpt2"}
            """#
        var configuration = try JSONDecoder().decode(GPTConfiguration.self, from: Data(json.utf8))
        XCTAssertEqual(configuration.dropout, 0.1)
        configuration.dropout = 0
        XCTAssertEqual(configuration, .gpt2Small)
    }

    func testEncodingRoundTrips() throws {
        for configuration in [GPTConfiguration.nano, llamaNano, .llama2c(dimensions: 64, hiddenDimensions: 172, layerCount: 5, headCount: 8,
                                                                          keyValueHeadCount: 4, vocabularySize: 512, contextLength: 512,
                                                                          sharedClassifier: true)] {
            let data = try JSONEncoder().encode(configuration)
            XCTAssertEqual(try JSONDecoder().decode(GPTConfiguration.self, from: data), configuration)
            let object = try XCTUnwrap(JSONSerialization.jsonObject(with: data) as? [String: Any])
            if configuration.modelType == "gpt2" {
                XCTAssertEqual(object["model_type"] as? String, configuration.isGPT2Compatible ? "gpt2" : nil)
                XCTAssertEqual(object["n_embd"] as? Int, configuration.embeddingDimensions)
            } else {
                // Other families write their own Hugging Face keys (llama2.c checkpoints are Llama).
                XCTAssertEqual(object["model_type"] as? String, configuration.modelType)
                XCTAssertEqual(object["architectures"] as? [String], ["LlamaForCausalLM"])
                XCTAssertEqual(object["hidden_size"] as? Int, configuration.embeddingDimensions)
            }
        }
    }

    func testGPT2Initialisation() throws {
        let model = try GPT(configuration: .nano, seed: 5)
        func standardDeviation(_ name: String) -> Float {
            let values = model.parameter(named: name)!.scalars
            let mean = values.reduce(0, +) / Float(values.count)
            return (values.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Float(values.count)).squareRoot()
        }
        XCTAssertEqual(standardDeviation("wte.weight"), 0.02, accuracy: 0.002)
        XCTAssertEqual(standardDeviation("h.0.mlp.c_fc.weight"), 0.02, accuracy: 0.002)
        XCTAssertEqual(standardDeviation("h.1.mlp.c_proj.weight"), 0.01, accuracy: 0.001, "0.02 / √(2·2)")
        XCTAssertEqual(standardDeviation("h.1.attn.c_proj.weight"), 0.01, accuracy: 0.0015)
        XCTAssertEqual(Set(model.parameter(named: "h.0.attn.c_attn.bias")!.scalars), [0])
        XCTAssertEqual(Set(model.parameter(named: "ln_f.weight")!.scalars), [1])
        XCTAssertEqual(Set(model.parameter(named: "h.0.ln_1.bias")!.scalars), [0])
        XCTAssertEqual(try GPT(configuration: .nano, seed: 5).parameter(named: "wpe.weight"), model.parameter(named: "wpe.weight"))
        XCTAssertNotEqual(try GPT(configuration: .nano, seed: 6).parameter(named: "wpe.weight"), model.parameter(named: "wpe.weight"))
        let llama = try GPT(configuration: llamaNano, seed: 5)
        XCTAssertEqual(llama.layout.entries.map(\.name).filter { $0.hasPrefix("h.0.") },
                       ["h.0.ln_1.weight", "h.0.attn.c_attn.weight", "h.0.attn.c_proj.weight", "h.0.ln_2.weight",
                        "h.0.mlp.w1.weight", "h.0.mlp.w2.weight", "h.0.mlp.w3.weight"])
        XCTAssertEqual(llama.parameter(named: "h.0.attn.c_attn.weight")?.shape, [64, 32], "4 q heads + 2·2 kv heads of 8")
    }

    func testParametersByName() throws {
        let original = try GPT(configuration: .nano, seed: 5)
        let model = try original.replacingParameters(["ln_f.bias": Tensor(shape: [32], repeating: 2)])
        XCTAssertEqual(Set(model.parameter(named: "ln_f.bias")!.scalars), [2])
        XCTAssertEqual(Set(original.parameter(named: "ln_f.bias")!.scalars), [0], "the original model is unchanged")
        assertThrows(.missingTensor("no parameter named nope")) { _ = try model.replacingParameters(["nope": Tensor(zeros: [1])]) }
        assertThrows(.shapeMismatch("ln_f.bias: expected [32], got [2, 16]")) {
            _ = try model.replacingParameters(["ln_f.bias": Tensor(zeros: [2, 16])])
        }
        XCTAssertNil(model.parameter(named: "lm_head.weight"))
    }
}
