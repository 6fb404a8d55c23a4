// TemplateJSON: transformers' `tojson` filter, i.e. Python's
// `json.dumps(x, ensure_ascii=False, indent=indent, separators=separators, sort_keys=sort_keys)`.
// Legend: separators default to (", ", ": "), or ("," , ": ") with an indent; floats print as
// float.__repr__ (NaN, Infinity); dict keys may be str, int, float, bool or None (converted to
// strings); tuples are arrays; other objects raise "Object of type X is not JSON serializable".

// MARK: - Options

struct JSONOptions {
    var ensureASCII = false
    var indent: String?
    var itemSeparator = ", "
    var keySeparator = ": "
    var sortKeys = false

    /// The options of a `tojson(ensure_ascii, indent, separators, sort_keys)` call.
    init(_ arguments: CallArguments) throws {
        let bound = try arguments.bind("tojson", ["ensure_ascii", "indent", "separators", "sort_keys"])
        ensureASCII = pyTruthy(bound[0] ?? .bool(false))
        switch bound[1] ?? .none {
        case .none: indent = nil
        case .int(let count): indent = String(repeating: " ", count: min(max(0, count), 1024))
        case .bool(let flag): indent = flag ? " " : ""
        case .string(let text): indent = text
        case let other: throw TemplateFailure.type("can't multiply sequence by non-int of type '\(pyTypeName(other))'")
        }
        if indent != nil { itemSeparator = "," }
        switch bound[2] ?? .none {
        case .none: break
        case .list(let items), .tuple(let items):
            guard items.count == 2, case .string(let item) = items[0], case .string(let key) = items[1] else {
                throw TemplateFailure.type("separators must be a pair of strings")
            }
            itemSeparator = item
            keySeparator = key
        case let other: throw TemplateFailure.type("cannot unpack non-iterable \(pyTypeName(other)) object")
        }
        sortKeys = pyTruthy(bound[3] ?? .bool(false))
    }
}

// MARK: - Encoding

/// `json.dumps(value, ...)`.
func pyJSONDumps(_ value: Value, _ options: JSONOptions, level: Int = 0) throws -> String {
    guard level <= Limits.valueDepth else { throw TemplateFailure.type("Circular reference detected") }
    switch value {
    case .none: return "null"
    case .bool(let flag): return flag ? "true" : "false"
    case .int(let number): return String(number)
    case .double(let number): return jsonFloat(number)
    case .string(let text): return jsonString(text, ascii: options.ensureASCII)
    case .list(let items), .tuple(let items):
        if items.isEmpty { return "[]" }
        return try wrap("[", items, "]", options, level) { try pyJSONDumps($0, options, level: level + 1) }
    case .dict(let dict):
        if dict.isEmpty { return "{}" }
        var pairs = Array(dict.pairs)
        if options.sortKeys {
            var failure: Error?
            pairs.sort { lhs, rhs in
                do { return try pyLess(lhs.0, rhs.0) } catch {
                    failure = error
                    return false
                }
            }
            if let failure { throw failure }
        }
        return try wrap("{", pairs, "}", options, level) { key, item in
            jsonString(try jsonKey(key), ascii: options.ensureASCII) + options.keySeparator
                + (try pyJSONDumps(item, options, level: level + 1))
        }
    default:
        throw TemplateFailure.type("Object of type \(pyTypeName(value)) is not JSON serializable")
    }
}

private func wrap<S: Sequence>(_ open: String, _ items: S, _ close: String, _ options: JSONOptions, _ level: Int,
    _ render: (S.Element) throws -> String) throws -> String
{
    guard let indent = options.indent else {
        return open + (try boundedJoin(items, separator: options.itemSeparator, render)) + close
    }
    let inner = "\n" + String(repeating: indent, count: level + 1)
    let outer = "\n" + String(repeating: indent, count: level)
    return open + inner + (try boundedJoin(items, separator: options.itemSeparator + inner, render)) + outer + close
}

private func jsonFloat(_ number: Double) -> String {
    if number.isNaN { return "NaN" }
    if number.isInfinite { return number < 0 ? "-Infinity" : "Infinity" }
    return pyFloatRepr(number)
}

private func jsonKey(_ key: Value) throws -> String {
    switch key {
    case .string(let text): return text
    case .bool(let flag): return flag ? "true" : "false"
    case .none: return "null"
    case .int(let number): return String(number)
    case .double(let number): return jsonFloat(number)
    default: throw TemplateFailure.type("keys must be str, int, float, bool or None, not \(pyTypeName(key))")
    }
}

/// A JSON string literal as Python's encoder writes it.
func jsonString(_ text: String, ascii: Bool) -> String {
    var result = String.UnicodeScalarView()
    result.append("\"")
    func unicodeEscape(_ value: UInt32) {
        let hex = String(value, radix: 16)
        result.append(contentsOf: ("\\u" + String(repeating: "0", count: 4 - hex.count) + hex).unicodeScalars)
    }
    for scalar in text.unicodeScalars {
        switch scalar {
        case "\"": result.append(contentsOf: "\\\"".unicodeScalars)
        case "\\": result.append(contentsOf: "\\\\".unicodeScalars)
        case "\n": result.append(contentsOf: "\\n".unicodeScalars)
        case "\r": result.append(contentsOf: "\\r".unicodeScalars)
        case "\t": result.append(contentsOf: "\\t".unicodeScalars)
        case "\u{08}": result.append(contentsOf: "\\b".unicodeScalars)
        case "\u{0C}": result.append(contentsOf: "\\f".unicodeScalars)
        default:
            if scalar.value < 0x20 || (ascii && scalar.value > 0x7E) {
                if scalar.value > 0xFFFF {
                    let offset = scalar.value - 0x10000
                    unicodeEscape(0xD800 + (offset >> 10))
                    unicodeEscape(0xDC00 + (offset & 0x3FF))
                } else {
                    unicodeEscape(scalar.value)
                }
            } else {
                result.append(scalar)
            }
        }
    }
    result.append("\"")
    return String(result)
}
