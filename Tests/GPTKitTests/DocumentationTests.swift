import Foundation
import XCTest

/// Every public declaration in Sources/ carries a doc comment (`///`), so the generated
/// documentation has no blank entries.
final class DocumentationTests: XCTestCase {
    func testEveryPublicSymbolHasADocComment() throws {
        let sources = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Sources")
        let files = try XCTUnwrap(FileManager.default.enumerator(at: sources, includingPropertiesForKeys: nil))
            .compactMap { $0 as? URL }.filter { $0.pathExtension == "swift" }
        XCTAssertGreaterThan(files.count, 50)
        var missing: [String] = []
        for file in files {
            let lines = try String(contentsOf: file, encoding: .utf8).components(separatedBy: "\n")
            for (index, line) in lines.enumerated() {
                let code = line.trimmingCharacters(in: .whitespaces)
                guard code.hasPrefix("public ") || code.hasPrefix("open ") else { continue }
                // Members that implement a documented protocol requirement inherit its documentation.
                if code.contains("static func == ") || code.contains("func hash(into") || code.contains("init(from decoder")
                    || code.contains("func encode(to encoder") { continue }
                // Walk up over attributes (@inlinable, @discardableResult, ...) to the comment.
                var previous = index - 1
                while previous >= 0, lines[previous].trimmingCharacters(in: .whitespaces).hasPrefix("@") { previous -= 1 }
                let above = previous >= 0 ? lines[previous].trimmingCharacters(in: .whitespaces) : ""
                if !above.hasPrefix("///") && !above.hasSuffix("*/") {
                    missing.append("\(file.lastPathComponent):\(index + 1): \(code.prefix(80))")
                }
            }
        }
        XCTAssertTrue(missing.isEmpty, "public declarations without a doc comment:\n" + missing.joined(separator: "\n"))
    }
}
