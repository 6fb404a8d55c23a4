// JSONValue: a parsed JSON document, as JSONScanner.scanValue returns it.

// MARK: - JSONValue

/// A parsed JSON value (used for the nested `tokenizer.json`).
enum JSONValue: Equatable, Sendable {
    case null
    case bool(Bool)
    case integer(Int)
    case double(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    /// The value as a short description for error messages (e.g. `"WordPiece"`, `true`).
    var summary: String {
        switch self {
        case .null: return "null"
        case .bool(let value): return String(value)
        case .integer(let value): return String(value)
        case .double(let value): return String(value)
        case .string(let value): return "\"\(value)\""
        case .array(let items): return "an array of \(items.count) items"
        case .object: return "an object"
        }
    }
}
