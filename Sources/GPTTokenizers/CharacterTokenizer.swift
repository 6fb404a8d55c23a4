// CharacterTokenizer: one token per Unicode scalar, with the vocabulary taken from a text (as
// nanoGPT's shakespeare_char: ids are the sorted distinct characters).

import Foundation

// MARK: - CharacterTokenizer

/// A character-level tokenizer: each Unicode scalar of the vocabulary is one token.
///
/// "Character" means Unicode scalar (a code point, as a Python `str` element), not a Swift
/// `Character` (grapheme cluster), so `"\r\n"` is two tokens and ids match nanoGPT's
/// `sorted(set(text))`.
/// ```swift
/// let tokenizer = CharacterTokenizer(trainingText: "hello world")
/// let ids = try tokenizer.encode("hello")   // [3, 2, 4, 4, 5]
/// try tokenizer.save(to: URL(fileURLWithPath: "chars.json"))
/// let reloaded = try CharacterTokenizer(contentsOf: URL(fileURLWithPath: "chars.json"))
/// ```
public struct CharacterTokenizer: Tokenizer {
    /// The vocabulary: `characters[id]` is the scalar of token `id`, in ascending order.
    public let characters: [Unicode.Scalar]
    private let ids: [UInt32: Int]

    // MARK: Creating

    /// Builds the vocabulary from the distinct scalars of `trainingText`, sorted by value.
    public init(trainingText: String) {
        let distinct = Set(trainingText.unicodeScalars.map(\.value))
        self.init(sortedUnique: distinct.sorted().map { Unicode.Scalar($0)! })
    }

    /// Uses `characters` as the vocabulary, in the given order (`characters[id]` is token `id`).
    /// - Throws: ``TokenizerError/invalidVocabulary(path:reason:)`` if a scalar repeats.
    public init(characters: [Unicode.Scalar]) throws {
        var seen = Set<UInt32>()
        for scalar in characters where !seen.insert(scalar.value).inserted {
            throw TokenizerError.invalidVocabulary(
                path: "(characters)", reason: "U+\(String(scalar.value, radix: 16, uppercase: true)) appears twice")
        }
        self.init(sortedUnique: characters)
    }

    private init(sortedUnique characters: [Unicode.Scalar]) {
        self.characters = characters
        var ids: [UInt32: Int] = [:]
        for (id, scalar) in characters.enumerated() { ids[scalar.value] = id }
        self.ids = ids
    }

    // MARK: Tokenizer

    /// The number of distinct characters.
    public var vocabularySize: Int { characters.count }

    /// None: a character tokenizer has no special tokens.
    public var specialTokens: [String: Int] { [:] }

    /// None.
    public var bosTokenID: Int? { nil }

    /// None.
    public var eosTokenID: Int? { nil }

    /// Returns one id per Unicode scalar of `text`.
    /// - Throws: ``TokenizerError/unknownCharacter(_:offset:)`` with the scalar and its offset
    ///   (in scalars) for a character outside the vocabulary.
    public func encode(_ text: String) throws -> [Int] {
        var output: [Int] = []
        output.reserveCapacity(text.utf8.count)
        for (offset, scalar) in text.unicodeScalars.enumerated() {
            guard let id = ids[scalar.value] else {
                throw TokenizerError.unknownCharacter(String(scalar), offset: offset)
            }
            output.append(id)
        }
        return output
    }

    /// Returns the characters of `ids`.
    /// - Throws: ``TokenizerError/unknownTokenID(_:vocabularySize:)``.
    public func decode(_ ids: [Int]) throws -> String {
        var scalars = String.UnicodeScalarView()
        for id in ids {
            try validate(id)
            scalars.append(characters[id])
        }
        return String(scalars)
    }

    /// Returns a decoder; every token is a complete character, so each emits at once.
    public func makeStreamingDecoder() -> StreamingDecoder {
        let tokenizer = self
        return StreamingDecoder { id, _ in
            try tokenizer.validate(id)
            return Array(String(tokenizer.characters[id]).utf8)
        }
    }
}

// MARK: - Saving and loading

extension CharacterTokenizer {
    /// The JSON file layout: `{"type": "character", "characters": ["\n", " ", "!", ...]}`.
    private struct File: Codable {
        var type: String
        var characters: [String]
    }

    /// Loads a vocabulary saved by ``save(to:)``.
    /// - Throws: ``TokenizerError/malformedJSON(path:offset:reason:)`` for invalid JSON,
    ///   ``TokenizerError/unexpectedJSON(path:reason:)`` for another layout, and
    ///   ``TokenizerError/invalidVocabulary(path:reason:)`` for an entry that is not exactly one
    ///   scalar or repeats.
    public init(contentsOf url: URL) throws {
        let data = try FileIO.read(url)
        // Check the syntax with the package's scanner, for an error with a byte offset.
        try data.withUnsafeBytes { raw in
            var scanner = JSONScanner(bytes: raw.bindMemory(to: UInt8.self), path: url.path)
            _ = try scanner.scanValue()
            try scanner.expectEnd()
        }
        let file: File
        do {
            file = try JSONDecoder().decode(File.self, from: data)
        } catch {
            throw TokenizerError.unexpectedJSON(
                path: url.path, reason: "expected {\"type\": \"character\", \"characters\": [strings]}")
        }
        guard file.type == "character" else {
            throw TokenizerError.unexpectedJSON(path: url.path, reason: "type is '\(file.type)', expected 'character'")
        }
        var characters: [Unicode.Scalar] = []
        for (index, entry) in file.characters.enumerated() {
            let scalars = Array(entry.unicodeScalars)
            guard scalars.count == 1 else {
                throw TokenizerError.invalidVocabulary(
                    path: url.path, reason: "entry \(index) is \(scalars.count) scalars, expected exactly one")
            }
            characters.append(scalars[0])
        }
        do {
            try self.init(characters: characters)
        } catch TokenizerError.invalidVocabulary(_, let reason) {
            throw TokenizerError.invalidVocabulary(path: url.path, reason: reason)
        }
    }

    /// Writes the vocabulary as JSON to `url`, atomically (a temporary file, then rename).
    public func save(to url: URL) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let data = try encoder.encode(File(type: "character", characters: characters.map { String($0) }))
        try FileIO.writeAtomically(data, to: url)
    }
}
