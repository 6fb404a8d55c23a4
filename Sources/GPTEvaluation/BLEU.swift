// BLEU (Papineni et al., 2002) exactly as sacrebleu 2.x computes it: corpus statistics summed over
// segments, clipped n-gram matches against the per-n-gram maximum over references, the closest
// reference length (the shorter on ties), and the smoothing methods of Chen & Cherry (2014).
import Foundation

/// sacrebleu's BLEU metric: corpus-level by default, sentence-level with effective order.
///
/// ```swift
/// let bleu = BLEU()                                    // sacrebleu's defaults: 13a, exp smoothing
/// let score = try bleu.corpusScore(hypotheses: ["the cat sat on the mat"],
///                                  references: [["the cat sat on a mat"]])
/// print(score)                                         // BLEU = 53.73 83.3/60.0/50.0/33.3 (BP = 1.000 …)
/// print(bleu.signature(referenceCount: 1))             // nrefs:1|case:mixed|eff:no|tok:13a|smooth:exp|version:2.6.0
/// ```
public struct BLEU: Sendable, Hashable {
    /// How n-gram orders without a match count (Chen & Cherry, 2014).
    public enum Smoothing: Sendable, Hashable {
        /// No smoothing: a zero precision makes the score 0.
        case none
        /// Method 1: a zero match count becomes `value` (sacrebleu's default 0.1).
        case floor(Double = 0.1)
        /// Method 2: `value` is added to the matches and totals of orders 2 and above (default 1).
        case addK(Double = 1)
        /// Method 3, NIST's (sacrebleu's default): the k-th order without a match gets precision
        /// 1 / (2^k · total).
        case exponential

        /// sacrebleu's name and value in the signature: `exp`, `none`, `floor[0.10]`, `add-k[1.00]`.
        public var signatureName: String {
            switch self {
            case .none: return "none"
            case .exponential: return "exp"
            case .floor(let value): return "floor[\(String(format: "%.2f", value))]"
            case .addK(let value): return "add-k[\(String(format: "%.2f", value))]"
            }
        }

        /// Parses sacrebleu's method names `exp`, `none`, `floor`, `add-k` (with an optional value).
        public init?(name: String, value: Double? = nil) {
            switch name {
            case "exp": self = .exponential
            case "none": self = .none
            case "floor": self = .floor(value ?? 0.1)
            case "add-k": self = .addK(value ?? 1)
            default: return nil
            }
        }
    }

    /// The sacrebleu release whose results (and signature format) this reproduces.
    public static let sacreBLEUVersion = "2.6.0"

    /// Lowercase hypotheses and references first (`case:lc` in the signature).
    public var lowercase: Bool
    /// The tokenizer applied before counting (`13a` by default).
    public var tokenization: BLEUTokenization
    /// How orders without matches count.
    public var smoothing: Smoothing
    /// The largest n-gram order (4).
    public var maxOrder: Int
    /// Average over the orders up to the last one with any n-gram in the hypothesis only, rather
    /// than always `maxOrder` (for sentence-level BLEU).
    public var effectiveOrder: Bool
    /// Count with packed n-gram keys where they fit (tests turn it off to check the other path).
    var usesPackedKeys = true

    /// A BLEU metric; the defaults are sacrebleu's `BLEU()`.
    public init(lowercase: Bool = false, tokenization: BLEUTokenization = .thirteenA, smoothing: Smoothing = .exponential,
                maxOrder: Int = 4, effectiveOrder: Bool = false) {
        self.lowercase = lowercase
        self.tokenization = tokenization
        self.smoothing = smoothing
        self.maxOrder = maxOrder
        self.effectiveOrder = effectiveOrder
    }

    /// Sentence-level BLEU as sacrebleu's `sentence_bleu` (effective order on).
    public static let sentenceLevel = BLEU(effectiveOrder: true)

    // MARK: - Scores

    /// Corpus BLEU of `hypotheses [N]` against reference streams `references [R][N]` (stream r
    /// holds every segment's r-th reference, sacrebleu's layout).
    /// - Throws: `EvaluationError.invalidInput` for no segments, no reference stream, a stream
    ///   whose length differs from the hypotheses', or `maxOrder` below 1.
    public func corpusScore(hypotheses: [String], references: [[String]]) throws -> BLEUScore {
        try score(from: corpusStatistics(hypotheses: hypotheses, references: references).reduce(.zero(maxOrder), +))
    }

