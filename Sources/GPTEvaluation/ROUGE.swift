// ROUGE (Lin, 2004) exactly as Google's rouge-score: its tokenizer (lowercase, every run of
// characters other than a–z and 0–9 a separator, Porter stems for tokens longer than three
// letters), ROUGE-N on n-gram counts, ROUGE-L on the longest common subsequence, and summary-level
// ROUGE-Lsum on the union LCS of newline-separated sentences.

import GPTKernelCore

/// One ROUGE measurement: precision, recall and their harmonic mean.
public struct ROUGEScore: Sendable, Hashable, Codable {
    /// Matched units / prediction units.
    public var precision: Double
    /// Matched units / reference units.
    public var recall: Double
    /// 2PR / (P + R) (0 when both are 0).
    public var fmeasure: Double

    /// A score from precision and recall, with rouge-score's F-measure.
    public init(precision: Double, recall: Double) {
        self.precision = precision
        self.recall = recall
        fmeasure = precision + recall > 0 ? 2 * precision * recall / (precision + recall) : 0
    }

    /// A score with all three values given (an aggregate's bound).
    public init(precision: Double, recall: Double, fmeasure: Double) {
        self.precision = precision
        self.recall = recall
        self.fmeasure = fmeasure
    }

    static let zero = ROUGEScore(precision: 0, recall: 0)
}

/// The ROUGE variants rouge-score computes.
public enum ROUGEType: Sendable, Hashable, Codable, CustomStringConvertible {
    /// ROUGE-N: overlap of n-grams (`rouge1`, `rouge2`, …).
    case n(Int)
    /// ROUGE-L: the longest common subsequence of the whole texts.
    case longestCommonSubsequence
    /// ROUGE-Lsum: summary-level LCS over newline-separated sentences.
    case summaryLongestCommonSubsequence

    /// rouge-score's names: `rouge1`, `rouge2`, `rougeL`, `rougeLsum`.
    public var description: String {
        switch self {
        case .n(let n): return "rouge\(n)"
        case .longestCommonSubsequence: return "rougeL"
        case .summaryLongestCommonSubsequence: return "rougeLsum"
        }
    }

    /// Parses rouge-score's names (`rouge1` … `rouge9`, `rougeL`, `rougeLsum`).
    public init?(name: String) {
        switch name {
        case "rougeL": self = .longestCommonSubsequence
        case "rougeLsum": self = .summaryLongestCommonSubsequence
        default:
            guard name.hasPrefix("rouge"), name.count == 6, let n = Int(name.dropFirst(5)), n > 0 else { return nil }
            self = .n(n)
        }
    }

    /// ROUGE-1, ROUGE-2, ROUGE-L and ROUGE-Lsum.
    public static let standard: [ROUGEType] = [.n(1), .n(2), .longestCommonSubsequence, .summaryLongestCommonSubsequence]
}

/// rouge-score's `RougeScorer` with its default tokenizer.
///
/// ```swift
/// let scorer = ROUGE(stemming: true)
/// let scores = try scorer.score(prediction: "The cats sat.", reference: "the cat sat down")
/// scores[.n(1)]!.fmeasure                      // 0.857…
/// ```
public struct ROUGE: Sendable, Hashable {
    /// The variants computed.
    public var types: [ROUGEType]
    /// Stem tokens longer than three characters with the Porter stemmer.
    public var stemming: Bool

    /// A scorer; the defaults are ROUGE-1, -2, -L and -Lsum without stemming.
    public init(types: [ROUGEType] = ROUGEType.standard, stemming: Bool = false) {
        self.types = types
        self.stemming = stemming
    }

    /// rouge-score's tokens of `text`: lowercase, non-alphanumerics as separators, stems for
    /// tokens longer than three characters when `stemming` is on.
    public func tokenize(_ text: String) -> [String] {
        var cache = StemCache()
        return tokens(text, cache: &cache).map { String(decoding: $0, as: UTF8.self) }
    }

    /// Stems already computed (the stemmer is a pure function of the word).
    typealias StemCache = [[UInt8]: [UInt8]]

    func tokens(_ text: String, cache: inout StemCache) -> [[UInt8]] {
        // text.lower(), then [^a-z0-9]+ → " " and split: the ASCII alphanumeric runs of the lowercased text.
        let lowered = pythonLowercased(codePoints(text))
        var result: [[UInt8]] = []
        var current: [UInt8] = []
        for v in lowered {
            if (0x61...0x7A).contains(v) || (0x30...0x39).contains(v) {
                current.append(UInt8(v))
            } else if !current.isEmpty {
                result.append(current)
                current = []
            }
        }
        if !current.isEmpty { result.append(current) }
        guard stemming else { return result }
        let stemmer = PorterStemmer()
        return result.map { token in
            guard token.count > 3 else { return token }
            if let stem = cache[token] { return stem }
            let stem = Array(stemmer.stem(String(decoding: token, as: UTF8.self)).utf8)
            cache[token] = stem
            return stem
        }.filter { !$0.isEmpty }
    }

