// Any bytes as the inputs of evaluation: a JSON Lines file read as prediction/reference pairs,
// task examples, blocklist rules and red-team prompts (gpt score --pairs, gpt eval --task,
// --filter, gpt redteam --prompts); the same bytes as text scored by BLEU, chrF, chrF++ and ROUGE
// (odd lines against even lines) and streamed through the standard blocklist in uneven chunks.
// Only thrown errors are allowed.
import Foundation
import FuzzSupport
import GPTKit

let manager = FileManager.default
let scratch = manager.temporaryDirectory.appendingPathComponent("gptkit-fuzz-evaluation-\(getpid())")
try? manager.createDirectory(at: scratch, withIntermediateDirectories: true)
let blocklist = try! BlocklistFilter.standard()

func fuzzEvaluation(_ input: UnsafeBufferPointer<UInt8>) {
    let file = scratch.appendingPathComponent("input.jsonl")
    guard (try? Data(input).write(to: file)) != nil else { return }
    if let pairs = try? EvaluationFiles.pairs(of: file) {
        _ = try? MetricScores(predictions: pairs.map(\.prediction), references: pairs.map(\.references), metrics: TextMetric.allCases)
    }
    _ = try? EvaluationFiles.taskExamples(of: file)
    if let rules = try? BlocklistFilter(contentsOf: file) {
        var stream = FilteredTextStream(filters: [rules])
        _ = try? stream.filterWhole("a short text to review, with some words 123-45-6789")
    }
    _ = try? RedTeamPrompt.load(file)
    // The bytes as text: metrics over line pairs, and the streamed blocklist.
    let text = String(decoding: input, as: UTF8.self)
    let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    if lines.count >= 2 {
        let hypotheses = stride(from: 0, to: lines.count - 1, by: 2).map { lines[$0] }
        let references = stride(from: 1, to: lines.count, by: 2).map { [lines[$0]] }
        _ = try? MetricScores(predictions: hypotheses, references: references, metrics: TextMetric.allCases)
        _ = try? CHRF(wordOrder: 2).corpusScore(hypotheses: hypotheses, referenceSets: references)
        _ = try? BLEU.sentenceLevel.sentenceScore(hypothesis: hypotheses[0], references: references[0])
        _ = try? ROUGE(stemming: true).score(prediction: hypotheses[0], references: references[0] + [text])
    }
    var stream = FilteredTextStream(filters: [blocklist])
    let scalars = Array(text.unicodeScalars)
    var i = 0, step = 1
    while i < scalars.count {
        let end = min(i + step, scalars.count)
        var view = String.UnicodeScalarView()
        view.append(contentsOf: scalars[i..<end])
        _ = try? stream.append(String(view))
        i = end
        step = step % 7 + 1
    }
    _ = try? stream.finish()
}

exit(runFuzzer(fuzzEvaluation))
