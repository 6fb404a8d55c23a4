// TemplateFilters: jinja2's built-in filters (and transformers' `tojson`), by name.
// Legend: `names` = the filters this interpreter implements (any other name is refused as
// unsupported when the template is parsed); string and number filters are here, sequence
// filters (select, map, sort, unique, batch...) in TemplateFilters+Sequences.swift. Filters
// that are generators in jinja2 (select, map, items, unique, batch, reverse of a list) return
// single-pass PyIterators, as in Python.

// MARK: - Names

enum TemplateFilters {
    static let names: Set<String> = ["abs", "attr", "batch", "capitalize", "center", "count", "d", "default",
        "dictsort", "e", "escape", "first", "float", "forceescape", "format", "indent", "int", "items", "join", "last",
        "length", "list", "lower", "map", "max", "min", "reject", "rejectattr", "replace", "reverse", "round", "safe",
        "select", "selectattr", "sort", "string", "sum", "title", "tojson", "trim", "unique", "upper", "wordcount"]
}

// MARK: - Dispatch

extension TemplateRenderer {
    /// Applies filter `name` to `value`.
    func applyFilter(_ name: String, _ value: Value, _ arguments: CallArguments) throws -> Value {
        switch name {
        case "upper", "lower", "capitalize", "title", "string", "safe", "e", "escape", "forceescape":
            try arguments.none(name)
            let text = try pyStr(value)
            switch name {
            case "upper": return .string(text.uppercased())
            case "lower": return .string(text.lowercased())
            case "capitalize": return .string(pyCapitalize(text))
            case "title": return .string(jinjaTitle(text))
            case "string", "safe": return .string(text)
            default: return .string(htmlEscape(text))
            }
        case "trim":
            let chars = try arguments.bind(name, ["chars"])[0]
            let charsText: String? = try chars.flatMap { try stripCharacters($0) }
            return .string(pyStrip(try pyStr(value), charsText))
        case "replace":
            let bound = try arguments.bind(name, ["old", "new", "count"], required: 2)
            let count = try bound[2].flatMap { $0.isNone ? nil : try intArgument($0) } ?? -1
            let result = try pyReplace(try pyStr(value), try pyStr(bound[0] ?? .none), try pyStr(bound[1] ?? .none), count: count)
            try checkString(result)
            return .string(result)
        case "center":
            let width = try arguments.bind(name, ["width"])[0].map(intArgument) ?? 80
            return try callStringMethod(try pyStr(value), "center", CallArguments(positional: [.int(width)]))
        case "indent":
            return .string(try indent(value, arguments))
        case "wordcount":
            try arguments.none(name)
            return .int(wordCount(try pyStr(value)))
        case "default", "d":
            let bound = try arguments.bind(name, ["default_value", "boolean"])
            let boolean = pyTruthy(bound[1] ?? .bool(false))
            if value.isUndefined || (boolean && !pyTruthy(value)) { return bound[0] ?? .emptyString }
            return value
        case "length", "count":
            try arguments.none(name)
            return .int(try length(value))
        case "tojson":
            let text = try pyJSONDumps(value, try JSONOptions(arguments))
            try checkString(text)
            return .string(text)
        case "int":
            let bound = try arguments.bind(name, ["default", "base"])
            return toInt(value, base: try bound[1].map(intArgument) ?? 10) ?? bound[0] ?? .int(0)
        case "float":
            let bound = try arguments.bind(name, ["default"])
            return toFloat(value).map { .double($0) } ?? bound[0] ?? .double(0)
        case "abs":
            try arguments.none(name)
            switch value {
            case .bool(let flag): return .int(flag ? 1 : 0)
            case .int(let number):
                if number == Int.min { throw TemplateFailure.type("integer overflow (values beyond 64 bits are not supported)") }
                return .int(Swift.abs(number))
            case .double(let number): return .double(Swift.abs(number))
            case .undefined(let undefined): throw TemplateFailure.type(undefined.message)
            default: throw TemplateFailure.type("bad operand type for abs(): '\(pyTypeName(value))'")
            }
        case "round":
            return try round(value, arguments)
        case "format":
            if !arguments.positional.isEmpty, !arguments.keywords.isEmpty {
                throw TemplateFailure.type("can't handle positional and keyword arguments at the same time")
            }
            var mapping = PyDict()
            for (key, item) in arguments.keywords { mapping.set(key, item) }
            let format = try pyStr(value)
            return .string(try percentFormat(format, arguments.keywords.isEmpty ? .tuple(arguments.positional) : .dict(mapping)))
        case "attr":
            let attributeName = try stringArgument(try arguments.bind(name, ["name"], required: 1)[0] ?? .none)
            return try attribute(of: value, attributeName)
        default:
            return try applySequenceFilter(name, value, arguments)
        }
    }

