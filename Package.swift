// swift-tools-version: 6.2
// GPTKit: decoder-only Transformers on the CPU, in Swift alone, with no package dependencies.
import PackageDescription

// The SGEMM micro-kernels are compiled once per instruction set, each in its own target with
// the flags that let the compiler use that vector width, and one of them is chosen at run time
// from the CPU's features (see Sources/GPTTensor/KernelDispatch.swift). The manifest is compiled
// for the host, so `#if arch` picks the flags that the host's compiler understands; on other
// architectures every target is built portably.
// The kernels are optimised in debug builds too: unoptimised SIMD code is ~100× slower, which
// would make `swift test` (a debug build) crawl through every model and training test.
let optimizedInDebug: [SwiftSetting] = [.unsafeFlags(["-O"], .when(configuration: .debug))]
#if arch(x86_64)
let avx2Flags: [SwiftSetting] = [.unsafeFlags(["-Xcc", "-march=x86-64-v3"])] + optimizedInDebug
let avx512Flags: [SwiftSetting] = [.unsafeFlags(["-Xcc", "-march=x86-64-v4"])] + optimizedInDebug
#else
let avx2Flags: [SwiftSetting] = optimizedInDebug
let avx512Flags: [SwiftSetting] = optimizedInDebug
#endif

let package = Package(
    name: "GPTKit",
    platforms: [.macOS(.v15)],  // Synchronization (Atomic, Mutex) needs macOS 15
    products: [
        .library(name: "GPTKit", targets: ["GPTKit"]),
        .executable(name: "gpt", targets: ["gpt"]),
        .executable(name: "gpt-bench", targets: ["gpt-bench"]),
    ],
    targets: [
        // Instructions LLVM does not form from SIMD code (prefetches; x86's vpmaddubsw, vpsignb),
        // through the compiler's Builtin module, which `-parse-stdlib` opens. Callers compile the
        // functions with their own flags; this target's AVX2 flags are for the copies a debug
        // build still emits here (see Builtins.swift).
        .target(name: "GPTCompilerBuiltins", swiftSettings: [.unsafeFlags(["-parse-stdlib"])] + avx2Flags),
        // Generic, @inlinable kernels; specialised inside each per-ISA target below.
        .target(name: "GPTKernelCore", dependencies: ["GPTCompilerBuiltins"], swiftSettings: optimizedInDebug),
        .target(name: "GPTKernelsPortable", dependencies: ["GPTKernelCore"], swiftSettings: optimizedInDebug),
        .target(name: "GPTKernelsAVX2", dependencies: ["GPTKernelCore", "GPTCompilerBuiltins"], swiftSettings: avx2Flags),
        .target(name: "GPTKernelsAVX512", dependencies: ["GPTKernelCore", "GPTCompilerBuiltins"], swiftSettings: avx512Flags),
        // File reading with failures in words, for the modules below (package-internal).
        .target(name: "GPTFiles"),
        .target(
            name: "GPTTensor",
            dependencies: ["GPTFiles", "GPTKernelCore", "GPTKernelsPortable", "GPTKernelsAVX2", "GPTKernelsAVX512"],
            swiftSettings: optimizedInDebug),
        .target(name: "GPTLayers", dependencies: ["GPTTensor", "GPTKernelCore"]),
        .target(name: "GPTTokenizers", dependencies: ["GPTFiles"]),
        .target(name: "GPTModel", dependencies: ["GPTFiles", "GPTKernelCore", "GPTTensor", "GPTLayers", "GPTTokenizers"]),
        .target(name: "GPTTraining", dependencies: ["GPTFiles", "GPTTensor", "GPTLayers", "GPTModel", "GPTTokenizers"]),
        // Perplexity, BLEU, chrF, ROUGE, the generation eval harness, content filters, audit log.
        .target(name: "GPTEvaluation", dependencies: ["GPTFiles", "GPTKernelCore", "GPTTensor", "GPTModel", "GPTTokenizers"]),
        .target(name: "GPTFineTuning", dependencies: ["GPTFiles", "GPTTensor", "GPTLayers", "GPTModel", "GPTTokenizers", "GPTTraining"]),
        .target(
            name: "GPTKit",
            dependencies: ["GPTTensor", "GPTLayers", "GPTModel", "GPTTokenizers", "GPTTraining", "GPTEvaluation", "GPTFineTuning"]),
        .executableTarget(name: "gpt", dependencies: ["GPTKit", "GPTFiles"]),
        .executableTarget(name: "gpt-bench", dependencies: ["GPTKit"]),
        // Plain reference kernels for the tests; in no product, so not public API.
        .target(name: "GPTTestSupport", swiftSettings: optimizedInDebug),
        .testTarget(name: "GPTFilesTests", dependencies: ["GPTFiles"]),
        .testTarget(name: "GPTTensorTests", dependencies: ["GPTTensor", "GPTKernelCore", "GPTTestSupport"]),
        .testTarget(name: "GPTLayersTests", dependencies: ["GPTLayers", "GPTTensor"]),
        .testTarget(name: "GPTTokenizersTests", dependencies: ["GPTTokenizers", "GPTTestSupport"]),
        .testTarget(name: "GPTModelTests", dependencies: ["GPTModel", "GPTLayers", "GPTTensor", "GPTTokenizers"]),
        .testTarget(name: "GPTTrainingTests", dependencies: ["GPTTraining", "GPTModel", "GPTTensor", "GPTTokenizers"]),
        .testTarget(name: "GPTEvaluationTests", dependencies: ["GPTEvaluation", "GPTKernelCore", "GPTTensor", "GPTModel", "GPTTokenizers"]),
        .testTarget(name: "GPTFineTuningTests", dependencies: ["GPTFineTuning", "GPTTraining", "GPTModel", "GPTTensor", "GPTTokenizers"]),
        .testTarget(name: "gptTests", dependencies: ["gpt"]),
        .testTarget(name: "GPTKitTests", dependencies: ["GPTKit"]),
    ],
    swiftLanguageModes: [.v6]
)
