// PythonRepr: Python's str(), repr(), truthiness, == and < for template values.
// Legend: pyStr = what `{{ x }}` prints; pyRepr = how a value prints inside a list or dict;
// pyFloatRepr = float.__repr__ (shortest round-trip digits, exponent form below 1e-4 and from
// 1e16 on); pyEqual / pyLess = Python's == and < (with Python's TypeError for mixed types).
// Every recursive walk takes a depth and fails past Limits.valueDepth instead of overflowing the stack.

// MARK: - str and repr

/// Python `str(value)` (jinja2 prints Undefined as "").
func pyStr(_ value: Value) throws -> String {
    switch value {
    case .string(let text): return text
    case .undefined: return ""
    default: return try pyRepr(value)
    }
}

/// Python `repr(value)`.
func pyRepr(_ value: Value, depth: Int = 0) throws -> String {
    guard depth <= Limits.valueDepth else {
        throw TemplateFailure.type("maximum recursion depth exceeded while getting the repr of an object")
    }
    switch value {
    case .undefined: return "Undefined"
    case .none: return "None"
    case .bool(let flag): return flag ? "True" : "False"
    case .int(let number): return String(number)
    case .double(let number): return pyFloatRepr(number)
    case .string(let text): return pyRepr(string: text)
    case .list(let items): return "[" + (try boundedJoin(items, separator: ", ") { try pyRepr($0, depth: depth + 1) }) + "]"
    case .tuple(let items):
        let inner = try boundedJoin(items, separator: ", ") { try pyRepr($0, depth: depth + 1) }
        return items.count == 1 ? "(\(inner),)" : "(\(inner))"
    case .dict(let dict): return try dictRepr(dict, depth: depth)
    case .namespace(let namespace): return "<Namespace \(try dictRepr(namespace.attributes, depth: depth))>"
    case .iterator(let iterator):
        if iterator.typeName == "generator" { return "<generator object \(iterator.functionName) at 0x0>" }
        return "<\(iterator.typeName) object at 0x0>"
    case .loop(let loop): return "<LoopContext \(loop.index0 + 1)/\(loop.items.count)>"
    case .function(.global(let name)): return "<function \(name) at 0x0>"
    case .function(.method(let receiver, let name)):
        return "<built-in method \(name) of \(pyTypeName(receiver)) object at 0x0>"
    }
}

private func dictRepr(_ dict: PyDict, depth: Int) throws -> String {
    let members = try boundedJoin(dict.pairs, separator: ", ") { key, value in
        try pyRepr(key, depth: depth + 1) + ": " + pyRepr(value, depth: depth + 1)
    }
    return "{" + members + "}"
}

/// Joins the strings `render` makes of `items`, failing as soon as the text would exceed
/// Limits.stringBytes (so a list of a million references to one long string cannot blow up).
func boundedJoin<S: Sequence>(_ items: S, separator: String, _ render: (S.Element) throws -> String) throws -> String {
    var result = ""
    var bytes = 0
    var first = true
    for item in items {
        if !first {
            result += separator
            bytes += separator.utf8.count
        }
        first = false
        let piece = try render(item)
        bytes += piece.utf8.count
        if bytes > Limits.stringBytes { throw TemplateFailure.type("a string would exceed \(Limits.stringBytes) bytes") }
        result += piece
    }
    return result
}

/// Python `repr(str)`: single quotes unless the text has a `'` and no `"`; escapes for `\`,
/// the quote, `\t \n \r`, other control characters and non-printable code points.
func pyRepr(string text: String) -> String {
    let quote: Unicode.Scalar = text.unicodeScalars.contains("'") && !text.unicodeScalars.contains("\"") ? "\"" : "'"
    var result = String.UnicodeScalarView()
    result.append(quote)
    for scalar in text.unicodeScalars {
        switch scalar {
        case quote, "\\":
            result.append("\\")
            result.append(scalar)
        case "\t": result.append(contentsOf: "\\t".unicodeScalars)
        case "\n": result.append(contentsOf: "\\n".unicodeScalars)
        case "\r": result.append(contentsOf: "\\r".unicodeScalars)
        default:
            if scalar.value < 0x20 || scalar.value == 0x7F || (scalar.value >= 0x80 && !pyIsPrintable(scalar)) {
                result.append(contentsOf: hexEscape(scalar).unicodeScalars)
            } else {
                result.append(scalar)
            }
        }
    }
    result.append(quote)
    return String(result)
}

/// `\xhh`, `\uhhhh` or `\Uhhhhhhhh`, as Python's repr writes a code point.
func hexEscape(_ scalar: Unicode.Scalar) -> String {
    let hex = String(scalar.value, radix: 16)
    switch scalar.value {
    case ..<0x100: return "\\x" + String(repeating: "0", count: 2 - hex.count) + hex
    case ..<0x10000: return "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
    default: return "\\U" + String(repeating: "0", count: 8 - hex.count) + hex
    }
}

// MARK: - Floats