    // MARK: - String and number filters

    /// The `chars` argument of strip()/trim: None or a str.
    func stripCharacters(_ value: Value) throws -> String? {
        switch value {
        case .none: return nil
        case .string(let text): return text
        default: throw TemplateFailure.type("strip arg must be None or str")
        }
    }

    private func htmlEscape(_ text: String) -> String {
        var result = ""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": result += "&amp;"
            case "<": result += "&lt;"
            case ">": result += "&gt;"
            case "\"": result += "&#34;"
            case "'": result += "&#39;"
            default: result.unicodeScalars.append(scalar)
            }
        }
        return result
    }

    private func indent(_ value: Value, _ arguments: CallArguments) throws -> String {
        let bound = try arguments.bind("indent", ["width", "first", "blank"])
        let indention: String
        switch bound[0] ?? .int(4) {
        case .string(let text): indention = text
        case let width: indention = String(repeating: " ", count: min(max(0, try intArgument(width)), Limits.stringBytes))
        }
        guard case .string(let text) = value else {
            throw TemplateFailure.type("unsupported operand type(s) for +=: '\(pyTypeName(value))' and 'str'")
        }
        var lines = pySplitLines(text + "\n", keepEnds: false)
        var result: String
        if pyTruthy(bound[2] ?? .bool(false)) {
            result = try boundedJoin(lines, separator: "\n" + indention) { $0 }
        } else {
            result = lines.isEmpty ? "" : lines.removeFirst()
            if !lines.isEmpty {
                result += "\n" + (try boundedJoin(lines, separator: "\n") { $0.isEmpty ? $0 : indention + $0 })
            }
        }
        if pyTruthy(bound[1] ?? .bool(false)) { result = indention + result }
        try checkString(result)
        return result
    }

    private func wordCount(_ text: String) -> Int {
        var count = 0
        var inWord = false
        for scalar in text.unicodeScalars {
            let isWord = scalar == "_" || scalar.properties.isAlphabetic || scalar.properties.numericType != nil
            if isWord, !inWord { count += 1 }
            inWord = isWord
        }
        return count
    }

    /// Python `len(value)` (Undefined has length 0).
    func length(_ value: Value) throws -> Int {
        switch value {
        case .string(let text): return text.unicodeScalars.count
        case .list(let items), .tuple(let items): return items.count
        case .dict(let dict): return dict.count
        case .undefined: return 0
        case .loop(let loop): return loop.items.count
        default: throw TemplateFailure.type("object of type '\(pyTypeName(value))' has no len()")
        }
    }

    /// jinja2's `int` filter conversion, nil when it falls back to the default.
    private func toInt(_ value: Value, base: Int) -> Value? {
        switch value {
        case .bool(let flag): return .int(flag ? 1 : 0)
        case .int: return value
        case .double(let number):
            guard number.isFinite, Swift.abs(number) < 0x1p63 else { return nil }
            return .int(Int(number.rounded(.towardZero)))
        case .string(let text):
            if let number = parsePythonInt(text, base: base) { return .int(number) }
            guard let number = parsePythonFloat(text), number.isFinite, Swift.abs(number) < 0x1p63 else { return nil }
            return .int(Int(number.rounded(.towardZero)))
        default: return nil
        }
    }

    private func toFloat(_ value: Value) -> Double? {
        switch value {
        case .bool(let flag): return flag ? 1 : 0
        case .int(let number): return Double(number)
        case .double(let number): return number
        case .string(let text): return parsePythonFloat(text)
        default: return nil
        }
    }

    private func round(_ value: Value, _ arguments: CallArguments) throws -> Value {
        let bound = try arguments.bind("round", ["precision", "method"])
        let precision = try bound[0].map(intArgument) ?? 0
        let method = try bound[1].map { try stringArgument($0) } ?? "common"
        guard ["common", "ceil", "floor"].contains(method) else {
            throw TemplateFailure.type("method must be common, ceil or floor")
        }
        guard let number = PyNumber(value) else {
            if case .undefined(let undefined) = value { throw TemplateFailure.type(undefined.message) }
            throw TemplateFailure.type("type \(pyTypeName(value)) doesn't define __round__ method")
        }
        if method == "common" {
            if case .int(let whole) = number { return .int(try roundInteger(whole, precision)) }
            let real = number.double
            guard real.isFinite else { return .double(real) }
            if precision >= 0 {
                // printf rounds the exact binary value half-to-even, as Python's round() does.
                let text = String(format: "%.\(min(precision, 330))f", real)
                return .double(Double(text) ?? real)
            }
            let scale = pow10(-precision)
            return .double((real / scale).rounded(.toNearestOrEven) * scale)
        }
        let scale = pow10(precision)
        let scaled = number.double * scale
        return .double((method == "ceil" ? scaled.rounded(.up) : scaled.rounded(.down)) / scale)
    }

    /// Python `round(int, ndigits)`: the int itself for ndigits >= 0, else half-to-even at 10^-ndigits.
    private func roundInteger(_ value: Int, _ precision: Int) throws -> Int {
        guard precision < 0 else { return value }
        guard precision > -19 else { return 0 }
        var scale = 1
        for _ in 0..<(-precision) { scale *= 10 }
        var quotient = value / scale
        var remainder = value % scale
        if remainder < 0 {
            quotient -= 1
            remainder += scale
        }
        if remainder * 2 > scale || (remainder * 2 == scale && quotient % 2 != 0) { quotient += 1 }
        let (result, overflow) = quotient.multipliedReportingOverflow(by: scale)
        if overflow { throw TemplateFailure.type("integer overflow (values beyond 64 bits are not supported)") }
        return result
    }

    private func pow10(_ exponent: Int) -> Double {
        var result = 1.0
        for _ in 0..<min(Swift.abs(exponent), 400) { result *= 10 }
        return exponent < 0 ? 1 / result : result
    }
}

