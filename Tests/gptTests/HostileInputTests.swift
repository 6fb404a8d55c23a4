import Foundation
import XCTest

/// Numbers and sizes that used to trap, abort or run for ever now end with a message.
extension CommandLineTests {
    func testHostileNumbersAndSizesAreRefusedWithAMessage() throws {
        let directory = try temporaryDirectory(self)
        let out = directory.appendingPathComponent("out").path
        // Overflowing arithmetic that used to trap: a warmup of Int.max is simply a very long warmup.
        assertSuccess(try runGPT(["train", "--steps", "2", "--warmup", "9223372036854775807", "--out", out] + Self.tinyModel,
                                 in: directory))
        assertFailure(try runGPT(["train", "--steps", "2", "--lr", "0.1", "--min-lr", "1", "--out", out], in: directory), status: 1,
                      mentioning: ["final learning rate 1.0 exceeds the peak 0.1"])
        // Sizes that validate but cannot fit: refused before allocating, saying how much they need.
        assertFailure(try runGPT(["train", "--steps", "2", "--layers", "80", "--width", "8192", "--out", out], in: directory), status: 1,
                      mentioning: ["needs about", "GB of memory", "this machine has"])
        assertFailure(try runGPT(["train", "--steps", "2", "--batch", "100000", "--seq", "32", "--out", out], in: directory), status: 1,
                      mentioning: ["training needs about", "GB of memory"])
        assertFailure(try runGPT(["train", "--sample-tokens", "100000000", "--out", out], in: directory), status: 2,
                      mentioning: ["--sample-tokens", "1...100000"])
        // A 100-byte config.json beside a small weights file: no 68 GB allocation, no abort.
        let evil = directory.appendingPathComponent("evil")
        try FileManager.default.createDirectory(at: evil, withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: packageRoot.appendingPathComponent("Fixtures/tiny-gpt2/model.safetensors"),
                                         to: evil.appendingPathComponent("model.safetensors"))
        for config in [#"{"n_embd":4096,"n_head":1,"n_layer":1,"n_positions":4194304,"vocab_size":1,"position_embedding_type":"sinusoidal"}"#,
                       #"{"n_embd":64,"n_head":1,"n_layer":1000000,"n_positions":64,"vocab_size":10}"#] {
            try Data(config.utf8).write(to: evil.appendingPathComponent("config.json"))
            assertFailure(try runGPT(["info", "--model", evil.path], in: directory), status: 1, mentioning: ["Invalid configuration"])
        }
    }

    func testTrainerStateOutOfRangeIsRefused() throws {
        let directory = try temporaryDirectory(self)
        let (data, model, _) = try trainOnText(in: directory, steps: 2)
        let url = model.appendingPathComponent("trainer.json")
        let original = try String(contentsOf: url, encoding: .utf8)
        for (key, value) in [("step", "-5"), ("optimizerSteps", "9223372036854775807")] {
            let edited = original.replacingOccurrences(of: #""\#(key)" : 2"#, with: #""\#(key)" : \#(value)"#)
            XCTAssertNotEqual(edited, original, "trainer.json has no \(key) of 2")
            try Data(edited.utf8).write(to: url)
            assertFailure(try runGPT(["train", "--resume", model.path, "--data", data.path, "--steps", "3"], in: directory), status: 1,
                          mentioning: ["trainer.json", "out of range"])
        }
    }

    func testResumeWithoutDataAndTextWithoutNewlines() throws {
        let directory = try temporaryDirectory(self)
        let (_, model, _) = try trainOnText(in: directory, steps: 2)
        assertFailure(try runGPT(["train", "--resume", model.path, "--steps", "3"], in: directory), status: 2,
                      mentioning: ["needs --data", "not trained on the built-in task"])
        // A text without a newline: samples start from its first character instead of failing after training.
        let flat = directory.appendingPathComponent("flat.txt")
        try Data(String(repeating: "abc abd abe ", count: 300).utf8).write(to: flat)
        let result = try runGPT(["train", "--data", flat.path, "--steps", "2", "--sample-tokens", "5",
                                 "--out", directory.appendingPathComponent("flat").path] + Self.tinyModel, in: directory)
        assertSuccess(result)
        let samples = try String(contentsOf: directory.appendingPathComponent("flat/samples.txt"), encoding: .utf8)
        XCTAssertTrue(samples.contains(#"(prompt "a")"#), samples)
    }

    func testThreadsOptionAndEnvironment() throws {
        let directory = try temporaryDirectory(self)
        let (data, model, _) = try trainOnText(in: directory, steps: 2)
        let one = try runGPT(["eval", "--model", model.path, "--data", data.path, "--threads", "1"], in: directory)
        let two = try runGPT(["eval", "--model", model.path, "--data", data.path, "--threads", "2"], in: directory)
        let environment = try runGPT(["eval", "--model", model.path, "--data", data.path], in: directory,
                                     environment: ["GPTKIT_THREADS": "1"])
        assertSuccess(one)
        // Results do not depend on the thread count.
        XCTAssertEqual(one.standardOutput, two.standardOutput)
        XCTAssertEqual(one.standardOutput, environment.standardOutput)
        assertFailure(try runGPT(["info", "--model", model.path, "--threads", "0"], in: directory), status: 2,
                      mentioning: ["--threads needs a whole number from 1 to 1024"])
    }
}
