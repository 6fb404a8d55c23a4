// chrF (Popović, 2015) and chrF++ (Popović, 2017) exactly as sacrebleu 2.x: character n-grams of
// code points (whitespace removed unless asked for), optional word n-grams with punctuation split
// off each word's edge, statistics of the best-F reference per segment summed over the corpus, and
// the F-beta of the averaged precision and recall over the orders that have n-grams.
import Foundation

/// sacrebleu's chrF metric (chrF2 by default; `wordOrder: 2` is chrF++).
///
/// ```swift
/// let chrF = CHRF()
/// let score = try chrF.corpusScore(hypotheses: ["the cat sat"], references: [["the cat sat down"]])
/// print(score.score, chrF.signature(referenceCount: 1))   // … nrefs:1|case:mixed|eff:yes|nc:6|nw:0|space:no|version:2.6.0
/// ```
public struct CHRF: Sendable, Hashable {
    /// Character n-gram orders (6).
    public var characterOrder: Int
    /// Word n-gram orders (0; 2 makes chrF++).
    public var wordOrder: Int
    /// Recall's weight: F-beta (2).
    public var beta: Int
    /// Lowercase hypotheses and references first.
    public var lowercase: Bool
    /// Keep whitespace inside character n-grams.
    public var includesWhitespace: Bool
    /// chrF++.py's epsilon smoothing (average of per-order F scores) instead of sacrebleu's
    /// default effective-order averaging of precision and recall.
    public var epsilonSmoothing: Bool
    /// Count with packed n-gram keys where they fit (tests turn it off to check the other path).
    var usesPackedKeys = true

    /// A chrF metric; the defaults are sacrebleu's `CHRF()`.
    public init(characterOrder: Int = 6, wordOrder: Int = 0, beta: Int = 2, lowercase: Bool = false,
                includesWhitespace: Bool = false, epsilonSmoothing: Bool = false) {
        self.characterOrder = characterOrder
        self.wordOrder = wordOrder
        self.beta = beta
        self.lowercase = lowercase
        self.includesWhitespace = includesWhitespace
        self.epsilonSmoothing = epsilonSmoothing
    }

    /// The metric's name as sacrebleu prints it: `chrF2`, `chrF2++`.
    public var name: String { "chrF\(beta)" + String(repeating: "+", count: wordOrder) }

    // MARK: - Scores

    /// Corpus chrF (0–100) of `hypotheses [N]` against reference streams `references [R][N]`.
    /// - Throws: `EvaluationError.invalidInput` for no segments, no stream, mismatched lengths, or
    ///   orders outside 0…64 (at least one above 0).
    public func corpusScore(hypotheses: [String], references: [[String]]) throws -> CHRFScore {
        try checkOrders()
        try checkStreams(hypotheses: hypotheses, references: references, order: characterOrder + wordOrder)
        return score(parallelMap(hypotheses.count) { i in
            statistics(hypothesis: hypotheses[i], references: references.map { $0[i] })
        })
    }

    private func score(_ perSegment: [[Int]]) -> CHRFScore {
        var total = [Int](repeating: 0, count: 3 * (characterOrder + wordOrder))
        for segment in perSegment { for k in total.indices { total[k] += segment[k] } }
        return CHRFScore(score: fScore(total), name: name)
    }

    /// Corpus chrF with each segment's own references `referenceSets [N][Rᵢ]` (counts may vary).
    public func corpusScore(hypotheses: [String], referenceSets: [[String]]) throws -> CHRFScore {
        try checkOrders()
        try checkSets(hypotheses: hypotheses, referenceSets: referenceSets, order: characterOrder + wordOrder)
        return score(parallelMap(hypotheses.count) { statistics(hypothesis: hypotheses[$0], references: referenceSets[$0]) })
    }

    private func checkOrders() throws {
        guard characterOrder >= 0, wordOrder >= 0, characterOrder <= 64, wordOrder <= 64 else {
            throw EvaluationError.invalidInput("chrF orders must be 0…64, not \(characterOrder) and \(wordOrder)")
        }
    }

    /// chrF of one `hypothesis` against its `references [R]`.
    public func sentenceScore(hypothesis: String, references: [String]) throws -> CHRFScore {
        try corpusScore(hypotheses: [hypothesis], references: references.map { [$0] })
    }

