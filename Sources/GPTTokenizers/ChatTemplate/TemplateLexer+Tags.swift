// TemplateLexer+Tags: the tokens inside `{{ ... }}` and `{% ... %}`, as jinja2 lexes them.
// Legend: rules are tried in jinja2's order (closer, whitespace, float, integer, name, string,
// operator); a closer only counts when (), [] and {} are balanced; string literals are decoded
// with Python's unicode-escape rules (\n, \xhh, \uhhhh, \N{...} refused, unknown escapes kept).

// MARK: - Tag contents

extension TemplateLexer {
    static let singleOperators: Set<Unicode.Scalar> = ["+", "-", "/", "*", "%", "~", "[", "]", "(", ")", "{", "}", ">",
        "<", "=", ".", ":", "|", ",", ";"]

    /// Whether a name (Python identifier) can start with `scalar`.
    static func startsName(_ scalar: Unicode.Scalar) -> Bool {
        if scalar.isASCII { return scalar == "_" || ("a"..."z").contains(scalar) || ("A"..."Z").contains(scalar) }
        return scalar.properties.isXIDStart
    }

    /// Whether a name can continue with `scalar`.
    static func continuesName(_ scalar: Unicode.Scalar) -> Bool {
        if scalar.isASCII { return startsName(scalar) || ("0"..."9").contains(scalar) }
        return scalar.properties.isXIDContinue
    }

    /// The longest operator at `offset` (jinja2 tries `//`, `**`, `==`, `!=`, `>=`, `<=` first).
    func operatorAt(_ offset: Int) -> String? {
        let first = source[offset]
        if offset + 1 < source.count {
            let second = source[offset + 1]
            switch (first, second) {
            case ("/", "/"), ("*", "*"), ("=", "="), ("!", "="), (">", "="), ("<", "="):
                return String(first) + String(second)
            default: break
            }
        }
        return Self.singleOperators.contains(first) ? String(first) : nil
    }

    /// Tokens up to and including the closer; returns the offset after it and whether the
    /// closer's match ended with a newline. At the end of the source it just stops (the parser
    /// then reports the unexpected end).
    mutating func lexTag(from offset: Int, block: Bool) throws(ChatTemplateError) -> (Int, Bool) {
        var position = offset
        var balancing: [Unicode.Scalar] = []
        let closer = block ? "%}" : "}}"
        while position < source.count {
            if balancing.isEmpty {
                if block, matches("+%}", at: position) {
                    emit(.blockEnd, at: position)
                    return (position + 3, false)
                }
                if matches("-" + closer, at: position) {
                    emit(block ? .blockEnd : .variableEnd, at: position)
                    let end = skipSpace(from: position + 3)
                    return (end, end > position + 3 && source[end - 1] == "\n")
                }
                if matches(closer, at: position) {
                    emit(block ? .blockEnd : .variableEnd, at: position)
                    return block ? closerEnd(sign: nil, afterCloser: position + 2) : (position + 2, false)
                }
            }
            let scalar = source[position]
            if pyIsSpace(scalar) {
                position += 1
                continue
            }
            if let end = floatEnd(at: position) {
                let literal = text(position..<end).replacingOccurrences(of: "_", with: "")
                emit(.float(Double(literal) ?? .infinity), at: position)
                position = end
            } else if let end = integerEnd(at: position) {
                emit(.integer(try integerValue(text(position..<end), at: position)), at: position)
                position = end
            } else if Self.startsName(scalar) {
                var end = position + 1
                while end < source.count, Self.continuesName(source[end]) { end += 1 }
                emit(.name(text(position..<end)), at: position)
                position = end
            } else if scalar == "'" || scalar == "\"", let end = stringEnd(at: position) {
                emit(.string(try decodeString(position + 1..<end - 1)), at: position)
                position = end
            } else if let symbol = operatorAt(position) {
                try balance(symbol, &balancing, at: position)
                emit(.op(symbol), at: position)
                position += symbol.unicodeScalars.count
            } else {
                throw syntaxError("unexpected char \(pyRepr(string: String(scalar))) at \(position)", at: position)
            }
        }
        return (position, false)
    }

    private func balance(_ symbol: String, _ stack: inout [Unicode.Scalar], at offset: Int) throws(ChatTemplateError) {
        switch symbol {
        case "{": stack.append("}")
        case "(": stack.append(")")
        case "[": stack.append("]")
        case "}", ")", "]":
            guard let expected = stack.popLast() else { throw syntaxError("unexpected '\(symbol)'", at: offset) }
            if String(expected) != symbol {
                throw syntaxError("unexpected '\(symbol)', expected '\(expected)'", at: offset)
            }
        default: break
        }
    }

    // MARK: - Numbers

    /// The end of `(\d+_)*\d+` at `offset`, or nil.
    private func digitsEnd(at offset: Int, allowed: (Unicode.Scalar) -> Bool = { ("0"..."9").contains($0) }) -> Int? {
        var position = offset
        guard position < source.count, allowed(source[position]) else { return nil }
        while position < source.count {
            if allowed(source[position]) {
                position += 1
            } else if source[position] == "_", position + 1 < source.count, allowed(source[position + 1]) {
                position += 2
            } else {
                break
            }
        }
        return position
    }

