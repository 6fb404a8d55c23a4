import Foundation
import XCTest

/// File problems are reported in words that name the file, never as Foundation's domains and
/// codes; file names that are not UTF-8 work.
extension CommandLineTests {
    /// Fragments of Foundation's own messages, which must never reach the user.
    static let foundationPhrases = ["NSCocoaErrorDomain", "Error Domain", "Code=", "The operation could not be completed",
                                    "You don’t have permission", "The given data was not valid JSON", "The file isn’t in the correct format"]

    func assertWorded(_ result: CommandResult, status: Int32, mentioning fragments: [String], file: StaticString = #filePath, line: UInt = #line) {
        assertFailure(result, status: status, mentioning: fragments, file: file, line: line)
        for phrase in Self.foundationPhrases {
            XCTAssertFalse(result.standardError.contains(phrase), "raw Foundation error\n\(result.transcript)", file: file, line: line)
        }
    }

    func testFileProblemsAreReportedInWords() throws {
        let directory = try temporaryDirectory(self)
        let out = directory.appendingPathComponent("out").path
        let latin1 = directory.appendingPathComponent("latin1.txt")
        try Data([0x63, 0x61, 0x66, 0xE9, 0x0A]).write(to: latin1)  // "café" in Latin-1
        assertWorded(try runGPT(["train", "--data", latin1.path, "--out", out], in: directory), status: 2,
                     mentioning: ["latin1.txt", "is not UTF-8 text", "offset 3"])
        assertWorded(try runGPT(["train", "--data", "/dev/null", "--out", out], in: directory), status: 2,
                     mentioning: ["/dev/null", "is not a regular file"])
        assertWorded(try runGPT(["train", "--data", directory.path, "--out", out], in: directory), status: 2,
                     mentioning: ["is a folder, not a file"])
        for command in [["info", "--model", "/dev/null"], ["generate", "--model", "/dev/null"]] {
            assertWorded(try runGPT(command, in: directory), status: 1, mentioning: ["/dev/null", "is not a regular file"])
        }
        assertWorded(try runGPT(["train", "--steps", "1", "--out", "/dev/null/run"], in: directory), status: 2,
                     mentioning: ["/dev/null is a file, not a folder"])
        assertWorded(try runGPT(["info", "--model", directory.path], in: directory), status: 1,
                     mentioning: ["config.json", "no such file"])

        // config.json numbers out of range, and other malformed JSON, with the byte offset.
        let model = directory.appendingPathComponent("model")
        try FileManager.default.createDirectory(at: model, withIntermediateDirectories: true)
        for (config, expected) in [(#"{"n_embd": 1e400, "n_head": 1}"#, ["byte 11", "'1e400' is out of range"]),
                                   (#"{"n_embd": 99999999999999999999999}"#, ["'n_embd'", "out of range"]),
                                   (#"{"n_embd": 64,}"#, ["malformed JSON at byte 14"]),
                                   ("[1, 2]", ["not a JSON object", "an array of 2 items"])] {
            try Data(config.utf8).write(to: model.appendingPathComponent("config.json"))
            assertWorded(try runGPT(["info", "--model", model.path], in: directory), status: 1, mentioning: ["config.json"] + expected)
        }
    }

    func testTrainerStateNumbersOutOfRangeAreWorded() throws {
        let directory = try temporaryDirectory(self)
        let (data, model, _) = try trainOnText(in: directory, steps: 2)
        let url = model.appendingPathComponent("trainer.json")
        let original = try String(contentsOf: url, encoding: .utf8)
        for (value, expected) in [("1e400", ["trainer.json", "'1e400' is out of range"]),
                                  ("99999999999999999999", ["trainer.json", "'step' is 1e+20, out of range"]),
                                  ("10000000000000000000", ["trainer.json", "does not fit its field"]),
                                  ("\"two\"", ["trainer.json", "'step'", "expected a whole number"])] {
            let edited = original.replacingOccurrences(of: #""step" : 2"#, with: #""step" : \#(value)"#)
            XCTAssertNotEqual(edited, original)
            try Data(edited.utf8).write(to: url)
            assertWorded(try runGPT(["train", "--resume", model.path, "--data", data.path, "--steps", "3"], in: directory), status: 1,
                         mentioning: expected)
        }
    }

    /// Names that are not UTF-8 (Latin-1 'é' is the single byte 0xE9) for the data, the output
    /// folder's parent, a resumed checkpoint and a loaded model. Swift cannot pass such bytes
    /// to a child process, so the shell spells them with printf.
    func testFileNamesThatAreNotUTF8Work() throws {
        #if os(Linux)
        let directory = try temporaryDirectory(self)
        // FileManager cannot remove names that are not UTF-8; rm can.
        addTeardownBlock { _ = try? runProgram("/bin/rm", ["-rf", directory.path], in: URL(fileURLWithPath: "/")) }
        try Data(String(repeating: "to be or not to be, that is the question\n", count: 40).utf8)
            .write(to: directory.appendingPathComponent("plain.txt"))
        let gpt = try gptExecutable().path
        func shell(_ script: String) throws -> CommandResult {
            try runProgram("/bin/sh", ["-c", "E=$(printf '\\351'); " + script, gpt], in: directory)
        }
        let prepare = try shell(#"cp plain.txt "data$E.txt" && mkdir "runs$E""#)
        XCTAssertEqual(prepare.status, 0, prepare.transcript)
        let tiny = Self.tinyModel.joined(separator: " ")
        let train = try shell(#""$0" train --data "data$E.txt" --steps 2 --sample-tokens 5 --out "runs$E/one" "# + tiny)
        XCTAssertEqual(train.status, 0, train.transcript)
        XCTAssertTrue(train.standardOutput.contains("runs\u{FFFD}/one"), train.transcript)  // shown as typed, not as a /proc path
        XCTAssertFalse(train.standardOutput.contains("/proc/self/fd"), train.transcript)
        let listing = try shell(#"ls "runs$E/one""#)
        for name in ["config.json", "model.safetensors", "optimizer.safetensors", "trainer.json", "tokenizer.json"] {
            XCTAssertTrue(listing.standardOutput.contains(name), listing.transcript)
        }
        let resume = try shell(#""$0" train --resume "runs$E/one" --data "data$E.txt" --steps 3 --sample-tokens 5"#)
        XCTAssertEqual(resume.status, 0, resume.transcript)
        let info = try shell(#""$0" info --model "runs$E/one""#)
        XCTAssertEqual(info.status, 0, info.transcript)
        XCTAssertTrue(info.standardOutput.contains("training: step 3"), info.transcript)
        let eval = try shell(#""$0" eval --model "runs$E/one" --data "data$E.txt" --window 16 --max-tokens 64"#)
        XCTAssertEqual(eval.status, 0, eval.transcript)
        // A missing non-UTF-8 file is an error naming it, not another file's.
        let missing = try shell(#""$0" train --data "nothing$E.txt" --out x"#)
        XCTAssertEqual(missing.status, 2, missing.transcript)
        XCTAssertTrue(missing.standardError.contains("nothing\u{FFFD}.txt: no such file"), missing.transcript)
        // The output folder's own name must be UTF-8 (it is replaced by renaming beside it): refused, not misnamed.
        let refused = try shell(#""$0" train --steps 1 --out "out$E""#)
        XCTAssertEqual(refused.status, 2, refused.transcript)
        XCTAssertTrue(refused.standardError.contains("the folder's own name is not UTF-8"), refused.transcript)
        XCTAssertFalse(FileManager.default.fileExists(atPath: directory.appendingPathComponent("out\u{FFFD}").path))
        #endif
    }
}