    /// sacrebleu's signature (`referenceCount` nil: a varying count), e.g. `nrefs:1|case:mixed|eff:yes|nc:6|nw:0|space:no|version:2.6.0`.
    public func signature(referenceCount: Int?) -> String {
        "nrefs:\(referenceCount.map(String.init) ?? "var")|case:\(lowercase ? "lc" : "mixed")|eff:\(epsilonSmoothing ? "no" : "yes")"
            + "|nc:\(characterOrder)|nw:\(wordOrder)|space:\(includesWhitespace ? "yes" : "no")|version:\(BLEU.sacreBLEUVersion)"
    }

    // MARK: - Statistics

    /// [hypothesis n-grams, reference n-grams, matches] per order (characters, then words) of the
    /// reference with the best F score (the first on ties).
    func statistics(hypothesis: String, references: [String]) -> [Int] {
        if usesPackedKeys, let fast = packedStatistics(hypothesis: hypothesis, references: references) { return fast }
        let orders = characterOrder + wordOrder
        let hypothesisGrams = grams(hypothesis)
        var best: [Int] = Array(repeating: 0, count: 3 * orders)
        var bestF = -1.0
        for reference in references {
            let referenceGrams = grams(reference)
            var stats: [Int] = []
            stats.reserveCapacity(3 * orders)
            for k in 0..<orders {
                let h = hypothesisGrams[k], r = referenceGrams[k]
                var matches = 0, hypothesisCount = 0
                for (gram, count) in h {
                    hypothesisCount += count
                    if let limit = r[gram] { matches += min(count, limit) }
                }
                stats.append(r.isEmpty ? 0 : hypothesisCount)
                stats.append(r.values.reduce(0, +))
                stats.append(matches)
            }
            let f = fScore(stats)
            if f > bestF { bestF = f; best = stats }
        }
        return best
    }

    /// The statistics with packed n-gram keys (NGramCounting.swift), or nil when a segment has
    /// too many distinct characters or words for the keys to fit 64 bits.
    private func packedStatistics(hypothesis: String, references: [String]) -> [Int]? {
        var characterIDs = CodePointIDs()
        var wordIDs: [ArraySlice<UInt32>: UInt32] = [:]
        func units(_ text: String) -> (characters: [UInt32], words: [UInt32]) {
            var points = codePoints(text)
            if lowercase { points = pythonLowercased(points) }
            let kept = includesWhitespace ? points : removingWhitespace(points)
            let characters = kept.map { characterIDs.id($0) }
            guard wordOrder > 0 else { return (characters, []) }
            let words: [UInt32] = punctuationSplitWords(points).map { word in
                if let id = wordIDs[word] { return id }
                let id = UInt32(wordIDs.count)
                wordIDs[word] = id
                return id
            }
            return (characters, words)
        }
        let hypothesisUnits = units(hypothesis)
        let referenceUnits = references.map(units)
        let characterBits = idBits(characterIDs.count), wordBits = idBits(wordIDs.count)
        guard characterBits * characterOrder <= 64, wordBits * wordOrder <= 64 else { return nil }
        func counters(_ u: (characters: [UInt32], words: [UInt32])) -> [GramCounts] {
            (0..<characterOrder).map { GramCounts(u.characters, order: $0 + 1, bits: characterBits) }
                + (0..<wordOrder).map { GramCounts(u.words, order: $0 + 1, bits: wordBits) }
        }
        let hypothesisCounts = counters(hypothesisUnits)
        let hypothesisTotals = hypothesisCounts.map(\.total)
        let orders = characterOrder + wordOrder
        var best: [Int] = Array(repeating: 0, count: 3 * orders)
        var bestF = -1.0
        var stats = [Int](repeating: 0, count: 3 * orders)
        for reference in referenceUnits {
            let referenceCounts = counters(reference)
            for k in 0..<orders {
                let r = referenceCounts[k]
                stats[3 * k] = r.keys.isEmpty ? 0 : hypothesisTotals[k]
                stats[3 * k + 1] = r.total
                stats[3 * k + 2] = hypothesisCounts[k].matches(r)
            }
            let f = fScore(stats)
            if f > bestF { bestF = f; best = stats }
        }
        return best
    }