    /// Corpus BLEU with each segment's own references `referenceSets [N][Rᵢ]` (the count may
    /// vary per segment: sacrebleu's `None` references; its signature then says `nrefs:var`).
    /// - Throws: `EvaluationError.invalidInput` for no segments, a count mismatch or a segment
    ///   without references.
    public func corpusScore(hypotheses: [String], referenceSets: [[String]]) throws -> BLEUScore {
        try checkSets(hypotheses: hypotheses, referenceSets: referenceSets, order: maxOrder)
        let perSegment = parallelMap(hypotheses.count) { statistics(hypothesis: hypotheses[$0], references: referenceSets[$0]) }
        return score(from: perSegment.reduce(.zero(maxOrder), +))
    }

    /// BLEU of one `hypothesis` against its `references [R]`.
    public func sentenceScore(hypothesis: String, references: [String]) throws -> BLEUScore {
        try corpusScore(hypotheses: [hypothesis], references: references.map { [$0] })
    }

    /// The sufficient statistics of each segment `[N]`, in order (sum them, or resample them
    /// for a bootstrap, then call `score(from:)`). Segments are counted in parallel.
    public func corpusStatistics(hypotheses: [String], references: [[String]]) throws -> [BLEUStatistics] {
        try checkStreams(hypotheses: hypotheses, references: references, order: maxOrder)
        return parallelMap(hypotheses.count) { i in
            statistics(hypothesis: hypotheses[i], references: references.map { $0[i] })
        }
    }

    /// The statistics of one segment: lengths, and clipped matches and totals per order.
    /// Without references the reference length is 0; with `maxOrder` below 1 there are no n-grams.
    public func statistics(hypothesis: String, references: [String]) -> BLEUStatistics {
        guard maxOrder >= 1 else { return .zero(0) }
        var vocabulary: [ArraySlice<UInt32>: UInt32] = [:]
        func ids(_ text: String) -> [UInt32] {
            var points = codePoints(text)
            if lowercase { points = pythonLowercased(points) }
            let tokenized = tokenization.tokenizedCodePoints(strippingTrailingWhitespace(points))
            return whitespaceSplit(tokenized).map { range in
                let token = tokenized[range]
                if let id = vocabulary[token] { return id }
                let id = UInt32(vocabulary.count)
                vocabulary[token] = id
                return id
            }
        }
        let referenceIDs = references.map(ids)
        let tokens = ids(hypothesis)
        let referenceLength = max(0, closestLength(tokens.count, referenceIDs.map(\.count)))
        var matches = [Int](repeating: 0, count: maxOrder), totals = matches
        let bits = idBits(vocabulary.count)
        if usesPackedKeys && bits * maxOrder <= 64 {
            // Packed keys (NGramCounting.swift).
            for n in 1...maxOrder {
                let counts = GramCounts(tokens, order: n, bits: bits)
                guard !counts.keys.isEmpty else { continue }
                var limit = GramCounts()
                for reference in referenceIDs { limit = limit.maximum(GramCounts(reference, order: n, bits: bits)) }
                totals[n - 1] = tokens.count - n + 1
                matches[n - 1] = counts.matches(limit)
            }
        } else {
            // The per-n-gram maximum count over references.
            var referenceCounts: [ArraySlice<UInt32>: Int] = [:]
            for reference in referenceIDs {
                var counts: [ArraySlice<UInt32>: Int] = [:]
                countNGrams(reference, maxOrder: maxOrder, into: &counts)
                referenceCounts.merge(counts) { max($0, $1) }
            }
            var hypothesisCounts: [ArraySlice<UInt32>: Int] = [:]
            countNGrams(tokens, maxOrder: maxOrder, into: &hypothesisCounts)
            for (gram, count) in hypothesisCounts {
                totals[gram.count - 1] += count
                if let limit = referenceCounts[gram] { matches[gram.count - 1] += min(count, limit) }
            }
        }
        return BLEUStatistics(hypothesisLength: tokens.count, referenceLength: referenceLength, matches: matches, totals: totals)
    }

