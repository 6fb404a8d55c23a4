// Any bytes as a config.json: decode, read with the model's family, validate, and estimate the
// memory the model would need (what loaders do before allocating). Only thrown errors are allowed.
import Foundation
import GPTKit

func fuzzConfiguration(_ bytes: UnsafePointer<UInt8>, _ count: Int) -> CInt {
    let data = Data(bytes: bytes, count: count)
    guard let json = try? JSONDecoder().decode([String: JSONConfigValue].self, from: data),
          let configuration = try? GPTConfiguration(huggingFace: json, file: "config.json") else { return 0 }
    _ = configuration.estimatedWeightBytes
    _ = configuration.estimatedActivationBytes(batch: 1, time: min(configuration.contextLength, 8), perBlock: false)
    _ = configuration.huggingFaceConfig
    return 0
}

// libFuzzer's driver runs the loop (linked without its own `main`, see Fuzz/run).
@_silgen_name("LLVMFuzzerRunDriver")
func runFuzzerDriver(
    _ argc: UnsafeMutablePointer<CInt>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>,
    _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt
) -> CInt

var argumentCount = CommandLine.argc
var argumentValues = CommandLine.unsafeArgv
exit(runFuzzerDriver(&argumentCount, &argumentValues) { bytes, size in fuzzConfiguration(bytes ?? UnsafePointer(bitPattern: 1)!, size) })
