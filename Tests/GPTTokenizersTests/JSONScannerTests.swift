// JSONScannerTests: the hand-written JSON reader: every kind of value, escapes, and errors
// that name the byte offset.

import Foundation
import XCTest
@testable import GPTTokenizers

final class JSONScannerTests: XCTestCase {
    func scan(_ text: String) throws -> JSONValue {
        var text = text
        return try text.withUTF8 { utf8 in
            var scanner = JSONScanner(bytes: utf8, path: "test.json")
            let value = try scanner.scanValue()
            try scanner.expectEnd()
            return value
        }
    }

    func testParsesEveryKindOfValue() throws {
        let document = #"  {"a": [1, -2, 3.5, 1e3, -0.25, true, false, null], "b": {"c": "d"}, "": [], "big": 9007199254740993}  "#
        let expected = JSONValue.object([
            "a": .array([.integer(1), .integer(-2), .double(3.5), .double(1000), .double(-0.25), .bool(true), .bool(false), .null]),
            "b": .object(["c": .string("d")]),
            "": .array([]),
            "big": .integer(9_007_199_254_740_993),
        ])
        XCTAssertEqual(try scan(document), expected)
        let strings = #"["\"quoted\" \\ \/ \b\f\n\r\t", "😀 é 日本", "", "\u0000"]"#
        XCTAssertEqual(try scan(strings), .array([.string("\"quoted\" \\ / \u{8}\u{C}\n\r\t"), .string("😀 é 日本"), .string(""), .string("\u{0}")]))
    }

    func testEscapesAndSurrogatePairs() throws {
        XCTAssertEqual(try scan(#""\u0120\u010a\ud83c\udf0d\/""#), .string("Ġ\u{10A}🌍/"))
    }

    func testErrorsNameTheOffset() {
        let bad: [(String, Int)] = [
            (#"{"a" 1}"#, 5), (#"[1, 2"#, 5), (#""\ud800x""#, 1), (#""\q""#, 1), ("[tru]", 1), (#"{"a": 1} x"#, 9),
            ("\"line\nbreak\"", 5), ("[01]", 1), ("", 0),
        ]
        for (document, offset) in bad {
            do {
                _ = try scan(document)
                XCTFail("accepted \(document.debugDescription)")
            } catch let error as TokenizerError {
                guard case .malformedJSON("test.json", let found, _) = error else {
                    return XCTFail("wrong error \(error)")
                }
                XCTAssertEqual(found, offset, document.debugDescription)
            } catch {
                XCTFail("wrong error type \(error)")
            }
        }
    }

    func testDeepNestingIsAnErrorNotACrash() {
        let document = String(repeating: "[", count: 10_000) + String(repeating: "]", count: 10_000)
        XCTAssertThrowsError(try scan(document))
    }
}
