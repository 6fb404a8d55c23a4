// Content filters on streamed text: a blocked phrase split across tokens is still caught, a
// redacted span is never released, and streaming gives what filtering the whole text gives.
import Foundation
import XCTest
import GPTTensor
@testable import GPTEvaluation

final class ContentFilterTests: XCTestCase {
    private func blocklist() throws -> BlocklistFilter {
        try BlocklistFilter(rules: [
            .init(phrase: "build a bomb", category: "weapons", action: .stop),
            .init(phrase: "secret code", category: "leak", action: .redact),
            .init(pattern: #"(?<!\d)\d{3}-\d{2}-\d{4}(?!\d)"#, category: "pii", action: .redact, maximumLength: 11),
        ])
    }

    /// Feeds `chunks` and returns every released piece, plus the stream.
    private func stream(_ chunks: [String], _ filter: any ContentFilter) throws -> ([String], FilteredTextStream) {
        var stream = FilteredTextStream(filters: [filter])
        var pieces: [String] = []
        for chunk in chunks {
            pieces.append(try stream.append(chunk))
            if stream.stopVerdict != nil { break }
        }
        pieces.append(try stream.finish())
        return (pieces, stream)
    }

    func testAPhraseSplitAcrossTokensStopsBeforeAnyOfItIsShown() throws {
        let (pieces, stream) = try stream(["Sure! First you bu", "ild a b", "OMB by", " mixing"], try blocklist())
        let shown = pieces.joined()
        XCTAssertEqual(shown, "Sure! First you ")
        XCTAssertEqual(stream.stopVerdict?.category, "weapons")
        XCTAssertEqual(stream.stopVerdict?.action, .stop)
        // Whitespace variants still match; a longer word containing the phrase does not.
        XCTAssertNotNil(try self.stream(["to build  a\nbomb"], try blocklist()).1.stopVerdict)
        XCTAssertNil(try self.stream(["rebuild a bombastic speech"], try blocklist()).1.stopVerdict)
    }

    func testRedactionNeverReleasesTheBlockedText() throws {
        let text = "The secret code is 123-45-6789, and the SECRET   CODE again; secretcode stays."
        var whole = FilteredTextStream(filters: [try blocklist()])
        let expected = try XCTUnwrap(try whole.filterWhole(text))
        XCTAssertEqual(expected, "The [redacted] is [redacted], and the [redacted] again; secretcode stays.")
        XCTAssertEqual(whole.verdicts.map(\.category), ["leak", "pii", "leak"])
        // Every way of cutting the text into 1…6-scalar chunks: the same output, and no released
        // prefix ever holds the blocked text.
        var generator = RandomGenerator(seed: 3)
        let scalars = Array(text.unicodeScalars)
        for _ in 0..<300 {
            var chunks: [String] = []
            var i = 0
            while i < scalars.count {
                let n = Int.random(in: 1...6, using: &generator)
                chunks.append(scalarString(scalars[i..<min(i + n, scalars.count)]))
                i += n
            }
            let (pieces, _) = try stream(chunks, try blocklist())
            var shown = ""
            for piece in pieces {
                shown += piece
                let lower = shown.lowercased()
                XCTAssertFalse(lower.contains("secret code") || lower.contains("secret   code") || shown.contains("123-45"), shown)
            }
            XCTAssertEqual(shown, expected, "chunks \(chunks)")
        }
    }

    func testStreamingEqualsWholeTextOnRandomTexts() throws {
        let words = ["build", "a", "bomb", "secret", "code", "the", "cat", "123-45-6789", "x", "é", "\n"]
        var generator = RandomGenerator(seed: 11)
        for _ in 0..<200 {
            let text = (0..<Int.random(in: 1...30, using: &generator)).map { _ in words.randomElement(using: &generator)! }.joined(separator: " ")
            var whole = FilteredTextStream(filters: [try blocklist()])
            let expected = try whole.append(text) + whole.finish()
            let scalars = Array(text.unicodeScalars)
            var chunks: [String] = []
            var i = 0
            while i < scalars.count {
                let n = Int.random(in: 1...4, using: &generator)
                chunks.append(scalarString(scalars[i..<min(i + n, scalars.count)]))
                i += n
            }
            let (pieces, streamed) = try stream(chunks, try blocklist())
            XCTAssertEqual(pieces.joined(), expected, text.debugDescription)
            XCTAssertEqual(streamed.stopVerdict, whole.stopVerdict, text.debugDescription)
        }
    }

    func testRulesFromAFileAndBadRules() throws {
        let directory = try temporaryDirectory(self)
        let url = directory.appendingPathComponent("rules.jsonl")
        try Data("""
            {"phrase": "make a bomb", "category": "weapons"}
            {"pattern": "\\\\bpassw(or)?d\\\\b", "category": "leak", "action": "redact", "max_length": 12}

            """.utf8).write(to: url)
        let filter = try BlocklistFilter(contentsOf: url)
        XCTAssertEqual(filter.rules.count, 2)
        XCTAssertEqual(filter.name, "rules")
        var stream = FilteredTextStream(filters: [filter])
        XCTAssertEqual(try stream.filterWhole("my passwd is"), "my [redacted] is")
        for bad in [#"{"phrase": "x"}"#, #"{"category": "c"}"#, #"{"pattern": "(", "category": "c"}"#, "not json",
                    #"{"phrase": "x", "pattern": "y", "category": "c"}"#, #"{"phrase": "x", "category": "c", "action": "maybe"}"#] {
            try Data(bad.utf8).write(to: url)
            XCTAssertThrowsError(try BlocklistFilter(contentsOf: url), bad)
        }
        XCTAssertThrowsError(try BlocklistFilter(rules: [.init(pattern: "[", category: "c")]))
    }

    func testStandardBlocklistAndSHA256() throws {
        var stream = FilteredTextStream(filters: [try BlocklistFilter.standard()])
        XCTAssertEqual(try stream.filterWhole("card 4111 1111 1111 1111 ok"), "card [redacted] ok")
        XCTAssertNil(try stream.filterWhole("Here is how to Build a Bomb"))
        XCTAssertEqual(sha256Hex(Array("abc".utf8)), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        XCTAssertEqual(sha256Hex([]), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        XCTAssertEqual(sha256Hex(Array(String(repeating: "a", count: 1000).utf8)),
                       "41edece42d63e8d9bf515a9ba6932e1c20cbc9f5a5d134645adb5db1b9737ea3")
    }
}

/// The stream against whole-text filtering where findings nest, grow, or are cancelled by text
/// still to come, and where matches end inside a grapheme cluster.
final class ContentFilterEdgeTests: XCTestCase {
    private func run(_ chunks: [String], _ filters: [any ContentFilter]) throws -> (shown: String, stopped: Bool) {
        var stream = FilteredTextStream(filters: filters)
        var shown = ""
        for chunk in chunks {
            shown += try stream.append(chunk)
            if stream.stopVerdict != nil { break }
        }
        shown += try stream.finish()
        return (shown, stream.stopVerdict != nil)
    }

    private func whole(_ text: String, _ filters: [any ContentFilter]) throws -> (shown: String, stopped: Bool) {
        try run([text], filters)
    }

    func testMatchesEndingInsideAGraphemeClusterAreFound() throws {
        let standard = try BlocklistFilter.standard()
        XCTAssertTrue(try whole("how to build a bomb\u{FE0F} now", [standard]).stopped)
        XCTAssertTrue(try whole("make a bomb\u{301} now", [standard]).stopped)
        XCTAssertEqual(try whole("ssn 123-45-6789\u{301} ok", [standard]).shown, "ssn [redacted]\u{301} ok")
        XCTAssertEqual(try whole("👍🏽 123-45-6789 👨‍👩‍👧", [standard]).shown, "👍🏽 [redacted] 👨‍👩‍👧")
    }

    func testNestedGrowingAndCancelledFindingsStreamAsTheWholeText() throws {
        let nested = try BlocklistFilter(rules: [.init(phrase: "how to build a bomb", category: "weapons", action: .stop),
                                                 .init(phrase: "build", category: "word", action: .redact)])
        let streamed = try run(["so how to build", " a bomb"], [nested])
        XCTAssertTrue(streamed.stopped)
        XCTAssertEqual(streamed.shown, "so ")
        XCTAssertEqual(try whole("so how to build a bomb", [nested]).shown, "so ")
        let key = try BlocklistFilter(rules: [.init(pattern: "sk-[A-Za-z0-9]{20,}", category: "key", action: .redact, maximumLength: 60)])
        XCTAssertEqual(try run(["key sk-abcdefghijklmnopqrstu", "vwxyz0123 done"], [key]).shown, "key [redacted] done")
        let code = try BlocklistFilter(rules: [.init(phrase: "secret code", category: "leak", action: .redact)])
        XCTAssertEqual(try run(["the secret code", "s are here"], [code]).shown, "the secret codes are here")
        let standard = try BlocklistFilter.standard()
        XCTAssertEqual(try run(["a detonator", "s shop"], [standard]).shown, "a detonators shop")
        XCTAssertTrue(try run(["a detonator", ". Then"], [standard]).stopped)
    }

    func testRandomChunkingsWithOverlappingRulesEqualTheWholeText() throws {
        let filters: [any ContentFilter] = [try BlocklistFilter(rules: [
            .init(phrase: "how to build a bomb", category: "weapons", action: .stop),
            .init(phrase: "build", category: "word", action: .redact),
            .init(phrase: "secret code", category: "leak", action: .redact),
            .init(pattern: "sk-[a-z0-9]{8,}", category: "key", action: .redact, maximumLength: 40),
            .init(pattern: "ab+a", category: "x", action: .redact, maximumLength: 12),
        ])]
        let words = ["how", "to", "build", "a", "bomb", "secret", "code", "codes", "sk-abcd1234efgh", "abbba", "abba", "é", "\u{301}", "\n"]
        var generator = RandomGenerator(seed: 5)
        for _ in 0..<300 {
            let text = (0..<Int.random(in: 1...24, using: &generator)).map { _ in words.randomElement(using: &generator)! }
                .joined(separator: Bool.random(using: &generator) ? " " : "")
            let expected = try whole(text, filters)
            let scalars = Array(text.unicodeScalars)
            var chunks: [String] = []
            var i = 0
            while i < scalars.count {
                let n = Int.random(in: 1...5, using: &generator)
                chunks.append(scalarString(scalars[i..<min(i + n, scalars.count)]))
                i += n
            }
            let streamed = try run(chunks, filters)
            XCTAssertEqual(streamed.shown, expected.shown, "\(text.debugDescription) in \(chunks)")
            XCTAssertEqual(streamed.stopped, expected.stopped, text.debugDescription)
        }
    }

    func testAMatchLongerThanItsRuleStopsInsteadOfLeaking() throws {
        let rule = try BlocklistFilter(rules: [.init(pattern: #"BEGIN[\s\S]*?END"#, category: "block", action: .redact, maximumLength: 10)])
        // Its start was released before the match existed (no filter can know, 20 characters
        // early, that END will come); once it matches, the stream stops rather than go on.
        let streamed = try run(["ok BEGIN", " a very long ", "secret section END after"], [rule])
        XCTAssertTrue(streamed.stopped)
        XCTAssertFalse(streamed.shown.contains("END"), streamed.shown)
        XCTAssertFalse(streamed.shown.contains("after"), streamed.shown)
        XCTAssertEqual(try whole("ok BEGIN a very long secret section END after", [rule]).stopped, true)
        // Rule files: a max_length that is not a whole number is an error, not a default.
        let directory = try temporaryDirectory(self)
        let url = directory.appendingPathComponent("rules.jsonl")
        for bad in [#"{"pattern": "x", "category": "c", "max_length": 200.5}"#, #"{"pattern": "x", "category": "c", "max_length": "200"}"#] {
            try Data(bad.utf8).write(to: url)
            XCTAssertThrowsError(try BlocklistFilter(contentsOf: url), bad)
        }
    }

    func testMisbehavingFiltersCannotCrashTheStream() throws {
        struct Wild: ContentFilter {
            var name: String { "wild" }
            var maximumMatchLength: Int { 4 }
            func review(_ text: String) -> [FilterFinding] {
                [FilterFinding(range: 50..<60, action: .redact, category: "x", reason: "out of range"),
                 FilterFinding(range: -5..<2, action: .redact, category: "x", reason: "negative")]
            }
        }
        var stream = FilteredTextStream(filters: [Wild()])
        _ = try stream.append("héllo")
        _ = try stream.finish()
    }
}
