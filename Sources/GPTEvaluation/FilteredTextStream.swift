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

    private var pending: [Unicode.Scalar] = []
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
        guard !filters.isEmpty else {
            let out = scalarString(pending)
            pending.removeAll()
            released += out
            return out
        }
        let window = tail + pending
        let text = scalarString(window)
        var stopAt: Int?
        var redactions: [(range: Range<Int>, verdict: FilterVerdict)] = []
        for filter in filters {
            for finding in try filter.review(text) {
                // Findings wholly inside the tail were dealt with when that text was pending.
                guard finding.range.upperBound > tail.count else { continue }
                let range = max(finding.range.lowerBound, tail.count)..<min(finding.range.upperBound, window.count)
                let verdict = FilterVerdict(stage: stage, filter: filter.name, action: finding.action, category: finding.category,
                                            reason: finding.reason)
                if finding.action == .stop {
                    if stopAt == nil || range.lowerBound < stopAt! { stopAt = range.lowerBound; stopVerdict = verdict }
                } else {
                    redactions.append((range, verdict))
                }
            }
        }
        // Rebuild the pending text with redactions (overlaps merged), up to a stop if any.
        let end = stopAt ?? window.count
        redactions.sort { $0.range.lowerBound < $1.range.lowerBound }
        var output: [Unicode.Scalar] = []
        var position = tail.count
        var lastRedactionEnd = 0
        for (range, verdict) in redactions where range.lowerBound < end {
            if range.upperBound <= position { continue }
            if range.lowerBound > position { output.append(contentsOf: window[position..<range.lowerBound]) }
            if range.lowerBound >= position { output.append(contentsOf: replacement.unicodeScalars) }
            position = min(range.upperBound, end)
            verdicts.append(verdict)
            lastRedactionEnd = output.count
        }
        if position < end { output.append(contentsOf: window[position..<end]) }
        if let stopVerdict { verdicts.append(stopVerdict) }
        let releasable: Int
        if final || stopVerdict != nil {
            releasable = output.count
        } else {
            releasable = max(lastRedactionEnd, output.count - holdBack)
        }
        let shown = scalarString(output[..<releasable])
        pending = stopVerdict != nil ? [] : Array(output[releasable...])
        released += shown
        tail.append(contentsOf: output[..<releasable])
        if tail.count > holdBack + 1 { tail.removeFirst(tail.count - holdBack - 1) }
        return shown
    }
}

/// A string of `scalars`.
func scalarString(_ scalars: some Sequence<Unicode.Scalar>) -> String {
    var view = String.UnicodeScalarView()
    view.append(contentsOf: scalars)
    return String(view)
}