    /// The scores of `prediction` against one `reference`.
    /// - Throws: `EvaluationError.invalidInput` when a ROUGE-Lsum sentence pair is too long for
    ///   its LCS table (over 2^28 cells, 1 GiB) or a ROUGE-N has n < 1.
    public func score(prediction: String, reference: String) throws -> [ROUGEType: ROUGEScore] {
        var cache = StemCache()
        return try score(prediction: prediction, reference: reference, cache: &cache)
    }

    func score(prediction: String, reference: String, cache: inout StemCache) throws -> [ROUGEType: ROUGEScore] {
        var vocabulary: [[UInt8]: UInt32] = [:]
        func ids(_ tokens: [[UInt8]]) -> [UInt32] {
            tokens.map { token in
                if let id = vocabulary[token] { return id }
                let id = UInt32(vocabulary.count)
                vocabulary[token] = id
                return id
            }
        }
        let target = ids(tokens(reference, cache: &cache)), candidate = ids(tokens(prediction, cache: &cache))
        var result: [ROUGEType: ROUGEScore] = [:]
        for type in types {
            switch type {
            case .n(let n):
                guard n >= 1 else { throw EvaluationError.invalidInput("ROUGE-N needs n ≥ 1, not \(n)") }
                result[type] = ngramScore(target: target, prediction: candidate, n: n, vocabularySize: vocabulary.count)
            case .longestCommonSubsequence:
                if target.isEmpty || candidate.isEmpty { result[type] = .zero; continue }
                let length = Double(lcsLength(target, candidate))
                result[type] = ROUGEScore(precision: length / Double(candidate.count), recall: length / Double(target.count))
            case .summaryLongestCommonSubsequence:
                // text.split("\n") on code points ("\r\n" is one Character but two code points).
                var sentences: [[[UInt32]]] = []
                for text in [reference, prediction] {
                    var list: [[UInt32]] = []
                    for line in text.unicodeScalars.split(separator: "\n", omittingEmptySubsequences: true) {
                        list.append(ids(tokens(String(line), cache: &cache)))
                    }
                    sentences.append(list)
                }
                result[type] = try summaryLevelScore(references: sentences[0], candidates: sentences[1])
            }
        }
        return result
    }

    /// The best score per type over `references` (highest F-measure, the first on ties), as
    /// rouge-score's `score_multi`.
    public func score(prediction: String, references: [String]) throws -> [ROUGEType: ROUGEScore] {
        var cache = StemCache()
        return try score(prediction: prediction, references: references, cache: &cache)
    }

    func score(prediction: String, references: [String], cache: inout StemCache) throws -> [ROUGEType: ROUGEScore] {
        var all: [[ROUGEType: ROUGEScore]] = []
        for reference in references { all.append(try score(prediction: prediction, reference: reference, cache: &cache)) }
        var best: [ROUGEType: ROUGEScore] = [:]
        for type in types {
            for scores in all {
                guard let s = scores[type] else { continue }
                if let current = best[type], current.fmeasure >= s.fmeasure { continue }
                best[type] = s
            }
        }
        return best
    }

    /// The scores of every pair `[N]` (predictions and references of one length), in parallel.
    /// - Throws: `EvaluationError.invalidInput` for no pairs, mismatched counts, a prediction
    ///   without references or a ROUGE-N with n < 1.
    public func scores(predictions: [String], references: [[String]]) throws -> [[ROUGEType: ROUGEScore]] {
        guard !predictions.isEmpty else { throw EvaluationError.invalidInput("no predictions to score") }
        for case .n(let n) in types where n < 1 { throw EvaluationError.invalidInput("ROUGE-N needs n ≥ 1, not \(n)") }
        guard predictions.count == references.count else {
            throw EvaluationError.invalidInput("\(predictions.count) predictions for \(references.count) references")
        }
        if let i = references.firstIndex(where: \.isEmpty) {
            throw EvaluationError.invalidInput("prediction \(i + 1) has no reference")
        }
        // Chunks of segments, each with its own stem cache.
        let chunks = min(predictions.count, max(1, Parallel.threadCount * 4))
        let results = parallelMap(chunks) { chunk -> Result<[[ROUGEType: ROUGEScore]], any Error> in
            var cache = StemCache()
            return Result {
                try (chunk * predictions.count / chunks..<(chunk + 1) * predictions.count / chunks).map { i in
                    references[i].count == 1 ? try score(prediction: predictions[i], reference: references[i][0], cache: &cache)
                        : try score(prediction: predictions[i], references: references[i], cache: &cache)
                }
            }
        }
        return try results.flatMap { try $0.get() }
    }
}

