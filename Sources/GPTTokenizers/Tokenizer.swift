// Tokenizer: the protocol every tokenizer of the package conforms to.

// MARK: - Tokenizer

/// Converts text to token ids and back.
///
/// Conforming types are immutable values, safe to share across tasks. `encode` never adds
/// begin/end-of-sequence tokens by itself: prepend ``bosTokenID`` or append ``eosTokenID``
/// where the model expects them (the concrete types also offer explicit options).
///
/// ```swift
/// let tokenizer: any Tokenizer = try GPT2Tokenizer(directory: gpt2Directory)
/// let ids = try tokenizer.encode("Hello world")      // [15496, 995]
/// let text = try tokenizer.decode(ids)              // "Hello world"
/// var stream = tokenizer.makeStreamingDecoder()
/// for id in ids { print(try stream.append(id), terminator: "") }
/// print(stream.finish())
/// ```
public protocol Tokenizer: Sendable {
    /// The number of token ids: every id is in `0..<vocabularySize`.
    var vocabularySize: Int { get }

    /// The special (control) tokens by name, e.g. `["<|endoftext|>": 50256]`.
    var specialTokens: [String: Int] { get }

    /// The id that begins a sequence, if the vocabulary has one.
    var bosTokenID: Int? { get }

    /// The id that ends a sequence, if the vocabulary has one.
    var eosTokenID: Int? { get }

    /// Returns the token ids of `text`, treating special-token names in it as plain text.
    func encode(_ text: String) throws -> [Int]

    /// Returns the text of `ids`; invalid UTF-8 in the decoded bytes becomes U+FFFD.
    /// - Throws: ``TokenizerError/unknownTokenID(_:vocabularySize:)`` for an id outside the
    ///   vocabulary.
    func decode(_ ids: [Int]) throws -> String

    /// Returns a decoder that takes ids one at a time and emits only complete UTF-8 text.
    func makeStreamingDecoder() -> StreamingDecoder
}

// MARK: - Shared helpers

extension Tokenizer {
    /// Throws ``TokenizerError/unknownTokenID(_:vocabularySize:)`` unless `id` is in the vocabulary.
    func validate(_ id: Int) throws {
        guard id >= 0 && id < vocabularySize else {
            throw TokenizerError.unknownTokenID(id, vocabularySize: vocabularySize)
        }
    }
}
