import Foundation
import GPTLayers
import GPTModel
import GPTTensor
import XCTest

/// Tiny random Llama and Qwen2 checkpoints written by Hugging Face transformers
/// (Fixtures/make_family_fixtures.py) load through their families and give transformers' logits.
final class FamilyFixtureTests: XCTestCase {
    func checkFamily(_ family: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let model = try GPT(directory: fixturesDirectory.appendingPathComponent("tiny-\(family)"))
        XCTAssertEqual(model.configuration.modelType, family, file: file, line: line)
        let reference = try SafetensorsFile(contentsOf: fixturesDirectory.appendingPathComponent("tiny-families-reference.safetensors"))
        let tokens = try reference.integers(named: "\(family).tokens")
        let logits = try model.forward(tokens: tokens, batch: 2, time: 7)
        assertClose(logits.scalars, try reference.tensor(named: "\(family).logits").scalars, rtol: 1e-5, atol: 1e-5,
                    "\(family) logits", file: file, line: line)
        // Cached decoding, one token at a time, gives the same last-position logits.
        let cache = model.makeCache()
        var last = Tensor(zeros: [1])
        for token in tokens.prefix(7) { last = try model.forward(tokens: [token], cache: cache) }
        let expected = Array(try reference.tensor(named: "\(family).logits").scalars[(6 * 64)..<(7 * 64)])
        assertClose(last.scalars, expected, rtol: 1e-5, atol: 1e-5, "\(family) cached", file: file, line: line)
    }

    func testTinyLlamaMatchesTransformers() throws {
        try checkFamily("llama")
        let model = try GPT(directory: fixturesDirectory.appendingPathComponent("tiny-llama"))
        XCTAssertFalse(model.configuration.tiesEmbeddings)
        XCTAssertNotNil(model.layout.entry(named: "model.layers.1.self_attn.k_proj.weight"))
        XCTAssertNil(model.layout.entry(named: "model.layers.0.self_attn.q_proj.bias"))
    }

    func testTinyQwen2MatchesTransformers() throws {
        try checkFamily("qwen2")
        let model = try GPT(directory: fixturesDirectory.appendingPathComponent("tiny-qwen2"))
        let c = model.configuration
        XCTAssertEqual(c.biases, BlockBiases(qkv: true, attentionOutput: false, feedForward: false, norm: false))
        XCTAssertNotNil(model.layout.entry(named: "model.layers.0.self_attn.v_proj.bias"))
        XCTAssertNil(model.layout.entry(named: "model.layers.0.self_attn.o_proj.bias"))
    }

