// One generation: a prompt prefilled in one pass, then one token per step through the KV cache.
import GPTTensor

/// Generates one sequence from a shared `GPT`. The session owns its `KVCache`, its random
/// generator and its scratch memory, so many sessions can run at once on one model (each from
/// its own task); a session itself belongs to one task at a time.
///
/// ```swift
/// let session = try GenerationSession(model: model, options: GenerationOptions(maximumNewTokens: 32,
///                                                                              sampling: .init(temperature: 0.8)))
/// try session.start(prompt: [1, 403, 407])
/// while let token = try session.next() { print(token) }
/// print(session.finishReason!)
/// ```
public final class GenerationSession {
    /// The model.
    public let model: GPT
    /// The settings.
    public let options: GenerationOptions
    /// The cache of the current sequence.
    public let cache: KVCache
    /// The whole sequence so far: the prompt, then every token produced.
    public private(set) var tokens: [Int] = []
    /// How many tokens `next()` has produced since `start(prompt:)`.
    public private(set) var generatedCount = 0
    /// Why generation ended, once it has.
    public private(set) var finishReason: FinishReason?
    /// How many prompt tokens the last `start(prompt:reusingCachedPrefix:)` took from the
    /// cache instead of running them again.
    public private(set) var reusedTokenCount = 0
    /// Whether cache position i holds `tokens[i]` (false after the context slid).
    private var cacheMirrorsTokens = false

    private var generator: RandomGenerator
    /// The logits `[V]` for the position after the last fed token, and a scratch copy.
    private let logits: UnsafeMutablePointer<Float>, scratch: UnsafeMutablePointer<Float>
    /// The last produced token, fed to the model on the next call (so the last one never is).
    private var pending: Int?
    private var started = false
    /// Distinct tokens of the sequence, for the repetition penalty.
    private var seen: [Bool], seenIDs: [Int32] = []

    /// A session on `model` with a cache of `cacheCapacity` positions (default: the context length).
    /// - Throws: `ModelError.invalidInput` for invalid options.
    public init(model: GPT, options: GenerationOptions = GenerationOptions(), cacheCapacity: Int? = nil) throws {
        try options.validate()
        self.model = model
        self.options = options
        cache = model.makeCache(capacity: cacheCapacity, precision: options.cachePrecision)
        guard cache.capacity > 0 else { throw ModelError.invalidInput("the cache capacity must be positive") }
        generator = RandomGenerator(seed: options.seed)
        let v = model.configuration.vocabularySize
        logits = .allocate(capacity: v)
        logits.initialize(repeating: 0, count: v)
        scratch = .allocate(capacity: v)
        seen = [Bool](repeating: false, count: v)
    }

    deinit {
        logits.deallocate()
        scratch.deallocate()
    }

    /// The logits `[V]` that the next token will be chosen from (a copy).
    public var nextTokenLogits: Tensor {
        var tensor = Tensor(zeros: [model.configuration.vocabularySize])
        tensor.withUnsafeMutableBufferPointer { $0.baseAddress!.update(from: logits, count: $0.count) }
        return tensor
    }

    // MARK: - Generation

