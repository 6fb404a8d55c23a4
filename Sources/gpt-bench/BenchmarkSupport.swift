// Shared helpers of gpt-bench: timing, argument parsing, the numpy/PyTorch child process, output.
import Foundation
import GPTKit

/// Wall-clock seconds of one call of `body`: the median of repeated runs, repeated until
/// `minimumSeconds` have passed (at least `minimumRuns` times), after one warm-up call.
func measureSeconds(minimumSeconds: Double = 0.3, minimumRuns: Int = 3, _ body: () -> Void) -> Double {
    median(measureSamples(minimumSeconds: minimumSeconds, minimumRuns: minimumRuns, body))
}

/// The wall-clock seconds of each call of `body`, repeated until `minimumSeconds` have passed (at
/// least `minimumRuns` times, at most 1000), after one warm-up call.
func measureSamples(minimumSeconds: Double, minimumRuns: Int = 3, _ body: () -> Void) -> [Double] {
    body()
    var samples: [Double] = []
    let start = DispatchTime.now().uptimeNanoseconds
    while samples.count < minimumRuns || Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-9 < minimumSeconds {
        let t0 = DispatchTime.now().uptimeNanoseconds
        body()
        samples.append(Double(DispatchTime.now().uptimeNanoseconds - t0) * 1e-9)
        if samples.count >= 1000 { break }
    }
    return samples
}

/// The median of a non-empty sample.
func median(_ samples: [Double]) -> Double {
    let sorted = samples.sorted()
    return sorted[sorted.count / 2]
}

/// Command-line options of the form `--name value` and flags `--name`.
struct BenchmarkOptions {
    var values: [String: String] = [:]
    var flags: Set<String> = []

    init(_ arguments: [String], flagNames: Set<String>) throws {
        var index = 0
        while index < arguments.count {
            let argument = arguments[index]
            guard argument.hasPrefix("--") else { throw BenchmarkError.usage("unexpected argument '\(argument)'") }
            let name = String(argument.dropFirst(2))
            if flagNames.contains(name) {
                flags.insert(name)
                index += 1
            } else {
                guard index + 1 < arguments.count else { throw BenchmarkError.usage("--\(name) needs a value") }
                values[name] = arguments[index + 1]
                index += 2
            }
        }
    }

    func integer(_ name: String, default value: Int) throws -> Int {
        guard let text = values[name] else { return value }
        guard let number = Int(text) else { throw BenchmarkError.usage("--\(name) expects an integer, got '\(text)'") }
        return number
    }
}

/// A bad command line or a failed peer.
enum BenchmarkError: Error, CustomStringConvertible {
    case usage(String)
    var description: String {
        switch self {
        case .usage(let message): return message
        }
    }
}

/// Runs `python3` with `script`, `input` on standard input, and OPENBLAS_CORETYPE /
/// OPENBLAS_L2_SIZE removed from its environment (they slow a current numpy down); returns its
/// standard output, or nil if python3 is missing or fails.
func runPython(script: String, input: String, environment extra: [String: String] = [:]) -> String? {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = ["python3", "-c", script]
    process.environment = pythonEnvironment(extra)
    let stdinPipe = Pipe(), stdoutPipe = Pipe()
    process.standardInput = stdinPipe
    process.standardOutput = stdoutPipe
    // GPTKIT_BENCH_VERBOSE=1 shows the peer's own messages (why it failed).
    if ProcessInfo.processInfo.environment["GPTKIT_BENCH_VERBOSE"] == nil { process.standardError = FileHandle.nullDevice }
    do { try process.run() } catch { return nil }
    stdinPipe.fileHandleForWriting.write(Data(input.utf8))
    try? stdinPipe.fileHandleForWriting.close()
    let data = stdoutPipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    guard process.terminationStatus == 0 else { return nil }
    return String(decoding: data, as: UTF8.self)
}

/// This process's environment for a `python3` peer: OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE
/// removed (they slow a current numpy down), then `extra` set.
func pythonEnvironment(_ extra: [String: String] = [:]) -> [String: String] {
    var environment = ProcessInfo.processInfo.environment
    environment.removeValue(forKey: "OPENBLAS_CORETYPE")
    environment.removeValue(forKey: "OPENBLAS_L2_SIZE")
    for (key, value) in extra { environment[key] = value }
    return environment
}

/// One JSON object on one line, keys in the given order.
func jsonLine(_ pairs: [(String, Any?)]) -> String {
    let body = pairs.map { key, value -> String in
        let text: String
        switch value {
        case nil: text = "null"
        case let string as String: text = "\"\(string)\""
        case let double as Double: text = double.isFinite ? String(format: "%.4g", double) : "null"
        case let number as Int: text = "\(number)"
        default: text = "\(value!)"
        }
        return "\"\(key)\": \(text)"
    }
    return "{" + body.joined(separator: ", ") + "}"
}

/// A fixed-width text table.
func printTable(header: [String], rows: [[String]]) {
    let widths = header.indices.map { column in
        ([header[column]] + rows.map { $0[column] }).map(\.count).max() ?? 0
    }
    func line(_ cells: [String]) -> String {
        zip(cells, widths).map { $0.padding(toLength: $1, withPad: " ", startingAt: 0) }.joined(separator: "  ")
    }
    print(line(header))
    print(widths.map { String(repeating: "-", count: $0) }.joined(separator: "  "))
    rows.forEach { print(line($0)) }
}

func format(_ value: Double?, digits: Int = 1) -> String {
    guard let value, value.isFinite else { return "-" }
    return String(format: "%.\(digits)f", value)
}

/// The process's peak resident set (VmHWM in /proc/self/status) in MB, or nil where unavailable.
func peakResidentMegabytes() -> Double? {
    guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
          let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
          let kilobytes = line.split(separator: " ").compactMap({ Double($0) }).first else { return nil }
    return kilobytes / 1024
}
