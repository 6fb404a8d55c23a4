// Streaming generation: tokens (or text) as an AsyncThrowingStream that stops when the consumer does.
import GPTTokenizers

/// The text each new token adds, from a tokenizer's linear-time `StreamingDecoder`: the
/// prompt's ids are fed first (so the decoder knows the context, e.g. SentencePiece's leading
/// space after BOS) and their text discarded; pieces ending inside a UTF-8 character are held
/// back until it is complete.
struct StreamingTextAdapter: StreamAdapter {
    var decoder: StreamingDecoder

    /// - Throws: the tokenizer's error for a prompt id it does not know.
    init(decoder: StreamingDecoder, prompt: [Int]) throws {
        self.decoder = decoder
        for id in prompt { _ = try self.decoder.append(id) }
    }

    mutating func elements(for token: Int) throws -> [String] {
        let text = try decoder.append(token)
        return text.isEmpty ? [] : [text]
    }

    mutating func finish() -> [String] {
        let text = decoder.finish()
        return text.isEmpty ? [] : [text]
    }
}

/// Turns the tokens of a stream into its elements.
protocol StreamAdapter: Sendable {
    associatedtype Element: Sendable
    /// The elements for one new token.
    mutating func elements(for token: Int) throws -> [Element]
    /// The elements still held back at the end.
    mutating func finish() -> [Element]
}

/// The tokens themselves.
struct TokenStreamAdapter: StreamAdapter {
    func elements(for token: Int) -> [Int] { [token] }
    func finish() -> [Int] { [] }
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

    /// Like `tokenStream`, yielding the text each token adds, decoded with a tokenizer's
    /// `StreamingDecoder` (linear in the tokens: pieces that end inside a UTF-8 character are held
    /// back until complete; empty pieces are skipped).
    ///
    /// ```swift
    /// for try await text in model.textStream(prompt: ids, decoder: tokenizer.makeStreamingDecoder()) {
    ///     print(text, terminator: "")
    /// }
    /// ```
    public func textStream(
        prompt: [Int], options: GenerationOptions = GenerationOptions(), decoder: StreamingDecoder
    ) -> AsyncThrowingStream<String, Error> {
        do {
            return stream(prompt: prompt, options: options, adapter: try StreamingTextAdapter(decoder: decoder, prompt: prompt))
        } catch {
            return AsyncThrowingStream { $0.finish(throwing: error) }
        }
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
                    for element in try adapter.elements(for: token) {
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
