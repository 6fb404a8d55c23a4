import Foundation

// BLEU, chrF and ROUGE together over one set of predictions and references, as `gpt score` and
// the generation harness report them (the JSON keys of sacrebleu and rouge-score).

/// A text-similarity metric.
public enum TextMetric: String, Sendable, Hashable, CaseIterable, Codable {
    /// sacrebleu's corpus BLEU.
    case bleu
    /// sacrebleu's chrF2 (chrF++ with a word order).
    case chrf
    /// rouge-score's ROUGE-1, -2, -L and -Lsum, averaged over segments.
    case rouge

    /// Parses a comma-separated list (`bleu,rouge`).
    /// - Throws: `EvaluationError.invalidInput` naming an unknown metric.
    public static func list(_ text: String) throws -> [TextMetric] {
        let names = text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
        guard !names.isEmpty else { throw EvaluationError.invalidInput("no metric named") }
        return try names.map { name in
            guard let metric = TextMetric(rawValue: name) else {
                throw EvaluationError.invalidInput("unknown metric '\(name)': use bleu, chrf or rouge")
            }
            return metric
        }
    }
}

/// The scores of a set of predictions. Encodes as one JSON object: `"segments"`, `"bleu"`
/// (`score` 0–100, `signature`, `precisions`, `bp`, `sys_len`, `ref_len`, `verbose_score`),
/// `"chrf"` (`score`, `name`, `signature`) and `"rouge1"`, `"rouge2"`, `"rougeL"`, `"rougeLsum"`
/// (`precision`, `recall`, `fmeasure`), for the metrics computed.
public struct MetricScores: Sendable, Hashable, Encodable {
    /// Segments scored.
    public var segmentCount: Int
    /// Corpus BLEU and its sacrebleu signature.
    public var bleu: (score: BLEUScore, signature: String)?
    /// Corpus chrF and its signature.
    public var chrf: (score: CHRFScore, signature: String)?
    /// ROUGE averaged over segments, by type.
    public var rouge: [ROUGEType: ROUGEScore]?

    /// Computes `metrics` for `predictions [N]` against `references [N][Rᵢ]` with the given
    /// metric configurations.
    /// - Throws: `EvaluationError.invalidInput` for mismatched or empty inputs.
    public init(predictions: [String], references: [[String]], metrics: [TextMetric], bleu: BLEU = BLEU(),
                chrF: CHRF = CHRF(), rouge: ROUGE = ROUGE()) throws {
        try checkSets(hypotheses: predictions, referenceSets: references, order: 1)
        segmentCount = predictions.count
        let counts = Set(references.map(\.count))
        let referenceCount = counts.count == 1 ? counts.first : nil
        if metrics.contains(.bleu) {
            self.bleu = (try bleu.corpusScore(hypotheses: predictions, referenceSets: references), bleu.signature(referenceCount: referenceCount))
        }
        if metrics.contains(.chrf) {
            self.chrf = (try chrF.corpusScore(hypotheses: predictions, referenceSets: references), chrF.signature(referenceCount: referenceCount))
        }
        if metrics.contains(.rouge) {
            self.rouge = try ROUGE.mean(try rouge.scores(predictions: predictions, references: references))
        }
    }

    /// Lines for a terminal: sacrebleu's `BLEU = …` and `chrF2 = …` with signatures, then ROUGE.
    public var report: String {
        var lines: [String] = []
        if let bleu { lines.append("\(bleu.score)"); lines.append("  signature: \(bleu.signature)") }
        if let chrf { lines.append("\(chrf.score)"); lines.append("  signature: \(chrf.signature)") }
        if let rouge {
            for type in rouge.keys.sorted(by: { $0.description < $1.description }) {
                let s = rouge[type]!
                lines.append(type.description + String(format: " P %.4f  R %.4f  F %.4f", s.precision, s.recall, s.fmeasure))
            }
        }
        return lines.joined(separator: "\n")
    }

    // MARK: - Equality and JSON

    public static func == (a: MetricScores, b: MetricScores) -> Bool {
        a.segmentCount == b.segmentCount && a.bleu?.score == b.bleu?.score && a.bleu?.signature == b.bleu?.signature
            && a.chrf?.score == b.chrf?.score && a.chrf?.signature == b.chrf?.signature && a.rouge == b.rouge
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(segmentCount)
        hasher.combine(bleu?.score)
        hasher.combine(chrf?.score)
        hasher.combine(rouge)
    }

    private struct Key: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(_ string: String) { stringValue = string }
        init?(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    private struct BLEUEntry: Encodable {
        let score: Double, signature: String, precisions: [Double], bp: Double, sys_len: Int, ref_len: Int, verbose_score: String
    }

    private struct CHRFEntry: Encodable { let score: Double, name: String, signature: String }

    /// Encodes the JSON object described on the type.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: Key.self)
        try container.encode(segmentCount, forKey: Key("segments"))
        if let bleu {
            let s = bleu.score
            try container.encode(BLEUEntry(score: s.score, signature: bleu.signature, precisions: s.precisions, bp: s.brevityPenalty,
                                           sys_len: s.hypothesisLength, ref_len: s.referenceLength, verbose_score: s.verboseDescription),
                                 forKey: Key("bleu"))
        }
        if let chrf { try container.encode(CHRFEntry(score: chrf.score.score, name: chrf.score.name, signature: chrf.signature), forKey: Key("chrf")) }
        if let rouge { for (type, score) in rouge { try container.encode(score, forKey: Key(type.description)) } }
    }
}
