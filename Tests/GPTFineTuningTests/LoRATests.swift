// LoRA adapters against PyTorch + peft (Fixtures/make_lora_fixtures.py): a PEFT adapter loaded
// on the tiny random Llama gives peft's logits, masked SFT loss, adapter gradients and five
// AdamW steps; saving writes PEFT's layout; merging, fresh adapters, dropout, frozen quantized bases.
import Foundation
@testable import GPTFineTuning
import GPTModel
import GPTTokenizers
import GPTTensor
import GPTTraining
import XCTest

private let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().appendingPathComponent("Fixtures")

final class LoRATests: XCTestCase {
    private func loadFixture() throws -> (base: GPT, adapted: GPT, reference: SafetensorsFile, tokens: [Int], targets: [Int]) {
        let base = try GPT(directory: fixtures.appendingPathComponent("tiny-llama"))
        let adapted = try base.loadingAdapter(directory: fixtures.appendingPathComponent("tiny-llama-lora"))
        let reference = try SafetensorsFile(contentsOf: fixtures.appendingPathComponent("lora-reference.safetensors"))
        let tokens = try reference.integers(named: "tokens"), labels = try reference.integers(named: "labels")
        // transformers shifts the labels inside the model: target t is label t + 1.
        var targets: [Int] = []
        for row in 0..<2 { targets += Array(labels[(row * 7 + 1)..<(row * 7 + 7)]) + [-100] }
        return (base, adapted, reference, tokens, targets)
    }

    private func assertClose(_ actual: [Float], _ expected: [Float], _ message: String, tolerance: Float = 1e-4,
                             file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(actual.count, expected.count, message, file: file, line: line)
        let scale = max(expected.map(abs).max() ?? 0, 1e-6)
        let worst = zip(actual, expected).map { abs($0 - $1) }.max() ?? 0
        XCTAssertLessThanOrEqual(worst, tolerance * scale, "\(message): worst difference \(worst) at scale \(scale)", file: file, line: line)
    }

    func testAPEFTAdapterGivesPEFTsLogitsLossGradientsAndAdamWSteps() throws {
        let (_, adapted, reference, tokens, targets) = try loadFixture()
        XCTAssertEqual(adapted.lora?.rank, 4)
        XCTAssertEqual(adapted.lora?.scale, 2)
        XCTAssertEqual(adapted.adapterLayout.entries.count, 2 * 7 * 2, "A and B on seven projections of two layers")
        assertClose(try adapted.forward(tokens: tokens, batch: 2, time: 7).scalars, try reference.tensor(named: "logits").scalars, "logits")
        // The masked SFT loss and the adapters' gradients, the base frozen.
        let workspace = GPTWorkspace(model: adapted, trainable: adapted.adapterIndices)
        let loss = try XCTUnwrap(try workspace.forward(tokens: tokens, targets: targets, batch: 2, time: 7))
        XCTAssertEqual(loss, try reference.tensor(named: "loss").scalars[0], accuracy: 1e-5)
        try workspace.backward()
        XCTAssertEqual(workspace.gradients.count, adapted.adapterLayout.count, "only the adapters' gradients are stored")
        for entry in adapted.layout.entries.dropFirst(adapted.layout.entries.count - adapted.adapterLayout.entries.count) {
            assertClose(workspace.gradients.gradient(of: entry.slot).scalars,
                        try reference.tensor(named: "grad.base_model.model." + entry.name).scalars, "gradient of \(entry.name)")
        }
        // Five AdamW steps on the adapters alone, as torch.optim.AdamW over the lora parameters.
        let values = try adapted.adapterValues()
        let optimizer = AdamW(layout: values.layout, beta1: 0.9, beta2: 0.999, epsilon: 1e-8, weightDecay: 0.01)
        let live = try adapted.borrowingAdapters(values)
        let training = GPTWorkspace(model: live, trainable: live.adapterIndices)
        var losses: [Float] = []
        for _ in 0..<5 {
            training.gradients.zero()
            losses.append(try XCTUnwrap(try training.forward(tokens: tokens, targets: targets, batch: 2, time: 7)))
            try training.backward()
            optimizer.step(values, gradients: training.gradients, learningRate: 1e-2)
        }
        assertClose(losses, try reference.tensor(named: "step_losses").scalars, "losses before each step", tolerance: 1e-5)
        for entry in values.layout.entries {
            assertClose(values.value(of: entry.slot).scalars, try reference.tensor(named: "final.base_model.model." + entry.name).scalars,
                        "\(entry.name) after five steps")
        }
    }

