// TokenizerError: every way loading, encoding, decoding or saving a tokenizer can fail on input.

import Foundation

/// An error thrown by the tokenizers of `GPTTokenizers` for bad files, bad ids or bad text.
///
/// Every case names the file, line, offset, symbol or id at fault, so that the message alone
/// is enough to find the problem:
/// ```swift
/// do {
///     let tokenizer = try GPT2Tokenizer(directory: URL(fileURLWithPath: "gpt2"))
/// } catch let error as TokenizerError {
///     print(error.localizedDescription)  // e.g. "vocab.bpe line 7: merge names unknown symbol 'Ġx'"
/// }
/// ```
public enum TokenizerError: Error, LocalizedError, Equatable, Sendable {
    /// A file could not be read (missing, unreadable) or written.
    case fileAccess(path: String, reason: String)
    /// A JSON file is not well-formed JSON; `offset` is the byte offset of the problem.
    case malformedJSON(path: String, offset: Int, reason: String)
    /// A JSON file is valid JSON but not the structure expected (a missing key, a wrong type).
    case unexpectedJSON(path: String, reason: String)
    /// A vocabulary entry is invalid (duplicate or missing id, symbol outside the alphabet...).
    case invalidVocabulary(path: String, reason: String)
    /// A merge is not two symbols separated by one space. `line` is the line of vocab.bpe, or
    /// the 1-based position in tokenizer.json's `model.merges`.
    case malformedMerge(path: String, line: Int, text: String)
    /// A merge names a symbol that is not in the vocabulary, or its result is not in it. `line`
    /// is the line of vocab.bpe, or the 1-based position in tokenizer.json's `model.merges`.
    case unknownMergeSymbol(path: String, line: Int, symbol: String)
    /// A Hugging Face `tokenizer.json` uses a component or option that this package does not
    /// implement; `field` is its JSON path, e.g. `model.type`.
    case unsupportedTokenizerJSON(path: String, field: String, value: String)
    /// A binary file ended before the structure it announced was complete.
    case truncatedFile(path: String, offset: Int, expected: String)
    /// A token id is outside the vocabulary (`0..<vocabularySize`).
    case unknownTokenID(Int, vocabularySize: Int)
    /// A special token was named (e.g. in `allowedSpecial`) that the tokenizer does not have.
    case unknownSpecialToken(String)
    /// The text contains a character the vocabulary of a character-level tokenizer lacks.
    case unknownCharacter(String, offset: Int)
    /// No token can represent a byte of the text (a vocabulary without byte fallback).
    case unencodableByte(UInt8)
    /// A trainer or tokenizer was given an invalid configuration value.
    case invalidArgument(String)

    /// A human-readable description of the problem, naming the file, line or value at fault.
    public var errorDescription: String? {
        switch self {
        case .fileAccess(let path, let reason):
            return "\(path): \(reason)"
        case .malformedJSON(let path, let offset, let reason):
            return "\(path): malformed JSON at byte \(offset): \(reason)"
        case .unexpectedJSON(let path, let reason):
            return "\(path): unexpected JSON structure: \(reason)"
        case .invalidVocabulary(let path, let reason):
            return "\(path): invalid vocabulary: \(reason)"
        case .malformedMerge(let path, let line, let text):
            return "\(path) line \(line): a merge must be two symbols separated by one space, found '\(text)'"
        case .unknownMergeSymbol(let path, let line, let symbol):
            return "\(path) line \(line): merge names unknown symbol '\(symbol)'"
        case .unsupportedTokenizerJSON(let path, let field, let value):
            return "\(path): unsupported tokenizer.json setting \(field) = \(value)"
        case .truncatedFile(let path, let offset, let expected):
            return "\(path): file ends at byte \(offset) while reading \(expected)"
        case .unknownTokenID(let id, let vocabularySize):
            return "token id \(id) is outside the vocabulary 0..<\(vocabularySize)"
        case .unknownSpecialToken(let name):
            return "'\(name)' is not a special token of this tokenizer"
        case .unknownCharacter(let character, let offset):
            let scalars = character.unicodeScalars.map { "U+" + String($0.value, radix: 16, uppercase: true) }
            return "character '\(character)' (\(scalars.joined(separator: " "))) at offset \(offset) is not in the vocabulary"
        case .unencodableByte(let byte):
            return "no token represents byte 0x\(String(byte, radix: 16, uppercase: true)) and the vocabulary has no byte fallback for it"
        case .invalidArgument(let reason):
            return reason
        }
    }
}