    /// BLEU from summed statistics, as sacrebleu's `compute_bleu`.
    /// Statistics of another order count are padded with zeros (or cut) to `maxOrder`.
    public func score(from statistics: BLEUStatistics) -> BLEUScore {
        let order = max(0, maxOrder)
        var statistics = statistics
        statistics.matches = Array((statistics.matches + Array(repeating: 0, count: order)).prefix(order))
        statistics.totals = Array((statistics.totals + Array(repeating: 0, count: order)).prefix(order))
        let sys = statistics.hypothesisLength, ref = statistics.referenceLength
        var brevityPenalty = 1.0
        if sys < ref { brevityPenalty = sys > 0 ? exp(1 - Double(ref) / Double(sys)) : 0 }
        var precisions = [Double](repeating: 0, count: order)
        var result = BLEUScore(score: 0, precisions: precisions, brevityPenalty: brevityPenalty,
                               hypothesisLength: sys, referenceLength: ref,
                               matches: statistics.matches.map(Double.init), totals: statistics.totals.map(Double.init))
        guard order >= 1, statistics.matches.contains(where: { $0 != 0 }) else { return result }
        var mteval = 1.0
        var effective = order
        for n in 1...order {
            if case .addK(let k) = smoothing, n > 1 {
                result.matches[n - 1] += k
                result.totals[n - 1] += k
            }
            let correct = result.matches[n - 1], total = result.totals[n - 1]
            if total == 0 { break }
            if effectiveOrder { effective = n }
            if correct == 0 {
                switch smoothing {
                case .exponential:
                    mteval *= 2
                    precisions[n - 1] = 100 / (mteval * total)
                case .floor(let value):
                    precisions[n - 1] = 100 * value / total
                case .none, .addK:
                    break
                }
            } else {
                precisions[n - 1] = 100 * correct / total
            }
        }
        var logSum = 0.0
        for p in precisions[..<effective] { logSum += p == 0 ? -9_999_999_999 : log(p) }
        result.score = brevityPenalty * exp(logSum / Double(effective))
        result.precisions = precisions
        return result
    }

    /// sacrebleu's signature for this configuration (`referenceCount` nil: a varying count), e.g.
    /// `nrefs:1|case:mixed|eff:no|tok:13a|smooth:exp|version:2.6.0`.
    public func signature(referenceCount: Int?) -> String {
        "nrefs:\(referenceCount.map(String.init) ?? "var")|case:\(lowercase ? "lc" : "mixed")|eff:\(effectiveOrder ? "yes" : "no")"
            + "|tok:\(tokenization.signatureName)|smooth:\(smoothing.signatureName)|version:\(BLEU.sacreBLEUVersion)"
    }
}

/// The closest reference length to `length`, the shorter on ties (sacrebleu's rule).
private func closestLength(_ length: Int, _ lengths: [Int]) -> Int {
    var bestDifference = -1, best = -1
    for candidate in lengths {
        let difference = abs(length - candidate)
        if bestDifference == -1 || difference < bestDifference {
            bestDifference = difference
            best = candidate
        } else if difference == bestDifference && candidate < best {
            best = candidate
        }
    }
    return best
}

/// Adds the counts of every n-gram of `tokens` with 1 ≤ n ≤ `maxOrder` (keys share `tokens`' storage).
func countNGrams(_ tokens: [UInt32], maxOrder: Int, into counts: inout [ArraySlice<UInt32>: Int]) {
    guard maxOrder >= 1 else { return }
    for n in 1...maxOrder where n <= tokens.count {
        for start in 0...(tokens.count - n) { counts[tokens[start..<(start + n)], default: 0] += 1 }
    }
}

/// Checks that there are segments and reference streams, all of one length.
func checkStreams(hypotheses: [String], references: [[String]], order: Int) throws {
    guard !hypotheses.isEmpty else { throw EvaluationError.invalidInput("no hypotheses to score") }
    guard !references.isEmpty else { throw EvaluationError.invalidInput("no references to score against") }
    guard order >= 1 else { throw EvaluationError.invalidInput("the n-gram order must be at least 1, not \(order)") }
    for (r, stream) in references.enumerated() where stream.count != hypotheses.count {
        throw EvaluationError.invalidInput(
            "reference stream \(r + 1) has \(stream.count) segments for \(hypotheses.count) hypotheses")
    }
}

/// Checks that every segment has at least one reference and the counts agree.
func checkSets(hypotheses: [String], referenceSets: [[String]], order: Int) throws {
    guard !hypotheses.isEmpty else { throw EvaluationError.invalidInput("no hypotheses to score") }
    guard order >= 1 else { throw EvaluationError.invalidInput("the n-gram order must be at least 1, not \(order)") }
    guard referenceSets.count == hypotheses.count else {
        throw EvaluationError.invalidInput("\(referenceSets.count) reference sets for \(hypotheses.count) hypotheses")
    }
    if let i = referenceSets.firstIndex(where: \.isEmpty) { throw EvaluationError.invalidInput("segment \(i + 1) has no reference") }
}