// MARK: - The measures

private func ngramScore(target: [UInt32], prediction: [UInt32], n: Int, vocabularySize: Int) -> ROUGEScore {
    guard n >= 1 else { return .zero }  // rouge-score refuses n < 1; `scores` throws for it
    let targetTotal = max(0, target.count - n + 1), predictionTotal = max(0, prediction.count - n + 1)
    var overlap = 0
    let bits = idBits(vocabularySize)
    if bits * n <= 64 {
        overlap = GramCounts(target, order: n, bits: bits).matches(GramCounts(prediction, order: n, bits: bits))
    } else {
        var targetCounts: [ArraySlice<UInt32>: Int] = [:], predictionCounts: [ArraySlice<UInt32>: Int] = [:]
        if targetTotal > 0 { for start in 0..<targetTotal { targetCounts[target[start..<(start + n)], default: 0] += 1 } }
        if predictionTotal > 0 { for start in 0..<predictionTotal { predictionCounts[prediction[start..<(start + n)], default: 0] += 1 } }
        for (gram, c) in targetCounts { overlap += min(c, predictionCounts[gram] ?? 0) }
    }
    return ROUGEScore(precision: Double(overlap) / Double(max(predictionTotal, 1)),
                      recall: Double(overlap) / Double(max(targetTotal, 1)))
}

/// The LCS length with two rows of the dynamic-programming table.
private func lcsLength(_ a: [UInt32], _ b: [UInt32]) -> Int {
    var previous = [UInt32](repeating: 0, count: b.count + 1), current = previous
    for i in 1...a.count {
        for j in 1...b.count {
            current[j] = a[i - 1] == b[j - 1] ? previous[j - 1] + 1 : max(previous[j], current[j - 1])
        }
        swap(&previous, &current)
    }
    return Int(previous[b.count])
}

/// The reference positions of one LCS of `reference` and `candidate`, read back as rouge-score's
/// `_backtrack_norec` does (preferring to drop a reference token on ties).
private func lcsPositions(_ reference: [UInt32], _ candidate: [UInt32], table: inout [UInt32]) -> [Int] {
    let rows = reference.count, columns = candidate.count, width = columns + 1
    table.removeAll(keepingCapacity: true)
    table.append(contentsOf: repeatElement(0, count: (rows + 1) * width))
    for i in 1...rows {
        for j in 1...columns {
            table[i * width + j] = reference[i - 1] == candidate[j - 1] ? table[(i - 1) * width + j - 1] + 1
                : max(table[(i - 1) * width + j], table[i * width + j - 1])
        }
    }
    var positions: [Int] = []
    var i = rows, j = columns
    while i > 0 && j > 0 {
        if reference[i - 1] == candidate[j - 1] {
            positions.append(i - 1); i -= 1; j -= 1
        } else if table[i * width + j - 1] > table[(i - 1) * width + j] {
            j -= 1
        } else {
            i -= 1
        }
    }
    return positions.reversed()
}

/// Summary-level LCS (ROUGE paper §3.2): for each reference sentence the union of its LCS with
/// every candidate sentence, each token counted at most as often as both summaries hold it.
private func summaryLevelScore(references: [[UInt32]], candidates: [[UInt32]]) throws -> ROUGEScore {
    guard !references.isEmpty, !candidates.isEmpty else { return .zero }
    let m = references.reduce(0) { $0 + $1.count }, n = candidates.reduce(0) { $0 + $1.count }
    guard m > 0, n > 0 else { return .zero }
    var referenceCounts: [UInt32: Int] = [:], candidateCounts: [UInt32: Int] = [:]
    for s in references { for t in s { referenceCounts[t, default: 0] += 1 } }
    for s in candidates { for t in s { candidateCounts[t, default: 0] += 1 } }
    var hits = 0
    var table: [UInt32] = []
    for reference in references {
        var union = Set<Int>()
        for candidate in candidates where !reference.isEmpty && !candidate.isEmpty {
            guard (reference.count + 1).multipliedReportingOverflow(by: candidate.count + 1).partialValue <= 1 << 28 else {
                throw EvaluationError.invalidInput("a ROUGE-Lsum sentence pair of \(reference.count) × \(candidate.count) tokens is too long")
            }
            union.formUnion(lcsPositions(reference, candidate, table: &table))
        }
        for position in union.sorted() {
            let token = reference[position]
            if candidateCounts[token, default: 0] > 0 && referenceCounts[token, default: 0] > 0 {
                hits += 1
                candidateCounts[token]! -= 1
                referenceCounts[token]! -= 1
            }
        }
    }
    return ROUGEScore(precision: Double(hits) / Double(n), recall: Double(hits) / Double(m))
}