    /// Counters per order: character n-grams 1…characterOrder, then word n-grams 1…wordOrder.
    private func grams(_ text: String) -> [[ArraySlice<UInt32>: Int]] {
        var points = codePoints(text)
        if lowercase { points = pythonLowercased(points) }
        let characters = includesWhitespace ? points : removingWhitespace(points)
        var result: [[ArraySlice<UInt32>: Int]] = []
        for n in 1...max(1, characterOrder) where characterOrder > 0 {
            var counts: [ArraySlice<UInt32>: Int] = [:]
            if n <= characters.count {
                for start in 0...(characters.count - n) { counts[characters[start..<(start + n)], default: 0] += 1 }
            }
            result.append(counts)
        }
        if wordOrder > 0 {
            // Word n-grams are slices of the words joined by spaces (words hold no whitespace, so
            // each slice names one n-gram, as sacrebleu's ' '.join keys do).
            var joined: [UInt32] = [], bounds: [(start: Int, end: Int)] = []
            for word in punctuationSplitWords(points) {
                if !joined.isEmpty { joined.append(0x20) }
                bounds.append((joined.count, joined.count + word.count))
                joined.append(contentsOf: word)
            }
            for n in 1...wordOrder {
                var counts: [ArraySlice<UInt32>: Int] = [:]
                if n <= bounds.count {
                    for start in 0...(bounds.count - n) { counts[joined[bounds[start].start..<bounds[start + n - 1].end], default: 0] += 1 }
                }
                result.append(counts)
            }
        }
        return result
    }

    /// sacrebleu's `_compute_f_score` on [hyp, ref, match] triples.
    func fScore(_ statistics: [Int]) -> Double {
        let orders = characterOrder + wordOrder
        let eps = 1e-16, factor = Double(beta) * Double(beta)
        var score = 0.0, averagePrecision = 0.0, averageRecall = 0.0
        var effective = 0
        for i in 0..<orders {
            let hyp = statistics[3 * i], ref = statistics[3 * i + 1], match = statistics[3 * i + 2]
            let precision = hyp > 0 ? Double(match) / Double(hyp) : eps
            let recall = ref > 0 ? Double(match) / Double(ref) : eps
            let denominator = factor * precision + recall
            score += denominator > 0 ? (1 + factor) * precision * recall / denominator : eps
            if hyp > 0 && ref > 0 {
                averagePrecision += precision
                averageRecall += recall
                effective += 1
            }
        }
        if epsilonSmoothing { return 100 * score / Double(orders) }
        if effective == 0 {
            averagePrecision = 0
            averageRecall = 0
        } else {
            averagePrecision /= Double(effective)
            averageRecall /= Double(effective)
        }
        guard averagePrecision + averageRecall != 0 else { return 0 }
        var f = (1 + factor) * averagePrecision * averageRecall
        f /= (factor * averagePrecision) + averageRecall
        return 100 * f
    }
}

/// chrF++'s words: whitespace-split, and a word longer than one character loses one punctuation
/// mark from its end (else from its start) as a separate word, as sacrebleu's `_remove_punctuation`.
private func punctuationSplitWords(_ points: [UInt32]) -> [ArraySlice<UInt32>] {
    var words: [ArraySlice<UInt32>] = []
    for range in whitespaceSplit(points) {
        let word = points[range]
        if word.count == 1 {
            words.append(word)
        } else if isASCIIPunctuation(word.last!) {
            words.append(word.dropLast())
            words.append(word.suffix(1))
        } else if isASCIIPunctuation(word.first!) {
            words.append(word.prefix(1))
            words.append(word.dropFirst())
        } else {
            words.append(word)
        }
    }
    return words
}

/// Python's `string.punctuation`.
@inline(__always) private func isASCIIPunctuation(_ c: UInt32) -> Bool {
    (0x21...0x2F).contains(c) || (0x3A...0x40).contains(c) || (0x5B...0x60).contains(c) || (0x7B...0x7E).contains(c)
}

/// A chrF score on the 0–100 scale.
public struct CHRFScore: Sendable, Hashable, Codable, CustomStringConvertible {
    /// chrF, 0–100.
    public var score: Double
    /// `chrF2`, `chrF2++`, …
    public var name: String
    /// sacrebleu's line: `chrF2 = 51.29`.
    public var description: String { "\(name) = " + String(format: "%.2f", score) }
}
