// ChatTemplateRobustnessTests: hand-written checks of error positions, refused constructs,
// resource limits, the public API, strftime_now with a fixed clock, and a bounded fuzz loop
// over mutations of the fixture templates (only ever a string or a ChatTemplateError).

import Foundation
import XCTest
import GPTTestSupport
@testable import GPTTokenizers

// MARK: - Errors

final class ChatTemplateRobustnessTests: XCTestCase {
    func testSyntaxErrorsNameLineAndColumn() {
        XCTAssertThrowsError(try ChatTemplate("line1\n{{ 1 + }}")) { error in
            XCTAssertEqual(error as? ChatTemplateError, .syntax(line: 2, column: 8, message: "unexpected 'end of print statement'"))
        }
        XCTAssertThrowsError(try ChatTemplate("ab\n  {% for x in y %}\n{{ x }")) { error in
            XCTAssertEqual(error as? ChatTemplateError, .syntax(line: 3, column: 6, message: "unexpected '}'"))
        }
        XCTAssertThrowsError(try ChatTemplate("{{ 'a' ! }}")) { error in
            XCTAssertEqual(error as? ChatTemplateError, .syntax(line: 1, column: 8, message: "unexpected char '!' at 7"))
        }
        XCTAssertThrowsError(try ChatTemplate("{% for x in [1] %}{% break %}{% endfor %}{% break %}")) { error in
            XCTAssertEqual(error as? ChatTemplateError, .syntax(line: 1, column: 45, message: "'break' outside loop"))
        }
        let description = ChatTemplateError.syntax(line: 2, column: 8, message: "unexpected '}'").errorDescription ?? ""
        XCTAssertTrue(description.contains("line 2") && description.contains("column 8"), description)
    }

    func testUnsupportedConstructsAreNamed() {
        let cases: [(String, String, Int)] = [
            ("{{ x|groupby('a') }}", "filter 'groupby'", 1),
            ("{{ x|nosuchfilter }}", "filter 'nosuchfilter'", 1),
            ("a\n{{ x is nosuchtest }}", "test 'nosuchtest'", 2),
            ("{% macro m() %}{% endmacro %}", "statement 'macro'", 1),
            ("{% include 'other.jinja' %}", "statement 'include'", 1),
            ("{% frobnicate %}", "statement 'frobnicate'", 1),
            ("{% for x in y recursive %}{% endfor %}", "recursive for loops", 1),
            ("{{ f(*args) }}", "*args and **kwargs in calls", 1),
        ]
        for (source, construct, line) in cases {
            XCTAssertThrowsError(try ChatTemplate(source), source) { error in
                XCTAssertEqual(error as? ChatTemplateError, .unsupported(construct: construct, line: line), source)
            }
        }
        assertTemplateError("{{ [1]|map('nosuchfilter')|list }}", .unsupported(construct: "filter 'nosuchfilter'", line: 1))
        assertTemplateError("{{ cycler(1, 2) }}", .unsupported(construct: "the global function 'cycler'", line: 1))
    }

    func testRaiseExceptionIsRaised() {
        assertTemplateError("{{ raise_exception('Conversation roles must alternate') }}",
            .raised(message: "Conversation roles must alternate"))
    }

    // MARK: - Limits

    func testHostileTemplatesHitLimitsInsteadOfHanging() throws {
        let cases = [
            "{% set ns = namespace(s='x') %}{% for i in range(40) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}",
            "{% for i in range(20000) %}{{ 'x' * 1000 }}{% endfor %}",
            "{% set ns = namespace(x=1) %}{% for i in range(1000) %}{% set ns.x = [ns.x] %}{% endfor %}",
            "{{ 'x' * 100000000 }}",
            "{{ [0] * 100000000 }}",
            "{{ range(1000000)|list }}",
            "{{ 2 ** 200 }}",
            "{% set ns = namespace(g=[1]) %}{% for i in range(1000) %}{% set ns.g = ns.g|select %}{% endfor %}{{ ns.g|list }}",
        ]
        for source in cases {
            XCTAssertThrowsError(try renderTemplate(source), source) { error in
                guard case .runtime? = error as? ChatTemplateError else { return XCTFail("\(source): \(error)") }
            }
        }
        let deep = "{{ " + String(repeating: "(", count: 500) + "1" + String(repeating: ")", count: 500) + " }}"
        XCTAssertThrowsError(try ChatTemplate(deep)) { error in
            guard case .syntax? = error as? ChatTemplateError else { return XCTFail("\(error)") }
        }
        let chain = "{{ 1" + String(repeating: " + 1", count: 5_000) + " }}{{ x" + String(repeating: "|trim", count: 5_000) + " }}"
        XCTAssertThrowsError(try ChatTemplate(chain)) { error in
            guard case .syntax? = error as? ChatTemplateError else { return XCTFail("\(error)") }
        }
        XCTAssertEqual(try renderTemplate("{{ 1" + String(repeating: " + 1", count: 50) + " }}"), "51")
        let nested = String(repeating: "{% if true %}", count: 300) + String(repeating: "{% endif %}", count: 300)
        XCTAssertThrowsError(try ChatTemplate(nested))
        let deepValue: ChatTemplateValue = (0..<1000).reduce(.integer(0)) { inner, _ in .array([inner]) }
        XCTAssertThrowsError(try renderTemplate("{{ x }}", variables: ["x": deepValue]))
    }