    /// BF16 checkpoints in three shards with `model.safetensors.index.json`, as
    /// `save_pretrained(max_shard_size=…)` writes them (Fixtures/make_gguf_fixtures.py).
    func testShardedBFloat16CheckpointsMatchTransformers() throws {
        let reference = try SafetensorsFile(contentsOf: fixturesDirectory.appendingPathComponent("tiny-bf16-reference.safetensors"))
        for (folder, prefix, family) in [("tiny-llama-bf16", "llama", "llama"), ("tiny-mistral-bf16", "mistral", "llama"),
                                         ("tiny-qwen2-bf16", "qwen2", "qwen2")] {
            let directory = fixturesDirectory.appendingPathComponent(folder)
            XCTAssertFalse(FileManager.default.fileExists(atPath: directory.appendingPathComponent("model.safetensors").path))
            XCTAssertEqual(try GPT.shards(ofIndex: directory.appendingPathComponent("model.safetensors.index.json")).count, 3)
            let model = try GPT(directory: directory)
            XCTAssertEqual(model.configuration.modelType, family, "Mistral without a sliding window is read by the Llama family")
            let tokens = try reference.integers(named: "\(prefix).tokens")
            let logits = try model.forward(tokens: tokens, batch: 2, time: 7)
            assertClose(logits.scalars, try reference.tensor(named: "\(prefix).logits").scalars, rtol: 1e-4, atol: 1e-4, "\(folder) logits")
        }
        // A tensor in two shards, and a shard name that leaves the folder, are refused.
        let broken = FileManager.default.temporaryDirectory.appendingPathComponent("gptkit-shards-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: broken) }
        try FileManager.default.copyItem(at: fixturesDirectory.appendingPathComponent("tiny-llama-bf16"), to: broken)
        let index = broken.appendingPathComponent("model.safetensors.index.json")
        try Data(#"{"weight_map": {"lm_head.weight": "../model-00001-of-00003.safetensors"}}"#.utf8).write(to: index)
        assertThrows({ try GPT(directory: broken) }) { if case .malformedFile(let m) = $0 { m.contains("not a file name beside the index") } else { false } }
        try FileManager.default.copyItem(at: broken.appendingPathComponent("model-00001-of-00003.safetensors"),
                                         to: broken.appendingPathComponent("model-00004-of-00003.safetensors"))
        try Data(#"{"weight_map": {"a": "model-00001-of-00003.safetensors", "b": "model-00002-of-00003.safetensors", "c": "model-00003-of-00003.safetensors", "d": "model-00004-of-00003.safetensors"}}"#.utf8).write(to: index)
        assertThrows({ try GPT(directory: broken) }) { if case .malformedFile(let m) = $0 { m.contains("is in both") } else { false } }
    }

    func testSavedFamiliesReloadIdentically() throws {
        for family in ["llama", "qwen2"] {
            let model = try GPT(directory: fixturesDirectory.appendingPathComponent("tiny-\(family)"))
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("gptkit-family-\(UUID().uuidString)")
            defer { try? FileManager.default.removeItem(at: directory) }
            try model.save(directory: directory)
            let reloaded = try GPT(directory: directory)
            XCTAssertEqual(reloaded.configuration, model.configuration, family)
            for entry in model.layout.entries {
                XCTAssertEqual(reloaded.parameter(named: entry.name), model.parameter(named: entry.name), entry.name)
            }
        }
    }

    func testUnsupportedRopeScalingIsRejectedClearly() throws {
        let data = try Data(contentsOf: fixturesDirectory.appendingPathComponent("tiny-llama/config.json"))
        var json = try XCTUnwrap(JSONSerialization.jsonObject(with: data) as? [String: Any])
        json["rope_scaling"] = ["rope_type": "llama3", "factor": 8.0]
        json["rope_parameters"] = nil
        let decoded = try JSONDecoder().decode([String: JSONConfigValue].self, from: JSONSerialization.data(withJSONObject: json))
        XCTAssertThrowsError(try GPTConfiguration(huggingFace: decoded)) { error in
            XCTAssertTrue("\(error.localizedDescription)".contains("rope_scaling"), error.localizedDescription)
            XCTAssertTrue("\(error.localizedDescription)".contains("llama3"), error.localizedDescription)
        }
        json["rope_scaling"] = nil
        // Mistral's window, when shorter than the context, is refused; as long as it, accepted.
        json["model_type"] = "mistral"
        json["sliding_window"] = 16
        let windowed = try JSONDecoder().decode([String: JSONConfigValue].self, from: JSONSerialization.data(withJSONObject: json))
        XCTAssertThrowsError(try GPTConfiguration(huggingFace: windowed)) { error in
            XCTAssertTrue(error.localizedDescription.contains("sliding_window"), error.localizedDescription)
        }
        json["sliding_window"] = 64
        let full = try JSONDecoder().decode([String: JSONConfigValue].self, from: JSONSerialization.data(withJSONObject: json))
        XCTAssertEqual(try GPTConfiguration(huggingFace: full).modelType, "llama", "Mistral is read as the Llama family")
        json["model_type"] = "mamba"
        let unknown = try JSONDecoder().decode([String: JSONConfigValue].self, from: JSONSerialization.data(withJSONObject: json))
        XCTAssertThrowsError(try GPTConfiguration(huggingFace: unknown)) { error in
            XCTAssertTrue(error.localizedDescription.contains("mamba"), error.localizedDescription)
        }
    }

    func testFamilyNameMapsToGGUFAndBack() throws {
        let model = try GPT(directory: fixturesDirectory.appendingPathComponent("tiny-llama"))
        var seen: Set<String> = []
        for entry in model.layout.entries {
            let gguf = try XCTUnwrap(LlamaFamily.ggufName(for: entry.name), entry.name)
            XCTAssertTrue(seen.insert(gguf).inserted, "\(gguf) named twice")
        }
        // And back: every GGUF and Hugging Face name leads to its parameter.
        let byGGUF = LlamaFamily.parameterNamesByGGUFName(in: model.layout)
        let byHF = LlamaFamily.parameterNamesByHuggingFaceName(in: model.layout)
        XCTAssertEqual(byGGUF.count, model.layout.entries.count)
        for entry in model.layout.entries {
            XCTAssertEqual(byGGUF[LlamaFamily.ggufName(for: entry.name)!], entry.name)
            XCTAssertEqual(byHF[entry.name], entry.name)
        }
        let gpt2 = try GPT(configuration: .nano, seed: 1)
        XCTAssertEqual(GPT2Family.parameterNamesByHuggingFaceName(in: gpt2.layout)["transformer.h.1.attn.c_attn.weight"],
                       "h.1.attn.c_attn.weight")
        XCTAssertEqual(GPT2Family.parameterNamesByGGUFName(in: gpt2.layout)["blk.0.ffn_up.weight"], "h.0.mlp.c_fc.weight")
        XCTAssertEqual(LlamaFamily.ggufName(for: "model.layers.1.mlp.gate_proj.weight"), "blk.1.ffn_gate.weight")
        XCTAssertEqual(LlamaFamily.ggufName(for: "model.embed_tokens.weight"), "token_embd.weight")
        XCTAssertEqual(GPT2Family.ggufName(for: "h.3.attn.c_attn.bias"), "blk.3.attn_qkv.bias")
    }
}
