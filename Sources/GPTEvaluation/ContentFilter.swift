// Content filtering for generation: a filter reviews text (a prompt, or the text a model streams)
// and reports findings, each of which redacts a span or stops the generation with a reason the
// caller sees. `BlocklistFilter` matches phrases and regular expressions; `ClassifierFilter`
// (ClassifierFilter.swift) scores text with a model's scalar head.
import Foundation

/// What a finding does to the text.
public enum FilterAction: String, Sendable, Hashable, Codable {
    /// Replace the span with the filter's replacement (`[redacted]`); generation goes on.
    case redact
    /// Stop: nothing from the span on is shown, and the generation ends with the reason.
    case stop
}

/// One thing a filter found in a text: where, what to do, and why.
public struct FilterFinding: Sendable, Hashable, Codable {
    /// The Unicode scalars (offsets into the reviewed text's `unicodeScalars`) the finding covers.
    public var range: Range<Int>
    /// Redact or stop.
    public var action: FilterAction
    /// A short category for reports (`violence`, `self-harm`, `injection`, …).
    public var category: String
    /// Why, in words: the rule or score that fired.
    public var reason: String

    /// A finding.
    public init(range: Range<Int>, action: FilterAction, category: String, reason: String) {
        self.range = range
        self.action = action
        self.category = category
        self.reason = reason
    }
}

/// Reviews text for content that must not be shown.
///
/// Streams hold back the last `maximumMatchLength − 1` Unicode scalars until more text (or the end)
/// arrives, so a phrase split across tokens is always seen whole before any of it is released.
///
/// ```swift
/// struct NoDigits: ContentFilter {
///     var name: String { "no-digits" }
///     var maximumMatchLength: Int { 1 }
///     func review(_ text: String) -> [FilterFinding] {
///         Array(text.unicodeScalars).enumerated().compactMap { $1.properties.numericType != nil
///             ? FilterFinding(range: $0..<($0 + 1), action: .redact, category: "digits", reason: "a digit") : nil }
///     }
/// }
/// ```
public protocol ContentFilter: Sendable {
    /// The filter's name in verdicts and audit logs.
    var name: String { get }
    /// The longest span (in Unicode scalars) a finding can cover; the stream's hold-back.
    var maximumMatchLength: Int { get }
    /// The findings in `text` (ranges in Unicode-scalar offsets), in any order.
    func review(_ text: String) throws -> [FilterFinding]
}

/// A filter of phrases and regular expressions.
///
/// Phrases match case-insensitively as whole words, each space in a phrase matching one to four
/// whitespace characters in the text ("make  a\nbomb" matches "make a bomb"). Patterns are ICU regular expressions.
///
/// ```swift
/// let filter = try BlocklistFilter(rules: [
///     .init(phrase: "build a bomb", category: "weapons", action: .stop),
///     .init(pattern: #"\b\d{3}-\d{2}-\d{4}\b"#, category: "pii", action: .redact),
/// ])
/// ```
public struct BlocklistFilter: ContentFilter {
    /// One rule: a phrase or a pattern, its category and action.
    public struct Rule: Sendable, Hashable, Codable {
        /// The regular expression matched (a phrase becomes an escaped, word-bounded one).
        public var pattern: String
        /// The category reported.
        public var category: String
        /// Redact or stop.
        public var action: FilterAction
        /// The longest text the rule can match (a phrase's length plus slack for extra spaces).
        public var maximumLength: Int

        /// A phrase rule.
        public init(phrase: String, category: String, action: FilterAction = .stop) {
            let words = phrase.split(whereSeparator: \.isWhitespace).map { NSRegularExpression.escapedPattern(for: String($0)) }
            pattern = #"(?<![\p{L}\p{N}])"# + words.joined(separator: #"\s{1,4}"#) + #"(?![\p{L}\p{N}])"#
            self.category = category
            self.action = action
            maximumLength = phrase.unicodeScalars.count + 4 * max(0, words.count - 1) + 8
        }

        /// A regular-expression rule; `maximumLength` bounds what it can match (the stream's
        /// hold-back). A pattern that can match more (`BEGIN.*?END`) may have its start shown
        /// before the match is complete: a longer match stops the stream, it is not redacted.
        public init(pattern: String, category: String, action: FilterAction = .stop, maximumLength: Int = 64) {
            self.pattern = pattern
            self.category = category
            self.action = action
            self.maximumLength = maximumLength
        }
    }

    /// The filter's name.
    public let name: String
    /// The rules, in order.
    public let rules: [Rule]
    /// What redacted spans become.
    public let replacement: String
    private let expressions: [NSRegularExpression]

