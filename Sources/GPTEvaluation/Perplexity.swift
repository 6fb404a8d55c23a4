// Perplexity with a sliding window (the Hugging Face perplexity recipe): windows of `W` tokens
// starting every `S` tokens; each window scores only the tokens the previous one did not reach,
// with all of the window before them as context. With S < W every token after the first is
// scored exactly once; with S = W (no overlap) the first token of each window has no context in
// it and is not scored, as in the recipe. The mean is over scored tokens (the recipe's
// `num_valid_tokens - batch_size` weighting of each window's mean loss undercounts one token per
// overlapping window; this does not).
import Foundation
import GPTModel
import GPTTensor
import GPTTokenizers

/// The result of `GPT.perplexity`: the summed negative log-likelihood and what follows from it.
public struct PerplexityResult: Sendable, Hashable, Codable {
    /// Tokens scored (every token but the first when windows overlap; see `GPT.perplexity`).
    public var tokenCount: Int
    /// Σ −log p(token | context), in nats.
    public var negativeLogLikelihood: Double
    /// UTF-8 bytes of the text the tokens came from, when known (for bits per byte).
    public var byteCount: Int?
    /// Forward windows evaluated.
    public var windowCount: Int

    /// The mean negative log-likelihood per scored token (nats): the cross-entropy.
    public var meanNegativeLogLikelihood: Double { negativeLogLikelihood / Double(tokenCount) }
    /// exp(mean negative log-likelihood).
    public var perplexity: Double { exp(meanNegativeLogLikelihood) }
    /// Σ −log₂ p / bytes: comparable across tokenizers (nil without `byteCount`).
    public var bitsPerByte: Double? {
        guard let byteCount, byteCount > 0 else { return nil }
        return negativeLogLikelihood / log(2) / Double(byteCount)
    }
}

/// How far `GPT.perplexity` has got, passed to its progress callback after each batch.
public struct PerplexityProgress: Sendable, Hashable {
    /// Windows evaluated so far.
    public var windowsDone: Int
    /// Windows in all.
    public var windowCount: Int
    /// Tokens scored so far.
    public var tokensScored: Int
}

/// The windows of the sliding-window recipe over `tokenCount` tokens: each is
/// `(begin, end, firstScored)`, scoring positions `firstScored..<end` with context from `begin`.
func perplexityWindows(tokenCount: Int, window: Int, stride: Int) -> [(begin: Int, end: Int, firstScored: Int)] {
    var windows: [(begin: Int, end: Int, firstScored: Int)] = []
    var begin = 0, previousEnd = 0
    while true {
        let end = min(begin + window, tokenCount)
        let first = max(previousEnd, begin + 1)
        if first < end { windows.append((begin, end, first)) }  // a last window of one token scores nothing
        previousEnd = end
        if end == tokenCount { break }
        begin += stride
    }
    return windows
}

