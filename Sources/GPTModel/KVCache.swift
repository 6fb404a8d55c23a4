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

extension GPT {
    /// Continues several sequences in one pass: `tokens[i]` (at least one token) runs at
    /// positions `caches[i].length ..< caches[i].length + tokens[i].count`, appending to
    /// `caches[i]`. Every matrix product runs once over all the new rows (decoding B sequences is
    /// one product of B rows with each weight matrix, not B products of one row, so the weights
    /// are read once per step); positions and attention are per sequence, over each one's cache.
    /// Returns `[B, V]`: row i holds the logits of sequence i's last new position.
    ///
    /// Each row's logits are those `forward(tokens:cache:)` gives for it alone, up to the float
    /// rounding of products over more rows (none for the block formats' direct kernels, which
    /// serve up to `Kernels.directRowLimit` rows).
    ///
    /// ```swift
    /// let caches = [model.makeCache(), model.makeCache()]
    /// _ = try model.forward(batch: [[1, 5, 9], [1, 7]], caches: caches)   // two prompts: [2, V]
    /// let next = try model.forward(batch: [[12], [40]], caches: caches)   // one token each
    /// ```
    /// - Throws: `ModelError.invalidInput` for mismatched counts, an empty sequence or a cache
    ///   given twice; `.tokenOutOfRange`; `.contextOverflow` when a cache cannot hold its tokens.
    ///   Nothing is appended to any cache when it throws.
    public func forward(batch tokens: [[Int]], caches: [KVCache]) throws -> Tensor {
        guard tokens.count == caches.count else {
            throw ModelError.invalidInput("\(tokens.count) token sequences for \(caches.count) caches")
        }
        var logits = Tensor(zeros: [tokens.count, configuration.vocabularySize])
        guard let arena = caches.first?.arena else { return logits }
        arena.reset()
        try logits.withUnsafeMutableBufferPointer {
            try decode(batch: tokens, caches: caches, arena: arena, into: $0.baseAddress!)
        }
        return logits
    }

    /// `forward(batch:caches:)` with its scratch memory from `arena` (freed again before it
    /// returns), writing the logits `[B, V]` into `logits`.
    func decode(batch tokens: [[Int]], caches: [KVCache], arena: Arena, into logits: UnsafeMutablePointer<Float>) throws {
        precondition(tokens.count == caches.count, "GPT.decode: one cache per sequence")
        guard !caches.isEmpty else { return }
        var identities = Set<ObjectIdentifier>()
        for (index, (sequence, cache)) in zip(tokens, caches).enumerated() {
            guard !sequence.isEmpty else { throw ModelError.invalidInput("sequence \(index) has no tokens to decode") }
            guard identities.insert(ObjectIdentifier(cache)).inserted else {
                throw ModelError.invalidInput("sequence \(index)'s cache is also another sequence's")
            }
            guard cache.length + sequence.count <= cache.capacity else {
                throw ModelError.contextOverflow(length: cache.length + sequence.count, limit: cache.capacity)
            }
            guard cache.layers.count == architecture.blocks.count,
                  cache.layers.first?.width == configuration.keyValueHeadCount * configuration.headSize else {
                throw ModelError.invalidInput("sequence \(index)'s cache belongs to a model of another shape")
            }
            try checkedIDs(sequence, into: &cache.ids)
        }
        let a = architecture, w = weights, width = configuration.embeddingDimensions
        let rows = tokens.reduce(0) { $0 + $1.count }, count = tokens.count
        let mark = arena.mark()
        defer { arena.reset(to: mark) }
        var x = arena.allocate(rows * width), y = arena.allocate(rows * width)
        var row = 0
        for cache in caches {
            let n = cache.ids.count
            try cache.ids.withUnsafeBufferPointer {
                try embed(ids: $0.baseAddress!, batch: 1, time: n, positionOffset: cache.length, weights: w, into: x + row * width)
            }
            row += n
        }
        for (layer, block) in a.blocks.enumerated() {
            try ModelError.wrap("decoding") {
                try block.forward(x, segmentCount: count, segment: { (tokens[$0].count, caches[$0].layers[layer]) }, weights: w,
                                  arena: arena, into: y)
            }
            swap(&x, &y)
        }
        // Each sequence's last row, gathered: [B, C].
        let last = arena.allocate(count * width)
        row = 0
        for (index, sequence) in tokens.enumerated() {
            row += sequence.count
            (last + index * width).update(from: x + (row - 1) * width, count: width)
        }
        let normalized = a.finalNorm.forward(last, rows: count, weights: w, arena: arena)
        projectToVocabulary(normalized.output, rows: count, weights: w, into: logits)
    }
}
