// What a generation session does: how it samples, when it stops, what it does at the context limit.
import GPTLayers

/// How the next token is chosen from the logits.
///
/// Order (as Hugging Face's logits processors): repetition penalty, then temperature, then
/// top-k, then top-p, then one draw from the session's random generator. Temperature 0 (or
/// top-k 1) is greedy decoding and draws no random numbers.
///
/// ```swift
/// let sampling = SamplingParameters(temperature: 0.8, topK: 40, topP: 0.95, repetitionPenalty: 1.1)
/// ```
public struct SamplingParameters: Sendable, Hashable, Codable {
    /// Divides the logits; 0 means greedy (argmax).
    public var temperature: Float
    /// Keep only the k most likely tokens (nil: all).
    public var topK: Int?
    /// Keep only the smallest most-likely set whose probability reaches p (nil: all).
    public var topP: Float?
    /// The CTRL penalty for tokens already in the sequence (prompt included): positive logits
    /// are divided by it, negative ones multiplied. 1 = off.
    public var repetitionPenalty: Float

    /// Sampling settings; the defaults sample from the unmodified distribution.
    public init(temperature: Float = 1, topK: Int? = nil, topP: Float? = nil, repetitionPenalty: Float = 1) {
        self.temperature = temperature
        self.topK = topK
        self.topP = topP
        self.repetitionPenalty = repetitionPenalty
    }

    /// Always the most likely token.
    public static let greedy = SamplingParameters(temperature: 0)

    /// Whether these settings pick the argmax.
    public var isGreedy: Bool { temperature == 0 || topK == 1 }

    /// Throws `ModelError.invalidInput` for a negative temperature, top-k below 1, top-p outside
    /// (0, 1], or a non-positive penalty.
    public func validate() throws {
        guard temperature >= 0, temperature.isFinite else { throw ModelError.invalidInput("temperature must be ≥ 0, got \(temperature)") }
        if let topK, topK < 1 { throw ModelError.invalidInput("top-k must be at least 1, got \(topK)") }
        if let topP, !(topP > 0 && topP <= 1) { throw ModelError.invalidInput("top-p must be in (0, 1], got \(topP)") }
        guard repetitionPenalty > 0, repetitionPenalty.isFinite else {
            throw ModelError.invalidInput("repetition penalty must be positive, got \(repetitionPenalty)")
        }
    }
}

/// What a session does when the sequence reaches the context length (or the cache's capacity).
public enum ContextOverflowPolicy: String, Sendable, Hashable, Codable {
    /// Finish with `FinishReason.contextFull`. A prompt longer than the context is an error.
    case stop
    /// Drop the oldest tokens, keeping the most recent half of the context, and re-encode those
    /// in one pass (positions restart at 0), then continue. A prompt longer than the context is
    /// cut the same way.
    case slide
}

/// Why a session stopped producing tokens.
public enum FinishReason: Sendable, Hashable {
    /// `maximumNewTokens` tokens were produced.
    case maximumNewTokens
    /// This stop token was sampled (it is not returned or appended).
    case stopToken(Int)
    /// The context is full and the policy is `.stop`.
    case contextFull
}

/// The settings of one generation.
///
/// ```swift
/// let options = GenerationOptions(maximumNewTokens: 64, sampling: .init(temperature: 0.7, topP: 0.9),
///                                 seed: 7, stopTokens: [50256])
/// ```
public struct GenerationOptions: Sendable, Hashable {
    /// The most tokens to produce after the prompt.
    public var maximumNewTokens: Int
    /// How to choose each token.
    public var sampling: SamplingParameters
    /// The seed of the session's random generator: same seed, same samples.
    public var seed: UInt64
    /// Tokens that end the generation when sampled.
    public var stopTokens: Set<Int>
    /// What to do at the context limit.
    public var contextOverflow: ContextOverflowPolicy
    /// How the session's KV cache stores keys and values (`.float16` halves its memory and the
    /// bytes each step reads, as llama.cpp's default cache does).
    public var cachePrecision: KVCachePrecision

    /// Options; the defaults are greedy decoding of up to 128 tokens, stopping at the context
    /// limit, with a float32 cache.
    public init(maximumNewTokens: Int = 128, sampling: SamplingParameters = .greedy, seed: UInt64 = 0,
                stopTokens: Set<Int> = [], contextOverflow: ContextOverflowPolicy = .stop,
                cachePrecision: KVCachePrecision = .float32) {
        self.maximumNewTokens = maximumNewTokens
        self.sampling = sampling
        self.seed = seed
        self.stopTokens = stopTokens
        self.contextOverflow = contextOverflow
        self.cachePrecision = cachePrecision
    }

    /// Throws `ModelError.invalidInput` for a negative token count or bad sampling settings.
    public func validate() throws {
        guard maximumNewTokens >= 0 else { throw ModelError.invalidInput("maximumNewTokens must be ≥ 0, got \(maximumNewTokens)") }
        try sampling.validate()
    }
}
