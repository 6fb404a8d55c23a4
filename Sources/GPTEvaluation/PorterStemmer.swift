// The Porter stemmer as NLTK's `PorterStemmer()` (mode NLTK_EXTENSIONS), which rouge-score uses:
// Porter (1980)'s five steps with NLTK's departures (irregular forms, the `ies`/`ied` rules for
// four-letter words, `y` → `i` only after a consonant, `alli`, `fulli`, `logi`, and cvc on two letters).

/// NLTK's Porter stemmer (its default NLTK_EXTENSIONS mode), on lowercase ASCII words.
///
/// ```swift
/// let stemmer = PorterStemmer()
/// stemmer.stem("generalizations")   // "gener"
/// stemmer.stem("running")           // "run"
/// ```
public struct PorterStemmer: Sendable {
    /// A stemmer.
    public init() {}

    /// The stem of `word` (lowercased first). Words of two letters or fewer are returned as they are.
    public func stem(_ word: String) -> String {
        let lower = word.lowercased()
        if let irregular = irregularForms[lower] { return irregular }
        guard word.unicodeScalars.count > 2 else { return lower }
        var w = Array(lower.utf8)
        w = step1a(w); w = step1b(w); w = step1c(w); w = step2(w); w = step3(w); w = step4(w); w = step5a(w); w = step5b(w)
        return String(decoding: w, as: UTF8.self)
    }
}

private let irregularForms: [String: String] = [
    "sky": "sky", "skies": "sky", "dying": "die", "lying": "lie", "tying": "tie", "news": "news",
    "innings": "inning", "inning": "inning", "outings": "outing", "outing": "outing",
    "cannings": "canning", "canning": "canning", "howe": "howe", "proceed": "proceed",
    "exceed": "exceed", "succeed": "succeed",
]

private typealias Word = [UInt8]

// MARK: - Consonants and measure

@inline(__always) private func isVowelLetter(_ c: UInt8) -> Bool {
    c == UInt8(ascii: "a") || c == UInt8(ascii: "e") || c == UInt8(ascii: "i") || c == UInt8(ascii: "o") || c == UInt8(ascii: "u")
}

/// Whether `w[i]` is a consonant: not a vowel, and a `y` only when the letter before is not a consonant.
private func isConsonant(_ w: ArraySlice<UInt8>, _ i: Int) -> Bool {
    var i = i
    if isVowelLetter(w[i]) { return false }
    if w[i] == UInt8(ascii: "y") {
        var negate = false
        while i > w.startIndex && w[i] == UInt8(ascii: "y") { negate.toggle(); i -= 1 }
        return (!isVowelLetter(w[i])) != negate
    }
    return true
}

/// Consonant flags left to right (a `y` is a consonant at the start or after a vowel).
private func consonantFlags(_ w: ArraySlice<UInt8>) -> [Bool] {
    var flags: [Bool] = []
    flags.reserveCapacity(w.count)
    for (k, c) in w.enumerated() {
        if isVowelLetter(c) { flags.append(false) } else if c == UInt8(ascii: "y") { flags.append(k == 0 ? true : !flags[k - 1]) } else { flags.append(true) }
    }
    return flags
}

/// m in [C](VC)^m[V]: the number of vowel-consonant transitions.
private func measure(_ w: ArraySlice<UInt8>) -> Int {
    let flags = consonantFlags(w)
    var count = 0
    for k in flags.indices.dropFirst() where !flags[k - 1] && flags[k] { count += 1 }
    return count
}

private func containsVowel(_ w: ArraySlice<UInt8>) -> Bool { consonantFlags(w).contains(false) }

/// *d: ends with a double consonant.
private func endsDoubleConsonant(_ w: ArraySlice<UInt8>) -> Bool {
    w.count >= 2 && w[w.endIndex - 1] == w[w.endIndex - 2] && isConsonant(w, w.endIndex - 1)
}

