// TemplateLexer: splits template text into data and tag tokens exactly as jinja2's lexer does
// with transformers' settings (trim_blocks, lstrip_blocks, keep_trailing_newline=False).
// Legend: the root state finds the next `{{`, `{%`, `{#` (or `{% raw %}`); a `-` after the opener
// strips all whitespace before it, otherwise lstrip_blocks strips spaces/tabs back to the line
// start before `{%` and `{#`; a `-` before the closer strips all whitespace after it, otherwise
// trim_blocks drops one newline after `%}` and `#}`; `+` on either side turns these off.
// Tag contents are tokenized by TemplateLexer+Tags.swift.

// MARK: - Tokens

/// One lexical token.
enum TokenKind: Equatable {
    case data(String)
    case variableBegin, variableEnd, blockBegin, blockEnd
    case name(String)
    case string(String)
    case integer(Int)
    case float(Double)
    case op(String)
    case eof

    /// jinja2's `describe_token` wording, used in syntax-error messages.
    var description: String {
        switch self {
        case .data: return "template data / text"
        case .variableBegin: return "begin of print statement"
        case .variableEnd: return "end of print statement"
        case .blockBegin: return "begin of statement block"
        case .blockEnd: return "end of statement block"
        case .name(let name): return name
        case .string: return "string"
        case .integer: return "integer"
        case .float: return "float"
        case .op(let symbol): return symbol
        case .eof: return "end of template"
        }
    }
}

/// A token and where it starts (1-based line and column).
struct Token {
    let kind: TokenKind
    let line: Int
    let column: Int
}

// MARK: - Lexer

/// The lexer for one template source.
struct TemplateLexer {
    /// The source as code points, newlines normalised to `\n`, one trailing newline removed.
    let source: [Unicode.Scalar]
    private var lineStarts: [Int] = [0]
    var tokens: [Token] = []

    init(_ text: String) {
        // jinja2 splits on \r\n, \r, \n, drops a final empty line, and joins with \n.
        var scalars: [Unicode.Scalar] = []
        scalars.reserveCapacity(text.unicodeScalars.count)
        var previousCR = false
        for scalar in text.unicodeScalars {
            if scalar == "\n", previousCR { previousCR = false; continue }
            previousCR = scalar == "\r"
            scalars.append(scalar == "\r" ? "\n" : scalar)
        }
        if scalars.last == "\n" { scalars.removeLast() }
        source = scalars
        for (offset, scalar) in scalars.enumerated() where scalar == "\n" { lineStarts.append(offset + 1) }
    }

    /// The 1-based line and column of a source offset.
    func location(_ offset: Int) -> (line: Int, column: Int) {
        var low = 0
        var high = lineStarts.count - 1
        while low < high {
            let middle = (low + high + 1) / 2
            if lineStarts[middle] <= offset { low = middle } else { high = middle - 1 }
        }
        return (low + 1, offset - lineStarts[low] + 1)
    }

    func syntaxError(_ message: String, at offset: Int) -> ChatTemplateError {
        let (line, column) = location(offset)
        return .syntax(line: line, column: column, message: message)
    }

    mutating func emit(_ kind: TokenKind, at offset: Int) {
        let (line, column) = location(offset)
        tokens.append(Token(kind: kind, line: line, column: column))
    }

    func text(_ range: Range<Int>) -> String { String(String.UnicodeScalarView(source[range])) }

    func matches(_ literal: String, at offset: Int) -> Bool {
        var position = offset
        for scalar in literal.unicodeScalars {
            guard position < source.count, source[position] == scalar else { return false }
            position += 1
        }
        return true
    }

    func skipSpace(from offset: Int) -> Int {
        var position = offset
        while position < source.count, pyIsSpace(source[position]) { position += 1 }
        return position
    }

    // MARK: - Root state

    /// Tokenizes the whole source.
    mutating func tokenize() throws(ChatTemplateError) -> [Token] {
        var position = 0
        var lineStarting = true
        while position < source.count {
            guard let opener = nextOpener(from: position) else {
                emit(.data(text(position..<source.count)), at: position)
                break
            }
            let kind = source[opener + 1]
            let raw = kind == "%" ? rawBegin(at: opener) : nil
            let signOffset = opener + 2
            let sign: Unicode.Scalar? = signOffset < source.count && (source[signOffset] == "-" || source[signOffset] == "+")
                ? source[signOffset] : nil
            emitData(position..<opener, sign: sign, lstrip: kind != "{", lineStarting: lineStarting)
            let afterOpener = signOffset + (sign == nil ? 0 : 1)
            if let raw {
                (position, lineStarting) = try lexRaw(bodyStart: raw.end, rawEndsLine: raw.endsLine, beginAt: opener)
            } else if kind == "#" {
                (position, lineStarting) = try lexComment(from: afterOpener, beginAt: opener)
            } else {
                emit(kind == "{" ? .variableBegin : .blockBegin, at: opener)
                (position, lineStarting) = try lexTag(from: afterOpener, block: kind == "%")
            }
        }
        emit(.eof, at: source.count)
        return tokens
    }