    /// The end of a float literal (jinja2's float_re) at `offset`, or nil.
    func floatEnd(at offset: Int) -> Int? {
        if offset > 0, source[offset - 1] == "." { return nil }
        guard let whole = digitsEnd(at: offset) else { return nil }
        func exponentEnd(_ start: Int) -> Int? {
            guard start < source.count, source[start] == "e" || source[start] == "E" else { return nil }
            var position = start + 1
            if position < source.count, source[position] == "+" || source[position] == "-" { position += 1 }
            return digitsEnd(at: position)
        }
        var fraction: Int?
        if whole < source.count, source[whole] == "." { fraction = digitsEnd(at: whole + 1) }
        if let fraction, let end = exponentEnd(fraction) { return end }
        if let end = exponentEnd(whole) { return end }
        return fraction
    }

    /// The end of an integer literal (jinja2's integer_re) at `offset`, or nil.
    func integerEnd(at offset: Int) -> Int? {
        guard offset < source.count, ("0"..."9").contains(source[offset]) else { return nil }
        if source[offset] == "0", offset + 1 < source.count {
            let base = source[offset + 1]
            let digitSet: String?
            switch base {
            case "b", "B": digitSet = "01"
            case "o", "O": digitSet = "01234567"
            case "x", "X": digitSet = "0123456789abcdefABCDEF"
            default: digitSet = nil
            }
            if let digitSet {
                let set = Set(digitSet.unicodeScalars)
                var position = offset + 2
                var any = false
                while position < source.count {
                    if set.contains(source[position]) {
                        position += 1
                        any = true
                    } else if source[position] == "_", position + 1 < source.count, set.contains(source[position + 1]) {
                        position += 2
                        any = true
                    } else {
                        break
                    }
                }
                if any { return position }
            }
        }
        if source[offset] == "0" { return digitsEnd(at: offset) { $0 == "0" } }
        return digitsEnd(at: offset)
    }

    private func integerValue(_ literal: String, at offset: Int) throws(ChatTemplateError) -> Int {
        let digits = literal.replacingOccurrences(of: "_", with: "").lowercased()
        let value: Int?
        if digits.hasPrefix("0b") {
            value = Int(digits.dropFirst(2), radix: 2)
        } else if digits.hasPrefix("0o") {
            value = Int(digits.dropFirst(2), radix: 8)
        } else if digits.hasPrefix("0x") {
            value = Int(digits.dropFirst(2), radix: 16)
        } else {
            value = Int(digits)
        }
        guard let value else { throw syntaxError("integer literal \(literal) is too large", at: offset) }
        return value
    }

    // MARK: - Strings

    /// The offset after the closing quote of a string literal starting at `offset`, or nil.
    func stringEnd(at offset: Int) -> Int? {
        let quote = source[offset]
        var position = offset + 1
        while position < source.count {
            if source[position] == "\\" {
                position += 2
            } else if source[position] == quote {
                return position + 1
            } else {
                position += 1
            }
        }
        return nil
    }

    /// Python's `encode("ascii", "backslashreplace").decode("unicode-escape")` of a literal body.
    func decodeString(_ range: Range<Int>) throws(ChatTemplateError) -> String {
        var result = String.UnicodeScalarView()
        var position = range.lowerBound
        func hexValue(count: Int) -> UInt32? {
            guard position + 1 + count <= range.upperBound else { return nil }
            let digits = text(position + 1..<position + 1 + count)
            guard digits.unicodeScalars.allSatisfy({ $0.properties.isASCIIHexDigit }) else { return nil }
            return UInt32(digits, radix: 16)
        }
        while position < range.upperBound {
            let scalar = source[position]
            guard scalar == "\\", position + 1 < range.upperBound else {
                result.append(scalar)
                position += 1
                continue
            }
            position += 1
            let escape = source[position]
            var consumed = 1
            switch escape {
            case "\n": break
            case "\\", "'", "\"": result.append(escape)
            case "a": result.append("\u{07}")
            case "b": result.append("\u{08}")
            case "f": result.append("\u{0C}")
            case "n": result.append("\n")
            case "r": result.append("\r")
            case "t": result.append("\t")
            case "v": result.append("\u{0B}")
            case "0"..."7":
                var value: UInt32 = 0
                var count = 0
                while count < 3, position + count < range.upperBound, ("0"..."7").contains(source[position + count]) {
                    value = value * 8 + (source[position + count].value - 48)
                    count += 1
                }
                result.append(Unicode.Scalar(value) ?? "\u{FFFD}")
                consumed = count
            case "x", "u", "U":
                let count = escape == "x" ? 2 : escape == "u" ? 4 : 8
                guard let value = hexValue(count: count) else {
                    let shape = escape == "x" ? "\\xXX" : escape == "u" ? "\\uXXXX" : "\\UXXXXXXXX"
                    throw syntaxError("truncated \(shape) escape", at: range.lowerBound)
                }
                guard let decoded = Unicode.Scalar(value) else {
                    throw syntaxError(value > 0x10FFFF ? "illegal Unicode character" : "surrogate code point in string",
                        at: range.lowerBound)
                }
                result.append(decoded)
                consumed = count + 1
            case "N":
                throw .unsupported(construct: "the \\N{...} string escape", line: location(range.lowerBound).line)
            default:
                // Unknown escapes stay as written; a non-ASCII code point was first turned into
                // its \x/\u/\U escape by backslashreplace, and that text is kept.
                result.append("\\")
                if escape.isASCII {
                    result.append(escape)
                } else {
                    result.append(contentsOf: hexEscape(escape).unicodeScalars.dropFirst())
                }
            }
            position += consumed
        }
        return String(result)
    }
}
