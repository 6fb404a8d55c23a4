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

private func ends(_ w: Word, _ suffix: String) -> Bool {
    let s = Array(suffix.utf8)
    return w.count >= s.count && w[(w.count - s.count)...].elementsEqual(s)
}

private func stemOf(_ w: Word, removing suffix: String) -> ArraySlice<UInt8> { w[..<(w.count - suffix.utf8.count)] }

private enum Condition { case always, positiveMeasure, measureAbove1 }

/// NLTK's `_apply_rule_list`: the first rule whose suffix matches decides (applied or not).
private func applyRules(_ w: Word, _ rules: [(String, String, (ArraySlice<UInt8>) -> Bool)]) -> Word {
    for (suffix, replacement, condition) in rules where ends(w, suffix) {
        let stem = stemOf(w, removing: suffix)
        return condition(stem) ? Array(stem) + Array(replacement.utf8) : w
    }
    return w
}

private func positive(_ stem: ArraySlice<UInt8>) -> Bool { measure(stem) > 0 }
private func aboveOne(_ stem: ArraySlice<UInt8>) -> Bool { measure(stem) > 1 }

private func step1a(_ w: Word) -> Word {
    if ends(w, "ies") && w.count == 4 { return Array(stemOf(w, removing: "ies")) + Array("ie".utf8) }
    return applyRules(w, [("sses", "ss", { _ in true }), ("ies", "i", { _ in true }), ("ss", "ss", { _ in true }), ("s", "", { _ in true })])
}

private func step1b(_ w: Word) -> Word {
    if ends(w, "ied") { return Array(stemOf(w, removing: "ied")) + Array((w.count == 4 ? "ie" : "i").utf8) }
    if ends(w, "eed") {
        let stem = stemOf(w, removing: "eed")
        return measure(stem) > 0 ? Array(stem) + Array("ee".utf8) : w
    }
    var intermediate: Word?
    for suffix in ["ed", "ing"] where ends(w, suffix) {
        let stem = stemOf(w, removing: suffix)
        if containsVowel(stem) { intermediate = Array(stem); break }
    }
    guard let s = intermediate else { return w }
    for (suffix, replacement) in [("at", "ate"), ("bl", "ble"), ("iz", "ize")] where ends(s, suffix) {
        return Array(stemOf(s, removing: suffix)) + Array(replacement.utf8)
    }
    if endsDoubleConsonant(s[...]) {
        let last = s[s.count - 1]
        return last != UInt8(ascii: "l") && last != UInt8(ascii: "s") && last != UInt8(ascii: "z") ? Array(s.dropLast()) : s
    }
    return measure(s[...]) == 1 && endsCVC(s[...]) ? s + [UInt8(ascii: "e")] : s
}

private func step1c(_ w: Word) -> Word {
    applyRules(w, [("y", "i", { $0.count > 1 && isConsonant($0, $0.endIndex - 1) })])
}

private func step2(_ w: Word) -> Word {
    if ends(w, "alli") && measure(stemOf(w, removing: "alli")) > 0 {
        return step2(Array(stemOf(w, removing: "alli")) + Array("al".utf8))
    }
    let rules: [(String, String, (ArraySlice<UInt8>) -> Bool)] = [
        ("ational", "ate", positive), ("tional", "tion", positive), ("enci", "ence", positive), ("anci", "ance", positive),
        ("izer", "ize", positive), ("bli", "ble", positive), ("alli", "al", positive), ("entli", "ent", positive),
        ("eli", "e", positive), ("ousli", "ous", positive), ("ization", "ize", positive), ("ation", "ate", positive),
        ("ator", "ate", positive), ("alism", "al", positive), ("iveness", "ive", positive), ("fulness", "ful", positive),
        ("ousness", "ous", positive), ("aliti", "al", positive), ("iviti", "ive", positive), ("biliti", "ble", positive),
        ("fulli", "ful", positive),
        // NLTK tests the measure of the word without "ogi" (the stem plus its "l").
        ("logi", "log", { _ in measure(w[..<(w.count - 3)]) > 0 }),
    ]
    return applyRules(w, rules)
}

private func step3(_ w: Word) -> Word {
    applyRules(w, [("icate", "ic", positive), ("ative", "", positive), ("alize", "al", positive), ("iciti", "ic", positive),
                   ("ical", "ic", positive), ("ful", "", positive), ("ness", "", positive)])
}

private func step4(_ w: Word) -> Word {
    let ion: (ArraySlice<UInt8>) -> Bool = { stem in
        measure(stem) > 1 && (stem.last == UInt8(ascii: "s") || stem.last == UInt8(ascii: "t"))
    }
    return applyRules(w, [
        ("al", "", aboveOne), ("ance", "", aboveOne), ("ence", "", aboveOne), ("er", "", aboveOne), ("ic", "", aboveOne),
        ("able", "", aboveOne), ("ible", "", aboveOne), ("ant", "", aboveOne), ("ement", "", aboveOne), ("ment", "", aboveOne),
        ("ent", "", aboveOne), ("ion", "", ion), ("ou", "", aboveOne), ("ism", "", aboveOne), ("ate", "", aboveOne),
        ("iti", "", aboveOne), ("ous", "", aboveOne), ("ive", "", aboveOne), ("ize", "", aboveOne),
    ])
}

private func step5a(_ w: Word) -> Word {
    guard ends(w, "e") else { return w }
    let stem = stemOf(w, removing: "e")
    let m = measure(stem)
    if m > 1 || (m == 1 && !endsCVC(stem)) { return Array(stem) }
    return w
}

private func step5b(_ w: Word) -> Word {
    applyRules(w, [("ll", "l", { _ in measure(w[..<(w.count - 1)]) > 1 })])
}
