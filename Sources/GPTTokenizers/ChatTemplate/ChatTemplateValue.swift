// ChatTemplateValue: the values a caller passes to a chat template (messages, tools, flags),
// shaped like the JSON-ish Python values transformers hands to jinja2.
// Legend: none = Python None; integer/double = int/float; array = list; object = dict, whose key
// order is kept (Python dicts are ordered) and matters for iteration and tojson output.

// MARK: - ChatTemplateValue

/// A value passed to a ``ChatTemplate``: a message, a tool schema, a flag, a string.
///
/// Objects keep their key order, as Python dicts do:
/// ```swift
/// let tool: ChatTemplateValue = .object([("name", "get_weather"), ("parameters", .object([]))])
/// let message: ChatTemplateValue = ["role": "user", "content": "Hi"]  // dictionary literal, in order
/// ```
public enum ChatTemplateValue: Sendable, Hashable {
    /// Python `None`.
    case none
    /// Python `True`/`False`.
    case bool(Bool)
    /// Python `int`.
    case integer(Int)
    /// Python `float`.
    case double(Double)
    /// Python `str`.
    case string(String)
    /// Python `list`.
    case array([ChatTemplateValue])
    /// Python `dict` with string keys, in insertion order. A repeated key keeps its first place
    /// and its last value, as a Python dict literal does.
    case object([(String, ChatTemplateValue)])

    /// Equality as Python's `==` on the JSON shapes, except that `object`s must also have the
    /// same key order (so that equal values render equally).
    public static func == (lhs: ChatTemplateValue, rhs: ChatTemplateValue) -> Bool {
        switch (lhs, rhs) {
        case (.none, .none): return true
        case (.bool(let a), .bool(let b)): return a == b
        case (.integer(let a), .integer(let b)): return a == b
        case (.double(let a), .double(let b)): return a == b || (a.isNaN && b.isNaN)
        case (.string(let a), .string(let b)): return a.utf8.elementsEqual(b.utf8)
        case (.array(let a), .array(let b)): return a == b
        case (.object(let a), .object(let b)):
            return a.count == b.count && zip(a, b).allSatisfy { $0.0.utf8.elementsEqual($1.0.utf8) && $0.1 == $1.1 }
        default: return false
        }
    }

    /// Hashes consistently with ``==(_:_:)``.
    public func hash(into hasher: inout Hasher) {
        switch self {
        case .none: hasher.combine(0)
        case .bool(let value): hasher.combine(1); hasher.combine(value)
        case .integer(let value): hasher.combine(2); hasher.combine(value)
        case .double(let value): hasher.combine(3); hasher.combine(value.isNaN ? Double.nan.bitPattern : value.bitPattern)
        case .string(let value): hasher.combine(4); for byte in value.utf8 { hasher.combine(byte) }
        case .array(let items): hasher.combine(5); hasher.combine(items)
        case .object(let members):
            hasher.combine(6)
            hasher.combine(members.count)
            for (key, value) in members {
                for byte in key.utf8 { hasher.combine(byte) }
                hasher.combine(value)
            }
        }
    }
}

// MARK: - Literals

extension ChatTemplateValue: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByFloatLiteral,
    ExpressibleByBooleanLiteral, ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral, ExpressibleByNilLiteral
{
    /// `"text"` is `.string("text")`.
    public init(stringLiteral value: String) { self = .string(value) }
    /// `3` is `.integer(3)`.
    public init(integerLiteral value: Int) { self = .integer(value) }
    /// `0.5` is `.double(0.5)`.
    public init(floatLiteral value: Double) { self = .double(value) }
    /// `true` is `.bool(true)`.
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    /// `[a, b]` is `.array([a, b])`.
    public init(arrayLiteral elements: ChatTemplateValue...) { self = .array(elements) }
    /// `["k": v]` is `.object([("k", v)])`, in the written order.
    public init(dictionaryLiteral elements: (String, ChatTemplateValue)...) { self = .object(elements) }
    /// `nil` is `.none`.
    public init(nilLiteral: ()) { self = .none }
}

// MARK: - Messages

extension ChatTemplateValue {
    /// The message as a Python dict `{'role': ..., 'content': ...}`.
    public init(_ message: ChatMessage) {
        self = .object([("role", .string(message.role)), ("content", .string(message.content))])
    }
}

// MARK: - Conversion to runtime values

extension Value {
    /// The interpreter's value for `value`; throws when nested deeper than the value-depth limit.
    /// (An extension of Value: inside ChatTemplateValue, `Value` names its dictionary-literal type.)
    init(_ value: ChatTemplateValue, depth: Int = 0) throws(TemplateFailure) {
        guard depth <= Limits.valueDepth else { throw .type("a variable is nested too deeply (limit \(Limits.valueDepth))") }
        switch value {
        case .none: self = .none
        case .bool(let flag): self = .bool(flag)
        case .integer(let number): self = .int(number)
        case .double(let number): self = .double(number)
        case .string(let text): self = .string(text)
        case .array(let items):
            var values: [Value] = []
            values.reserveCapacity(items.count)
            for item in items { values.append(try Value(item, depth: depth + 1)) }
            self = .list(values)
        case .object(let members):
            var dict = PyDict()
            for (key, member) in members { dict.set(key, try Value(member, depth: depth + 1)) }
            self = .dict(dict)
        }
    }
}
