// Corpus-level ROUGE: the plain mean over segments, and rouge-score's BootstrapAggregator (the
// 2.5th, 50th and 97.5th percentiles of the means of resampled segment sets), seeded.
import GPTTensor

/// The low, middle and high bounds of a bootstrap confidence interval on the mean score.
public struct ROUGEInterval: Sendable, Hashable, Codable {
    /// The lower percentile ((1 − confidence) / 2) of the resampled means.
    public var low: ROUGEScore
    /// The median of the resampled means.
    public var mid: ROUGEScore
    /// The upper percentile.
    public var high: ROUGEScore
}

extension ROUGE {
    /// The mean of each type's precision, recall and F-measure over `scores [N]` (what
    /// `gpt score --json` reports).
    /// - Throws: `EvaluationError.invalidInput` for no scores.
    public static func mean(_ scores: [[ROUGEType: ROUGEScore]]) throws -> [ROUGEType: ROUGEScore] {
        guard !scores.isEmpty else { throw EvaluationError.invalidInput("no scores to average") }
        var result: [ROUGEType: ROUGEScore] = [:]
        for type in Set(scores.flatMap(\.keys)) {
            let values = scores.compactMap { $0[type] }
            let count = Double(values.count)
            result[type] = ROUGEScore(precision: values.reduce(0) { $0 + $1.precision } / count,
                                      recall: values.reduce(0) { $0 + $1.recall } / count,
                                      fmeasure: values.reduce(0) { $0 + $1.fmeasure } / count)
        }
        return result
    }

    /// rouge-score's `BootstrapAggregator`: `samples` resamplings (with replacement) of the `N`
    /// segments, the mean of each, and the percentiles of those means at (1 − confidence)/2,
    /// 0.5 and (1 + confidence)/2, interpolated linearly as numpy does. The resampling is drawn
    /// from `seed` (rouge-score draws from numpy's global generator, so its bounds vary run to run).
    ///
    /// ```swift
    /// let intervals = try ROUGE.bootstrap(scores, samples: 1000, seed: 42)
    /// intervals[.n(1)]!.mid.fmeasure
    /// ```
    /// - Throws: `EvaluationError.invalidInput` for no scores, `samples < 1` or a confidence outside 0…1.
    public static func bootstrap(_ scores: [[ROUGEType: ROUGEScore]], samples: Int = 1000, confidence: Double = 0.95,
                                 seed: UInt64 = 0) throws -> [ROUGEType: ROUGEInterval] {
        guard !scores.isEmpty else { throw EvaluationError.invalidInput("no scores to aggregate") }
        guard samples >= 1 else { throw EvaluationError.invalidInput("bootstrap needs at least one sample, not \(samples)") }
        guard (0...1).contains(confidence) else { throw EvaluationError.invalidInput("confidence \(confidence) is outside 0…1") }
        let types = Array(Set(scores.flatMap(\.keys))).sorted { $0.description < $1.description }
        // As rouge-score's aggregate(): each type is resampled on its own (its precision, recall
        // and F share the rows), the types one after another from one generator.
        var generator = RandomGenerator(seed: seed)
        let n = scores.count
        let delta = (1 - confidence) / 2
        var result: [ROUGEType: ROUGEInterval] = [:]
        for type in types {
            let rows = scores.map { $0[type] ?? .zero }
            var means = [[Double]](repeating: [], count: 3)
            for _ in 0..<samples {
                var p = 0.0, r = 0.0, f = 0.0
                for _ in 0..<n {
                    let s = rows[Int.random(in: 0..<n, using: &generator)]
                    p += s.precision; r += s.recall; f += s.fmeasure
                }
                means[0].append(p / Double(n)); means[1].append(r / Double(n)); means[2].append(f / Double(n))
            }
            let sorted = means.map { $0.sorted() }
            func bound(_ q: Double) -> ROUGEScore {
                ROUGEScore(precision: percentile(sorted[0], q), recall: percentile(sorted[1], q), fmeasure: percentile(sorted[2], q))
            }
            result[type] = ROUGEInterval(low: bound(delta), mid: bound(0.5), high: bound(1 - delta))
        }
        return result
    }
}

/// numpy's default (linear) percentile of sorted `values` at fraction `q`.
func percentile(_ values: [Double], _ q: Double) -> Double {
    let position = q * Double(values.count - 1)
    let lower = Int(position.rounded(.down)), upper = min(lower + 1, values.count - 1)
    let fraction = position - Double(lower)
    return values[lower] + (values[upper] - values[lower]) * fraction
}