/// *o: ends consonant-vowel-consonant with the last not w, x or y (or, NLTK's addition, is a
/// two-letter vowel-consonant word).
private func endsCVC(_ w: ArraySlice<UInt8>) -> Bool {
    let e = w.endIndex
    if w.count >= 3 && isConsonant(w, e - 3) && !isConsonant(w, e - 2) && isConsonant(w, e - 1) {
        let last = w[e - 1]
        if last != UInt8(ascii: "w") && last != UInt8(ascii: "x") && last != UInt8(ascii: "y") { return true }
    }
    return w.count == 2 && !isConsonant(w, w.startIndex) && isConsonant(w, w.startIndex + 1)
}

// MARK: - Rules

/// When a rule applies, given the stem left after removing its suffix (and the whole word).
private enum Condition: Sendable {
    case always, positiveMeasure, measureAboveOne
    /// y → i: the stem is longer than one letter and ends with a consonant.
    case consonantBeforeY
    /// NLTK's logi → log: the word without "ogi" has a positive measure.
    case logi
    /// ion: measure > 1 and the stem ends in s or t.
    case ion
    /// ll → l: the word without its last letter has a measure above 1.
    case doubleL

    func holds(_ stem: ArraySlice<UInt8>, word: Word) -> Bool {
        switch self {
        case .always: return true
        case .positiveMeasure: return measure(stem) > 0
        case .measureAboveOne: return measure(stem) > 1
        case .consonantBeforeY: return stem.count > 1 && isConsonant(stem, stem.endIndex - 1)
        case .logi: return measure(word[..<(word.count - 3)]) > 0
        case .ion: return measure(stem) > 1 && (stem.last == UInt8(ascii: "s") || stem.last == UInt8(ascii: "t"))
        case .doubleL: return measure(word[..<(word.count - 1)]) > 1
        }
    }
}

private struct Rule: Sendable {
    let suffix: [UInt8], replacement: [UInt8], condition: Condition
    init(_ suffix: String, _ replacement: String, _ condition: Condition) {
        self.suffix = Array(suffix.utf8)
        self.replacement = Array(replacement.utf8)
        self.condition = condition
    }
}

@inline(__always) private func ends(_ w: Word, _ suffix: [UInt8]) -> Bool {
    w.count >= suffix.count && w[(w.count - suffix.count)...].elementsEqual(suffix)
}

private func ends(_ w: Word, _ suffix: String) -> Bool { ends(w, Array(suffix.utf8)) }

private func stemOf(_ w: Word, removing count: Int) -> ArraySlice<UInt8> { w[..<(w.count - count)] }

/// NLTK's `_apply_rule_list`: the first rule whose suffix matches decides (applied or not).
private func applyRules(_ w: Word, _ rules: [Rule]) -> Word {
    for rule in rules where ends(w, rule.suffix) {
        let stem = stemOf(w, removing: rule.suffix.count)
        return rule.condition.holds(stem, word: w) ? Array(stem) + rule.replacement : w
    }
    return w
}

