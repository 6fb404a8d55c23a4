// BPETrainer: learns a byte-level BPE (GPT-2 style) from text.
//
// Algorithm (Sennrich et al. 2016, as in Hugging Face's BpeTrainer): pre-tokenize with GPT-2's
// pattern and count each distinct pre-token ("word") once with its frequency; every word starts
// as one token per byte. Count adjacent pairs over the words, weighted by frequency. Repeatedly
// merge the most frequent pair (ties: the smallest (left, right) ids) into a new token, updating
// only the words that contain it and the counts of the pairs they touch. A max-heap with lazy
// invalidation finds the most frequent pair.

import Foundation

// MARK: - BPETrainer

/// Learns a byte-level BPE vocabulary of a given size from text files.
///
/// ```swift
/// let trainer = try BPETrainer(vocabularySize: 1000)
/// let vocabulary = try trainer.train(files: [URL(fileURLWithPath: "input.txt")])
/// try vocabulary.save(to: URL(fileURLWithPath: "my-bpe"))    // encoder.json + vocab.bpe
/// let tokenizer = try GPT2Tokenizer(directory: URL(fileURLWithPath: "my-bpe"))
/// ```
public struct BPETrainer: Sendable {
    /// The total number of ids wanted: 256 byte tokens, the merges, and the special tokens.
    public let vocabularySize: Int
    /// Special tokens, given ids after the learned tokens. Their occurrences in the training
    /// text separate documents and are not learned from.
    public let specialTokens: [String]

    /// Creates a trainer.
    /// - Throws: ``TokenizerError/invalidArgument(_:)`` if `vocabularySize` is smaller than
    ///   256 plus the special tokens, or a special token is empty or repeated.
    public init(vocabularySize: Int, specialTokens: [String] = [GPT2Tokenizer.endOfText]) throws {
        guard Set(specialTokens).count == specialTokens.count, !specialTokens.contains("") else {
            throw TokenizerError.invalidArgument("special tokens must be non-empty and distinct: \(specialTokens)")
        }
        let minimum = 256 + specialTokens.count
        guard vocabularySize >= minimum else {
            throw TokenizerError.invalidArgument(
                "vocabularySize \(vocabularySize) is too small: 256 byte tokens + \(specialTokens.count) special tokens need \(minimum)")
        }
        self.vocabularySize = vocabularySize
        self.specialTokens = specialTokens
    }

    /// Learns merges from the UTF-8 text files at `files` (invalid UTF-8 is replaced by U+FFFD).
    /// - Throws: ``TokenizerError/fileAccess(path:reason:)`` if a file cannot be read.
    public func train(files: [URL]) throws -> BPEVocabulary {
        var counter = WordCounter(specialTokens: specialTokens)
        for file in files {
            counter.add(String(decoding: try FileIO.read(file), as: UTF8.self))
        }
        return try learn(from: counter)
    }

    /// Learns merges from `texts`.
    public func train(texts: [String]) throws -> BPEVocabulary {
        var counter = WordCounter(specialTokens: specialTokens)
        for text in texts { counter.add(text) }
        return try learn(from: counter)
    }

    // MARK: Learning

    private func learn(from counter: WordCounter) throws -> BPEVocabulary {
        var state = PairStatistics(words: counter.words(), frequencies: counter.frequencies)
        var tokens = ByteLevelAlphabet.bytesInVocabularyOrder.map { [$0] }
        var tokenIDs = ByteSequenceMap(capacity: vocabularySize)
        for (id, token) in tokens.enumerated() { tokenIDs.insert(token, value: Int32(id)) }
        var merges: [(left: Int, right: Int)] = []
        let learnedCount = vocabularySize - specialTokens.count
        while tokens.count < learnedCount, let pair = state.popMostFrequentPair() {
            let bytes = tokens[Int(pair.left)] + tokens[Int(pair.right)]
            // Two merges can spell the same bytes; the token then keeps its first id.
            var merged = tokenIDs.value(for: bytes) ?? -1
            if merged < 0 {
                merged = Int32(tokens.count)
                tokens.append(bytes)
                tokenIDs.insert(bytes, value: merged)
            }
            merges.append((Int(pair.left), Int(pair.right)))
            state.merge(pair, into: merged)
        }
        for name in specialTokens {
            // In encoder.json a special token's name must differ from every learned token's
            // byte-level text, and its bytes from every learned token's bytes.
            let byteLevel = name.unicodeScalars.compactMap { ByteLevelAlphabet.byte(for: $0.value) }
            let collidesAsText = byteLevel.count == name.unicodeScalars.count && tokenIDs.value(for: byteLevel) != nil
            guard tokenIDs.value(for: Array(name.utf8)) == nil, !collidesAsText else {
                throw TokenizerError.invalidArgument(
                    "special token '\(name)' is also a learned token; use a name the pre-tokenizer splits, such as <|\(name)|>")
            }
            tokens.append(Array(name.utf8))
        }
        return BPEVocabulary(tokens: tokens, merges: merges, specialTokens: specialTokens)
    }
}

// MARK: - WordCounter

/// Counts distinct pre-tokens (as byte strings) with their frequencies, in first-seen order.
struct WordCounter {
    private let specials: [[UInt8]]
    private var index = ByteSequenceMap(capacity: 1 << 14)
    private(set) var frequencies: [Int] = []
    private var bytes: [[UInt8]] = []

    init(specialTokens: [String]) {
        specials = specialTokens.map { Array($0.utf8) }.sorted { $0.count > $1.count }
    }

    /// Pre-tokenizes `text` (with special tokens removed) and counts its pieces.
    mutating func add(_ text: String) {
        var text = text
        text.withUTF8 { utf8 in
            var segmentStart = 0
            var position = 0
            while position < utf8.count {
                if let special = specials.first(where: { Self.matches($0, utf8, position) }) {
                    count(UnsafeBufferPointer(rebasing: utf8[segmentStart..<position]))
                    position += special.count
                    segmentStart = position
                } else {
                    position += 1
                }
            }
            count(UnsafeBufferPointer(rebasing: utf8[segmentStart..<utf8.count]))
        }
    }

    private mutating func count(_ text: UnsafeBufferPointer<UInt8>) {
        GPT2PreTokenizer.forEachPiece(in: text) { start, end in
            let piece = UnsafeBufferPointer(rebasing: text[start..<end])
            if let word = index.value(for: piece) {
                frequencies[Int(word)] += 1
            } else {
                index.insert(piece, value: Int32(frequencies.count))
                frequencies.append(1)
                bytes.append(Array(piece))
            }
        }
    }

    /// Each word as its initial token ids (one per byte, GPT-2's byte order).
    func words() -> [[Int32]] {
        var idOfByte = [Int32](repeating: 0, count: 256)
        for (id, byte) in ByteLevelAlphabet.bytesInVocabularyOrder.enumerated() { idOfByte[Int(byte)] = Int32(id) }
        return bytes.map { word in word.map { idOfByte[Int($0)] } }
    }

    private static func matches(_ pattern: [UInt8], _ text: UnsafeBufferPointer<UInt8>, _ position: Int) -> Bool {
        guard text[position] == pattern[0], position + pattern.count <= text.count else { return false }
        for offset in 1..<pattern.count where text[position + offset] != pattern[offset] { return false }
        return true
    }
}
