// End-to-end tests of the `gpt` command-line tool: the built executable, run in a child
// process on tiny settings, checked through its exit status, its output and the files it writes.
import Foundation
import XCTest

final class CommandLineTests: XCTestCase {
    /// Model and run settings small enough for a debug build to train in seconds.
    static let tinyModel = ["--batch", "4", "--seq", "16", "--layers", "1", "--heads", "2", "--width", "16", "--eval-interval", "2"]

    /// A few KB of plain text for `--data`.
    static let corpus: String = {
        let sentences = [
            "The quick brown fox jumps over the lazy dog.",
            "A small model learns the letters of a small text.",
            "Every morning the baker opens the shop at seven and sells warm bread.",
            "She counted the boats in the harbour: one, two, three, four, five.",
            "Rain fell on the roof all night, and the river rose by morning.",
            "He wrote a short letter to his sister and walked to the post office.",
        ]
        var text = ""
        for index in 0..<90 { text += sentences[(index * 7) % sentences.count] + (index % 4 == 3 ? "\n" : " ") }
        return text
    }()

    /// Writes the corpus into `directory` and trains a tiny model on it into `directory/model`
    /// for `steps` steps; returns (data file, model directory, the run's result).
    func trainOnText(in directory: URL, steps: Int = 3) throws -> (data: URL, model: URL, result: CommandResult) {
        let data = directory.appendingPathComponent("corpus.txt")
        try Data(Self.corpus.utf8).write(to: data)
        XCTAssertGreaterThan(Self.corpus.utf8.count, 2_000)
        let model = directory.appendingPathComponent("model")
        let result = try runGPT(["train", "--data", data.path, "--steps", "\(steps)", "--sample-tokens", "20", "--out", model.path] + Self.tinyModel,
                                in: directory)
        assertSuccess(result)
        return (data, model, result)
    }

    /// The "step" of a checkpoint's trainer.json.
    func trainerStep(_ model: URL) throws -> Int {
        try XCTUnwrap(jsonObject(at: model.appendingPathComponent("trainer.json"))["step"] as? Int, "trainer.json has no integer step")
    }

    // MARK: - train

    func testTrainOnBuiltInTaskWritesCheckpointAndReportsAccuracy() throws {
        let directory = try temporaryDirectory(self)
        let out = directory.appendingPathComponent("arithmetic")
        let result = try runGPT(["train", "--steps", "3", "--out", out.path] + Self.tinyModel, in: directory)
        assertSuccess(result)
        let accuracy = try XCTUnwrap(firstMatch(#"^held-out accuracy: ([0-9]+(?:\.[0-9]+)?)%$"#, in: result.standardOutput),
                                     "no held-out accuracy line\n\(result.transcript)")
        let percentage = try XCTUnwrap(Double(accuracy[0]))
        XCTAssertTrue((0...100).contains(percentage), "accuracy \(percentage)%")
        XCTAssertTrue(result.standardOutput.contains("trained 3 steps"), result.transcript)

        let manager = FileManager.default
        for name in ["config.json", "model.safetensors", "optimizer.safetensors", "trainer.json", "tokenizer.json", "loss.svg", "samples.txt"] {
            let path = out.appendingPathComponent(name).path
            XCTAssertTrue(manager.fileExists(atPath: path), "\(name) was not written")
            XCTAssertGreaterThan((try? manager.attributesOfItem(atPath: path)[.size] as? Int) ?? 0, 0, "\(name) is empty")
        }
        let svg = try String(contentsOf: out.appendingPathComponent("loss.svg"), encoding: .utf8)
        XCTAssertTrue(svg.hasPrefix("<svg"), "loss.svg starts with \(svg.prefix(40).debugDescription)")
        let samples = try String(contentsOf: out.appendingPathComponent("samples.txt"), encoding: .utf8)
        XCTAssertTrue(samples.hasPrefix("--- sample 1"), samples)
        XCTAssertEqual(try trainerStep(out), 3)
        // No leftovers of the atomic checkpoint write.
        XCTAssertEqual(try manager.contentsOfDirectory(atPath: directory.path).filter { $0.contains(".partial-") || $0.contains(".old-") }, [])
    }

    func testTrainOnTextThenGenerate() throws {
        let directory = try temporaryDirectory(self)
        let (_, model, training) = try trainOnText(in: directory)
        XCTAssertTrue(training.standardError.contains("parameters"), training.transcript)
        XCTAssertFalse(training.standardOutput.contains("held-out accuracy"), "accuracy reported for a text\n\(training.transcript)")
        for name in ["config.json", "model.safetensors", "optimizer.safetensors", "trainer.json", "tokenizer.json", "loss.svg", "samples.txt"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: model.appendingPathComponent(name).path), "\(name) was not written")
        }

