// Cached decoding: the keys and values of every layer for one sequence, and the forward pass
// that continues it.
import GPTLayers
import GPTTensor

/// The keys and values one sequence has produced in every layer (`[L][capacity][KVH·HS]` for
/// K and V, preallocated), plus the scratch memory of its decoding steps. One per generation
/// session; it is not shared between tasks, while the model it belongs to is.
///
/// ```swift
/// let cache = model.makeCache()
/// let first = try model.forward(tokens: prompt, cache: cache)      // [1, V]: the last position
/// let next = try model.forward(tokens: [token], cache: cache)      // continues at prompt.count
/// ```
public final class KVCache {
    /// The most positions it holds (at most the model's context length).
    public let capacity: Int
    let layers: [AttentionCache]
    let arena = Arena()
    var ids: [Int32] = []

    /// How keys and values are stored.
    public let precision: KVCachePrecision

    init(configuration: GPTConfiguration, capacity: Int, precision: KVCachePrecision) {
        self.capacity = capacity
        self.precision = precision
        let width = configuration.keyValueHeadCount * configuration.headSize
        layers = (0..<configuration.layerCount).map { _ in AttentionCache(capacity: capacity, width: width, precision: precision) }
    }

    /// The positions filled so far (the next token goes to this position).
    public var length: Int { layers.first?.length ?? 0 }

    /// Bytes of keys and values one position takes across the layers.
    public var bytesPerPosition: Int { layers.reduce(0) { $0 + $1.bytesPerPosition } }

    /// Forgets every position; the memory is kept.
    public func reset() { layers.forEach { $0.reset() } }

    /// Keeps only the first `length` positions.
    /// - Throws: `ModelError.invalidInput` if `length` is negative or beyond the current length.
    public func truncate(to length: Int) throws {
        guard length >= 0 && length <= self.length else {
            throw ModelError.invalidInput("cannot truncate a cache of \(self.length) positions to \(length)")
        }
        layers.forEach { $0.truncate(to: length) }
    }
}

extension GPT {
    /// An empty cache for one sequence of up to `capacity` positions (default and maximum: the
    /// context length), storing keys and values in `precision` (`.float16` halves its memory).
    /// Its memory is reserved but only touched as positions are filled.
    public func makeCache(capacity: Int? = nil, precision: KVCachePrecision = .float32) -> KVCache {
        KVCache(configuration: configuration, capacity: min(capacity ?? configuration.contextLength, configuration.contextLength),
                precision: precision)
    }

    /// Runs `tokens` (one sequence) at positions `cache.length ..< cache.length + n`, appending
    /// their keys and values to `cache`. Returns the logits `[n, V]` of every new position with
    /// `allLogits`, else `[1, V]` of the last one (which skips the vocabulary projection of the
    /// others: most of a prompt's cost at small widths).
    /// - Throws: `ModelError.invalidInput` for no tokens, `.tokenOutOfRange`, or
    ///   `.contextOverflow` when the cache cannot hold them (nothing is appended then).
    public func forward(tokens: [Int], cache: KVCache, allLogits: Bool = false) throws -> Tensor {
        var logits = Tensor(zeros: [allLogits ? tokens.count : 1, configuration.vocabularySize])
        try logits.withUnsafeMutableBufferPointer { try decode(tokens: tokens, cache: cache, allLogits: allLogits, into: $0.baseAddress!) }
        return logits
    }

    /// `forward(tokens:cache:)`: `model(tokens, cache: cache)` is the last new position's logits `[1, V]`.
    public func callAsFunction(_ tokens: [Int], cache: KVCache) throws -> Tensor {
        try forward(tokens: tokens, cache: cache)
    }

    /// `forward(tokens:cache:allLogits:)` writing the logits into `logits` (`[n or 1, V]`).
    func decode(tokens: [Int], cache: KVCache, allLogits: Bool, into logits: UnsafeMutablePointer<Float>) throws {
        let n = tokens.count, past = cache.length
        guard n > 0 else { throw ModelError.invalidInput("no tokens to decode") }
        guard past + n <= cache.capacity else { throw ModelError.contextOverflow(length: past + n, limit: cache.capacity) }
        try checkedIDs(tokens, into: &cache.ids)
        let a = architecture, w = weights, width = configuration.embeddingDimensions
        let arena = cache.arena
        arena.reset()
        var x = arena.allocate(n * width), y = arena.allocate(n * width)
        try cache.ids.withUnsafeBufferPointer { try embed(ids: $0.baseAddress!, batch: 1, time: n, positionOffset: past, weights: w, into: x) }
        for (block, layerCache) in zip(a.blocks, cache.layers) {
            try ModelError.wrap("decoding") {
                try block.forward(x, newTokens: n, cache: layerCache, weights: w, arena: arena, into: y)
            }
            swap(&x, &y)
        }
        let rows = allLogits ? n : 1
        let normalized = a.finalNorm.forward(x + (n - rows) * width, rows: rows, weights: w, arena: arena)
        projectToVocabulary(normalized.output, rows: rows, weights: w, into: logits)
    }
}