// MARK: - Python number parsing

/// Python `int(text, base)`: optional whitespace and sign, digits with single underscores,
/// and for base 16/8/2 an optional matching prefix.
func parsePythonInt(_ text: String, base: Int) -> Int? {
    var body = pyStrip(text, nil).lowercased()
    guard (2...36).contains(base) else { return nil }
    var negative = false
    if body.hasPrefix("-") || body.hasPrefix("+") {
        negative = body.hasPrefix("-")
        body.removeFirst()
    }
    let prefixes = [16: "0x", 8: "0o", 2: "0b"]
    if let prefix = prefixes[base], body.hasPrefix(prefix) { body.removeFirst(2); if body.hasPrefix("_") { body.removeFirst() } }
    guard !body.isEmpty, !body.hasPrefix("_"), !body.hasSuffix("_"), !body.contains("__") else { return nil }
    let digits = body.replacingOccurrences(of: "_", with: "")
    if base == 10, digits.count > 1, digits.hasPrefix("0"), digits.contains(where: { $0 != "0" }) { return nil }
    guard let magnitude = Int(digits, radix: base) else { return nil }
    return negative ? -magnitude : magnitude
}

/// Python `float(text)`: decimal or exponent notation, `inf`/`nan`, surrounding whitespace.
func parsePythonFloat(_ text: String) -> Double? {
    let body = pyStrip(text, nil).lowercased()
    let unsigned = body.hasPrefix("-") || body.hasPrefix("+") ? String(body.dropFirst()) : body
    let negative = body.hasPrefix("-")
    if ["inf", "infinity"].contains(unsigned) { return negative ? -.infinity : .infinity }
    if unsigned == "nan" { return .nan }
    guard !unsigned.isEmpty, unsigned.allSatisfy({ "0123456789._e+-".contains($0) }),
        !unsigned.hasPrefix("_"), !unsigned.contains("__"), !unsigned.hasSuffix("_"), unsigned.first != "e"
    else { return nil }
    return Double(body.replacingOccurrences(of: "_", with: ""))
}
