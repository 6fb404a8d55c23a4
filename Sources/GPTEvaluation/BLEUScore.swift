// BLEU's sufficient statistics and its score, with sacrebleu's printed form.
import Foundation
import GPTKernelCore

/// A segment's (or a corpus's summed) BLEU statistics: lengths, and per n-gram order the clipped
/// matches and the hypothesis n-grams.
public struct BLEUStatistics: Sendable, Hashable, Codable {
    /// Tokens in the hypothesis.
    public var hypothesisLength: Int
    /// Tokens in the reference closest in length to the hypothesis (the shorter on ties).
    public var referenceLength: Int
    /// Hypothesis n-grams also in a reference, clipped to the reference's count, per order `[maxOrder]`.
    public var matches: [Int]
    /// Hypothesis n-grams per order `[maxOrder]`.
    public var totals: [Int]

    /// Statistics with the given values.
    public init(hypothesisLength: Int, referenceLength: Int, matches: [Int], totals: [Int]) {
        self.hypothesisLength = hypothesisLength
        self.referenceLength = referenceLength
        self.matches = matches
        self.totals = totals
    }

    /// Zero counts for `order` n-gram orders.
    public static func zero(_ order: Int) -> BLEUStatistics {
        BLEUStatistics(hypothesisLength: 0, referenceLength: 0, matches: Array(repeating: 0, count: max(0, order)),
                       totals: Array(repeating: 0, count: max(0, order)))
    }

    /// The element-wise sum (the corpus statistics are the sum of the segments'); a shorter
    /// operand counts as zeros in the orders it lacks.
    public static func + (a: BLEUStatistics, b: BLEUStatistics) -> BLEUStatistics {
        func add(_ x: [Int], _ y: [Int]) -> [Int] {
            (0..<max(x.count, y.count)).map { (($0 < x.count) ? x[$0] : 0) + (($0 < y.count) ? y[$0] : 0) }
        }
        return BLEUStatistics(hypothesisLength: a.hypothesisLength + b.hypothesisLength,
                              referenceLength: a.referenceLength + b.referenceLength,
                              matches: add(a.matches, b.matches), totals: add(a.totals, b.totals))
    }
}

/// A BLEU score on sacrebleu's 0–100 scale, with the parts it is made of.
public struct BLEUScore: Sendable, Hashable, Codable, CustomStringConvertible {
    /// BLEU, 0–100.
    public var score: Double
    /// The n-gram precisions in percent `[maxOrder]`, after smoothing.
    public var precisions: [Double]
    /// exp(1 − r/c) when the hypotheses are shorter than the references, else 1.
    public var brevityPenalty: Double
    /// Hypothesis tokens (c).
    public var hypothesisLength: Int
    /// Closest-reference tokens (r).
    public var referenceLength: Int
    /// Matches per order, after add-k smoothing where it applies (so not always whole numbers).
    public var matches: [Double]
    /// Hypothesis n-grams per order, after add-k smoothing where it applies.
    public var totals: [Double]

    /// hypothesisLength / referenceLength (0 without reference tokens).
    public var lengthRatio: Double { referenceLength == 0 ? 0 : Double(hypothesisLength) / Double(referenceLength) }

    /// sacrebleu's line: `BLEU = 35.37 66.7/40.0/25.0/14.3 (BP = 1.000 ratio = 1.000 hyp_len = 9 ref_len = 9)`.
    public var description: String { String(format: "BLEU = %.2f ", score) + verboseDescription }

    /// sacrebleu's `verbose_score`: `66.7/40.0/25.0/14.3 (BP = 1.000 ratio = 1.000 hyp_len = 9 ref_len = 9)`.
    public var verboseDescription: String {
        precisions.map { String(format: "%.1f", $0) }.joined(separator: "/")
            + String(format: " (BP = %.3f ratio = %.3f hyp_len = %d ref_len = %d)", brevityPenalty, lengthRatio,
                     hypothesisLength, referenceLength)
    }
}

/// Bad input to a metric or an evaluation: mismatched segment counts, empty inputs, bad options.
public enum EvaluationError: Error, LocalizedError, Sendable, Equatable {
    /// The inputs cannot be scored, and why.
    case invalidInput(String)
    /// A file could not be read or parsed, with where and why.
    case invalidFile(path: String, reason: String)

    /// The message a user sees.
    public var errorDescription: String? {
        switch self {
        case .invalidInput(let why): return why
        case .invalidFile(let path, let why): return "\(path): \(why)"
        }
    }
}

/// `body(0..<count)` computed in parallel chunks, returned in order (the same for any thread count).
func parallelMap<T: Sendable>(_ count: Int, _ body: @Sendable (Int) -> T) -> [T] {
    guard count > 0 else { return [] }
    var results = [T?](repeating: nil, count: count)
    let chunks = min(count, max(1, Parallel.threadCount * 4))
    results.withUnsafeMutableBufferPointer { buffer in
        let base = buffer.baseAddress!
        nonisolated(unsafe) let slots = base
        Parallel.forEachTask(chunks) { chunk in
            let start = chunk * count / chunks, end = (chunk + 1) * count / chunks
            for i in start..<end { slots[i] = body(i) }
        }
    }
    return results.map { $0! }
}
