// ChatTemplateError: the ways parsing or rendering a Jinja2 chat template can fail.
// Legend: syntax = the template text is not valid Jinja2 (line and column of the fault);
// unsupported = valid Jinja2 that this interpreter refuses (named); raised = the template's own
// raise_exception("..."); runtime = a Python-level error while rendering (type errors, undefined
// values, limits), with jinja2's message where it has one.

import Foundation

// MARK: - ChatTemplateError

/// An error thrown by ``ChatTemplate`` while parsing or rendering a Jinja2 chat template.
///
/// ```swift
/// do {
///     _ = try ChatTemplate("{{ raise_exception('No system role') }}").render(messages: [], addGenerationPrompt: false)
/// } catch ChatTemplateError.raised(let message) {
///     print(message)  // "No system role"
/// }
/// ```
public enum ChatTemplateError: Error, LocalizedError, Equatable, Sendable {
    /// The template is not valid Jinja2; `line` and `column` are 1-based, `message` is jinja2's
    /// wording where it has one (e.g. "unexpected '}'").
    case syntax(line: Int, column: Int, message: String)
    /// A valid Jinja2 construct that this interpreter does not implement, e.g. "filter 'groupby'"
    /// or "statement 'macro'"; `line` is where it appears.
    case unsupported(construct: String, line: Int)
    /// The template called `raise_exception(message)` (jinja2's `TemplateError`).
    case raised(message: String)
    /// An error while rendering: a type error, an undefined value used in an operation, a
    /// sandbox refusal or a resource limit; `message` follows Python/jinja2's wording.
    case runtime(line: Int, message: String)

    /// A one-line description naming the place and the problem.
    public var errorDescription: String? {
        switch self {
        case .syntax(let line, let column, let message):
            return "chat template syntax error at line \(line), column \(column): \(message)"
        case .unsupported(let construct, let line):
            return "chat template line \(line): \(construct) is not supported by this interpreter"
        case .raised(let message):
            return "chat template raised an exception: \(message)"
        case .runtime(let line, let message):
            return "chat template error at line \(line): \(message)"
        }
    }
}

// MARK: - Internal failures

/// A runtime failure before the line is known; the evaluator adds the line of the node.
struct TemplateFailure: Error {
    /// What kind of error jinja2 would raise (only for choosing the public case).
    enum Kind { case runtime, raised, unsupported }
    var kind: Kind
    var message: String

    static func type(_ message: String) -> TemplateFailure { TemplateFailure(kind: .runtime, message: message) }
    static func unsupported(_ construct: String) -> TemplateFailure {
        TemplateFailure(kind: .unsupported, message: construct)
    }

    /// The public error, with `line` filled in.
    func error(line: Int) -> ChatTemplateError {
        switch kind {
        case .runtime: return .runtime(line: line, message: message)
        case .raised: return .raised(message: message)
        case .unsupported: return .unsupported(construct: message, line: line)
        }
    }
}
