// A content filter that scores text with a classifier: a model with a scalar head (the reward
// model's `score.weight`), read at the last token of the text's final window.
import Foundation
import GPTModel
import GPTTokenizers

/// Stops (or redacts) text whose classifier score passes a threshold.
///
/// The model must have a score head (`configuration.scoreCount ≥ 1`); `scoreIndex` picks the
/// output read, taken at the last position of the last `window` tokens of the reviewed text
/// (the stream's hold-back is `window` × 8 scalars of text, so every reviewed stretch has context).
/// Each review is a forward pass of the classifier over up to `window` tokens, and a stream
/// reviews on every append: keep the classifier small, or review whole replies with
/// `FilteredTextStream.filterWhole`.
///
/// ```swift
/// let unsafe = try ClassifierFilter(model: rewardModel, tokenizer: tokenizer, threshold: 0.5, category: "harmful")
/// let generator = FilteredGenerator(model: model, tokenizer: tokenizer, filters: [unsafe])
/// ```
public struct ClassifierFilter: ContentFilter {
    /// The filter's name.
    public let name: String
    /// The classifier.
    public let model: GPT
    /// Its tokenizer.
    public let tokenizer: any Tokenizer
    /// Which score head output is the "unsafe" score.
    public let scoreIndex: Int
    /// Scores at or above this fire (after the sigmoid when `appliesSigmoid`).
    public let threshold: Float
    /// Map the raw score through 1 / (1 + e^−s) first.
    public let appliesSigmoid: Bool
    /// The category reported.
    public let category: String
    /// Stop (default) or redact the reviewed stretch.
    public let action: FilterAction
    /// Tokens of context scored.
    public let window: Int

    /// A classifier filter.
    /// - Throws: `EvaluationError.invalidInput` if the model has no score head, `scoreIndex` is
    ///   outside it, or `window` is not 1…context.
    public init(name: String = "classifier", model: GPT, tokenizer: any Tokenizer, scoreIndex: Int = 0, threshold: Float,
                appliesSigmoid: Bool = true, category: String, action: FilterAction = .stop, window: Int = 64) throws {
        guard model.configuration.scoreCount > 0 else { throw EvaluationError.invalidInput("the classifier model has no score head") }
        guard (0..<model.configuration.scoreCount).contains(scoreIndex) else {
            throw EvaluationError.invalidInput("score index \(scoreIndex) is outside the head's \(model.configuration.scoreCount) outputs")
        }
        guard (1...model.configuration.contextLength).contains(window) else {
            throw EvaluationError.invalidInput("the window must be 1…\(model.configuration.contextLength) tokens, not \(window)")
        }
        self.name = name
        self.model = model
        self.tokenizer = tokenizer
        self.scoreIndex = scoreIndex
        self.threshold = threshold
        self.appliesSigmoid = appliesSigmoid
        self.category = category
        self.action = action
        self.window = window
    }

    /// The hold-back: enough text for the window (8 scalars a token is generous for BPE vocabularies).
    public var maximumMatchLength: Int { window * 8 }

    /// The classifier's score of `text` (its last `window` tokens), after the sigmoid if set.
    public func score(_ text: String) throws -> Float {
        var ids = try tokenizer.encode(text)
        if ids.isEmpty, let bos = tokenizer.bosTokenID { ids = [bos] }
        guard !ids.isEmpty else { return appliesSigmoid ? 0.5 : 0 }
        if ids.count > window { ids.removeFirst(ids.count - window) }
        let workspace = GPTWorkspace(model: model, recompute: .perBlock)
        try workspace.forward(tokens: ids, batch: 1, time: ids.count, computeLogits: false)
        guard let scores = workspace.scores else { throw EvaluationError.invalidInput("the classifier produced no scores") }
        let raw = scores.scalars[(ids.count - 1) * model.configuration.scoreCount + scoreIndex]
        return appliesSigmoid ? 1 / (1 + Foundation.exp(-raw)) : raw
    }

    /// One finding over the whole text when its score reaches the threshold.
    public func review(_ text: String) throws -> [FilterFinding] {
        let value = try score(text)
        guard value >= threshold else { return [] }
        return [FilterFinding(range: 0..<text.unicodeScalars.count, action: action, category: category,
                              reason: String(format: "classifier score %.3f ≥ %.3f", value, threshold))]
    }
}
