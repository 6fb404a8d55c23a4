// Streaming generation: tokens (or text) as an AsyncThrowingStream that stops when the consumer does.

/// Something that turns token ids into text, such as a tokenizer. Decoding the whole sequence
/// at once (rather than token by token) lets byte-level and SentencePiece tokenizers join bytes
/// and spaces correctly; GPTModel derives the new text of each step from it.
public protocol TokenTextDecoding: Sendable {
    /// The text of `tokens` (invalid UTF-8 may decode to U+FFFD).
    func decode(_ tokens: [Int]) -> String
}

/// A `TokenTextDecoding` made from a closure.
///
/// ```swift
/// let decoder = ClosureTokenDecoder { tokens in tokenizer.decode(tokens) }
/// let pieces = ClosureTokenDecoder(perToken: { vocabulary[$0] })
/// ```
public struct ClosureTokenDecoder: TokenTextDecoding {
    private let body: @Sendable ([Int]) -> String

    /// Decodes whole sequences with `decode`.
    public init(_ decode: @escaping @Sendable ([Int]) -> String) { body = decode }

    /// Decodes each token with `piece` and joins the pieces.
    public init(perToken piece: @escaping @Sendable (Int) -> String) { body = { $0.map(piece).joined() } }

    /// The text of `tokens`.
    public func decode(_ tokens: [Int]) -> String { body(tokens) }
}

/// Produces the text each new token adds: decodes prompt + generated tokens, and emits what
/// follows the part already emitted, holding back while the text ends in U+FFFD (an incomplete
/// UTF-8 character that a later token may complete).
struct IncrementalTextDecoder<Decoder: TokenTextDecoding> {
    let decoder: Decoder
    var sequence: [Int]
    /// Unicode scalars already accounted for (the prompt's, then every emitted piece's).
    var emitted: Int

    init(decoder: Decoder, prompt: [Int]) {
        self.decoder = decoder
        sequence = prompt
        var scalars = Array(decoder.decode(prompt).unicodeScalars)
        while scalars.last == "\u{FFFD}" { scalars.removeLast() }
        emitted = scalars.count
    }

    /// The new text after appending `token` (empty while held back).
    mutating func append(_ token: Int) -> String {
        sequence.append(token)
        let scalars = Array(decoder.decode(sequence).unicodeScalars)
        guard scalars.last != "\u{FFFD}" else { return "" }
        return take(scalars)
    }

    /// Whatever is still held back, at the end of generation.
    mutating func flush() -> String { take(Array(decoder.decode(sequence).unicodeScalars)) }

    private mutating func take(_ scalars: [Unicode.Scalar]) -> String {
        guard scalars.count > emitted else { return "" }
        var text = String.UnicodeScalarView()
        text.append(contentsOf: scalars[emitted...])
        emitted = scalars.count
        return String(text)
    }
}

/// Turns the tokens of a stream into its elements.
protocol StreamAdapter: Sendable {
    associatedtype Element: Sendable
    /// The elements for one new token.
    mutating func elements(for token: Int) -> [Element]
    /// The elements still held back at the end.
    mutating func finish() -> [Element]
}

/// The tokens themselves.
struct TokenStreamAdapter: StreamAdapter {
    func elements(for token: Int) -> [Int] { [token] }
    func finish() -> [Int] { [] }
}

extension IncrementalTextDecoder: StreamAdapter {
    mutating func elements(for token: Int) -> [String] {
        let text = append(token)
        return text.isEmpty ? [] : [text]
    }

    mutating func finish() -> [String] {
        let text = flush()
        return text.isEmpty ? [] : [text]
    }
}

extension GPT {
    /// Generates from `prompt` in a background task, yielding each token as it is produced.
    /// The stream finishes at a stop token, the token limit or the context limit, and throws the
    /// session's errors. When the consumer stops iterating (or its task is cancelled), generation
    /// stops after the current step.
    ///
    /// ```swift
    /// for try await token in model.tokenStream(prompt: [1, 403], options: GenerationOptions(maximumNewTokens: 20)) {
    ///     print(token)
    /// }
    /// ```
    public func tokenStream(prompt: [Int], options: GenerationOptions = GenerationOptions()) -> AsyncThrowingStream<Int, Error> {
        stream(prompt: prompt, options: options, adapter: TokenStreamAdapter())
    }

    /// Like `tokenStream`, yielding the text each token adds, decoded with `decoder` (pieces that
    /// end inside a UTF-8 character are held back until complete; empty pieces are skipped).
    public func textStream(
        prompt: [Int], options: GenerationOptions = GenerationOptions(), decoder: some TokenTextDecoding
    ) -> AsyncThrowingStream<String, Error> {
        stream(prompt: prompt, options: options, adapter: IncrementalTextDecoder(decoder: decoder, prompt: prompt))
    }

    /// Runs a session in a detached task, yielding the adapter's elements for each token; the
    /// task is cancelled when the stream terminates.
    private func stream<Adapter: StreamAdapter>(
        prompt: [Int], options: GenerationOptions, adapter: Adapter
    ) -> AsyncThrowingStream<Adapter.Element, Error> {
        let (stream, continuation) = AsyncThrowingStream<Adapter.Element, Error>.makeStream()
        let task = Task.detached { [self] in
            var adapter = adapter
            do {
                let session = try GenerationSession(model: self, options: options)
                try session.start(prompt: prompt)
                generation: while !Task.isCancelled, let token = try session.next() {
                    for element in adapter.elements(for: token) {
                        if case .terminated = continuation.yield(element) { break generation }
                    }
                }
                if !Task.isCancelled { adapter.finish().forEach { continuation.yield($0) } }
                continuation.finish()
            } catch {
                continuation.finish(throwing: error)
            }
        }
        continuation.onTermination = { _ in task.cancel() }
        return stream
    }
}
