// swift-tools-version: 6.2
// libFuzzer targets for GPTKit's parsers, built by `Fuzz/run` with the address sanitizer and
// libFuzzer's coverage instrumentation (CI runs each for a bounded time). Each target's `main`
// hands its test function to libFuzzer's driver through FuzzSupport's `runFuzzer`.
import Foundation
import PackageDescription

// The root package's identity is its folder's name (whatever the clone is called).
let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().lastPathComponent.lowercased()

let package = Package(
    name: "GPTKitFuzz",
    platforms: [.macOS(.v15)],
    dependencies: [.package(path: "..")],
    targets: [
        .target(name: "FuzzSupport"),
        .executableTarget(name: "FuzzSafetensors", dependencies: ["FuzzSupport", .product(name: "GPTKit", package: root)]),
        .executableTarget(name: "FuzzConfiguration", dependencies: ["FuzzSupport", .product(name: "GPTKit", package: root)]),
        .executableTarget(name: "FuzzFiles", dependencies: ["FuzzSupport", .product(name: "GPTKit", package: root)]),
        .executableTarget(name: "FuzzCheckpoint", dependencies: ["FuzzSupport", .product(name: "GPTKit", package: root)]),
        .executableTarget(name: "FuzzData", dependencies: ["FuzzSupport", .product(name: "GPTKit", package: root)]),
        .executableTarget(name: "FuzzGGUF", dependencies: ["FuzzSupport", .product(name: "GPTKit", package: root)]),
        .executableTarget(name: "FuzzChatTemplate", dependencies: ["FuzzSupport", .product(name: "GPTKit", package: root)]),
        .executableTarget(name: "FuzzEvaluation", dependencies: ["FuzzSupport", .product(name: "GPTKit", package: root)]),
    ],
    swiftLanguageModes: [.v6]
)