        let prompt = "The quick brown"
        let greedy = try runGPT(["generate", "--model", model.path, "--prompt", prompt, "--max-tokens", "10", "--temperature", "0"], in: directory)
        assertSuccess(greedy)
        XCTAssertTrue(greedy.standardOutput.hasPrefix(prompt), greedy.transcript)
        XCTAssertTrue(greedy.standardOutput.hasSuffix("\n"), greedy.transcript)
        // One character per token: the prompt, 10 new characters, the final newline.
        XCTAssertEqual(greedy.standardOutput.unicodeScalars.count, prompt.unicodeScalars.count + 10 + 1, greedy.transcript)
        XCTAssertTrue(greedy.standardError.contains("tokens/s"), greedy.transcript)
        XCTAssertTrue(greedy.standardError.contains("generated 10 tokens"), greedy.transcript)

        let sampling = ["generate", "--model", model.path, "--prompt", prompt, "--max-tokens", "40", "--temperature", "0.8", "--seed", "42"]
        let first = try runGPT(sampling, in: directory), second = try runGPT(sampling, in: directory)
        assertSuccess(first)
        assertSuccess(second)
        XCTAssertTrue(first.standardOutput.hasPrefix(prompt), first.transcript)
        XCTAssertEqual(first.standardOutput, second.standardOutput, "same seed, different text")
    }

    func testEvalAndInfoOfATrainedModel() throws {
        let directory = try temporaryDirectory(self)
        let (data, model, training) = try trainOnText(in: directory)

        let eval = try runGPT(["eval", "--model", model.path, "--data", data.path], in: directory)
        assertSuccess(eval)
        let numbers = try XCTUnwrap(firstMatch(#"loss (\S+)\s+perplexity (\S+)"#, in: eval.standardOutput), "no loss/perplexity\n\(eval.transcript)")
        let loss = try XCTUnwrap(Double(numbers[0]), numbers[0]), perplexity = try XCTUnwrap(Double(numbers[1]), numbers[1])
        XCTAssertTrue(loss.isFinite && loss > 0, "loss \(loss)")
        XCTAssertTrue(perplexity.isFinite && perplexity > 1, "perplexity \(perplexity)")
        XCTAssertEqual(perplexity, Foundation.exp(loss), accuracy: perplexity * 1e-3)
        // Quantized in memory: what Q8_0 costs (little), and a format it cannot quantize to.
        let quantized = try runGPT(["eval", "--model", model.path, "--data", data.path, "--quantize", "q8_0"], in: directory)
        assertSuccess(quantized)
        let q8 = try XCTUnwrap(firstMatch(#"perplexity (\S+)"#, in: quantized.standardOutput), quantized.transcript)[0]
        XCTAssertEqual(try XCTUnwrap(Double(q8)), perplexity, accuracy: perplexity * 0.02, quantized.transcript)
        assertFailure(try runGPT(["eval", "--model", model.path, "--data", data.path, "--quantize", "q5_k"], in: directory), status: 2,
                      mentioning: ["--quantize", "q5_k"])

        let info = try runGPT(["info", "--model", model.path], in: directory)
        assertSuccess(info)
        let count = try XCTUnwrap(firstMatch(#"^parameters: ([0-9]+)"#, in: info.standardOutput), "no parameter count\n\(info.transcript)")[0]
        XCTAssertGreaterThan(Int(count) ?? 0, 0)
        // The same count that `gpt train` announced.
        let announced = try XCTUnwrap(firstMatch(#"model: ([0-9]+) parameters"#, in: training.standardError), training.transcript)[0]
        XCTAssertEqual(count, announced)
        XCTAssertTrue(info.standardOutput.contains("layers 1, heads 2"), info.transcript)
        XCTAssertTrue(info.standardOutput.contains("training: step 3"), info.transcript)
    }

    func testResumeContinuesToTheNewStepCount() throws {
        let directory = try temporaryDirectory(self)
        let (data, model, _) = try trainOnText(in: directory)
        XCTAssertEqual(try trainerStep(model), 3)

        let resumed = try runGPT(["train", "--resume", model.path, "--data", data.path, "--steps", "5", "--sample-tokens", "20",
                                  "--out", model.path], in: directory)
        assertSuccess(resumed)
        XCTAssertEqual(try trainerStep(model), 5, resumed.transcript)
        let state = try jsonObject(at: model.appendingPathComponent("trainer.json"))
        XCTAssertEqual(state["trainingSteps"] as? [Int], [1, 2, 3, 4, 5])
        XCTAssertTrue(resumed.standardOutput.contains("trained 5 steps"), resumed.transcript)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0.hasPrefix(".") && !$0.hasPrefix(".std") }, [],
                       "scratch files left beside the checkpoint")
        // The tokenizer survives resuming (it comes from the checkpoint), and so does generation.
        XCTAssertTrue(FileManager.default.fileExists(atPath: model.appendingPathComponent("tokenizer.json").path))
        assertSuccess(try runGPT(["generate", "--model", model.path, "--prompt", "the", "--max-tokens", "3"], in: directory))
        // Settings that come from the checkpoint cannot change on resume.
        assertFailure(try runGPT(["train", "--resume", model.path, "--data", data.path, "--lr", "0.1"], in: directory), status: 2,
                      mentioning: ["--lr cannot change when resuming"])
    }

    func testTrainNeverDeletesForeignFilesInItsOutputDirectory() throws {
        let directory = try temporaryDirectory(self)
        let data = directory.appendingPathComponent("corpus.txt")
        try Data(Self.corpus.utf8).write(to: data)
        // --out pointing at the folder that holds the data: refused before training, data intact.
        let result = try runGPT(["train", "--data", data.path, "--out", directory.path, "--steps", "1"] + Self.tinyModel, in: directory)
        assertFailure(result, status: 2, mentioning: ["holds other files", "corpus.txt"])
        XCTAssertEqual(try String(contentsOf: data, encoding: .utf8), Self.corpus)
        assertFailure(try runGPT(["train", "--tokenizer", "gpt2", "--steps", "1"], in: directory), status: 2, mentioning: ["--tokenizer needs --data"])
        assertFailure(try runGPT(["train", "--data", data.path, "--digits", "3"], in: directory), status: 2, mentioning: ["--digits"])
    }

    // MARK: - Bad command lines

    func testBadArgumentsExitWithAMessageAndNoCrash() throws {
        let directory = try temporaryDirectory(self)
        let data = directory.appendingPathComponent("corpus.txt")
        try Data(Self.corpus.utf8).write(to: data)
        let nowhere = directory.appendingPathComponent("no-such-model").path

        assertFailure(try runGPT([], in: directory), status: 2, mentioning: ["usage:"])
        assertFailure(try runGPT(["frobnicate"], in: directory), status: 2, mentioning: ["unknown command 'frobnicate'", "usage:"])
        assertFailure(try runGPT(["train", "--bogus", "1"], in: directory), status: 2, mentioning: ["unknown option '--bogus'", "usage: gpt train"])
        assertFailure(try runGPT(["generate", "--model", nowhere, "--temprature", "0"], in: directory), status: 2,
                      mentioning: ["unknown option '--temprature'"])
        assertFailure(try runGPT(["train", "--data", data.path, "--steps", "abc"], in: directory), status: 2,
                      mentioning: ["--steps", "'abc'", "usage: gpt train"])
        assertFailure(try runGPT(["train", "--data", data.path, "--steps"], in: directory), status: 2, mentioning: ["--steps needs a value"])
        assertFailure(try runGPT(["train", "--data", directory.appendingPathComponent("missing.txt").path], in: directory), status: 2,
                      mentioning: ["--data: ", "missing.txt: no such file"])
        assertFailure(try runGPT(["train", "--data", data.path, "--recompute", "bogus"] + Self.tinyModel, in: directory), status: 2,
                      mentioning: ["--recompute", "'bogus'"])
        assertFailure(try runGPT(["generate"], in: directory), status: 2, mentioning: ["--model is required", "usage: gpt generate"])
        assertFailure(try runGPT(["eval", "--data", data.path], in: directory), status: 2, mentioning: ["--model is required"])
        for arguments in [["generate", "--model", nowhere], ["eval", "--model", nowhere, "--data", data.path], ["info", "--model", nowhere]] {
            assertFailure(try runGPT(arguments, in: directory), status: 2, mentioning: ["--model: no such file or directory", "no-such-model"])
        }
        // A model directory without a model in it: a runtime error, status 1.
        let empty = directory.appendingPathComponent("empty")
        try FileManager.default.createDirectory(at: empty, withIntermediateDirectories: true)
        let result = try runGPT(["info", "--model", empty.path], in: directory)
        assertFailure(result, status: 1, mentioning: ["gpt info:"])
        XCTAssertFalse(result.standardError.contains("usage:"), result.transcript)
    }

    func testHelpForEveryCommand() throws {
        let directory = try temporaryDirectory(self)
        for arguments in [["--help"], ["help"], ["train", "--help"], ["generate", "--help"], ["eval", "--help"], ["info", "--help"], ["train", "-h"]] {
            let result = try runGPT(arguments, in: directory)
            assertSuccess(result)
            XCTAssertTrue(result.standardOutput.contains("usage:"), result.transcript)
            XCTAssertEqual(result.standardError, "", result.transcript)
        }
        // `train --help` must not start training or create an output directory.
        XCTAssertFalse(FileManager.default.fileExists(atPath: directory.appendingPathComponent("out").path))
    }

    // MARK: - A published model

    func testStories260KGreedyMatchesLlama2C() throws {
        let folder = sharedDataDirectory.appendingPathComponent("stories260K")
        let checkpoint = folder.appendingPathComponent("stories260K.bin"), tokenizer = folder.appendingPathComponent("tok512.bin")
        guard FileManager.default.fileExists(atPath: checkpoint.path), FileManager.default.fileExists(atPath: tokenizer.path) else {
            throw XCTSkip("\(folder.path) is absent")
        }
        let directory = try temporaryDirectory(self)
        let result = try runGPT(["generate", "--model", checkpoint.path, "--tokenizer", tokenizer.path, "--prompt", "Once upon a time",
                                 "--max-tokens", "60", "--temperature", "0"], in: directory)
        assertSuccess(result)
        // llama2.c run.c's output for the same model, prompt and length (../shared/data/stories260K/PROVENANCE.md).
        let reference = "Once upon a time, there was a little girl named Lily. She loved to play outside in the park. One day, she saw a big, "
            + "red ball. She wanted to play with it, but it was too high.\nLily\n"
        XCTAssertEqual(result.standardOutput, reference, result.transcript)
        XCTAssertTrue(result.standardError.contains("generated 60 tokens"), result.transcript)
    }
}
