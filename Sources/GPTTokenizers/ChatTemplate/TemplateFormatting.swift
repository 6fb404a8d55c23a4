// TemplateFormatting: Python's `str.format` and `str % args` for the common cases.
// Legend: replacement fields `{}`, `{0}`, `{name}`, `{name.attr}`, `{name[key]}`, conversions
// `!s` / `!r`, and the spec `[[fill]align][sign][0][width][.precision][type]` with types
// s d f F e E g G % x X o b; anything else (grouping, `#`, nested fields) is refused as unsupported.

import Foundation

// MARK: - str.format

extension TemplateRenderer {
    func pyFormat(_ format: String, _ arguments: CallArguments) throws -> String {
        var result = ""
        var scalars = Array(format.unicodeScalars)[...]
        var autoIndex = 0
        while let scalar = scalars.popFirst() {
            if scalar == "}" {
                guard scalars.first == "}" else { throw TemplateFailure.type("Single '}' encountered in format string") }
                scalars.removeFirst()
                result += "}"
                continue
            }
            guard scalar == "{" else {
                result.unicodeScalars.append(scalar)
                continue
            }
            if scalars.first == "{" {
                scalars.removeFirst()
                result += "{"
                continue
            }
            var field = ""
            while let next = scalars.popFirst(), next != "}" {
                if next == "{" { throw TemplateFailure.unsupported("nested fields in str.format") }
                field.unicodeScalars.append(next)
                if scalars.isEmpty { throw TemplateFailure.type("expected '}' before end of string") }
            }
            var spec = ""
            if let colon = field.firstIndex(of: ":") {
                spec = String(field[field.index(after: colon)...])
                field = String(field[..<colon])
            }
            var conversion: Character?
            if let bang = field.firstIndex(of: "!") {
                conversion = field[field.index(after: bang)...].first
                field = String(field[..<bang])
            }
            var value = try formatField(field, arguments, &autoIndex)
            if conversion == "r" { value = .string(try pyRepr(value)) } else if conversion == "s" { value = .string(try pyStr(value)) }
            result += try formatSpec(value, spec)
            try checkString(result)
        }
        return result
    }

    private func formatField(_ field: String, _ arguments: CallArguments, _ autoIndex: inout Int) throws -> Value {
        let head = field.prefix { $0 != "." && $0 != "[" }
        var rest = field.dropFirst(head.count)
        var value: Value
        if head.isEmpty || head.allSatisfy(\.isNumber) {
            let index = head.isEmpty ? autoIndex : Int(head) ?? -1
            if head.isEmpty { autoIndex += 1 }
            guard arguments.positional.indices.contains(index) else {
                throw TemplateFailure.type("Replacement index \(index) out of range for positional args tuple")
            }
            value = arguments.positional[index]
        } else {
            guard let found = arguments.keywords.first(where: { $0.name == head }) else {
                throw TemplateFailure.type(pyRepr(string: String(head)))
            }
            value = found.value
        }
        while let first = rest.first {
            rest = rest.dropFirst()
            let name = rest.prefix { $0 != "." && $0 != "[" && $0 != "]" }
            rest = rest.dropFirst(name.count)
            if first == "[" {
                guard rest.first == "]" else { throw TemplateFailure.type("Missing ']' in format string") }
                rest = rest.dropFirst()
                value = try item(of: value, Int(name).map { .int($0) } ?? .string(String(name)))
            } else {
                value = try attribute(of: value, String(name))
            }
        }
        return value
    }