    /// A filter of `rules`.
    /// - Throws: `EvaluationError.invalidInput` for a pattern that does not compile or a rule
    ///   whose maximum length is below 1.
    public init(name: String = "blocklist", rules: [Rule], replacement: String = "[redacted]") throws {
        self.name = name
        self.rules = rules
        self.replacement = replacement
        expressions = try rules.map { rule in
            guard rule.maximumLength >= 1 else { throw EvaluationError.invalidInput("rule \(rule.pattern): maximum length must be ≥ 1") }
            do {
                return try NSRegularExpression(pattern: rule.pattern, options: [.caseInsensitive])
            } catch {
                throw EvaluationError.invalidInput("'\(rule.pattern)' is not a valid regular expression")
            }
        }
    }

    /// The longest rule.
    public var maximumMatchLength: Int { rules.map(\.maximumLength).max() ?? 1 }

    /// Every match of every rule, as Unicode-scalar ranges. A match longer than its rule's
    /// `maximumLength` is reported as a stop (a stream could not have held all of it back).
    public func review(_ text: String) -> [FilterFinding] {
        guard !rules.isEmpty, !text.isEmpty else { return [] }
        // UTF-16 offset → scalar offset (NSRegularExpression works in UTF-16), rounding a
        // position inside a surrogate pair outward, so no match is lost or shrunk.
        var before = [Int](repeating: 0, count: text.utf16.count + 1), after = before
        var u = 0
        for (k, scalar) in text.unicodeScalars.enumerated() {
            let width = UTF16.width(scalar)
            before[u] = k; after[u] = k
            if width == 2 { before[u + 1] = k; after[u + 1] = k + 1 }
            u += width
        }
        before[u] = text.unicodeScalars.count; after[u] = text.unicodeScalars.count
        let whole = NSRange(location: 0, length: text.utf16.count)
        var findings: [FilterFinding] = []
        for (rule, expression) in zip(rules, expressions) {
            for match in expression.matches(in: text, range: whole) where match.range.length > 0 {
                let start = before[match.range.location], end = after[match.range.location + match.range.length]
                guard start < end else { continue }
                let tooLong = end - start > rule.maximumLength
                findings.append(FilterFinding(range: start..<end, action: tooLong ? .stop : rule.action, category: rule.category,
                                              reason: "matched \(rule.pattern)" + (tooLong ? " over more than its \(rule.maximumLength) characters" : "")))
            }
        }
        return findings
    }
}

extension BlocklistFilter {
    /// Rules from a JSON Lines file: objects with `"phrase"` or `"pattern"`, `"category"`, and
    /// optional `"action"` (`stop`, the default, or `redact`) and `"max_length"`.
    /// - Throws: `EvaluationError.invalidFile` naming the line of a bad rule.
    public init(contentsOf url: URL, name: String? = nil) throws {
        var rules: [Rule] = []
        for (index, line) in EvaluationFiles.splitLines(try EvaluationFiles.text(of: url)).enumerated()
        where !line.allSatisfy(\.isWhitespace) {
            let bad = { (why: String) in EvaluationError.invalidFile(path: url.path, reason: "line \(index + 1): \(why)") }
            guard let object = (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any] else { throw bad("not a JSON object") }
            guard let category = object["category"] as? String else { throw bad("needs a \"category\" string") }
            let actionName = object["action"] as? String ?? "stop"
            guard let action = FilterAction(rawValue: actionName) else { throw bad("\"action\" must be stop or redact") }
            switch (object["phrase"] as? String, object["pattern"] as? String) {
            case (let phrase?, nil) where !phrase.allSatisfy(\.isWhitespace):
                rules.append(Rule(phrase: phrase, category: category, action: action))
            case (nil, let pattern?) where !pattern.isEmpty:
                let length: Int
                switch object["max_length"] {
                case nil: length = 64
                case let number as Int: length = number
                default: throw bad("\"max_length\" must be a whole number")
                }
                guard (1...100_000).contains(length) else { throw bad("\"max_length\" must be 1…100000") }
                rules.append(Rule(pattern: pattern, category: category, action: action, maximumLength: length))
            default:
                throw bad("needs a non-empty \"phrase\" or \"pattern\" (one of them)")
            }
        }
        guard !rules.isEmpty else { throw EvaluationError.invalidFile(path: url.path, reason: "has no rules") }
        try self.init(name: name ?? url.deletingPathExtension().lastPathComponent, rules: rules)
    }
}
