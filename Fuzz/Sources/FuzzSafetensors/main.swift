// Any bytes as a safetensors file: parse the header, then read every tensor it declares (each
// read is bounded by the file's own size). Only thrown errors are allowed.
import Foundation
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

// libFuzzer's driver runs the loop (linked without its own `main`, see Fuzz/run).
@_silgen_name("LLVMFuzzerRunDriver")
func runFuzzerDriver(
    _ argc: UnsafeMutablePointer<CInt>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>,
    _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt
) -> CInt

var argumentCount = CommandLine.argc
var argumentValues = CommandLine.unsafeArgv
exit(runFuzzerDriver(&argumentCount, &argumentValues) { bytes, size in fuzzSafetensors(bytes ?? UnsafePointer(bitPattern: 1)!, size) })