    // MARK: - Public API

    func testPublicAPI() throws {
        let documented = try ChatTemplate(
            "{% for m in messages %}<|im_start|>{{ m.role }}\n{{ m.content }}<|im_end|>\n{% endfor %}"
                + "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}")
        XCTAssertEqual(try documented.render(messages: [ChatMessage(role: "user", content: "Hi")], addGenerationPrompt: true),
            "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n")
        let template = try ChatTemplate(
            "{{ bos_token }}{% for m in messages %}<|{{ m.role }}|>{{ m.content }}{{ eos_token }}{% endfor %}"
                + "{% if add_generation_prompt %}<|assistant|>{% endif %}{{ tools[0].name if tools }}")
        let messages = [ChatMessage(role: "user", content: "Hi")]
        XCTAssertEqual(try template.render(messages: messages, addGenerationPrompt: true, bosToken: "<s>", eosToken: "</s>"),
            "<s><|user|>Hi</s><|assistant|>")
        XCTAssertEqual(try template.render(messages: messages, addGenerationPrompt: false, variables: ["tools": [["name": "f"]]]),
            "<|user|>Hif")
        let conversation: [ChatTemplateValue] = [["role": "assistant", "content": "x", "tool_calls": []]]
        XCTAssertEqual(try template.render(conversation: conversation, addGenerationPrompt: false), "<|assistant|>x")

        let message = ChatMessage(role: "system", content: "Be brief.")
        XCTAssertEqual(try JSONDecoder().decode(ChatMessage.self, from: JSONEncoder().encode(message)), message)
        let ordered: ChatTemplateValue = ["a": 1, "b": [true, nil, 1.5, "s"]]
        XCTAssertEqual(ordered, .object([("a", .integer(1)), ("b", .array([.bool(true), .none, .double(1.5), .string("s")]))]))
        XCTAssertNotEqual(ordered, .object([("b", .array([.bool(true), .none, .double(1.5), .string("s")])), ("a", .integer(1))]))
        XCTAssertEqual(Set([ordered, ordered]).count, 1)
        XCTAssertEqual(try renderTemplate("{{ x|tojson }}", variables: ["x": ordered]), "{\"a\": 1, \"b\": [true, null, 1.5, \"s\"]}")
    }

    func testStrftimeNowUsesTheRenderClock() throws {
        // 2024-07-26 12:00 UTC is the 26th in every time zone from UTC-11 to UTC+11.
        let noon = Date(timeIntervalSince1970: 1_721_995_200)
        let template = try ChatTemplate("{{ strftime_now('%d %b %Y') }}|{{ strftime_now('%-d %B %y, %A') }}")
        let text = try template.render(conversation: [], addGenerationPrompt: false, bosToken: "", eosToken: "",
            variables: [:], now: noon)
        XCTAssertEqual(text, "26 Jul 2024|26 July 24, Friday")
    }

    // MARK: - Fuzz

    /// Mutations of every fixture template only ever render or throw ChatTemplateError.
    func testFuzzedFixtureTemplatesNeverCrash() throws {
        let fixture = try ChatTemplateFixture.load()
        let sources = try fixture.templates.values.map { try ChatTemplateFixture.source($0.file) }.sorted()
        let messages = try XCTUnwrap(fixture.conversations["system_multi_turn"])
        let insertions: [Unicode.Scalar] = ["{", "}", "%", "-", "+", "#", "'", "\"", "(", ")", "[", "]", "|", ".", ",", "\n", " "]
        var random = SplitMix64(seed: 0x5EED)
        var outcomes = (rendered: 0, syntax: 0, unsupported: 0, raised: 0, runtime: 0)
        let start = Date()
        for round in 0..<2000 {
            var scalars = Array(sources[round % sources.count].unicodeScalars)
            for _ in 0..<(1 + Int(random.next() % 4)) {
                guard !scalars.isEmpty else { break }
                let position = Int(random.next() % UInt64(scalars.count))
                switch random.next() % 4 {
                case 0: scalars.remove(at: position)
                case 1, 2: scalars.insert(insertions[Int(random.next() % UInt64(insertions.count))], at: position)
                default: scalars.removeSubrange(position...)
                }
            }
            let source = String(String.UnicodeScalarView(scalars))
            do {
                let template = try ChatTemplate(source)
                _ = try template.render(messages: messages, addGenerationPrompt: round % 2 == 0, bosToken: "<s>",
                    eosToken: "</s>")
                outcomes.rendered += 1
            } catch let error as ChatTemplateError {
                switch error {
                case .syntax: outcomes.syntax += 1
                case .unsupported: outcomes.unsupported += 1
                case .raised: outcomes.raised += 1
                case .runtime: outcomes.runtime += 1
                }
            } catch {
                XCTFail("round \(round): \(error) is not a ChatTemplateError")
            }
        }
        XCTAssertGreaterThan(outcomes.rendered, 0)
        XCTAssertGreaterThan(outcomes.syntax, 0)
        print("fuzz: \(outcomes) in \(String(format: "%.2f", Date().timeIntervalSince(start))) s")
    }
}