    /// `format(value, spec)` for the supported spec subset.
    func formatSpec(_ value: Value, _ spec: String) throws -> String {
        if spec.isEmpty { return try pyStr(value) }
        var scalars = Array(spec.unicodeScalars)[...]
        var fill: Unicode.Scalar = " "
        var align: Unicode.Scalar?
        let aligns: Set<Unicode.Scalar> = ["<", ">", "^", "="]
        if scalars.count >= 2, aligns.contains(scalars[scalars.startIndex + 1]) {
            fill = scalars.removeFirst()
            align = scalars.removeFirst()
        } else if let first = scalars.first, aligns.contains(first) {
            align = scalars.removeFirst()
        }
        var sign: Unicode.Scalar = "-"
        if let first = scalars.first, first == "+" || first == "-" || first == " " { sign = scalars.removeFirst() }
        if scalars.first == "0" {
            scalars.removeFirst()
            if align == nil { fill = "0"; align = "=" }
        }
        var width = 0
        while let digit = scalars.first, let number = Int(String(digit)) {
            width = min(width * 10 + number, Limits.stringBytes)
            scalars.removeFirst()
        }
        var precision: Int?
        if scalars.first == "." {
            scalars.removeFirst()
            var number = 0
            while let digit = scalars.first, let value = Int(String(digit)) {
                number = min(number * 10 + value, 1000)
                scalars.removeFirst()
            }
            precision = number
        }
        let type = scalars.popFirst()
        guard scalars.isEmpty else { throw TemplateFailure.unsupported("the format spec '\(spec)'") }
        var body: String
        var negative = false
        switch (type, value) {
        case (nil, .string(let text)), ("s", .string(let text)):
            body = precision.map { String(String.UnicodeScalarView(text.unicodeScalars.prefix($0))) } ?? text
        case (nil, .int(let number)), ("d", .int(let number)):
            negative = number < 0
            body = String(number.magnitude)
        case ("x", .int(let number)), ("X", .int(let number)), ("o", .int(let number)), ("b", .int(let number)):
            negative = number < 0
            let radix = type == "o" ? 8 : type == "b" ? 2 : 16
            body = String(number.magnitude, radix: radix, uppercase: type == "X")
        case (let kind?, _) where "fFeEgG%".unicodeScalars.contains(kind):
            guard let number = PyNumber(value)?.double else {
                throw TemplateFailure.type("Unknown format code '\(kind)' for object of type '\(pyTypeName(value))'")
            }
            negative = number.sign == .minus && !number.isNaN
            let magnitude = Swift.abs(kind == "%" ? number * 100 : number)
            let code = kind == "%" ? "f" : String(kind)
            body = String(format: "%.\(precision ?? 6)\(code)", magnitude) + (kind == "%" ? "%" : "")
        case (nil, .double(let number)) where precision == nil:
            negative = number.sign == .minus && !number.isNaN
            body = pyFloatRepr(Swift.abs(number))
        default:
            throw TemplateFailure.unsupported("the format spec '\(spec)' for \(pyTypeName(value))")
        }
        let signText = negative ? "-" : (sign == "+" ? "+" : sign == " " ? " " : "")
        let isNumber = PyNumber(value) != nil
        let length = signText.unicodeScalars.count + body.unicodeScalars.count
        let missing = max(0, width - length)
        let padding = { (count: Int) in String(repeating: String(fill), count: count) }
        switch align ?? (isNumber ? ">" : "<") {
        case "<": return signText + body + padding(missing)
        case ">": return padding(missing) + signText + body
        case "^": return padding(missing / 2) + signText + body + padding(missing - missing / 2)
        default: return signText + padding(missing) + body
        }
    }

    // MARK: - printf-style %

    /// `format % arguments` for `%s %r %d %i %f %e %g %x %o %c %%`, with `%(name)s` from a dict.
    func percentFormat(_ format: String, _ arguments: Value) throws -> String {
        var items: [Value]
        var mapping: PyDict?
        switch arguments {
        case .tuple(let values): items = values
        case .dict(let dict): items = [arguments]; mapping = dict
        default: items = [arguments]
        }
        var next = 0
        var result = ""
        var scalars = Array(format.unicodeScalars)[...]
        while let scalar = scalars.popFirst() {
            guard scalar == "%" else {
                result.unicodeScalars.append(scalar)
                continue
            }
            var value: Value?
            if scalars.first == "(" {
                scalars.removeFirst()
                var key = ""
                while let character = scalars.popFirst(), character != ")" { key.unicodeScalars.append(character) }
                guard let mapping else { throw TemplateFailure.type("format requires a mapping") }
                guard let found = mapping.get(key) else { throw TemplateFailure.type(pyRepr(string: key)) }
                value = found
            }
            var spec = ""
            while let character = scalars.first, "-+ 0#.0123456789".unicodeScalars.contains(character) {
                spec.unicodeScalars.append(character)
                scalars.removeFirst()
            }
            guard let type = scalars.popFirst() else { throw TemplateFailure.type("incomplete format") }
            if type == "%" {
                result += "%"
                continue
            }
            if value == nil {
                guard next < items.count else { throw TemplateFailure.type("not enough arguments for format string") }
                value = items[next]
                next += 1
            }
            let argument = value ?? .none
            let flags = spec.prefix { "-+ 0#".contains($0) }
            let align: String = flags.contains("-") ? "<" : (flags.contains("0") && type != "s" && type != "r" ? "0" : "")
            let rest = spec.dropFirst(flags.count)
            let signFlag = flags.contains("+") ? "+" : flags.contains(" ") ? " " : ""
            switch type {
            case "s", "r":
                let text = type == "s" ? try pyStr(argument) : try pyRepr(argument)
                result += try formatSpec(.string(text), (align == "<" ? "<" : ">") + rest)
            case "d", "i", "f", "F", "e", "E", "g", "G", "x", "X", "o":
                var number = argument
                if "dixXo".unicodeScalars.contains(type), case .double(let real) = argument, real.isFinite,
                    Swift.abs(real) < 0x1p63
                {
                    number = .int(Int(real.rounded(.towardZero)))
                }
                let code = "di".unicodeScalars.contains(type) ? "d" : String(type)
                result += try formatSpec(number, (align == "<" ? "<" : "") + signFlag + (align == "0" ? "0" : "") + rest + code)
            case "c":
                result += try pyStr(argument)
            default:
                throw TemplateFailure.type("unsupported format character '\(type)'")
            }
        }
        if mapping == nil, next < items.count {
            throw TemplateFailure.type("not all arguments converted during string formatting")
        }
        try checkString(result)
        return result
    }
}