/// Python `repr(float)`: `1.0`, `0.1`, `1e-05`, `1e+16`, `inf`, `nan`.
func pyFloatRepr(_ number: Double) -> String {
    if number.isNaN { return "nan" }
    if number.isInfinite { return number < 0 ? "-inf" : "inf" }
    if number == 0 { return number.sign == .minus ? "-0.0" : "0.0" }
    // Swift's description has the shortest round-trip digits; only the layout differs.
    var text = "\(Swift.abs(number))"
    var exponent = 0
    if let e = text.firstIndex(where: { $0 == "e" || $0 == "E" }) {
        exponent = Int(text[text.index(after: e)...]) ?? 0
        text = String(text[..<e])
    }
    var digits = ""
    var pointPosition = text.count
    for (offset, character) in text.enumerated() {
        if character == "." { pointPosition = offset } else { digits.append(character) }
    }
    // Value = 0.digits × 10^(pointPosition + exponent), with leading zeros to drop.
    var decimalPoint = pointPosition + exponent
    while digits.hasPrefix("0"), digits.count > 1 {
        digits.removeFirst()
        decimalPoint -= 1
    }
    while digits.hasSuffix("0"), digits.count > 1 { digits.removeLast() }
    let sign = number < 0 ? "-" : ""
    let scientific = decimalPoint - 1
    if scientific < -4 || scientific >= 16 {
        var mantissa = String(digits.prefix(1))
        if digits.count > 1 { mantissa += "." + digits.dropFirst() }
        let magnitude = Swift.abs(scientific)
        return sign + mantissa + (scientific < 0 ? "e-" : "e+") + (magnitude < 10 ? "0" : "") + String(magnitude)
    }
    if decimalPoint <= 0 { return sign + "0." + String(repeating: "0", count: -decimalPoint) + digits }
    if decimalPoint >= digits.count { return sign + digits + String(repeating: "0", count: decimalPoint - digits.count) + ".0" }
    let split = digits.index(digits.startIndex, offsetBy: decimalPoint)
    return sign + digits[..<split] + "." + digits[split...]
}

// MARK: - Truthiness

/// Python `bool(value)`.
func pyTruthy(_ value: Value) -> Bool {
    switch value {
    case .undefined, .none: return false
    case .bool(let flag): return flag
    case .int(let number): return number != 0
    case .double(let number): return number != 0
    case .string(let text): return !text.isEmpty
    case .list(let items), .tuple(let items): return !items.isEmpty
    case .dict(let dict): return !dict.isEmpty
    case .namespace, .iterator, .loop, .function: return true
    }
}

// MARK: - Equality and order

/// A number as Python sees it in arithmetic (bool is an int).
enum PyNumber {
    case int(Int)
    case double(Double)

    init?(_ value: Value) {
        switch value {
        case .bool(let flag): self = .int(flag ? 1 : 0)
        case .int(let number): self = .int(number)
        case .double(let number): self = .double(number)
        default: return nil
        }
    }

    var double: Double {
        switch self {
        case .int(let number): return Double(number)
        case .double(let number): return number
        }
    }
}

/// Python `a == b`.
func pyEqual(_ lhs: Value, _ rhs: Value, depth: Int = 0) throws -> Bool {
    guard depth <= Limits.valueDepth else { throw TemplateFailure.type("maximum recursion depth exceeded in comparison") }
    if let a = PyNumber(lhs), let b = PyNumber(rhs) {
        switch (a, b) {
        case (.int(let x), .int(let y)): return x == y
        case (.int(let x), .double(let y)), (.double(let y), .int(let x)):
            guard y.rounded(.towardZero) == y, Swift.abs(y) < 0x1p63 else { return false }
            return Int(y) == x
        case (.double(let x), .double(let y)): return x == y
        }
    }
    switch (lhs, rhs) {
    case (.undefined, .undefined), (.none, .none): return true
    case (.string(let a), .string(let b)): return a.utf8.elementsEqual(b.utf8)
    case (.list(let a), .list(let b)), (.tuple(let a), .tuple(let b)):
        guard a.count == b.count else { return false }
        for (x, y) in zip(a, b) where !(try pyEqual(x, y, depth: depth + 1)) { return false }
        return true
    case (.dict(let a), .dict(let b)): return try a.pyEquals(b, depth: depth)
    case (.namespace(let a), .namespace(let b)): return a === b
    case (.iterator(let a), .iterator(let b)): return a === b
    case (.loop(let a), .loop(let b)): return a === b
    default: return false
    }
}

/// Python `a < b` (or `a <= b` when `orEqual`), with its TypeError for unorderable types;
/// `symbol` and `swapped` word that error for `>` and `>=`, which are computed as `b < a`.
func pyLess(_ lhs: Value, _ rhs: Value, orEqual: Bool = false, symbol: String? = nil, swapped: Bool = false,
    depth: Int = 0) throws -> Bool {
    guard depth <= Limits.valueDepth else { throw TemplateFailure.type("maximum recursion depth exceeded in comparison") }
    if let a = PyNumber(lhs), let b = PyNumber(rhs) {
        if case .int(let x) = a, case .int(let y) = b { return orEqual ? x <= y : x < y }
        return orEqual ? a.double <= b.double : a.double < b.double
    }
    switch (lhs, rhs) {
    case (.string(let a), .string(let b)):
        if orEqual, a.utf8.elementsEqual(b.utf8) { return true }
        return a.utf8.lexicographicallyPrecedes(b.utf8)
    case (.list(let a), .list(let b)), (.tuple(let a), .tuple(let b)):
        for (x, y) in zip(a, b) where !(try pyEqual(x, y, depth: depth + 1)) {
            return try pyLess(x, y, orEqual: orEqual, symbol: symbol, swapped: swapped, depth: depth + 1)
        }
        return orEqual ? a.count <= b.count : a.count < b.count
    default:
        if case .undefined(let undefined) = lhs { throw TemplateFailure.type(undefined.message) }
        if case .undefined(let undefined) = rhs { throw TemplateFailure.type(undefined.message) }
        let op = symbol ?? (orEqual ? "<=" : "<")
        let (left, right) = swapped ? (rhs, lhs) : (lhs, rhs)
        throw TemplateFailure.type(
            "'\(op)' not supported between instances of '\(pyTypeName(left))' and '\(pyTypeName(right))'")
    }
}
