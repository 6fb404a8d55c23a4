// Filters applied to streamed text. Each append reviews the held-back text plus a tail of what was
// already shown; only text that no future finding can reach is released: everything but the last
// `maximumMatchLength − 1` characters, so a blocked phrase split across tokens is seen whole before
// any of it leaves, and a redacted span is never shown.

/// A filter's verdict on a stretch of text, as callers and the audit log see it.
public struct FilterVerdict: Sendable, Hashable, Codable {
    /// Where: the prompt or the output.
    public enum Stage: String, Sendable, Hashable, Codable { case prompt, output }
    /// Where the text was.
    public var stage: Stage
    /// The filter's name.
    public var filter: String
    /// Redacted or stopped.
    public var action: FilterAction
    /// The finding's category.
    public var category: String
    /// The finding's reason.
    public var reason: String
}

/// Text from a generator, filtered as it streams.
///
/// Each append reviews the undecided text with a tail of decided text before it (for context).
/// Only text that no finding can still reach is decided: everything but the last
/// `maximumMatchLength − 1` scalars, and nothing from the start of a finding that runs into those
/// (more text may lengthen it, or cancel it). So a phrase split across tokens is always seen
/// whole before any of it is released, a redacted span is never released, and the output is the
/// same however the text is cut into pieces. A finding that reaches back into decided text (a
/// match longer than its filter's `maximumMatchLength`) stops the stream rather than leak.
///
/// ```swift
/// var stream = FilteredTextStream(filters: [blocklist])
/// for chunk in chunks {
///     let shown = try stream.append(chunk)      // safe to display
///     print(shown, terminator: "")
///     if stream.stopVerdict != nil { break }    // a filter stopped the generation
/// }
/// print(try stream.finish())
/// ```
public struct FilteredTextStream: Sendable {
    /// The filters, applied in order.
    public let filters: [any ContentFilter]
    /// What redacted spans become.
    public let replacement: String
    /// Every verdict so far (redactions and the stop, if any).
    public private(set) var verdicts: [FilterVerdict] = []
    /// The verdict that stopped the stream, if one did.
    public private(set) var stopVerdict: FilterVerdict?
    /// All text released so far.
    public private(set) var released = ""

    /// Undecided text, as it arrived.
    private var pending: [Unicode.Scalar] = []
    /// The last decided scalars, as they arrived (context for the next review).
    private var tail: [Unicode.Scalar] = []
    private let holdBack: Int
    private let stage: FilterVerdict.Stage

    /// A stream through `filters` (output stage by default).
    public init(filters: [any ContentFilter], replacement: String = "[redacted]", stage: FilterVerdict.Stage = .output) {
        self.filters = filters
        self.replacement = replacement
        self.stage = stage
        holdBack = max(0, (filters.map(\.maximumMatchLength).max() ?? 1) - 1)
    }

    /// Adds `text` and returns what can be shown now ("" once stopped).
    public mutating func append(_ text: String) throws -> String {
        guard stopVerdict == nil else { return "" }
        pending.append(contentsOf: text.unicodeScalars)
        return try process(final: false)
    }

    /// Reviews and returns everything still held back (the generation ended).
    public mutating func finish() throws -> String {
        guard stopVerdict == nil else { return "" }
        return try process(final: true)
    }

    /// Filters a complete text (a prompt) at once: the redacted text, or nil with `stopVerdict` set.
    public mutating func filterWhole(_ text: String) throws -> String? {
        let shown = try append(text) + finish()
        return stopVerdict == nil ? shown : nil
    }

    private mutating func process(final: Bool) throws -> String {
        let window = tail + pending
        let decided = tail.count
        // Everything before `end` is beyond the reach of text still to come.
        var end = final ? window.count : max(decided, window.count - holdBack)
        var findings: [(range: Range<Int>, verdict: FilterVerdict)] = []
        var reachedBack: FilterVerdict?
        if !filters.isEmpty {
            let text = scalarString(window)
            for filter in filters {
                for finding in try filter.review(text) {
                    let lower = min(max(finding.range.lowerBound, 0), window.count)
                    let upper = min(max(finding.range.upperBound, 0), window.count)
                    guard lower < upper, upper > decided else { continue }  // empty, or decided already
                    let verdict = FilterVerdict(stage: stage, filter: filter.name, action: finding.action, category: finding.category,
                                                reason: finding.reason)
                    if lower < decided {
                        // It starts in text already shown: longer than the filter said a match can be.
                        if reachedBack == nil {
                            reachedBack = FilterVerdict(stage: stage, filter: filter.name, action: .stop, category: finding.category,
                                                        reason: finding.reason + " (a match longer than the filter's maximum length)")
                        }
                        continue
                    }
                    findings.append((lower..<upper, verdict))
                }
            }
        }
        if let reachedBack {
            stopVerdict = reachedBack
            verdicts.append(reachedBack)
            pending.removeAll()
            return ""
        }
        // Findings that run past the decidable part are not final: decide only up to their start.
        var moved = true
        while moved {
            moved = false
            for f in findings where f.range.lowerBound < end && f.range.upperBound > end {
                end = f.range.lowerBound
                moved = true
            }
        }
        let decidable = findings.filter { $0.range.upperBound <= end }.sorted { $0.range.lowerBound < $1.range.lowerBound }
        // The earliest stop ends the stream there.
        if let stop = decidable.filter({ $0.verdict.action == .stop }).min(by: { $0.range.lowerBound < $1.range.lowerBound }) {
            end = stop.range.lowerBound
            stopVerdict = stop.verdict
        }
        var output: [Unicode.Scalar] = []
        var position = decided
        for (range, verdict) in decidable where verdict.action == .redact && range.lowerBound < end {
            if range.upperBound <= position { continue }  // inside a span already redacted
            if range.lowerBound >= position {
                output.append(contentsOf: window[position..<range.lowerBound])
                output.append(contentsOf: replacement.unicodeScalars)
            }  // else it extends the span just redacted
            position = max(position, range.upperBound)
            verdicts.append(verdict)
        }
        if position < end { output.append(contentsOf: window[position..<end]) }
        if let stopVerdict {
            verdicts.append(stopVerdict)
            pending.removeAll()
        } else {
            let consumed = max(end, position)
            tail.append(contentsOf: window[decided..<consumed])
            pending = Array(window[consumed...])
            let keep = holdBack + 1
            if tail.count > keep { tail.removeFirst(tail.count - keep) }
        }
        let shown = scalarString(output)
        released += shown
        return shown
    }
}

/// A string of `scalars`.
func scalarString(_ scalars: some Sequence<Unicode.Scalar>) -> String {
    var view = String.UnicodeScalarView()
    view.append(contentsOf: scalars)
    return String(view)
}
