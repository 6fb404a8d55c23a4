// ChatTemplateTests: every rendering of Fixtures/chat-templates/renderings.json (made with
// transformers' apply_chat_template, jinja2 3.1.6) reproduced byte for byte, or the same
// exception; plus the public API's error cases.

import Foundation
import XCTest
@testable import GPTTokenizers

// MARK: - Fixture format

/// Fixtures/chat-templates/renderings.json.
struct ChatTemplateFixture: Decodable {
    struct Template: Decodable {
        let file: String
        let specialTokens: [String: String]
        let renderings: [Rendering]
        enum CodingKeys: String, CodingKey { case file, specialTokens = "special_tokens", renderings }
    }
    struct Rendering: Decodable {
        let conversation: String
        let addGenerationPrompt: Bool
        let text: String?
        let error: Failure?
        enum CodingKeys: String, CodingKey { case conversation, addGenerationPrompt = "add_generation_prompt", text, error }
    }
    struct Failure: Decodable {
        let type: String
        let message: String
    }
    let conversations: [String: [ChatMessage]]
    let templates: [String: Template]

    /// Fixtures/chat-templates, found from this file: three levels up is the package root.
    static let directory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/chat-templates")

    static func load() throws -> ChatTemplateFixture {
        let data = try Data(contentsOf: directory.appendingPathComponent("renderings.json"))
        return try JSONDecoder().decode(ChatTemplateFixture.self, from: data)
    }

    static func source(_ file: String) throws -> String {
        try String(contentsOf: directory.appendingPathComponent(file), encoding: .utf8)
    }
}

// MARK: - Fixture renderings

final class ChatTemplateFixtureTests: XCTestCase {
    func testEveryFixtureRendering() throws {
        let fixture = try ChatTemplateFixture.load()
        XCTAssertEqual(fixture.templates.count, 9)
        var checked = 0
        for (name, entry) in fixture.templates.sorted(by: { $0.key < $1.key }) {
            let template = try ChatTemplate(try ChatTemplateFixture.source(entry.file))
            var variables: [String: ChatTemplateValue] = [:]
            for (key, token) in entry.specialTokens where key != "bos_token" && key != "eos_token" {
                variables[key] = .string(token)
            }
            for rendering in entry.renderings {
                let messages = try XCTUnwrap(fixture.conversations[rendering.conversation])
                let label = "\(name) × \(rendering.conversation) × add_generation_prompt=\(rendering.addGenerationPrompt)"
                do {
                    let text = try template.render(messages: messages, addGenerationPrompt: rendering.addGenerationPrompt,
                        bosToken: entry.specialTokens["bos_token"] ?? "", eosToken: entry.specialTokens["eos_token"] ?? "",
                        variables: variables)
                    XCTAssertNil(rendering.error, "\(label): rendered but jinja2 raised")
                    XCTAssertTrue(text.utf8.elementsEqual((rendering.text ?? "").utf8), "\(label):\n\(text.debugDescription)\n!=\n\((rendering.text ?? "").debugDescription)")
                } catch ChatTemplateError.raised(let message) {
                    XCTAssertEqual(rendering.error?.type, "jinja2.exceptions.TemplateError", label)
                    XCTAssertEqual(message, rendering.error?.message, label)
                }
                checked += 1
            }
        }
        XCTAssertEqual(checked, 126)
    }
}

// MARK: - Helpers

extension XCTestCase {
    /// Renders `source` with transformers' default context (messages, tools=None...) plus `variables`.
    func renderTemplate(_ source: String, variables: [String: ChatTemplateValue] = [:],
        messages: [ChatTemplateValue] = []) throws -> String
    {
        try ChatTemplate(source).render(conversation: messages, addGenerationPrompt: false, variables: variables)
    }

    /// Asserts that `source` renders exactly `expected` (compared by code points).
    func assertRenders(_ source: String, variables: [String: ChatTemplateValue] = [:], messages: [ChatTemplateValue] = [],
        _ expected: String, file: StaticString = #filePath, line: UInt = #line) throws
    {
        let text = try renderTemplate(source, variables: variables, messages: messages)
        XCTAssertTrue(text.unicodeScalars.elementsEqual(expected.unicodeScalars),
            "\(source.debugDescription)\n  got      \(text.debugDescription)\n  expected \(expected.debugDescription)",
            file: file, line: line)
    }

    /// Asserts that parsing or rendering `source` throws `expected`.
    func assertTemplateError(_ source: String, variables: [String: ChatTemplateValue] = [:], messages: [ChatTemplateValue] = [],
        _ expected: ChatTemplateError, file: StaticString = #filePath, line: UInt = #line)
    {
        XCTAssertThrowsError(try renderTemplate(source, variables: variables, messages: messages), source,
            file: file, line: line) { error in
            XCTAssertEqual(error as? ChatTemplateError, expected, source, file: file, line: line)
        }
    }

    /// Asserts a `.runtime` error with `message` (at any line).
    func assertTemplateRuntimeError(_ source: String, variables: [String: ChatTemplateValue] = [:],
        messages: [ChatTemplateValue] = [], _ message: String, file: StaticString = #filePath, line: UInt = #line)
    {
        XCTAssertThrowsError(try renderTemplate(source, variables: variables, messages: messages), source,
            file: file, line: line) { error in
            guard case .runtime(_, let actual)? = error as? ChatTemplateError else {
                return XCTFail("\(source): \(error), expected a runtime error", file: file, line: line)
            }
            XCTAssertEqual(actual, message, source, file: file, line: line)
        }
    }

    /// Asserts a `.syntax` error on `templateLine` with `message` (at any column).
    func assertTemplateSyntaxError(_ source: String, variables: [String: ChatTemplateValue] = [:],
        messages: [ChatTemplateValue] = [], line templateLine: Int, _ message: String, file: StaticString = #filePath,
        line: UInt = #line)
    {
        XCTAssertThrowsError(try ChatTemplate(source), source, file: file, line: line) { error in
            guard case .syntax(let actualLine, _, let actual)? = error as? ChatTemplateError else {
                return XCTFail("\(source): \(error), expected a syntax error", file: file, line: line)
            }
            XCTAssertEqual(actualLine, templateLine, source, file: file, line: line)
            XCTAssertEqual(actual, message, source, file: file, line: line)
        }
    }
}
