// Any bytes as a config.json: decode, read with the model's family, validate, and estimate the
// memory the model would need (what loaders do before allocating). Only thrown errors are allowed.
import Foundation
import FuzzSupport
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

exit(runFuzzer { input in _ = fuzzConfiguration(input.baseAddress ?? UnsafePointer(bitPattern: 1)!, input.count) })
