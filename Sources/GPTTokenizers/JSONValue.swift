// JSONValue: a parsed JSON document, as JSONScanner.scanValue returns it.

// MARK: - JSONValue

/// A parsed JSON value (used for the nested `tokenizer.json`).
package enum JSONValue: Equatable, Sendable {
    case null
    case bool(Bool)
    case integer(Int)
    case double(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    /// The value as a short description for error messages (e.g. `"WordPiece"`, `true`).
    package var summary: String {
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

    /// The key path (`a.b[2]`) and value of the first number, in document order of keys sorted
    /// by name, that neither `Int` nor `UInt64` holds although written as a whole number (e.g. `1e20`), for
    /// messages when `JSONDecoder` refuses such a number without saying where.
    package var firstWholeNumberBeyondInt: (path: String, value: Double)? {
        switch self {
        case .double(let number) where number.rounded() == number && Swift.abs(number) >= 0x1p64: return ("", number)
        case .array(let items):
            for (index, item) in items.enumerated() {
                if let found = item.firstWholeNumberBeyondInt { return ("[\(index)]" + found.path, found.value) }
            }
        case .object(let members):
            for key in members.keys.sorted() {
                if let found = members[key]!.firstWholeNumberBeyondInt {
                    return (key + (found.path.hasPrefix("[") || found.path.isEmpty ? "" : ".") + found.path, found.value)
                }
            }
        default: break
        }
        return nil
    }
}
