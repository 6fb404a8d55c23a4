// sacrebleu's `13a` tokenizer (mteval-v13a.pl, as WMT scores), on code points: the same
// replacements and the same four regular expressions, applied with `re.sub`'s left-to-right,
// non-overlapping matching.

/// The tokenization BLEU applies to hypotheses and references before counting n-grams.
public enum BLEUTokenization: String, Sendable, Hashable, CaseIterable, Codable {
    /// sacrebleu's default, `13a`: the mteval-v13a.pl rules (punctuation split off, except
    /// periods and commas inside numbers and dashes after digits).
    case thirteenA = "13a"
    /// No tokenization: the text is split on whitespace only (sacrebleu's `none`).
    case none

    /// The name sacrebleu's signature prints (`tok:13a`, `tok:none`).
    public var signatureName: String { rawValue }

    /// `line` tokenized as sacrebleu does, tokens separated by single spaces.
    ///
    /// ```swift
    /// BLEUTokenization.thirteenA.tokenize("Hello, world: 1,000.5!")   // "Hello , world : 1,000.5 !"
    /// ```
    public func tokenize(_ line: String) -> String {
        let points = tokenizedCodePoints(codePoints(line))
        return string(points)
    }

    /// The tokenized line as code points, tokens separated by single spaces.
    func tokenizedCodePoints(_ line: [UInt32]) -> [UInt32] {
        switch self {
        case .none:
            return joinedWords(line)
        case .thirteenA:
            return tokenize13a(line)
        }
    }
}

// MARK: - 13a

private let skipped = codePoints("<skipped>")
private let entityReplacements: [([UInt32], [UInt32])] = [
    (codePoints("&quot;"), codePoints("\"")), (codePoints("&amp;"), codePoints("&")),
    (codePoints("&lt;"), codePoints("<")), (codePoints("&gt;"), codePoints(">")),
]

private func tokenize13a(_ input: [UInt32]) -> [UInt32] {
    // Each replacement only when its first character occurs (most lines need none, and the
    // shared pattern arrays are then never touched by the threads scoring segments).
    var line = input
    if line.contains(0x3C) { line = replacingAll(skipped, with: [], in: line) }   // "<skipped>" → ""
    if line.contains(0x0A) {
        line = replacingAll([0x2D, 0x0A], with: [], in: line)        // "-\n" → ""
        line = line.map { $0 == 0x0A ? 0x20 : $0 }                   // "\n" → " "
    }
    if line.contains(0x26) {                                          // '&'
        for (entity, character) in entityReplacements { line = replacingAll(entity, with: character, in: line) }
    }
    // f' {line} ', then the regular-expression rules of sacrebleu's TokenizerRegexp.
    var padded: [UInt32] = [0x20]
    padded.reserveCapacity(line.count * 2 + 2)
    // Rule 1: ([\{-\~\[-\` -\&\(-\+\:-\@\/]) → ' \1 '
    for c in line {
        if isRuleOnePunctuation(c) { padded.append(0x20); padded.append(c); padded.append(0x20) } else { padded.append(c) }
    }
    padded.append(0x20)
    // Rule 2: ([^0-9])([\.,]) → '\1 \2 '
    var ruleTwo: [UInt32] = []
    ruleTwo.reserveCapacity(padded.count + padded.count / 4)
    var i = 0
    while i < padded.count {
        if i + 1 < padded.count && !isDigit(padded[i]) && isPeriodOrComma(padded[i + 1]) {
            ruleTwo.append(padded[i]); ruleTwo.append(0x20); ruleTwo.append(padded[i + 1]); ruleTwo.append(0x20)
            i += 2
        } else {
            ruleTwo.append(padded[i]); i += 1
        }
    }
    // Rule 3: ([\.,])([^0-9]) → ' \1 \2'
    var ruleThree: [UInt32] = []
    ruleThree.reserveCapacity(ruleTwo.count + ruleTwo.count / 4)
    i = 0
    while i < ruleTwo.count {
        if i + 1 < ruleTwo.count && isPeriodOrComma(ruleTwo[i]) && !isDigit(ruleTwo[i + 1]) {
            ruleThree.append(0x20); ruleThree.append(ruleTwo[i]); ruleThree.append(0x20); ruleThree.append(ruleTwo[i + 1])
            i += 2
        } else {
            ruleThree.append(ruleTwo[i]); i += 1
        }
    }
    // Rule 4: ([0-9])(-) → '\1 \2 '
    var ruleFour: [UInt32] = []
    ruleFour.reserveCapacity(ruleThree.count + 8)
    i = 0
    while i < ruleThree.count {
        if i + 1 < ruleThree.count && isDigit(ruleThree[i]) && ruleThree[i + 1] == 0x2D {
            ruleFour.append(ruleThree[i]); ruleFour.append(0x20); ruleFour.append(0x2D); ruleFour.append(0x20)
            i += 2
        } else {
            ruleFour.append(ruleThree[i]); i += 1
        }
    }
    return joinedWords(ruleFour)
}

@inline(__always) private func isDigit(_ c: UInt32) -> Bool { c >= 0x30 && c <= 0x39 }
@inline(__always) private func isPeriodOrComma(_ c: UInt32) -> Bool { c == 0x2E || c == 0x2C }
@inline(__always) private func isRuleOnePunctuation(_ c: UInt32) -> Bool {
    (0x7B...0x7E).contains(c) || (0x5B...0x60).contains(c) || (0x20...0x26).contains(c)
        || (0x28...0x2B).contains(c) || (0x3A...0x40).contains(c) || c == 0x2F
}

/// `' '.join(line.split())`.
func joinedWords(_ line: [UInt32]) -> [UInt32] {
    var result: [UInt32] = []
    result.reserveCapacity(line.count)
    for range in whitespaceSplit(line) {
        if !result.isEmpty { result.append(0x20) }
        result.append(contentsOf: line[range])
    }
    return result
}

/// Python's `str.replace(old, new)`: every non-overlapping occurrence, left to right.
func replacingAll(_ old: [UInt32], with new: [UInt32], in text: [UInt32]) -> [UInt32] {
    guard !old.isEmpty, text.count >= old.count else { return text }
    var result: [UInt32] = []
    var i = 0
    var changed = false
    while i < text.count {
        if text[i] == old[0] && i + old.count <= text.count && text[i..<(i + old.count)].elementsEqual(old) {
            if !changed { result.reserveCapacity(text.count); result.append(contentsOf: text[..<i]); changed = true }
            result.append(contentsOf: new)
            i += old.count
        } else {
            if changed { result.append(text[i]) }
            i += 1
        }
    }
    return changed ? result : text
}