    func testSavedAdaptersAreInPEFTsLayoutAndLoadBack() throws {
        let (base, adapted, _, tokens, _) = try loadFixture()
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("gptkit-lora-\(UUID().uuidString)")
        addTeardownBlock { try? FileManager.default.removeItem(at: directory) }
        try adapted.saveAdapter(directory: directory, baseModelName: "Fixtures/tiny-llama")
        // GPTKIT_LORA_CHECK_DIR keeps a copy for Fixtures/check_lora_adapter.py (peft loads it).
        if let keep = ProcessInfo.processInfo.environment["GPTKIT_LORA_CHECK_DIR"] {
            try? FileManager.default.removeItem(atPath: keep)
            try FileManager.default.copyItem(at: directory, to: URL(fileURLWithPath: keep))
        }
        let ours = try SafetensorsFile(contentsOf: directory.appendingPathComponent("adapter_model.safetensors"))
        let peft = try SafetensorsFile(contentsOf: fixtures.appendingPathComponent("tiny-llama-lora/adapter_model.safetensors"))
        XCTAssertEqual(ours.tensorNames, peft.tensorNames)
        for name in peft.tensorNames {
            XCTAssertEqual(ours.entries[name]?.shape, peft.entries[name]?.shape, name)
            XCTAssertEqual(try ours.tensor(named: name).scalars, try peft.tensor(named: name).scalars, name)
        }
        let config = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(contentsOf: directory.appendingPathComponent("adapter_config.json")))
            as? [String: Any])
        XCTAssertEqual(config["peft_type"] as? String, "LORA")
        XCTAssertEqual(config["r"] as? Int, 4)
        XCTAssertEqual((config["lora_alpha"] as? NSNumber)?.floatValue, 8)
        XCTAssertEqual(Set(config["target_modules"] as? [String] ?? []), ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"])
        let again = try base.loadingAdapter(directory: directory)
        XCTAssertEqual(try again.forward(tokens: tokens, batch: 2, time: 7).scalars, try adapted.forward(tokens: tokens, batch: 2, time: 7).scalars)
        // Without adapters, and merged.
        XCTAssertEqual(try adapted.withoutAdapters.forward(tokens: tokens, batch: 2, time: 7).scalars,
                       try base.forward(tokens: tokens, batch: 2, time: 7).scalars)
        let merged = try adapted.mergingAdapters()
        XCTAssertNil(merged.lora)
        XCTAssertEqual(merged.layout, base.layout)
        assertClose(try merged.forward(tokens: tokens, batch: 2, time: 7).scalars, try adapted.forward(tokens: tokens, batch: 2, time: 7).scalars,
                    "merged logits", tolerance: 1e-5)
        XCTAssertThrowsError(try base.saveAdapter(directory: directory.appendingPathComponent("x")), "no adapters to save")
    }

    func testBadAdapterFilesAreRefused() throws {
        let base = try GPT(directory: fixtures.appendingPathComponent("tiny-llama"))
        let source = fixtures.appendingPathComponent("tiny-llama-lora")
        let config = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(contentsOf: source.appendingPathComponent("adapter_config.json")))
            as? [String: Any])
        let cases: [(String, (inout [String: Any]) -> Void)] = [
            ("DoRA", { $0["use_dora"] = true }), ("bias", { $0["bias"] = "all" }), ("peft_type", { $0["peft_type"] = "IA3" }),
            ("regular-expression", { $0["target_modules"] = ".*proj" }), ("rank", { $0["r"] = 8 }), ("no projection", { $0["target_modules"] = ["nothing"] }),
            ("rank_pattern", { $0["rank_pattern"] = ["q_proj": 2] }),
        ]
        for (fragment, edit) in cases {
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("gptkit-bad-lora-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: directory) }
            try FileManager.default.copyItem(at: source.appendingPathComponent("adapter_model.safetensors"),
                                             to: directory.appendingPathComponent("adapter_model.safetensors"))
            var edited = config
            edit(&edited)
            try JSONSerialization.data(withJSONObject: edited).write(to: directory.appendingPathComponent("adapter_config.json"))
            XCTAssertThrowsError(try base.loadingAdapter(directory: directory), fragment) { error in
                XCTAssertFalse(error.localizedDescription.isEmpty)
            }
        }
        // Only k and v targeted: the file's q, o and feed-forward tensors fit nothing.
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("gptkit-bad-lora-\(UUID().uuidString)")
        try FileManager.default.copyItem(at: source, to: directory)
        defer { try? FileManager.default.removeItem(at: directory) }
        var narrowed = config
        narrowed["target_modules"] = ["k_proj", "v_proj"]
        try JSONSerialization.data(withJSONObject: narrowed).write(to: directory.appendingPathComponent("adapter_config.json"))
        XCTAssertThrowsError(try base.loadingAdapter(directory: directory)) { XCTAssertTrue("\($0)".contains("fits no projection"), "\($0)") }
        XCTAssertThrowsError(try base.loadingAdapter(directory: directory.appendingPathComponent("missing")))
    }

    /// Mutated adapter files (the config's bytes, the tensors' bytes) load or are refused, never crash.
    func testMutatedAdapterFilesLoadOrAreRefused() throws {
        let base = try GPT(directory: fixtures.appendingPathComponent("tiny-llama"))
        let source = fixtures.appendingPathComponent("tiny-llama-lora")
        let config = try Data(contentsOf: source.appendingPathComponent("adapter_config.json"))
        let tensors = try Data(contentsOf: source.appendingPathComponent("adapter_model.safetensors"))
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("gptkit-lora-fuzz-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: directory) }
        var generator = RandomGenerator(seed: 23)
        var loaded = 0
        for round in 0..<200 {
            var configBytes = Array(config), tensorBytes = Array(tensors)
            // Mostly the config; every fourth round the safetensors header or data.
            if round % 4 == 3 {
                for _ in 0..<3 { tensorBytes[Int(generator.next() % UInt64(min(tensorBytes.count, 600)))] = UInt8(truncatingIfNeeded: generator.next()) }
            } else {
                for _ in 0..<(1 + Int(generator.next() % 3)) {
                    let at = Int(generator.next() % UInt64(configBytes.count))
                    if generator.next() % 2 == 0 { configBytes[at] = UInt8(truncatingIfNeeded: generator.next()) } else { configBytes.remove(at: at) }
                }
            }
            try Data(configBytes).write(to: directory.appendingPathComponent("adapter_config.json"))
            try Data(tensorBytes).write(to: directory.appendingPathComponent("adapter_model.safetensors"))
            do {
                let adapted = try base.loadingAdapter(directory: directory)
                XCTAssertNotNil(adapted.lora)
                loaded += 1
            } catch let error as ModelError {
                XCTAssertFalse(error.localizedDescription.isEmpty)
            }
        }
        XCTAssertGreaterThan(loaded, 0)
    }

    /// Fresh adapters start as the base model exactly (B = 0) and with A as PEFT draws it.
    func testFreshAdaptersLeaveTheModelAsItWas() throws {
        let (base, _, _, tokens, _) = try loadFixture()
        let adapted = try base.addingAdapters(LoRAConfiguration(rank: 2, alpha: 4, targets: ["q", "v", "down"]), seed: 3)
        XCTAssertEqual(adapted.adapterLayout.entries.map(\.name).filter { $0.contains("layers.0.") },
                       ["model.layers.0.self_attn.q_proj.lora_A.weight", "model.layers.0.self_attn.q_proj.lora_B.weight",
                        "model.layers.0.self_attn.v_proj.lora_A.weight", "model.layers.0.self_attn.v_proj.lora_B.weight",
                        "model.layers.0.mlp.down_proj.lora_A.weight", "model.layers.0.mlp.down_proj.lora_B.weight"])
        XCTAssertEqual(try adapted.forward(tokens: tokens, batch: 2, time: 7).scalars, try base.forward(tokens: tokens, batch: 2, time: 7).scalars)
        let values = try adapted.adapterValues()
        for entry in values.layout.entries {
            let scalars = values.value(of: entry.slot).scalars
            if entry.name.hasSuffix("lora_B.weight") {
                XCTAssertTrue(scalars.allSatisfy { $0 == 0 })
            } else {
                let bound = 1 / Float(entry.slot.shape[1]).squareRoot()
                XCTAssertTrue(scalars.allSatisfy { abs($0) <= bound })
                XCTAssertGreaterThan(scalars.map(abs).max() ?? 0, bound / 2)
            }
        }
        XCTAssertThrowsError(try base.addingAdapters(LoRAConfiguration(rank: 0), seed: 1))
        XCTAssertThrowsError(try base.addingAdapters(LoRAConfiguration(targets: ["c_attn"]), seed: 1))
        XCTAssertThrowsError(try adapted.addingAdapters(LoRAConfiguration(), seed: 1))
    }

    /// With adapter dropout the gradients are those of the dropped function (same seed, same masks).
    func testAdapterDropoutGradientsMatchFiniteDifferences() throws {
        let (base, _, _, tokens, targets) = try loadFixture()
        let adapted = try base.addingAdapters(LoRAConfiguration(rank: 2, alpha: 4, dropout: 0.3, targets: ["q", "o", "up"]), seed: 5)
        let start = try adapted.adapterValues()
        for entry in start.layout.entries where entry.name.hasSuffix("lora_B.weight") {  // B ≠ 0, so A gets gradients
            for index in 0..<entry.slot.count { start.values[entry.slot.offset + index] = Float((index * 7919 + entry.slot.offset) % 13) * 0.02 - 0.12 }
        }
        let live = try adapted.borrowingAdapters(start)
        let workspace = GPTWorkspace(model: live, trainable: live.adapterIndices)
        func loss() throws -> Double {
            Double(try workspace.forward(tokens: tokens, targets: targets, batch: 2, time: 7, dropoutSeed: 9) ?? 0)
        }
        let plain = try workspace.forward(tokens: tokens, targets: targets, batch: 2, time: 7) ?? 0
        let dropped = try loss()
        XCTAssertNotEqual(plain, Float(dropped), "dropout changes the loss")
        workspace.gradients.zero()
        try workspace.backward()
        let gradients = workspace.gradients
        var generator = RandomGenerator(seed: 4)
        for entry in start.layout.entries {
            let analytic = gradients.gradient(of: live.layout.entry(named: entry.name)!.slot).scalars
            for _ in 0..<2 {
                let index = Int(generator.next() % UInt64(entry.slot.count))
                let pointer = start.values + entry.slot.offset + index, saved = pointer.pointee
                pointer.pointee = saved + 1e-2
                let plus = try loss()
                pointer.pointee = saved - 1e-2
                let minus = try loss()
                pointer.pointee = saved
                let numeric = Float((plus - minus) / 2e-2)
                XCTAssertEqual(analytic[index], numeric, accuracy: 2e-3 + 1e-2 * abs(numeric), "\(entry.name)[\(index)]")
            }
        }
    }
}