extension GPT {
    /// The sliding-window perplexity of `tokens [N]`: windows of `windowLength` tokens (default:
    /// the context length) every `stride` tokens (default: half a window), `batchSize` windows
    /// per forward pass. Pass `byteCount` (the text's UTF-8 bytes) for bits per byte. With
    /// `stride < windowLength` every token after the first is scored once; with `stride ==
    /// windowLength` the first token of each window is not (it has no context in its window).
    ///
    /// ```swift
    /// let result = try model.perplexity(tokens: ids, windowLength: 512, stride: 256, batchSize: 4)
    /// print(result.perplexity, result.meanNegativeLogLikelihood)
    /// ```
    /// - Throws: `EvaluationError.invalidInput` for fewer than two tokens or sizes out of range
    ///   (window 2…context, stride 1…window, batch ≥ 1); the model's errors for ids outside the
    ///   vocabulary; `.invalidInput` if a loss is not finite.
    public func perplexity(tokens: [Int], windowLength: Int? = nil, stride: Int? = nil, batchSize: Int = 1,
                           byteCount: Int? = nil, progress: ((PerplexityProgress) -> Void)? = nil) throws -> PerplexityResult {
        let context = configuration.contextLength
        let window = windowLength ?? context
        let stride = stride ?? max(1, window / 2)
        guard tokens.count >= 2 else { throw EvaluationError.invalidInput("perplexity needs at least 2 tokens, got \(tokens.count)") }
        guard window >= 2, window <= context else {
            throw EvaluationError.invalidInput("the window must be 2…\(context) tokens (the context), not \(window)")
        }
        guard (1...window).contains(stride) else { throw EvaluationError.invalidInput("the stride must be 1…\(window), not \(stride)") }
        guard batchSize >= 1 else { throw EvaluationError.invalidInput("the batch size must be at least 1, not \(batchSize)") }
        let windows = perplexityWindows(tokenCount: tokens.count, window: window, stride: stride)
        // Forward only: per-block recomputation keeps one block's activations at a time (reused
        // pass after pass) instead of every block's for a backward pass that never comes.
        let workspace = GPTWorkspace(model: self, recompute: .perBlock)
        var total = 0.0, scored = 0, done = 0
        var inputs: [Int] = [], targets: [Int] = []
        var start = 0
        while start < windows.count {
            // A batch: up to batchSize consecutive windows of one length (only the last may be shorter).
            let length = windows[start].end - windows[start].begin
            var stop = start + 1
            while stop < windows.count && stop - start < batchSize && windows[stop].end - windows[stop].begin == length { stop += 1 }
            inputs.removeAll(keepingCapacity: true)
            targets.removeAll(keepingCapacity: true)
            for w in windows[start..<stop] {
                // Input positions begin..<end-1 predict begin+1..<end; only firstScored… count.
                for p in w.begin..<(w.end - 1) {
                    inputs.append(tokens[p])
                    targets.append(p + 1 >= w.firstScored ? tokens[p + 1] : Int(Kernels.ignoreIndex))
                }
            }
            try workspace.forward(tokens: inputs, targets: targets, batch: stop - start, time: length - 1)
            let logProbabilities = workspace.tokenLogProbabilities ?? []
            for (k, target) in targets.enumerated() where target != Int(Kernels.ignoreIndex) {
                total -= Double(logProbabilities[k])
                scored += 1
            }
            guard total.isFinite else { throw EvaluationError.invalidInput("the negative log-likelihood is not finite") }
            done = stop
            progress?(PerplexityProgress(windowsDone: done, windowCount: windows.count, tokensScored: scored))
            start = stop
        }
        return PerplexityResult(tokenCount: scored, negativeLogLikelihood: total, byteCount: byteCount, windowCount: windows.count)
    }

    /// The sliding-window perplexity of `text` tokenized by `tokenizer`, with bits per byte.
    /// `prependsBOS` defaults to what the tokenizer's model expects (SentencePiece's `add_bos`,
    /// llama2.c's always; GPT-2's never).
    ///
    /// ```swift
    /// let result = try model.perplexity(of: text, tokenizer: tokenizer, windowLength: 512, stride: 256)
    /// print(result.perplexity, result.bitsPerByte!)
    /// ```
    public func perplexity(of text: String, tokenizer: any Tokenizer, prependsBOS: Bool? = nil, windowLength: Int? = nil,
                           stride: Int? = nil, batchSize: Int = 1,
                           progress: ((PerplexityProgress) -> Void)? = nil) throws -> PerplexityResult {
        var ids = try tokenizer.encode(text)
        if prependsBOS ?? defaultPrependsBOS(tokenizer), let bos = tokenizer.bosTokenID { ids.insert(bos, at: 0) }
        return try perplexity(tokens: ids, windowLength: windowLength, stride: stride, batchSize: batchSize,
                              byteCount: text.utf8.count, progress: progress)
    }
}

/// Whether the tokenizer's model family prepends BOS to a text.
func defaultPrependsBOS(_ tokenizer: any Tokenizer) -> Bool {
    if let sentencePiece = tokenizer as? SentencePieceTokenizer { return sentencePiece.addsBOSToken }
    if tokenizer is LlamaTokenizer { return true }
    return false
}
