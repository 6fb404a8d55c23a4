// gpt finetune end to end on a tiny model: LoRA and full fine-tuning, --json steps, the files
// written, the adapter used by gpt generate, and bad input refused with a clear message.
import Foundation
import XCTest

final class FinetuneCommandTests: XCTestCase {
    func testLoRAAndFullFineTuningWriteWhatChatAndGenerateUse() throws {
        let directory = try temporaryDirectory(self)
        let corpus = directory.appendingPathComponent("corpus.txt")
        try Data(CommandLineTests.corpus.utf8).write(to: corpus)
        assertSuccess(try runGPT(["train", "--data", corpus.path, "--steps", "2", "--sample-tokens", "4", "--out", "base"]
                                 + CommandLineTests.tinyModel, in: directory))
        let lines = (0..<24).map { #"{"prompt": "the \#(String(repeating: "e", count: $0 % 5 + 1)) ", "completion": "and the end"}"# }
        try Data((lines.joined(separator: "\n") + "\n").utf8).write(to: directory.appendingPathComponent("data.jsonl"))
        // LoRA, packed, one JSON object a step.
        let lora = try runGPT(["finetune", "--model", "base", "--data", "data.jsonl", "--lora", "4", "--lora-targets", "c_attn,c_fc",
                               "--steps", "3", "--batch", "2", "--seq", "16", "--packing", "--json", "--out", "adapter",
                               "--sample-tokens", "4"], in: directory)
        assertSuccess(lora)
        let steps = try lora.standardOutput.split(separator: "\n").map {
            try XCTUnwrap(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])
        }
        XCTAssertEqual(steps.map { $0["step"] as? Int }, [1, 2, 3])
        for step in steps {
            for key in ["loss", "lr", "grad_norm", "tokens_per_s"] { XCTAssertNotNil(step[key] as? Double, key) }
        }
        XCTAssertNotNil(steps.last?["validation_loss"] as? Double, "24 examples: a validation split, evaluated at the end")
        for name in ["adapter_model.safetensors", "adapter_config.json", "loss.svg", "samples.txt"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: directory.appendingPathComponent("adapter/\(name)").path), name)
        }
        let samples = try String(contentsOf: directory.appendingPathComponent("adapter/samples.txt"), encoding: .utf8)
        XCTAssertTrue(samples.contains("--- before") && samples.contains("--- after"))
        assertSuccess(try runGPT(["generate", "--model", "base", "--adapter", "adapter", "--prompt", "the", "--max-tokens", "4"], in: directory))
        // The whole model, padded.
        assertSuccess(try runGPT(["finetune", "--model", "base", "--data", "data.jsonl", "--epochs", "1", "--batch", "4", "--seq", "16",
                                  "--out", "full", "--sample-tokens", "4"], in: directory))
        for name in ["config.json", "model.safetensors", "tokenizer.json", "loss.svg", "samples.txt"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: directory.appendingPathComponent("full/\(name)").path), name)
        }
        assertSuccess(try runGPT(["generate", "--model", "full", "--prompt", "the", "--max-tokens", "4"], in: directory))
        // Bad input.
        try Data((lines.prefix(1) + ["{\"prompt\": 3}"]).joined(separator: "\n").utf8).write(to: directory.appendingPathComponent("bad.jsonl"))
        assertFailure(try runGPT(["finetune", "--model", "base", "--data", "bad.jsonl", "--out", "x"], in: directory), status: 1,
                      mentioning: ["line 2"])
        assertFailure(try runGPT(["finetune", "--model", "base", "--data", "data.jsonl", "--steps", "2", "--epochs", "1"], in: directory),
                      status: 2, mentioning: ["--epochs or --steps"])
        assertFailure(try runGPT(["finetune", "--model", "base", "--data", "data.jsonl", "--out", "base", "--steps", "1"], in: directory),
                      status: 2, mentioning: ["other files"])
        assertFailure(try runGPT(["generate", "--model", "base", "--adapter", "missing", "--prompt", "the"], in: directory), status: 1,
                      mentioning: ["adapter_config.json"])
    }
}
