// gpt-bench load: how long `GPT(directory:)` takes on a saved checkpoint (the file memory-mapped,
// float32 tensors read in place), against Hugging Face safetensors' `load_file` of the same file
// in the same run (numpy: reads every tensor into memory), alternating.
import Foundation
import GPTKit

let loadUsage = """
usage: gpt-bench load [--preset nano|mini|gpt2-small|gpt2-medium] [--repeats N] [--json] [--no-python]
"""

func runLoadBenchmark(arguments: [String]) throws {
    let options = try BenchmarkOptions(arguments, flagNames: ["json", "no-python"])
    let presets: [String: GPTConfiguration] = ["nano": .nano, "mini": .mini, "gpt2-small": .gpt2Small, "gpt2-medium": .gpt2Medium]
    let presetName = options.values["preset"] ?? "gpt2-small"
    guard let configuration = presets[presetName] else { throw BenchmarkError.usage("unknown preset '\(presetName)'\n\(loadUsage)") }
    let repeats = try options.integer("repeats", default: 5)
    guard repeats >= 1 else { throw BenchmarkError.usage("need repeats ≥ 1\n\(loadUsage)") }

    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("gptkit-load-\(UUID().uuidString)")
    defer { try? FileManager.default.removeItem(at: directory) }
    let saveStart = DispatchTime.now().uptimeNanoseconds
    try GPT(configuration: configuration, seed: 1).save(directory: directory)
    let saveSeconds = Double(DispatchTime.now().uptimeNanoseconds - saveStart) * 1e-9
    let file = directory.appendingPathComponent("model.safetensors")
    let bytes = (try FileManager.default.attributesOfItem(atPath: file.path)[.size] as? Int) ?? 0

    // The peer: a long-lived python3 that loads the file on each line it reads.
    let script = """
    import sys, time
    from safetensors.numpy import load_file
    for line in sys.stdin:
        t = time.perf_counter(); tensors = load_file(line.strip()); s = time.perf_counter() - t
        del tensors
        print(s, flush=True)
    """
    var peer: [Double] = [], ours: [Double] = [], firstForward: [Double] = []
    let usePython = !options.flags.contains("no-python")
    let python = usePython ? PythonLines(script: script) : nil
    for run in 0...repeats {  // run 0 warms the page cache for both
        let t0 = DispatchTime.now().uptimeNanoseconds
        let model = try GPT(directory: directory)
        let t1 = DispatchTime.now().uptimeNanoseconds
        _ = try model.forward(tokens: [1], cache: model.makeCache(capacity: 4))
        let t2 = DispatchTime.now().uptimeNanoseconds
        let peerSeconds = python?.ask(file.path).flatMap(Double.init)
        if run > 0 {
            ours.append(Double(t1 - t0) * 1e-9)
            firstForward.append(Double(t2 - t1) * 1e-9)
            if let peerSeconds { peer.append(peerSeconds) }
        }
    }
    python?.close()
    let peerMedian = peer.isEmpty ? nil : median(peer)
    if options.flags.contains("json") {
        print(jsonLine([
            ("preset", presetName), ("file_mb", Double(bytes) / 1e6), ("load_ms", median(ours) * 1e3),
            ("first_token_ms", median(firstForward) * 1e3), ("safetensors_load_file_ms", peerMedian.map { $0 * 1e3 }),
            ("save_ms", saveSeconds * 1e3),
        ]))
        return
    }
    print("load: \(presetName), model.safetensors \(format(Double(bytes) / 1e6)) MB, median of \(repeats) (page cache warm)")
    printTable(header: ["measure", "GPTKit", "peer", "peer is"], rows: [
        ["load ms", format(median(ours) * 1e3, digits: 2), format(peerMedian.map { $0 * 1e3 }, digits: 1),
         "safetensors.numpy.load_file"],
        ["first decoded token ms (pages touched)", format(median(firstForward) * 1e3), "", ""],
        ["save ms (once, streamed + fsync)", format(saveSeconds * 1e3), "", ""],
    ])
}

/// A long-lived `python3` child answering one line per line sent.
final class PythonLines {
    let process = Process()
    let input = Pipe(), output = Pipe()
    var buffer = Data()

    init?(script: String) {
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", script]
        process.environment = pythonEnvironment()
        process.standardInput = input
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        do { try process.run() } catch { return nil }
    }

    /// Sends `line`, returns the answer line (nil if the child died).
    func ask(_ line: String) -> String? {
        input.fileHandleForWriting.write(Data((line + "\n").utf8))
        while true {
            if let newline = buffer.firstIndex(of: 0x0A) {
                let answer = String(decoding: buffer[buffer.startIndex..<newline], as: UTF8.self)
                buffer.removeSubrange(buffer.startIndex...newline)
                return answer
            }
            let chunk = output.fileHandleForReading.availableData
            if chunk.isEmpty { return nil }
            buffer.append(chunk)
        }
    }

    func close() {
        try? input.fileHandleForWriting.close()
        process.waitUntilExit()
    }
}
