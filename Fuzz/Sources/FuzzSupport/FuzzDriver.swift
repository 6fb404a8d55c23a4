// Runs libFuzzer's driver over one test function. The targets are SwiftPM executables (SwiftPM
// supplies their entry point), so libFuzzer is linked without its own `main` (see Fuzz/run) and
// each target's main calls `runFuzzer`.

@_silgen_name("LLVMFuzzerRunDriver")
func runFuzzerDriver(
    _ argc: UnsafeMutablePointer<CInt>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>,
    _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt
) -> CInt

/// The test function libFuzzer calls; set once, before the driver starts.
nonisolated(unsafe) private var testFunction: (UnsafeBufferPointer<UInt8>) -> Void = { _ in }

/// Hands `test` to libFuzzer with this process's arguments and returns its exit status. `test`
/// receives each input; any thrown error must be caught inside it (only a crash is a finding).
public func runFuzzer(_ test: @escaping (UnsafeBufferPointer<UInt8>) -> Void) -> CInt {
    testFunction = test
    var count = CommandLine.argc
    var values = CommandLine.unsafeArgv
    return runFuzzerDriver(&count, &values) { bytes, size in
        testFunction(UnsafeBufferPointer(start: bytes, count: bytes == nil ? 0 : size))
        return 0
    }
}
