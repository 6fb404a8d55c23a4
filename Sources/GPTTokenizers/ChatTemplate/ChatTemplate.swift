// ChatTemplate: the public entry point: parse a Hugging Face chat template (Jinja2) once, then
// render conversations with it, byte for byte as transformers' `apply_chat_template` does
// (jinja2's ImmutableSandboxedEnvironment with trim_blocks, lstrip_blocks, loopcontrols).
// Legend: ChatMessage = a plain {role, content} message; render(messages:) and
// render(conversation:) build the context transformers passes (messages, tools=None,
// documents=None, add_generation_prompt, bos_token, eos_token, then `variables`).

import Foundation

// MARK: - ChatMessage

/// One message of a conversation, as `{"role": ..., "content": ...}`.
public struct ChatMessage: Sendable, Hashable, Codable {
    /// The speaker: "system", "user", "assistant", "tool"...
    public var role: String
    /// The text of the message.
    public var content: String

    /// A message from `role` saying `content`.
    public init(role: String, content: String) {
        self.role = role
        self.content = content
    }
}

// MARK: - ChatTemplate

/// A parsed Jinja2 chat template (the `chat_template` of a tokenizer_config.json or GGUF file).
///
/// Parse once, render many times; rendering matches Python jinja2 as transformers configures
/// it, and a template's `raise_exception("...")` becomes ``ChatTemplateError/raised(message:)``:
/// ```swift
/// let template = try ChatTemplate(
///     "{% for m in messages %}<|im_start|>{{ m.role }}\n{{ m.content }}<|im_end|>\n{% endfor %}"
///     + "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}")
/// let prompt = try template.render(messages: [ChatMessage(role: "user", content: "Hi")], addGenerationPrompt: true)
/// // "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n"
/// ```
public struct ChatTemplate: Sendable {
    let body: [Stmt]

    /// Parses `source`; throws ``ChatTemplateError/syntax(line:column:message:)`` for invalid
    /// Jinja2 and ``ChatTemplateError/unsupported(construct:line:)`` for a construct this
    /// interpreter does not implement (macros, includes, unknown filters or tests...).
    public init(_ source: String) throws {
        var lexer = TemplateLexer(source)
        var parser = TemplateParser(tokens: try lexer.tokenize())
        body = try parser.parseTemplate()
    }

    /// Renders plain messages. `variables` adds context names or overrides `tools`, `documents`,
    /// `bos_token` and `eos_token` (e.g. `tools`, `date_string`, `pad_token`); `messages` and
    /// `add_generation_prompt` always come from the arguments. Throws ``ChatTemplateError``.
    public func render(messages: [ChatMessage], addGenerationPrompt: Bool, bosToken: String = "", eosToken: String = "",
        variables: [String: ChatTemplateValue] = [:]) throws -> String
    {
        try render(conversation: messages.map(ChatTemplateValue.init), addGenerationPrompt: addGenerationPrompt,
            bosToken: bosToken, eosToken: eosToken, variables: variables)
    }

    /// Renders messages given as general objects (with `tool_calls`, structured `content`...).
    /// Throws ``ChatTemplateError``.
    public func render(conversation: [ChatTemplateValue], addGenerationPrompt: Bool, bosToken: String = "",
        eosToken: String = "", variables: [String: ChatTemplateValue] = [:]) throws -> String
    {
        try render(conversation: conversation, addGenerationPrompt: addGenerationPrompt, bosToken: bosToken,
            eosToken: eosToken, variables: variables, now: Date())
    }

    /// The renderer with the clock that `strftime_now` reads given explicitly (for tests).
    func render(conversation: [ChatTemplateValue], addGenerationPrompt: Bool, bosToken: String, eosToken: String,
        variables: [String: ChatTemplateValue], now: Date) throws -> String
    {
        do {
            var context: [String: Value] = [
                "tools": .none, "documents": .none, "bos_token": .string(bosToken), "eos_token": .string(eosToken),
            ]
            for (name, value) in variables { context[name] = try Value(value) }
            var messages: [Value] = []
            for message in conversation { messages.append(try Value(message)) }
            context["messages"] = .list(messages)
            context["add_generation_prompt"] = .bool(addGenerationPrompt)
            return try TemplateRenderer(context: context, now: now).render(body)
        } catch let error as ChatTemplateError {
            throw error
        } catch let failure as TemplateFailure {
            throw failure.error(line: 0)
        } catch {
            throw ChatTemplateError.runtime(line: 0, message: "\(error)")
        }
    }
}
