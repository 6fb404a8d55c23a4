// Any bytes as a safetensors file: parse the header, then read every tensor it declares (each
// read is bounded by the file's own size). Only thrown errors are allowed.
import Foundation
import FuzzSupport
import GPTKit

func fuzzSafetensors(_ bytes: UnsafePointer<UInt8>, _ count: Int) -> CInt {
    let data = Data(bytes: bytes, count: count)
    guard let file = try? SafetensorsFile(data: data, name: "fuzz") else { return 0 }
    for name in file.tensorNames {
        _ = try? file.tensor(named: name)
        _ = try? file.integers(named: name)
    }
    return 0
}

exit(runFuzzer { input in _ = fuzzSafetensors(input.baseAddress ?? UnsafePointer(bitPattern: 1)!, input.count) })
