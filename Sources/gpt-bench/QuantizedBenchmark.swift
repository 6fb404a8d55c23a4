// gpt-bench quantized: the stored-format matrix-vector products on their own — weight GB/s and
// ns per 32-element block for each format and activation mode, on one and all threads, against
// the float32 SGEMV of the same matrix (the bandwidth reference). Each figure is the best of
// several rounds, so a busy machine disturbs it less than an end-to-end run.
import Foundation
import GPTKit

func runQuantizedBenchmark(arguments: [String]) throws {
    let options = try BenchmarkOptions(arguments, flagNames: ["json"])
    let outputs = try options.integer("outputs", default: 1536), inputs = try options.integer("inputs", default: 576)
    let rowCount = try options.integer("rows", default: 1)
    guard rowCount >= 1 && rowCount <= 64 else { throw BenchmarkError.usage("--rows from 1 to 64") }
    guard outputs > 0, inputs > 0, inputs % 256 == 0 || inputs % 32 == 0 else {
        throw BenchmarkError.usage("--inputs must be a multiple of 32")
    }
    let x = (0..<(rowCount * inputs)).map { Float(($0 * 37) % 101) / 50 - 1 }
    var y = [Float](repeating: 0, count: rowCount * outputs)
    var rows: [[String]] = []
    var json: [(String, Any?)] = [("outputs", outputs), ("inputs", inputs), ("rows", rowCount)]
    func time(_ body: () -> Void) -> Double {
        var best = Double.infinity
        for _ in 0..<7 {
            let start = DispatchTime.now().uptimeNanoseconds
            var runs = 0
            while DispatchTime.now().uptimeNanoseconds - start < 20_000_000 { body(); runs += 1 }
            best = min(best, Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-9 / Double(runs))
        }
        return best
    }
    let formats: [WeightFormat] = inputs % 256 == 0
        ? [.float32, .q8_0, .q4_0, .q4_1, .q5_0, .q5_1, .q4_K, .q5_K, .q6_K, .float16, .bfloat16]
        : [.float32, .q8_0, .q4_0, .q4_1, .q5_0, .q5_1, .float16, .bfloat16]
    for storage in formats {
        let byteCount = outputs * inputs / storage.blockSize * storage.bytesPerBlock
        // Moderate values in every format: zero bytes, then each block's scale set small.
        var bytes = [UInt8](repeating: 0x11, count: byteCount)
        if storage != .float32 && storage != .float16 && storage != .bfloat16 {
            for block in 0..<(byteCount / storage.bytesPerBlock) {
                let at = block * storage.bytesPerBlock + (storage == .q6_K ? 208 : 0)
                bytes[at] = 0x00; bytes[at + 1] = 0x14  // f16 0.001
            }
        } else if storage == .float32 {
            bytes = [UInt8](repeating: 0, count: byteCount)
        }
        let modes: [StoredProductActivations?] = [.q8_0, .q4_0, .q4_1, .q5_0, .q5_1].contains(storage) ? [.float32, .int8] : [nil]
        for mode in modes {
            for threads in Set([1, Parallel.threadCount]).sorted() {
                let seconds = bytes.withUnsafeBytes { w in
                    time {
                        Kernels.multiplyStored(storage, w: w.baseAddress!, outputs: outputs, inputs: inputs, x: x, rows: rowCount, into: &y,
                                               activations: mode ?? .float32, threads: threads)
                    }
                }
                let name = "\(storage.rawValue)" + (mode.map { $0 == .int8 ? " int8 activations" : " float32 activations" } ?? "")
                let gbps = Double(byteCount) / seconds * 1e-9
                let perBlock = seconds * 1e9 * Double(threads) / Double(outputs * inputs / 32)
                rows.append([name, "\(threads)", format(seconds * 1e6, digits: 1), format(gbps, digits: 1), format(perBlock, digits: 2)])
                json.append(("\(storage.rawValue)\(mode == .int8 ? "_int8" : "")_t\(threads)_us", seconds * 1e6))
            }
        }
    }
    if options.flags.contains("json") {
        print(jsonLine(json))
        return
    }
    print("quantized: y[\(rowCount), \(outputs)] = x[\(rowCount), \(inputs)] · W[\(outputs), \(inputs)]ᵀ, best of 7 rounds of 20 ms")
    printTable(header: ["weights", "threads", "µs", "weight GB/s", "ns per 32-block per thread"], rows: rows)
}
