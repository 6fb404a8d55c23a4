// Running the built `gpt` executable in a child process and capturing what it did.
import Foundation
import XCTest

/// The package root (two levels above this file's folder).
let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
/// `../shared/data` next to the package (may be absent: tests using it skip).
let sharedDataDirectory = packageRoot.deletingLastPathComponent().appendingPathComponent("shared/data")

/// What one run of `gpt` printed and how it ended.
struct CommandResult {
    let arguments: [String]
    let status: Int32
    /// `.exit` for a normal exit, `.uncaughtSignal` for a crash.
    let reason: Process.TerminationReason
    let standardOutput: String
    let standardError: String

    /// The command line and everything it printed, for failure messages.
    var transcript: String {
        "gpt \(arguments.joined(separator: " ")) -> \(reason == .exit ? "exit" : "signal") \(status)\n"
            + "--- stdout:\n\(standardOutput)\n--- stderr:\n\(standardError)"
    }
}

/// The test target depends on `gpt`, so SwiftPM builds it: not finding it is a failure.
struct MissingExecutable: Error, CustomStringConvertible {
    let searched: [String]
    var description: String { "the gpt executable was not found in \(searched.joined(separator: ", "))" }
}

/// The `gpt` executable SwiftPM built beside the test bundle (e.g. `.build/debug/gpt`).
func gptExecutable() throws -> URL {
    let manager = FileManager.default
    var directories: [URL] = []
    for bundle in [Bundle.main] + Bundle.allBundles where bundle.bundleURL.isFileURL {
        // Linux: the bundle URL is the build directory itself; macOS: the .xctest bundle in it.
        directories += [bundle.bundleURL, bundle.bundleURL.deletingLastPathComponent()]
    }
    if let executable = CommandLine.arguments.first {
        directories.append(URL(fileURLWithPath: executable).deletingLastPathComponent())
    }
    directories.append(packageRoot.appendingPathComponent(".build/debug"))
    for directory in directories {
        let candidate = directory.appendingPathComponent("gpt")
        var isDirectory: ObjCBool = false
        if manager.fileExists(atPath: candidate.path, isDirectory: &isDirectory), !isDirectory.boolValue,
           manager.isExecutableFile(atPath: candidate.path) {
            return candidate
        }
    }
    throw MissingExecutable(searched: directories.map(\.path))
}

/// Runs `gpt arguments` in `directory` (its working directory), waiting for it to end.
/// Standard output and error go to files, so neither can fill a pipe and block the child.
func runGPT(_ arguments: [String], in directory: URL, environment: [String: String] = [:], input: String? = nil) throws -> CommandResult {
    try runProgram(gptExecutable().path, arguments, in: directory, environment: environment, input: input)
}

/// Runs `executable arguments` in `directory`, waiting for it to end.
func runProgram(_ executable: String, _ arguments: [String], in directory: URL, environment: [String: String] = [:],
                input: String? = nil) throws -> CommandResult {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    if !environment.isEmpty { process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 } }
    process.currentDirectoryURL = directory
    let id = UUID().uuidString
    let outputURL = directory.appendingPathComponent(".stdout-\(id)"), errorURL = directory.appendingPathComponent(".stderr-\(id)")
    let manager = FileManager.default
    guard manager.createFile(atPath: outputURL.path, contents: nil), manager.createFile(atPath: errorURL.path, contents: nil) else {
        throw CocoaError(.fileWriteUnknown)
    }
    defer {
        try? manager.removeItem(at: outputURL)
        try? manager.removeItem(at: errorURL)
    }
    let output = try FileHandle(forWritingTo: outputURL), error = try FileHandle(forWritingTo: errorURL)
    process.standardOutput = output
    process.standardError = error
    if let input {
        let inputURL = directory.appendingPathComponent(".stdin-\(id)")
        try Data(input.utf8).write(to: inputURL)
        defer { try? manager.removeItem(at: inputURL) }
        process.standardInput = try FileHandle(forReadingFrom: inputURL)
    } else {
        process.standardInput = FileHandle.nullDevice
    }
    try process.run()
    process.waitUntilExit()
    try output.close()
    try error.close()
    return CommandResult(arguments: arguments, status: process.terminationStatus, reason: process.terminationReason,
                         standardOutput: String(decoding: try Data(contentsOf: outputURL), as: UTF8.self),
                         standardError: String(decoding: try Data(contentsOf: errorURL), as: UTF8.self))
}

/// A temporary directory, removed at the end of the test.
func temporaryDirectory(_ test: XCTestCase) throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("gptkit-cli-tests-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    test.addTeardownBlock { try? FileManager.default.removeItem(at: url) }
    return url
}

/// Asserts a normal exit with status 0.
func assertSuccess(_ result: CommandResult, file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(result.reason, .exit, "terminated by a signal\n\(result.transcript)", file: file, line: line)
    XCTAssertEqual(result.status, 0, result.transcript, file: file, line: line)
}

/// Asserts a normal exit with `status` and a message on stderr containing every one of `fragments`.
func assertFailure(_ result: CommandResult, status: Int32, mentioning fragments: [String],
                   file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(result.reason, .exit, "terminated by a signal (a crash)\n\(result.transcript)", file: file, line: line)
    XCTAssertEqual(result.status, status, result.transcript, file: file, line: line)
    for fragment in fragments {
        XCTAssertTrue(result.standardError.contains(fragment), "stderr does not mention \(fragment.debugDescription)\n\(result.transcript)",
                      file: file, line: line)
    }
}

/// The first match of `pattern`'s capture groups in `text`, or nil.
func firstMatch(_ pattern: String, in text: String) -> [String]? {
    guard let expression = try? NSRegularExpression(pattern: pattern, options: [.anchorsMatchLines]),
          let match = expression.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)) else { return nil }
    return (1..<match.numberOfRanges).map { index in
        Range(match.range(at: index), in: text).map { String(text[$0]) } ?? ""
    }
}

/// The top-level object of a JSON file.
func jsonObject(at url: URL) throws -> [String: Any] {
    let object = try JSONSerialization.jsonObject(with: Data(contentsOf: url))
    return try XCTUnwrap(object as? [String: Any], "\(url.path) is not a JSON object")
}