    /// The offset of the next `{{`, `{%` or `{#` at or after `offset`.
    func nextOpener(from offset: Int) -> Int? {
        var position = offset
        while position + 1 < source.count {
            if source[position] == "{" {
                let next = source[position + 1]
                if next == "{" || next == "%" || next == "#" { return position }
            }
            position += 1
        }
        return nil
    }

    /// Emits the text before a tag, after applying `-` stripping or lstrip_blocks.
    mutating func emitData(_ range: Range<Int>, sign: Unicode.Scalar?, lstrip: Bool, lineStarting: Bool) {
        var end = range.upperBound
        if sign == "-" {
            while end > range.lowerBound, pyIsSpace(source[end - 1]) { end -= 1 }
        } else if sign != "+", lstrip {
            var lineStart = end
            while lineStart > range.lowerBound, source[lineStart - 1] != "\n" { lineStart -= 1 }
            if lineStart > range.lowerBound || lineStarting {
                let blank = (lineStart..<end).allSatisfy { pyIsSpace(source[$0]) }
                if blank { end = lineStart }
            }
        }
        if end > range.lowerBound { emit(.data(text(range.lowerBound..<end)), at: range.lowerBound) }
    }

    /// After a block or comment closer at `offset` (`%}` or `#}` preceded by an optional sign
    /// already seen), the end of the match and whether it ended with a newline.
    func closerEnd(sign: Unicode.Scalar?, afterCloser: Int) -> (end: Int, endsLine: Bool) {
        switch sign {
        case "-":
            let end = skipSpace(from: afterCloser)
            return (end, end > afterCloser && source[end - 1] == "\n")
        case "+": return (afterCloser, false)
        default:
            if afterCloser < source.count, source[afterCloser] == "\n" { return (afterCloser + 1, true) }
            return (afterCloser, false)
        }
    }

    // MARK: - Comments and raw blocks

    mutating func lexComment(from offset: Int, beginAt opener: Int) throws(ChatTemplateError) -> (Int, Bool) {
        var position = offset
        while position < source.count {
            if matches("#}", at: position) { return closerEnd(sign: nil, afterCloser: position + 2) }
            if (source[position] == "-" || source[position] == "+"), matches("#}", at: position + 1) {
                return closerEnd(sign: source[position], afterCloser: position + 3)
            }
            position += 1
        }
        throw syntaxError("Missing end of comment tag", at: opener)
    }

    /// `{%[-+]?\s*raw\s*(-%}\s*|%})` at `offset`: where the raw body starts.
    func rawBegin(at offset: Int) -> (end: Int, endsLine: Bool)? {
        var position = offset + 2
        if position < source.count, source[position] == "-" || source[position] == "+" { position += 1 }
        position = skipSpace(from: position)
        guard matches("raw", at: position) else { return nil }
        position = skipSpace(from: position + 3)
        if matches("-%}", at: position) {
            let end = skipSpace(from: position + 3)
            return (end, end > position + 3 && source[end - 1] == "\n")
        }
        return matches("%}", at: position) ? (position + 2, false) : nil
    }

    mutating func lexRaw(bodyStart: Int, rawEndsLine: Bool, beginAt opener: Int) throws(ChatTemplateError) -> (Int, Bool) {
        var position = bodyStart
        while let tag = nextOpener(from: position) {
            position = tag + 1
            guard source[tag + 1] == "%" else { continue }
            var cursor = tag + 2
            var sign: Unicode.Scalar?
            if cursor < source.count, source[cursor] == "-" || source[cursor] == "+" { sign = source[cursor]; cursor += 1 }
            cursor = skipSpace(from: cursor)
            guard matches("endraw", at: cursor) else { continue }
            cursor = skipSpace(from: cursor + 6)
            var closeSign: Unicode.Scalar?
            if cursor < source.count, source[cursor] == "-" || source[cursor] == "+" { closeSign = source[cursor]; cursor += 1 }
            guard matches("%}", at: cursor) else { continue }
            emitData(bodyStart..<tag, sign: sign, lstrip: true, lineStarting: rawEndsLine)
            return closerEnd(sign: closeSign, afterCloser: cursor + 2)
        }
        throw syntaxError("Missing end of raw directive", at: opener)
    }
}
