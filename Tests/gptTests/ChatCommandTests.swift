import Foundation
import XCTest

/// `gpt generate --chat`, `gpt chat`, `gpt tokenize` and `gpt info` on SmolLM2's GGUF
/// (../shared/data; skipped without it). The replies are transformers' greedy ones
/// (Fixtures/smollm2/cases.json).
extension CommandLineTests {
    var smolLM2: String {
        get throws {
            let url = sharedDataDirectory.appendingPathComponent("smollm2-135m-instruct/SmolLM2-135M-Instruct.Q4_1.gguf")
            guard FileManager.default.fileExists(atPath: url.path) else { throw XCTSkip("../shared/data is absent") }
            return url.path
        }
    }

    func testChatRepliesFromTheCommandLine() throws {
        let model = try smolLM2
        let directory = try temporaryDirectory(self)
        let reply = try runGPT(["generate", "--model", model, "--chat", "--dequantize", "--prompt", "What is the capital of France?"], in: directory)
        assertSuccess(reply)
        XCTAssertEqual(reply.standardOutput, "The capital of France is Paris.\n")
        // A history from a file: the multi-turn case of the fixtures.
        let messages = directory.appendingPathComponent("messages.json")
        try Data(#"[{"role": "user", "content": "Hi! My name is Ada."}, {"role": "assistant", "content": "Hello Ada! How can I help you today?"}, {"role": "user", "content": "What is my name?"}]"#.utf8).write(to: messages)
        let history = try runGPT(["generate", "--model", model, "--chat", "--messages", messages.path, "--max-tokens", "48",
                                  "--float-activations", "--kv-cache", "f16"], in: directory)
        assertSuccess(history)
        XCTAssertEqual(history.standardOutput, "I'm glad you're here. My name is Elena. I'm a language AI assistant.\n")
        // Two turns and a reset on standard input; the second turn reuses the first one's cache.
        // (The stored formats with float32 activations give transformers' replies too.)
        let chat = try runGPT(["chat", "--model", model, "--max-tokens", "16", "--float-activations"], in: directory,
                              input: "What is the capital of France?\n/reset\nWhat is the capital of France?\n")
        assertSuccess(chat)
        XCTAssertEqual(chat.standardOutput, "The capital of France is Paris.\nThe capital of France is Paris.\n")
        // The default, 8-bit activations as llama.cpp computes, answers as llama.cpp does on this
        // near tie ("L" over "The"; Fixtures/llamacpp).
        let int8 = try runGPT(["generate", "--model", model, "--chat", "--prompt", "What is the capital of France?", "--max-tokens", "4"],
                              in: directory)
        assertSuccess(int8)
        XCTAssertTrue(int8.standardOutput.hasPrefix("L'"), int8.transcript)
        assertFailure(try runGPT(["generate", "--model", model, "--kv-cache", "f8"], in: directory), status: 2, mentioning: ["--kv-cache"])
        // Errors: no prompt, a malformed history, --system without --chat.
        assertFailure(try runGPT(["generate", "--model", model, "--chat"], in: directory), status: 2, mentioning: ["--chat needs --prompt"])
        try Data("[{\"role\": 1}]".utf8).write(to: messages)
        assertFailure(try runGPT(["generate", "--model", model, "--chat", "--messages", messages.path], in: directory), status: 2,
                      mentioning: ["--messages", "expected a JSON array"])
        assertFailure(try runGPT(["generate", "--model", model, "--system", "x"], in: directory), status: 2, mentioning: ["--system needs --chat"])
    }

    func testTokenizeAndInfoReadTheGGUF() throws {
        let model = try smolLM2
        let directory = try temporaryDirectory(self)
        let plain = try runGPT(["tokenize", "--model", model], in: directory, input: "Hello, world!")
        assertSuccess(plain)
        XCTAssertEqual(plain.standardOutput, "19556 28 905 17\n")
        let special = try runGPT(["tokenize", "--model", model, "--special", "--json"], in: directory, input: "<|im_start|>user\nHi<|im_end|>")
        assertSuccess(special)
        XCTAssertEqual(special.standardOutput, "[1, 4093, 198, 26843, 2]\n")
        let info = try runGPT(["info", "--model", model], in: directory)
        assertSuccess(info)
        for fragment in ["GGUF v3", "architecture llama", "272 tensors", "210 Q4_1", "1 Q8_0", "61 F32", "pre smollm", "49152 tokens",
                         "48900 merges", "bos 1", "eos 2", "chat template:", "layers 30, heads 9 (key/value heads 3)", "weights: all finite"] {
            XCTAssertTrue(info.standardOutput.contains(fragment), "info lacks \(fragment.debugDescription)\n\(info.transcript)")
        }
    }
}
