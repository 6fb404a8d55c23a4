import Foundation
import XCTest

/// Checkpoints survive a kill at every stage of a save: the process is ended there (the
/// `GPTKIT_CHECKPOINT_FAULT` hook exits as a kill would), and what is on disk is loaded and resumed.
extension CommandLineTests {
    func hiddenCopies(in directory: URL) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0.contains(".partial-") || $0.contains(".old-") }
    }

    func testAKilledSaveLeavesAWholeResumableCheckpoint() throws {
        let stages = ["after-model", "after-optimizer", "before-switch", "after-switch", "between-renames"]
        for exchange in [true, false] {
            for stage in stages where exchange ? stage != "between-renames" : stage != "after-switch" {
                let label = "\(stage), \(exchange ? "atomic exchange" : "two renames")"
                let directory = try temporaryDirectory(self)
                let (data, model, _) = try trainOnText(in: directory, steps: 2)
                var environment = ["GPTKIT_CHECKPOINT_FAULT": stage]
                if !exchange { environment["GPTKIT_CHECKPOINT_NO_EXCHANGE"] = "1" }
                let killed = try runGPT(["train", "--resume", model.path, "--data", data.path, "--steps", "4", "--sample-tokens", "5"],
                                        in: directory, environment: environment)
                XCTAssertEqual(killed.status, 75, "\(label): the save was not interrupted\n\(killed.transcript)")

                // The name holds a whole checkpoint: the old one (step 2) or, once switched, the new one (step 4).
                let expected = ["after-switch", "between-renames"].contains(stage) ? (stage == "after-switch" ? 4 : nil) : 2
                let info = try runGPT(["info", "--model", model.path], in: directory)
                assertSuccess(info)
                let step = try trainerStep(model)
                if let expected { XCTAssertEqual(step, expected, label) } else { XCTAssertTrue([2, 4].contains(step), label) }
                for name in ["config.json", "model.safetensors", "optimizer.safetensors", "trainer.json", "tokenizer.json"] {
                    XCTAssertTrue(FileManager.default.fileExists(atPath: model.appendingPathComponent(name).path), "\(label): no \(name)")
                }
                // It resumes, and the next save removes the interrupted save's hidden copies.
                let resumed = try runGPT(["train", "--resume", model.path, "--data", data.path, "--steps", "5", "--sample-tokens", "5"],
                                         in: directory)
                assertSuccess(resumed)
                XCTAssertEqual(try trainerStep(model), 5, label)
                XCTAssertEqual(try hiddenCopies(in: directory), [], label)
            }
        }
    }

    func testMidRunCheckpointsAndAStopSignal() throws {
        let directory = try temporaryDirectory(self)
        let data = directory.appendingPathComponent("corpus.txt")
        try Data(CommandLineTests.corpus.utf8).write(to: data)
        let model = directory.appendingPathComponent("model")
        // Killed at the end of the first mid-run save (step 2 of 6): the checkpoint of step 2 is there.
        let killed = try runGPT(["train", "--data", data.path, "--steps", "6", "--checkpoint-interval", "2", "--out", model.path]
                                    + CommandLineTests.tinyModel, in: directory, environment: ["GPTKIT_CHECKPOINT_FAULT": "after-switch"])
        XCTAssertEqual(killed.status, 75, killed.transcript)
        XCTAssertEqual(try trainerStep(model), 2)
        XCTAssertTrue(FileManager.default.fileExists(atPath: model.appendingPathComponent("tokenizer.json").path))

        // SIGTERM during a long run: it stops after a step, writes the checkpoint, exits 128 + 15.
        let process = Process()
        process.executableURL = try gptExecutable()
        process.arguments = ["train", "--resume", model.path, "--data", data.path, "--steps", "100000000", "--sample-tokens", "5",
                             "--checkpoint-interval", "20"]
        process.currentDirectoryURL = directory
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        // Wait (bounded) until a mid-run checkpoint shows it is training, then signal it.
        let deadline = Date().addingTimeInterval(120)
        while Date() < deadline, process.isRunning, ((try? trainerStep(model)) ?? 0) <= 2 { usleep(50_000) }
        process.terminate()  // SIGTERM
        let transcript = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 128 + 15, transcript)
        XCTAssertTrue(transcript.contains("stopped by signal 15"), transcript)
        XCTAssertGreaterThan(try trainerStep(model), 2, "the interrupted run's progress was saved")
        assertSuccess(try runGPT(["info", "--model", model.path], in: directory))
        XCTAssertEqual(try hiddenCopies(in: directory), [])
    }

    func testASymlinkedOutputIsFollowed() throws {
        let directory = try temporaryDirectory(self)
        let real = directory.appendingPathComponent("real")
        try FileManager.default.createDirectory(at: real, withIntermediateDirectories: true)
        let link = directory.appendingPathComponent("link")
        try FileManager.default.createSymbolicLink(at: link, withDestinationURL: real)
        let result = try runGPT(["train", "--steps", "2", "--out", link.path] + CommandLineTests.tinyModel, in: directory)
        assertSuccess(result)
        let attributes = try FileManager.default.attributesOfItem(atPath: link.path)
        XCTAssertEqual(attributes[.type] as? FileAttributeType, .typeSymbolicLink, "the link is kept")
        XCTAssertEqual(try trainerStep(real), 2, "the checkpoint is written where the link points")
    }
}
