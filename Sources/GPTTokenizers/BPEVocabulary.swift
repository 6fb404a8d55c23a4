// BPEVocabulary: the result of BPETrainer (tokens and merges), saved in OpenAI's GPT-2 file
// format so that GPT2Tokenizer(directory:) loads it.

import Foundation
import GPTFiles

// MARK: - BPEVocabulary

/// A learned byte-level BPE vocabulary: ids 0..<256 are the bytes (in GPT-2's order), then the
/// learned tokens, then the special tokens.
///
/// ```swift
/// let vocabulary = try BPETrainer(vocabularySize: 512).train(texts: [corpus])
/// let tokenizer = try vocabulary.makeTokenizer()
/// try vocabulary.save(to: outputDirectory)
/// ```
public struct BPEVocabulary: Sendable {
    /// The bytes of each token by id (a special token's bytes are its UTF-8 name).
    public let tokens: [[UInt8]]
    /// The merges in rank order: `(left, right)` token ids.
    public let merges: [(left: Int, right: Int)]
    /// The special tokens, which have the last ids in this order.
    public let specialTokens: [String]

    /// The number of ids.
    public var vocabularySize: Int { tokens.count }

    /// Creates a vocabulary (as ``BPETrainer`` does).
    init(tokens: [[UInt8]], merges: [(left: Int, right: Int)], specialTokens: [String]) {
        self.tokens = tokens
        self.merges = merges
        self.specialTokens = specialTokens
    }

    // MARK: Using

    /// Returns a tokenizer using this vocabulary (identical to loading the saved files).
    public func makeTokenizer() throws -> GPT2Tokenizer {
        var builder = BytePairModelBuilder(
            vocabularyPath: "(trained vocabulary)", specialTokenNames: Set(specialTokens), expectedCount: tokens.count)
        for (id, symbol) in symbols().enumerated() {
            try builder.addToken(scalars: symbol.unicodeScalars.map(\.value), id: id)
        }
        try builder.finishVocabulary(mergeCapacity: merges.count)
        for (rank, merge) in merges.enumerated() {
            try builder.addMerge(
                left: ByteLevelAlphabet.text(of: tokens[merge.left]), right: ByteLevelAlphabet.text(of: tokens[merge.right]),
                path: "(trained merges)", line: rank + 1)
        }
        return GPT2Tokenizer(model: try builder.build())
    }

    // MARK: Saving

    /// Writes `encoder.json` and `vocab.bpe` into `directory` (created if needed), each
    /// atomically (a temporary file, then rename).
    /// - Throws: ``TokenizerError/fileAccess(path:reason:)``.
    public func save(to directory: URL) throws {
        do { try Files.createFolder(directory) } catch { throw TokenizerError.fileAccess(path: directory.path, reason: error.reason) }
        var json = "{"
        for (id, symbol) in symbols().enumerated() {
            if id > 0 { json += ", " }
            json += Self.quoted(symbol) + ": " + String(id)
        }
        json += "}"
        var merged = "#version: 0.2\n"
        for merge in merges {
            merged += ByteLevelAlphabet.text(of: tokens[merge.left]) + " " + ByteLevelAlphabet.text(of: tokens[merge.right]) + "\n"
        }
        try FileIO.writeAtomically(json, to: directory.appendingPathComponent("encoder.json"))
        try FileIO.writeAtomically(merged, to: directory.appendingPathComponent("vocab.bpe"))
    }

    /// Each token's text as stored in encoder.json: byte-level text, special tokens verbatim.
    private func symbols() -> [String] {
        let specialStart = tokens.count - specialTokens.count
        return tokens.indices.map { id in
            id >= specialStart ? specialTokens[id - specialStart] : ByteLevelAlphabet.text(of: tokens[id])
        }
    }

    /// `text` as a JSON string literal.
    static func quoted(_ text: String) -> String {
        var result = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": result += "\\\""
            case "\\": result += "\\\\"
            case "\n": result += "\\n"
            case "\r": result += "\\r"
            case "\t": result += "\\t"
            default:
                if scalar.value < 0x20 {
                    let hex = String(scalar.value, radix: 16)
                    result += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    result.unicodeScalars.append(scalar)
                }
            }
        }
        return result + "\""
    }
}
