// PythonString: Python `str` semantics on Unicode code points (not Swift Characters).
// Legend: pyIsSpace = str.isspace() for one code point (also what `\s` and rstrip() use); the
// functions mirror str.strip/split/rsplit/splitlines/replace/find/count/title/capitalize and
// jinja2's `title` filter. Python indexes strings by code point, so every function here works
// on `unicodeScalars`.

// MARK: - Character classes

/// Python's `str.isspace()` for one code point.
func pyIsSpace(_ scalar: Unicode.Scalar) -> Bool {
    switch scalar.value {
    case 0x09...0x0D, 0x1C...0x20, 0x85, 0xA0, 0x1680, 0x2000...0x200A, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000:
        return true
    default: return false
    }
}

/// Whether Python's `str.isprintable()` holds for one code point (repr escapes the others).
func pyIsPrintable(_ scalar: Unicode.Scalar) -> Bool {
    if scalar == " " { return true }
    switch scalar.properties.generalCategory {
    case .control, .format, .surrogate, .privateUse, .unassigned, .lineSeparator, .paragraphSeparator, .spaceSeparator:
        return false
    default: return true
    }
}

/// Whether a code point is cased (Lu, Ll, Lt), as str.title() and islower() see it.
func pyIsCased(_ scalar: Unicode.Scalar) -> Bool {
    switch scalar.properties.generalCategory {
    case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter: return true
    default: return false
    }
}

// MARK: - Strip and split

/// `str.strip/lstrip/rstrip(chars)`; `chars == nil` strips whitespace.
func pyStrip(_ text: String, _ chars: String?, left: Bool = true, right: Bool = true) -> String {
    let scalars = Array(text.unicodeScalars)
    let set = chars.map { Set($0.unicodeScalars) }
    func strippable(_ scalar: Unicode.Scalar) -> Bool { set?.contains(scalar) ?? pyIsSpace(scalar) }
    var start = 0
    var end = scalars.count
    if left { while start < end, strippable(scalars[start]) { start += 1 } }
    if right { while end > start, strippable(scalars[end - 1]) { end -= 1 } }
    return String(String.UnicodeScalarView(scalars[start..<end]))
}

/// `str.split(sep, maxsplit)` (and `rsplit` when `fromRight`); nil `sep` splits on whitespace runs.
func pySplit(_ text: String, _ separator: String?, maxSplit: Int = -1, fromRight: Bool = false) throws -> [String] {
    let scalars = Array(text.unicodeScalars)
    let limit = maxSplit < 0 ? Int.max : maxSplit
    func piece(_ range: Range<Int>) -> String { String(String.UnicodeScalarView(scalars[range])) }
    guard let separator else {
        // Whitespace: runs of spaces separate, leading/trailing ones are dropped.
        var words: [Range<Int>] = []
        if !fromRight {
            var position = 0
            while position < scalars.count {
                while position < scalars.count, pyIsSpace(scalars[position]) { position += 1 }
                if position == scalars.count { break }
                if words.count == limit {
                    words.append(position..<scalars.count)
                    break
                }
                let start = position
                while position < scalars.count, !pyIsSpace(scalars[position]) { position += 1 }
                words.append(start..<position)
            }
            return words.map(piece)
        }
        var position = scalars.count
        while position > 0 {
            while position > 0, pyIsSpace(scalars[position - 1]) { position -= 1 }
            if position == 0 { break }
            if words.count == limit {
                words.append(0..<position)
                break
            }
            let end = position
            while position > 0, !pyIsSpace(scalars[position - 1]) { position -= 1 }
            words.append(position..<end)
        }
        return words.reversed().map(piece)
    }
    let sep = Array(separator.unicodeScalars)
    guard !sep.isEmpty else { throw TemplateFailure.type("empty separator") }
    let matches = pyFindAll(scalars, sep, limit: limit, fromRight: fromRight)
    var pieces: [String] = []
    var start = 0
    for match in matches {
        pieces.append(piece(start..<match))
        start = match + sep.count
    }
    pieces.append(piece(start..<scalars.count))
    return pieces
}

/// Start offsets of up to `limit` non-overlapping occurrences of `needle` (non-empty), in order.
func pyFindAll(_ haystack: [Unicode.Scalar], _ needle: [Unicode.Scalar], limit: Int = .max, fromRight: Bool = false)
    -> [Int]
{
    guard !needle.isEmpty, needle.count <= haystack.count else { return [] }
    func matches(at position: Int) -> Bool {
        for offset in 0..<needle.count where haystack[position + offset] != needle[offset] { return false }
        return true
    }
    var found: [Int] = []
    if !fromRight {
        var position = 0
        while position + needle.count <= haystack.count, found.count < limit {
            if matches(at: position) {
                found.append(position)
                position += needle.count
            } else {
                position += 1
            }
        }
        return found
    }
    var position = haystack.count - needle.count
    while position >= 0, found.count < limit {
        if matches(at: position) {
            found.append(position)
            position -= needle.count
        } else {
            position -= 1
        }
    }
    return found.reversed()
}

