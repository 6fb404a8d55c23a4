// gpt score: BLEU, chrF and ROUGE of predictions against references, as sacrebleu and
// rouge-score compute them.
import Foundation
import GPTKit

enum ScoreCommand {
    static let usage = """
    usage: gpt score [--metric bleu|chrf|rouge[,…]] (--hypotheses FILE --references FILE [--references FILE …] | --pairs FILE.jsonl)
                     [--stem] [--lowercase] [--smooth exp|none|floor|add-k] [--smooth-value X] [--tokenize 13a|none]
                     [--chrf-word-order N] [--bootstrap N] [--seed N] [--json]
      Scores each hypothesis (one segment a line) against the same line of every --references
      file, or each JSON line {"prediction": …, "reference": … or [ …, … ]} of --pairs (newlines
      inside a prediction or reference separate sentences for ROUGE-Lsum).
      --metric       comma-separated (default bleu): bleu is sacrebleu's corpus BLEU (13a, exp
                     smoothing), chrf its chrF2 (chrF++ with --chrf-word-order 2), rouge is
                     rouge-score's ROUGE-1/2/L/Lsum averaged over segments
      --stem         ROUGE with the Porter stemmer (rouge-score's use_stemmer)
      --lowercase    case-insensitive BLEU and chrF
      --bootstrap N  ROUGE 95% confidence intervals from N resamplings (seeded by --seed, default 0)
      --json         one JSON object: "bleu" {score 0–100, signature, …}, "chrf", "rouge1", "rouge2",
                     "rougeL", "rougeLsum" {precision, recall, fmeasure}, "segments"
    """

    static func run(_ arguments: [String]) throws {
        let options = try Arguments(arguments, options: ["metric", "hypotheses", "references", "pairs", "smooth", "smooth-value",
                                                         "tokenize", "chrf-word-order", "bootstrap", "seed"],
                                    switches: ["stem", "lowercase", "json"])
        if options.helpRequested { print(usage); return }
        let metrics: [TextMetric]
        do { metrics = try TextMetric.list(options.string("metric") ?? "bleu") } catch { throw UsageError(message: "--metric: \(error.localizedDescription)") }
        let (predictions, references) = try inputs(options)
        let smoothingName = options.string("smooth") ?? "exp"
        let smoothValue = try options.optionalDouble("smooth-value")
        guard let smoothing = BLEU.Smoothing(name: smoothingName, value: smoothValue) else {
            throw UsageError(message: "--smooth must be exp, none, floor or add-k, not '\(smoothingName)'")
        }
        guard let tokenization = BLEUTokenization(rawValue: options.string("tokenize") ?? "13a") else {
            throw UsageError(message: "--tokenize must be 13a or none")
        }
        let bleu = BLEU(lowercase: options.has("lowercase"), tokenization: tokenization, smoothing: smoothing)
        let chrF = CHRF(wordOrder: try options.integer("chrf-word-order", default: 0, range: 0...9), lowercase: options.has("lowercase"))
        let rouge = ROUGE(stemming: options.has("stem"))
        let scores = try MetricScores(predictions: predictions, references: references, metrics: metrics, bleu: bleu, chrF: chrF, rouge: rouge)
        var intervals: [ROUGEType: ROUGEInterval]?
        if metrics.contains(.rouge), let samples = try options.optionalInteger("bootstrap", range: 1...1_000_000) {
            intervals = try ROUGE.bootstrap(try rouge.scores(predictions: predictions, references: references), samples: samples,
                                            seed: UInt64(try options.integer("seed", default: 0)))
        }
        if options.has("json") {
            print(try json(scores, intervals: intervals))
        } else {
            print(scores.report)
            for (type, interval) in (intervals ?? [:]).sorted(by: { $0.key.description < $1.key.description }) {
                print(type.description + String(format: " F 95%% interval %.4f–%.4f (mid %.4f)", interval.low.fmeasure, interval.high.fmeasure, interval.mid.fmeasure))
            }
        }
    }

    /// The predictions and per-segment references from --hypotheses/--references or --pairs.
    static func inputs(_ options: Arguments) throws -> ([String], [[String]]) {
        if let pairsPath = options.string("pairs") {
            guard options.string("hypotheses") == nil, options.strings("references").isEmpty else {
                throw UsageError(message: "give --pairs, or --hypotheses with --references, not both")
            }
            let pairs = try EvaluationFiles.pairs(of: try PathArguments.url(pairsPath, option: "pairs"))
            return (pairs.map(\.prediction), pairs.map(\.references))
        }
        guard let hypothesesPath = options.string("hypotheses") else { throw UsageError(message: "--hypotheses (or --pairs) is required") }
        let referencePaths = options.strings("references")
        guard !referencePaths.isEmpty else { throw UsageError(message: "--references is required with --hypotheses") }
        let hypotheses = try EvaluationFiles.lines(of: try PathArguments.url(hypothesesPath, option: "hypotheses"))
        var streams: [[String]] = []
        for path in referencePaths {
            let lines = try EvaluationFiles.lines(of: try PathArguments.url(path, option: "references"))
            guard lines.count == hypotheses.count else {
                throw EvaluationError.invalidInput("\(path) has \(lines.count) lines but \(hypothesesPath) has \(hypotheses.count)")
            }
            streams.append(lines)
        }
        return (hypotheses, hypotheses.indices.map { i in streams.map { $0[i] } })
    }

    static func json(_ scores: MetricScores, intervals: [ROUGEType: ROUGEInterval]?) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(Report(scores: scores, intervals: intervals)), as: UTF8.self)
    }

    /// The scores' JSON object, with `"rouge_bootstrap": {"rouge1": {low, mid, high}, …}` added
    /// when there are intervals.
    private struct Report: Encodable {
        let scores: MetricScores
        let intervals: [ROUGEType: ROUGEInterval]?

        private enum Key: String, CodingKey { case rougeBootstrap = "rouge_bootstrap" }

        func encode(to encoder: any Encoder) throws {
            try scores.encode(to: encoder)
            guard let intervals, !intervals.isEmpty else { return }
            var container = encoder.container(keyedBy: Key.self)
            try container.encode(Dictionary(uniqueKeysWithValues: intervals.map { ($0.key.description, $0.value) }), forKey: .rougeBootstrap)
        }
    }
}
