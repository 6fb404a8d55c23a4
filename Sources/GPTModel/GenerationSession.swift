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
    /// Tokens to run through the model (into `cache`) before the next choice: the prompt after
    /// `start`, the pending token, or the kept window after a slide.
    private var input: [Int]?
    /// What `cacheMirrorsTokens` becomes once `input` has run.
    private var inputMirrorsTokens = false
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
        input = Array(window[kept...])
        inputMirrorsTokens = window.count == prompt.count
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
        do { try runInput() } catch {
            started = false
            throw error
        }
    }

    /// Produces the next token, or nil once generation has finished (see `finishReason`).
    /// - Throws: `ModelError.invalidState` before `start(prompt:)`.
    public func next() throws -> Int? {
        guard started else { throw ModelError.invalidState("call start(prompt:) before next()") }
        if try stepInput() != nil { try runInput() }
        return try chooseNext()
    }

    /// Produces the next token of every session, running their model steps together in one
    /// batched pass (`GPT.forward(batch:caches:)`: each weight matrix is read once for all of
    /// them). Element i is what `sessions[i].next()` would return: the same tokens as stepping
    /// each session alone, up to the float rounding of products over more rows (none with the
    /// block formats' direct kernels, up to `Kernels.directRowLimit` sessions). Sessions that
    /// have finished return nil and take no part in the pass.
    ///
    /// ```swift
    /// let sessions = try prompts.map { prompt in
    ///     let session = try GenerationSession(model: model, options: GenerationOptions(maximumNewTokens: 32))
    ///     try session.start(prompt: prompt)
    ///     return session
    /// }
    /// while case let step = try GenerationSession.next(sessions), step.contains(where: { $0 != nil }) {
    ///     for (i, token) in step.enumerated() { if let token { print(i, token) } }
    /// }
    /// ```
    /// - Throws: `ModelError.invalidState` for a session not started; `.invalidInput` for
    ///   sessions of different models or one session given twice; model errors of the step.
    public static func next(_ sessions: [GenerationSession]) throws -> [Int?] {
        guard let model = sessions.first?.model else { return [] }
        var identities = Set<ObjectIdentifier>()
        for session in sessions {
            guard session.started else { throw ModelError.invalidState("call start(prompt:) on every session before next(_:)") }
            guard session.model === model else { throw ModelError.invalidInput("sessions of different models cannot step together") }
            guard identities.insert(ObjectIdentifier(session)).inserted else {
                throw ModelError.invalidInput("a session is given twice")
            }
        }
        // Single tokens go together; a longer input (a prompt, a slide's window) runs alone, as
        // it would unbatched, so it neither changes the products the others take nor stalls them.
        var batch: [GenerationSession] = []
        for session in sessions {
            guard let input = try session.stepInput() else { continue }
            if input.count == 1 { batch.append(session) } else { try session.runInput() }
        }
        if batch.count == 1 {
            try batch[0].runInput()
        } else if batch.count > 1 {
            let v = model.configuration.vocabularySize, arena = batch[0].cache.arena
            arena.reset()
            let logits = arena.allocate(batch.count * v)
            try model.decode(batch: batch.map { $0.input! }, caches: batch.map(\.cache), arena: arena, into: logits)
            for (index, session) in batch.enumerated() {
                session.logits.update(from: logits + index * v, count: v)
                session.inputDidRun()
            }
        }
        return try sessions.map { try $0.chooseNext() }
    }

    /// The tokens that must run through the model before the next token can be chosen (setting
    /// them up from the pending token, or sliding the context, as needed), or nil when the
    /// logits are current or generation has finished.
    private func stepInput() throws -> [Int]? {
        if let input { return input }
        guard finishReason == nil, let token = pending else { return nil }
        pending = nil
        if cache.length == cache.capacity {
            guard options.contextOverflow == .slide else {
                finishReason = .contextFull
                return nil
            }
            cache.reset()
            cacheMirrorsTokens = false
            input = Array(tokens.suffix(slideKeep))
            inputMirrorsTokens = false
        } else {
            input = [token]
            inputMirrorsTokens = cacheMirrorsTokens
        }
        return input
    }

    /// Runs `input` alone into the cache and the logits.
    private func runInput() throws {
        guard let input else { return }
        try model.decode(tokens: input, cache: cache, allLogits: false, into: logits)
        inputDidRun()
    }

    private func inputDidRun() {
        input = nil
        cacheMirrorsTokens = inputMirrorsTokens
    }

    /// Chooses the next token from current logits (nil once finished).
    private func chooseNext() throws -> Int? {
        if finishReason != nil { return nil }
        precondition(input == nil, "GenerationSession: choosing before the step ran")
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
