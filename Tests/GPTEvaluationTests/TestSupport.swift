import Foundation
import XCTest

/// The package root (three levels above this file).
let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
/// The repository's Fixtures folder.
let fixturesDirectory = packageRoot.appendingPathComponent("Fixtures")
/// `../shared/data` next to the package (may be absent: tests using it skip).
let sharedDataDirectory = packageRoot.deletingLastPathComponent().appendingPathComponent("shared/data")

/// Decodes `Fixtures/evaluation/<name>` as `T`.
func loadFixture<T: Decodable>(_ name: String, as type: T.Type) throws -> T {
    let data = try Data(contentsOf: fixturesDirectory.appendingPathComponent("evaluation").appendingPathComponent(name))
    return try JSONDecoder().decode(T.self, from: data)
}

/// Fails unless |actual − expected| ≤ 1e-9 · max(1, |expected|) (1e-9 relative, and absolute near 0).
func assertMatches(_ actual: Double, _ expected: Double, _ message: @autoclosure () -> String,
                   file: StaticString = #filePath, line: UInt = #line) {
    if !(abs(actual - expected) <= 1e-9 * max(1, abs(expected))) {
        XCTFail("\(actual) vs sacrebleu/rouge-score \(expected): \(message())", file: file, line: line)
    }
}

/// A temporary directory, removed at the end of the test.
func temporaryDirectory(_ test: XCTestCase) throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("gptkit-evaluation-tests-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    test.addTeardownBlock { try? FileManager.default.removeItem(at: url) }
    return url
}
