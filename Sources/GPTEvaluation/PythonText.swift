// Text operations with Python's semantics, which sacrebleu and rouge-score are written in:
// strings as sequences of Unicode code points, `str.split()` on Python's whitespace set, and
// `str.lower()` with the full lowercase mapping and the Final_Sigma rule. Matching the scores
// "to the last digit" depends on these agreeing exactly.

/// Python's `str.isspace()` set, which `str.split()` (no argument) splits on: the Unicode
/// White_Space property plus U+001C–U+001F (information separators, bidi class B/S).
@inline(__always)
func isPythonWhitespace(_ v: UInt32) -> Bool {
    switch v {
    case 0x09...0x0D, 0x1C...0x20, 0x85, 0xA0, 0x1680, 0x2000...0x200A, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000:
        return true
    default:
        return false
    }
}

/// The code points of `text`.
@inline(__always)
func codePoints(_ text: String) -> [UInt32] {
    var result: [UInt32] = []
    result.reserveCapacity(text.utf8.count)
    for scalar in text.unicodeScalars { result.append(scalar.value) }
    return result
}

/// `"".join(text.split())`: the code points with every whitespace removed.
func removingWhitespace(_ points: [UInt32]) -> [UInt32] {
    points.filter { !isPythonWhitespace($0) }
}

/// `text.split()`: the maximal runs of non-whitespace code points, as ranges of `points`.
func whitespaceSplit(_ points: [UInt32]) -> [Range<Int>] {
    var ranges: [Range<Int>] = []
    var start = -1
    for i in points.indices {
        if isPythonWhitespace(points[i]) {
            if start >= 0 { ranges.append(start..<i); start = -1 }
        } else if start < 0 {
            start = i
        }
    }
    if start >= 0 { ranges.append(start..<points.count) }
    return ranges
}

/// `text.rstrip()` on code points.
func strippingTrailingWhitespace(_ points: [UInt32]) -> [UInt32] {
    var end = points.count
    while end > 0 && isPythonWhitespace(points[end - 1]) { end -= 1 }
    return Array(points[..<end])
}

/// Python's `str.lower()`: each code point's full lowercase mapping, with capital sigma becoming
/// final sigma (ς) when a cased letter precedes it and none follows (case-ignorable code points
/// skipped both ways), as CPython's `handle_capital_sigma` does.
func pythonLowercased(_ points: [UInt32]) -> [UInt32] {
    // ASCII-only text (the common case) maps without the Unicode tables.
    if points.allSatisfy({ $0 < 0x80 }) {
        return points.map { (0x41...0x5A).contains($0) ? $0 + 32 : $0 }
    }
    var result: [UInt32] = []
    result.reserveCapacity(points.count)
    for i in points.indices {
        let v = points[i]
        if v < 0x80 {
            result.append((0x41...0x5A).contains(v) ? v + 32 : v)
            continue
        }
        guard let scalar = Unicode.Scalar(v) else { result.append(v); continue }
        if v == 0x03A3 {
            result.append(isFinalSigma(points, at: i) ? 0x03C2 : 0x03C3)
            continue
        }
        for mapped in scalar.properties.lowercaseMapping.unicodeScalars { result.append(mapped.value) }
    }
    return result
}

private func isFinalSigma(_ points: [UInt32], at index: Int) -> Bool {
    func cased(_ v: UInt32) -> Bool { Unicode.Scalar(v)?.properties.isCased ?? false }
    func ignorable(_ v: UInt32) -> Bool { Unicode.Scalar(v)?.properties.isCaseIgnorable ?? false }
    var j = index - 1
    while j >= 0 && ignorable(points[j]) { j -= 1 }
    guard j >= 0 && cased(points[j]) else { return false }
    j = index + 1
    while j < points.count && ignorable(points[j]) { j += 1 }
    return !(j < points.count && cased(points[j]))
}

/// A string from code points (every value came from a `String`, so each is a valid scalar).
func string(_ points: some Sequence<UInt32>) -> String {
    var view = String.UnicodeScalarView()
    for v in points { if let s = Unicode.Scalar(v) { view.append(s) } }
    return String(view)
}