final class QLoRATests: XCTestCase {
    /// Adapters trained over SmolLM2's Q4_1 weights as stored lower the loss; the base stays
    /// exactly as it was, and only the adapters have gradients and optimizer state.
    func testAdaptersOverTheQuantizedFileLearn() throws {
        let file = fixtures.deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("shared/data/smollm2-135m-instruct/SmolLM2-135M-Instruct.Q4_1.gguf")
        guard FileManager.default.fileExists(atPath: file.path) else { throw XCTSkip("../shared/data/smollm2-135m-instruct is absent") }
        let gguf = try GGUFFile(contentsOf: file)
        let base = try GPT(gguf: gguf, name: file.lastPathComponent)
        XCTAssertTrue(base.weights.formats.contains(.q4_1))
        let tokenizer = try XCTUnwrap(try gguf.tokenizer(name: "SmolLM2"))
        let chat = try XCTUnwrap(try ChatFormat(gguf: gguf, tokenizer: tokenizer))
        let records: [SFTRecord] = [
            .messages([ChatMessage(role: "user", content: "What colour is the sky?"), ChatMessage(role: "assistant", content: "Arr, blue, matey!")]),
            .messages([ChatMessage(role: "user", content: "Name a fruit."), ChatMessage(role: "assistant", content: "Arr, a banana, matey!")]),
        ]
        let data = try SFTDataset(records: records, tokenizer: tokenizer, chat: chat, options: SFTDataOptions(maximumLength: 128))
        let batch = try XCTUnwrap(try data.batches(batchSize: 2, sequenceLength: 128, packing: true, padTokenID: 0).first)
        let adapted = try base.addingAdapters(LoRAConfiguration(rank: 4, alpha: 8, targets: ["q", "v"]), seed: 1)
        let values = try adapted.adapterValues()
        let live = try adapted.borrowingAdapters(values)
        let workspace = GPTWorkspace(model: live, trainable: live.adapterIndices)
        XCTAssertEqual(workspace.gradients.count, values.layout.count)
        XCTAssertLessThan(values.layout.count, base.parameterCount / 100, "the adapters are under 1% of the model")
        let optimizer = AdamW(layout: values.layout, beta1: 0.9, beta2: 0.999, epsilon: 1e-8, weightDecay: 0)
        let probe = Array(batch.inputs.prefix(16)).map(Int.init)
        let before = try base.forward(tokens: probe, batch: 1, time: probe.count).scalars
        var losses: [Float] = []
        for _ in 0..<4 {
            workspace.gradients.zero()
            losses.append(try CrossEntropyObjective().accumulate(batch, in: workspace, scale: 1, dropoutSeed: nil))
            optimizer.step(values, gradients: workspace.gradients, learningRate: 3e-3)
        }
        XCTAssertLessThan(losses.last!, losses.first! - 0.1, "losses \(losses)")
        XCTAssertEqual(try base.forward(tokens: probe, batch: 1, time: probe.count).scalars, before, "the base is untouched")
        XCTAssertEqual(live.weights.formats.prefix(base.layout.entries.count), base.weights.formats[...], "still Q4_1 as stored")
    }
}