private let step1aRules = [Rule("sses", "ss", .always), Rule("ies", "i", .always), Rule("ss", "ss", .always), Rule("s", "", .always)]
private let step1cRules = [Rule("y", "i", .consonantBeforeY)]
private let step2Rules = [
    Rule("ational", "ate", .positiveMeasure), Rule("tional", "tion", .positiveMeasure), Rule("enci", "ence", .positiveMeasure),
    Rule("anci", "ance", .positiveMeasure), Rule("izer", "ize", .positiveMeasure), Rule("bli", "ble", .positiveMeasure),
    Rule("alli", "al", .positiveMeasure), Rule("entli", "ent", .positiveMeasure), Rule("eli", "e", .positiveMeasure),
    Rule("ousli", "ous", .positiveMeasure), Rule("ization", "ize", .positiveMeasure), Rule("ation", "ate", .positiveMeasure),
    Rule("ator", "ate", .positiveMeasure), Rule("alism", "al", .positiveMeasure), Rule("iveness", "ive", .positiveMeasure),
    Rule("fulness", "ful", .positiveMeasure), Rule("ousness", "ous", .positiveMeasure), Rule("aliti", "al", .positiveMeasure),
    Rule("iviti", "ive", .positiveMeasure), Rule("biliti", "ble", .positiveMeasure), Rule("fulli", "ful", .positiveMeasure),
    Rule("logi", "log", .logi),
]
private let step3Rules = [
    Rule("icate", "ic", .positiveMeasure), Rule("ative", "", .positiveMeasure), Rule("alize", "al", .positiveMeasure),
    Rule("iciti", "ic", .positiveMeasure), Rule("ical", "ic", .positiveMeasure), Rule("ful", "", .positiveMeasure),
    Rule("ness", "", .positiveMeasure),
]
private let step4Rules = [
    Rule("al", "", .measureAboveOne), Rule("ance", "", .measureAboveOne), Rule("ence", "", .measureAboveOne),
    Rule("er", "", .measureAboveOne), Rule("ic", "", .measureAboveOne), Rule("able", "", .measureAboveOne),
    Rule("ible", "", .measureAboveOne), Rule("ant", "", .measureAboveOne), Rule("ement", "", .measureAboveOne),
    Rule("ment", "", .measureAboveOne), Rule("ent", "", .measureAboveOne), Rule("ion", "", .ion), Rule("ou", "", .measureAboveOne),
    Rule("ism", "", .measureAboveOne), Rule("ate", "", .measureAboveOne), Rule("iti", "", .measureAboveOne),
    Rule("ous", "", .measureAboveOne), Rule("ive", "", .measureAboveOne), Rule("ize", "", .measureAboveOne),
]
private let step5bRules = [Rule("ll", "l", .doubleL)]

private func step1a(_ w: Word) -> Word {
    if ends(w, "ies") && w.count == 4 { return Array(stemOf(w, removing: 3)) + Array("ie".utf8) }
    return applyRules(w, step1aRules)
}

private func step1b(_ w: Word) -> Word {
    if ends(w, "ied") { return Array(stemOf(w, removing: 3)) + Array((w.count == 4 ? "ie" : "i").utf8) }
    if ends(w, "eed") {
        let stem = stemOf(w, removing: 3)
        return measure(stem) > 0 ? Array(stem) + Array("ee".utf8) : w
    }
    var intermediate: Word?
    for suffix in ["ed", "ing"] where ends(w, suffix) {
        let stem = stemOf(w, removing: suffix.utf8.count)
        if containsVowel(stem) { intermediate = Array(stem); break }
    }
    guard let s = intermediate else { return w }
    for (suffix, replacement) in [("at", "ate"), ("bl", "ble"), ("iz", "ize")] where ends(s, suffix) {
        return Array(stemOf(s, removing: suffix.utf8.count)) + Array(replacement.utf8)
    }
    if endsDoubleConsonant(s[...]) {
        let last = s[s.count - 1]
        return last != UInt8(ascii: "l") && last != UInt8(ascii: "s") && last != UInt8(ascii: "z") ? Array(s.dropLast()) : s
    }
    return measure(s[...]) == 1 && endsCVC(s[...]) ? s + [UInt8(ascii: "e")] : s
}

private func step1c(_ w: Word) -> Word { applyRules(w, step1cRules) }

private func step2(_ w: Word) -> Word {
    if ends(w, "alli") && measure(stemOf(w, removing: 4)) > 0 {
        return step2(Array(stemOf(w, removing: 4)) + Array("al".utf8))
    }
    return applyRules(w, step2Rules)
}

private func step3(_ w: Word) -> Word { applyRules(w, step3Rules) }

private func step4(_ w: Word) -> Word { applyRules(w, step4Rules) }

private func step5a(_ w: Word) -> Word {
    guard ends(w, "e") else { return w }
    let stem = stemOf(w, removing: 1)
    let m = measure(stem)
    if m > 1 || (m == 1 && !endsCVC(stem)) { return Array(stem) }
    return w
}

private func step5b(_ w: Word) -> Word { applyRules(w, step5bRules) }
