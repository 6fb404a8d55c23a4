import Foundation
import XCTest

/// `gpt quantize` on SmolLM2's Q4_1 GGUF: the Q8_0 and Q4_0 copies load and chat (the Q8_0
/// one gives transformers' reply; llama.cpp loads them too, Fixtures/check_quantized_files.py),
/// and bad requests are refused by name.
extension CommandLineTests {
    func testQuantizeWritesGGUFCopiesThatLoadAndChat() throws {
        let model = try smolLM2
        let directory = try temporaryDirectory(self)
        let q8 = directory.appendingPathComponent("smol.Q8_0.gguf").path
        let result = try runGPT(["quantize", "--model", model, "--type", "q8_0", "--out", q8], in: directory)
        assertSuccess(result)
        XCTAssertTrue(result.standardOutput.contains("210 of 272 tensors to Q8_0"), result.standardOutput)
        let info = try runGPT(["info", "--model", q8], in: directory)
        assertSuccess(info)
        XCTAssertTrue(info.standardOutput.contains("Q8_0"), info.standardOutput)
        let reply = try runGPT(["generate", "--model", q8, "--chat", "--prompt", "What is the capital of France?"], in: directory)
        assertSuccess(reply)
        XCTAssertEqual(reply.standardOutput, "The capital of France is Paris.\n")
        // Q6_K where the rows are whole 256-value super-blocks (the 1536-wide down projections),
        // Q8_0 elsewhere, as llama.cpp falls back; the copy loads and runs.
        let q6 = directory.appendingPathComponent("smol.Q6_K.gguf").path
        let k = try runGPT(["quantize", "--model", model, "--type", "q6_k", "--out", q6], in: directory)
        assertSuccess(k)
        XCTAssertTrue(k.standardOutput.contains("(180 Q8_0, 30 Q6_K)"), k.standardOutput)
        let kReply = try runGPT(["generate", "--model", q6, "--chat", "--prompt", "What is the capital of France?", "--max-tokens", "8"],
                                in: directory)
        assertSuccess(kReply)
        XCTAssertFalse(kReply.standardOutput.isEmpty)
        // Refusals: a type without a quantizer, an unknown type, a non-GGUF input, --out = --model.
        assertFailure(try runGPT(["quantize", "--model", model, "--type", "q5_k", "--out", q8], in: directory), status: 2,
                      mentioning: ["does not quantize to q5_k yet"])
        assertFailure(try runGPT(["quantize", "--model", model, "--type", "q3", "--out", q8], in: directory), status: 2,
                      mentioning: ["--type q3: unknown", "q8_0"])
        assertFailure(try runGPT(["quantize", "--model", directory.path, "--type", "q8_0", "--out", q8], in: directory), status: 2,
                      mentioning: ["without config.json"])
        assertFailure(try runGPT(["quantize", "--model", q8, "--type", "q4_0", "--out", q8], in: directory), status: 2,
                      mentioning: ["--out must differ from --model"])
    }

    /// A `gpt train` checkpoint written as GGUF: its loss there equals the checkpoint's with the
    /// same matrices quantized in memory, and it generates with the checkpoint's tokenizer.
    func testQuantizeWritesTrainedCheckpointsAsGGUF() throws {
        let directory = try temporaryDirectory(self)
        let data = directory.appendingPathComponent("corpus.txt")
        try Data(Self.corpus.utf8).write(to: data)
        let model = directory.appendingPathComponent("model")
        // Width 32: whole Q8_0 blocks.
        assertSuccess(try runGPT(["train", "--data", data.path, "--steps", "3", "--sample-tokens", "5", "--out", model.path, "--batch", "4",
                                  "--seq", "16", "--layers", "1", "--heads", "2", "--width", "32", "--eval-interval", "2"], in: directory))
        let gguf = directory.appendingPathComponent("model.Q8_0.gguf").path
        let result = try runGPT(["quantize", "--model", model.path, "--type", "q8_0", "--out", gguf], in: directory)
        assertSuccess(result)
        XCTAssertTrue(result.standardOutput.contains("gpt2 model of"), result.transcript)
        let fromFile = try runGPT(["eval", "--model", gguf, "--tokenizer", model.appendingPathComponent("tokenizer.json").path,
                                   "--data", data.path], in: directory)
        let inMemory = try runGPT(["eval", "--model", model.path, "--data", data.path, "--quantize", "q8_0"], in: directory)
        assertSuccess(fromFile)
        assertSuccess(inMemory)
        XCTAssertEqual(fromFile.standardOutput, inMemory.standardOutput)
        let generated = try runGPT(["generate", "--model", gguf, "--tokenizer", model.appendingPathComponent("tokenizer.json").path,
                                    "--prompt", "The", "--max-tokens", "5", "--temperature", "0"], in: directory)
        assertSuccess(generated)
        XCTAssertTrue(generated.standardOutput.hasPrefix("The"), generated.transcript)
    }
}