/// `str.splitlines(keepends)`.
func pySplitLines(_ text: String, keepEnds: Bool) -> [String] {
    let scalars = Array(text.unicodeScalars)
    var lines: [String] = []
    var start = 0
    var position = 0
    while position < scalars.count {
        let value = scalars[position].value
        var breakLength = 0
        switch value {
        case 0x0D: breakLength = position + 1 < scalars.count && scalars[position + 1] == "\n" ? 2 : 1
        case 0x0A, 0x0B, 0x0C, 0x1C, 0x1D, 0x1E, 0x85, 0x2028, 0x2029: breakLength = 1
        default: break
        }
        if breakLength == 0 {
            position += 1
            continue
        }
        let end = keepEnds ? position + breakLength : position
        lines.append(String(String.UnicodeScalarView(scalars[start..<end])))
        position += breakLength
        start = position
    }
    if start < scalars.count { lines.append(String(String.UnicodeScalarView(scalars[start...]))) }
    return lines
}

// MARK: - Replace, find, count

/// `str.replace(old, new, count)`; fails when the result would pass Limits.stringBytes code points.
func pyReplace(_ text: String, _ old: String, _ new: String, count: Int = -1) throws -> String {
    let scalars = Array(text.unicodeScalars)
    let oldScalars = Array(old.unicodeScalars)
    let limit = count < 0 ? Int.max : count
    var result = String.UnicodeScalarView()
    let newCount = new.unicodeScalars.count
    let occurrences = oldScalars.isEmpty ? scalars.count + 1 : pyFindAll(scalars, oldScalars, limit: limit).count
    let (growth, overflow) = min(occurrences, limit).multipliedReportingOverflow(by: newCount)
    if overflow || scalars.count + growth > Limits.stringBytes {
        throw TemplateFailure.type("a string would exceed \(Limits.stringBytes) bytes")
    }
    if oldScalars.isEmpty {
        // Python inserts `new` before every code point and at the end.
        var inserted = 0
        for scalar in scalars {
            if inserted < limit { result.append(contentsOf: new.unicodeScalars); inserted += 1 }
            result.append(scalar)
        }
        if inserted < limit { result.append(contentsOf: new.unicodeScalars) }
        return String(result)
    }
    var start = 0
    for match in pyFindAll(scalars, oldScalars, limit: limit) {
        result.append(contentsOf: scalars[start..<match])
        result.append(contentsOf: new.unicodeScalars)
        start = match + oldScalars.count
    }
    result.append(contentsOf: scalars[start...])
    return String(result)
}

/// `str.find(sub)` / `str.rfind(sub)`: the code-point offset, or -1.
func pyFind(_ text: String, _ needle: String, fromRight: Bool = false) -> Int {
    let scalars = Array(text.unicodeScalars)
    let sub = Array(needle.unicodeScalars)
    if sub.isEmpty { return fromRight ? scalars.count : 0 }
    return pyFindAll(scalars, sub, limit: 1, fromRight: fromRight).first ?? -1
}

/// `str.count(sub)`.
func pyCount(_ text: String, _ needle: String) -> Int {
    let sub = Array(needle.unicodeScalars)
    if sub.isEmpty { return text.unicodeScalars.count + 1 }
    return pyFindAll(Array(text.unicodeScalars), sub).count
}

// MARK: - Case

/// `str.capitalize()`: the first code point title-cased, the rest lower-cased.
func pyCapitalize(_ text: String) -> String {
    guard let first = text.unicodeScalars.first else { return text }
    let rest = String(String.UnicodeScalarView(text.unicodeScalars.dropFirst()))
    return first.properties.titlecaseMapping + rest.lowercased()
}

/// `str.title()`: a cased code point after an uncased one is title-cased, others lower-cased.
func pyTitle(_ text: String) -> String {
    var result = ""
    var previousCased = false
    for scalar in text.unicodeScalars {
        if pyIsCased(scalar) {
            result += previousCased ? scalar.properties.lowercaseMapping : scalar.properties.titlecaseMapping
            previousCased = true
        } else {
            result.unicodeScalars.append(scalar)
            previousCased = false
        }
    }
    return result
}

/// jinja2's `title` filter: split before runs of `-`, whitespace, `(`, `{`, `[`, `<`; upper-case
/// each piece's first code point and lower-case the rest.
func jinjaTitle(_ text: String) -> String {
    func isBreak(_ scalar: Unicode.Scalar) -> Bool { "-({[<".unicodeScalars.contains(scalar) || pyIsSpace(scalar) }
    var result = ""
    var piece = String.UnicodeScalarView()
    var pieceIsBreak = false
    func flush() {
        guard let first = piece.first else { return }
        result += String(first).uppercased() + String(String.UnicodeScalarView(piece.dropFirst())).lowercased()
        piece = String.UnicodeScalarView()
    }
    for scalar in text.unicodeScalars {
        if isBreak(scalar) != pieceIsBreak {
            flush()
            pieceIsBreak.toggle()
        }
        piece.append(scalar)
    }
    flush()
    return result
}
