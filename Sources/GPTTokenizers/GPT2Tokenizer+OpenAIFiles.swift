// GPT2Tokenizer+OpenAIFiles: loading OpenAI's GPT-2 files: encoder.json (a flat JSON object
// from byte-level token text to id) and vocab.bpe ("#version: 0.2", then one merge per line,
// "left right", lowest rank first).

import Foundation

// MARK: - Loading OpenAI's files

extension GPT2Tokenizer {
    /// Loads `encoder.json` and `vocab.bpe` from `directory`.
    ///
    /// ```swift
    /// let tokenizer = try GPT2Tokenizer(directory: URL(fileURLWithPath: "data/gpt2-tokenizer"))
    /// ```
    /// - Throws: ``TokenizerError`` naming the file and problem.
    public init(directory: URL) throws {
        try self.init(
            encoderJSON: directory.appendingPathComponent("encoder.json"),
            vocabBPE: directory.appendingPathComponent("vocab.bpe"))
    }

    /// Loads OpenAI's GPT-2 vocabulary (`encoder.json`) and merges (`vocab.bpe`).
    ///
    /// - Parameter specialTokens: the vocabulary entries that are special tokens (the files do
    ///   not mark them); names absent from `encoder.json` are ignored.
    /// - Throws: ``TokenizerError/malformedJSON(path:offset:reason:)``,
    ///   ``TokenizerError/invalidVocabulary(path:reason:)``,
    ///   ``TokenizerError/malformedMerge(path:line:text:)``,
    ///   ``TokenizerError/unknownMergeSymbol(path:line:symbol:)`` or
    ///   ``TokenizerError/fileAccess(path:reason:)``.
    public init(encoderJSON: URL, vocabBPE: URL, specialTokens: Set<String> = [GPT2Tokenizer.endOfText]) throws {
        let encoderData = try FileIO.read(encoderJSON)
        let mergesData = try FileIO.read(vocabBPE)
        var builder = BytePairModelBuilder(
            vocabularyPath: encoderJSON.path, specialTokenNames: specialTokens,
            expectedCount: encoderData.count / 16)
        try encoderData.withUnsafeBytes { raw in
            var scanner = JSONScanner(bytes: raw.bindMemory(to: UInt8.self), path: encoderJSON.path)
            try scanner.scanObject { scanner, key in
                let valueOffset = scanner.position
                let id = try scanner.scanInteger()
                guard id >= 0 && id <= Int(Int32.max) else {
                    throw TokenizerError.invalidVocabulary(
                        path: encoderJSON.path, reason: "id \(id) at byte \(valueOffset) is not a valid token id")
                }
                try builder.addToken(scalars: key, id: id)
            }
            try scanner.expectEnd()
        }
        try mergesData.withUnsafeBytes { raw in
            try Self.readMerges(raw.bindMemory(to: UInt8.self), path: vocabBPE.path, into: &builder)
        }
        let model = try builder.build()
        let unreachable = builder.tokensNotProducedByMerges()
        if let first = unreachable.first {
            throw TokenizerError.invalidVocabulary(
                path: vocabBPE.path,
                reason: "\(unreachable.count) token(s) of \(encoderJSON.lastPathComponent) are produced by no merge "
                    + "(the first is '\(builder.tokenText(first))', id \(first)) after \(builder.mergeCount) merge(s): "
                    + "the merges file is truncated or belongs to another vocabulary")
        }
        self.init(model: model)
    }

    // MARK: vocab.bpe

    /// Reads a merges file: a `#version` first line (OpenAI's and Hugging Face's files both
    /// have one; its absence means an empty, truncated or foreign file), then `left right` per
    /// line. Blank lines are skipped; a trailing carriage return is ignored.
    static func readMerges(_ bytes: UnsafeBufferPointer<UInt8>, path: String, into builder: inout BytePairModelBuilder) throws {
        guard bytes.starts(with: "#version".utf8) else {
            let reason = bytes.isEmpty
                ? "the file is empty"
                : "the first line must be '#version: …' (the merges format of OpenAI's vocab.bpe)"
            throw TokenizerError.invalidVocabulary(path: path, reason: reason + "; the file is truncated or not a merges file")
        }
        let lineCount = bytes.reduce(into: 1) { count, byte in if byte == 0x0A { count += 1 } }
        try builder.finishVocabulary(mergeCapacity: lineCount)
        var lineStart = 0
        var lineNumber = 0
        while lineStart < bytes.count {
            var lineEnd = lineStart
            while lineEnd < bytes.count && bytes[lineEnd] != 0x0A { lineEnd += 1 }
            lineNumber += 1
            var contentEnd = lineEnd
            if contentEnd > lineStart && bytes[contentEnd - 1] == 0x0D { contentEnd -= 1 }
            let line = UnsafeBufferPointer(rebasing: bytes[lineStart..<contentEnd])
            lineStart = lineEnd + 1
            if line.isEmpty || lineNumber == 1 { continue }
            try builder.addMerge(line: line, path: path, lineNumber: lineNumber)
        }
    }
}