    /// Starts (or restarts) with `prompt`: resets the cache and the random generator (to
    /// `options.seed`) and runs the prompt in one pass. With `reusingCachedPrefix`, the part of
    /// `prompt` that begins the sequence already in the cache (the previous prompt and reply:
    /// a chat's earlier turns) is kept and only the rest is run (`reusedTokenCount` says how
    /// many were kept); the results are those of a fresh start.
    /// - Throws: `ModelError.invalidInput` for an empty prompt, `.tokenOutOfRange`, or
    ///   `.contextOverflow` for a prompt longer than the cache under the `.stop` policy.
    public func start(prompt: [Int], reusingCachedPrefix: Bool = false) throws {
        started = false
        guard !prompt.isEmpty else { throw ModelError.invalidInput("the prompt needs at least one token (e.g. BOS)") }
        try model.checkTokenIDs(prompt)  // all of it, also what a slide drops
        var window = prompt
        if prompt.count > cache.capacity {
            guard options.contextOverflow == .slide else {
                throw ModelError.contextOverflow(length: prompt.count, limit: cache.capacity)
            }
            window = Array(prompt.suffix(slideKeep))
        }
        // The cache holds tokens[0..<cache.length] (the last produced token is never fed).
        var kept = 0
        if reusingCachedPrefix && cacheMirrorsTokens && window.count == prompt.count {
            let limit = min(cache.length, window.count - 1)  // at least one token runs, for the logits
            while kept < limit && tokens[kept] == window[kept] { kept += 1 }
        }
        if kept > 0 { try cache.truncate(to: kept) } else { cache.reset() }
        cacheMirrorsTokens = false
        try model.decode(tokens: Array(window[kept...]), cache: cache, allLogits: false, into: logits)
        cacheMirrorsTokens = window.count == prompt.count
        reusedTokenCount = kept
        for id in seenIDs { seen[Int(id)] = false }
        seenIDs.removeAll(keepingCapacity: true)
        prompt.forEach(markSeen)
        tokens = prompt
        generatedCount = 0
        pending = nil
        generator = RandomGenerator(seed: options.seed)
        finishReason = options.maximumNewTokens == 0 ? .maximumNewTokens : nil
        started = true
    }

    /// Produces the next token, or nil once generation has finished (see `finishReason`).
    /// - Throws: `ModelError.invalidState` before `start(prompt:)`.
    public func next() throws -> Int? {
        guard started else { throw ModelError.invalidState("call start(prompt:) before next()") }
        if finishReason != nil { return nil }
        if let token = pending {
            if cache.length == cache.capacity {
                guard options.contextOverflow == .slide else {
                    finishReason = .contextFull
                    return nil
                }
                cache.reset()
                cacheMirrorsTokens = false
                try model.decode(tokens: Array(tokens.suffix(slideKeep)), cache: cache, allLogits: false, into: logits)
            } else {
                try model.decode(tokens: [token], cache: cache, allLogits: false, into: logits)
            }
            pending = nil
        }
        // NaN or infinite weights give NaN logits, from which every choice would be token 0.
        guard Kernels.squaredNorm(logits, count: model.configuration.vocabularySize).isFinite else {
            let bad = model.weights.nonFiniteParameters()
            let named = bad.prefix(3).map { "\($0.name) (\($0.count))" }.joined(separator: ", ")
            throw ModelError.invalidState(bad.isEmpty
                ? "the model's logits are not finite (an overflow in the forward pass)"
                : "the model's logits are not finite: \(bad.count) weight tensor(s) hold NaN or infinity, "
                    + "e.g. \(named); the weights file is corrupt or training diverged")
        }
        let token = chooseToken()
        if options.stopTokens.contains(token) {
            finishReason = .stopToken(token)
            return nil
        }
        tokens.append(token)
        markSeen(token)
        generatedCount += 1
        pending = token
        if generatedCount >= options.maximumNewTokens { finishReason = .maximumNewTokens }
        return token
    }

    /// Starts with `prompt` and returns every produced token.
    public func generate(prompt: [Int]) throws -> [Int] {
        try start(prompt: prompt)
        var produced: [Int] = []
        while let token = try next() { produced.append(token) }
        return produced
    }

    // MARK: - Sampling

    /// Tokens kept when sliding: the most recent half of the cache.
    private var slideKeep: Int { max(1, cache.capacity / 2) }

    private func markSeen(_ token: Int) {
        if !seen[token] {
            seen[token] = true
            seenIDs.append(Int32(token))
        }
    }

    private func chooseToken() -> Int {
        let v = model.configuration.vocabularySize, sampling = options.sampling
        scratch.update(from: logits, count: v)
        if sampling.repetitionPenalty != 1 && !seenIDs.isEmpty {
            seenIDs.withUnsafeBufferPointer {
                Kernels.applyRepetitionPenalty(scratch, tokens: $0.baseAddress!, tokenCount: $0.count, penalty: sampling.repetitionPenalty)
            }
        }
        if sampling.isGreedy { return Kernels.argmax(scratch, count: v) }
        return Kernels.sampleIndex(logits: scratch, count: v, temperature: sampling.temperature, topK: sampling.topK ?? 0,
                                   topP: sampling.topP ?? 1, uniform: generator.nextDouble())
    }
}
