// GPT2PreTokenizer: GPT-2's pre-tokenization regular expression, written by hand over the
// Unicode scalars of UTF-8 text (no regex engine), so that it is fast:
//
//   's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
//
// The alternatives are tried in order at each position (leftmost-first), as Python's `regex`,
// Oniguruma (Hugging Face tokenizers) and fancy-regex (tiktoken) do. \s is the Unicode
// White_Space property, \p{L} the letter categories (Lu Ll Lt Lm Lo), \p{N} the number
// categories (Nd Nl No).

// MARK: - Scalar classes

/// The class of a Unicode scalar for GPT-2 pre-tokenization.
enum ScalarClass: UInt8 {
    case letter, number, whitespace, other

    /// The class of an ASCII byte (by range checks, which the optimizer inlines; agrees with
    /// ``classify(_:)`` on every ASCII scalar, as a test checks).
    @inline(__always)
    static func classifyASCII(_ byte: UInt8) -> ScalarClass {
        if (byte | 0x20) &- UInt8(ascii: "a") < 26 { return .letter }
        if byte &- UInt8(ascii: "0") < 10 { return .number }
        if byte == 0x20 || byte &- 0x09 < 5 { return .whitespace }
        return .other
    }

    /// The class of `scalar` from its Unicode properties.
    static func classify(_ scalar: Unicode.Scalar) -> ScalarClass {
        let properties = scalar.properties
        if properties.isWhitespace { return .whitespace }
        switch properties.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter:
            return .letter
        case .decimalNumber, .letterNumber, .otherNumber:
            return .number
        default:
            return .other
        }
    }
}

// MARK: - Variants

/// How a byte-level BPE tokenizer splits text into pieces before merging.
public enum PreTokenization: String, Sendable, Hashable, CaseIterable {
    /// GPT-2's pattern (GGUF `tokenizer.ggml.pre` `default`/`gpt2`; Hugging Face ByteLevel).
    case gpt2
    /// Every number character alone, then GPT-2's pattern on the text between them (GGUF
    /// `smollm`, `starcoder`, `refact`; Hugging Face `Sequence[Digits(individual_digits), ByteLevel]`).
    case gpt2IndividualDigits
    /// Llama 3's pattern: contractions in any case, letters with one leading non-letter, up to
    /// three digits, punctuation with its newlines (GGUF `llama-bpe`).
    case llama3
    /// Llama 3's pattern with one digit at a time (GGUF `qwen2`).
    case qwen2
}

// MARK: - Pre-tokenizer

/// Splits UTF-8 text into GPT-2 pre-tokens (words with their leading space, numbers, runs of
/// punctuation, whitespace), each of which is then encoded by byte-pair merges on its own.
enum GPT2PreTokenizer {
    /// Calls `body(start, end)` for the byte range of each pre-token of `text`, in order.
    /// `text` must be valid UTF-8 (as the contents of a Swift `String` always are).
    @inline(__always)
    static func forEachPiece(
        in text: UnsafeBufferPointer<UInt8>, _ body: (_ start: Int, _ end: Int) throws -> Void
    ) rethrows {
        let count = text.count
        var start = 0
        while start < count {
            let end = pieceEnd(in: text, from: start)
            try body(start, end)
            start = end
        }
    }

    /// Calls `body(start, end)` for each pre-token of `text` under `mode`.
    @inline(__always)
    static func forEachPiece(
        in text: UnsafeBufferPointer<UInt8>, mode: PreTokenization, _ body: (_ start: Int, _ end: Int) throws -> Void
    ) rethrows {
        switch mode {
        case .gpt2: return try forEachPiece(in: text, body)
        case .llama3: return try Llama3PreTokenizer.forEachPiece(in: text, digits: 3, body)
        case .qwen2: return try Llama3PreTokenizer.forEachPiece(in: text, digits: 1, body)
        case .gpt2IndividualDigits: break
        }
        // Each number scalar is a piece; GPT-2's pattern splits the text between them.
        var segmentStart = 0, position = 0
        while position < text.count {
            let (kind, length) = scalarClass(in: text, at: position)
            guard kind == .number else {
                position += length
                continue
            }
            if position > segmentStart {
                try forEachPiece(in: UnsafeBufferPointer(rebasing: text[segmentStart..<position])) { try body(segmentStart + $0, segmentStart + $1) }
            }
            try body(position, position + length)
            position += length
            segmentStart = position
        }
        if text.count > segmentStart {
            try forEachPiece(in: UnsafeBufferPointer(rebasing: text[segmentStart..<text.count])) { try body(segmentStart + $0, segmentStart + $1) }
        }
    }

    /// Returns the end of the pre-token that starts at byte `start` of `text`.
    static func pieceEnd(in text: UnsafeBufferPointer<UInt8>, from start: Int) -> Int {
        let count = text.count
        let first = text[start]

        // 's|'t|'re|'ve|'m|'ll|'d
        if first == UInt8(ascii: "'"), start + 1 < count {
            let second = text[start + 1]
            switch second {
            case UInt8(ascii: "s"), UInt8(ascii: "t"), UInt8(ascii: "m"), UInt8(ascii: "d"):
                return start + 2
            case UInt8(ascii: "r"), UInt8(ascii: "v"):
                if start + 2 < count && text[start + 2] == UInt8(ascii: "e") { return start + 3 }
            case UInt8(ascii: "l"):
                if start + 2 < count && text[start + 2] == UInt8(ascii: "l") { return start + 3 }
            default:
                break
            }
        }

        let (firstClass, firstLength) = scalarClass(in: text, at: start)

        // ` ?\p{L}+`, ` ?\p{N}+`, ` ?[^\s\p{L}\p{N}]+`: a space followed by a run of one class.
        if first == UInt8(ascii: " "), start + 1 < count {
            let (nextClass, nextLength) = scalarClass(in: text, at: start + 1)
            if nextClass != .whitespace {
                return runEnd(in: text, from: start + 1 + nextLength, of: nextClass)
            }
        }
        if firstClass != .whitespace {
            return runEnd(in: text, from: start + firstLength, of: firstClass)
        }

        // `\s+(?!\S)`, `\s+`: a whitespace run, less its last scalar when non-space text
        // follows (that scalar then starts the next pre-token, e.g. " word").
        var end = start + firstLength
        var lastStart = start
        while end < count {
            let (nextClass, nextLength) = scalarClass(in: text, at: end)
            if nextClass != .whitespace { return lastStart > start ? lastStart : end }
            lastStart = end
            end += nextLength
        }
        return end
    }

    /// Returns the end of the run of scalars of class `runClass` that continues at `position`.
    @inline(__always)
    static func runEnd(in text: UnsafeBufferPointer<UInt8>, from position: Int, of runClass: ScalarClass) -> Int {
        var end = position
        while end < text.count {
            let (nextClass, nextLength) = scalarClass(in: text, at: end)
            if nextClass != runClass { break }
            end += nextLength
        }
        return end
    }

    /// Returns the class and UTF-8 length of the scalar at byte `position` of valid UTF-8.
    @inline(__always)
    static func scalarClass(in text: UnsafeBufferPointer<UInt8>, at position: Int) -> (ScalarClass, Int) {
        let lead = text[position]
        if lead < 0x80 {
            return (ScalarClass.classifyASCII(lead), 1)
        }
        return nonASCIIScalarClass(in: text, at: position)
    }

    /// Decodes the multi-byte scalar at `position` and classifies it.
    static func nonASCIIScalarClass(in text: UnsafeBufferPointer<UInt8>, at position: Int) -> (ScalarClass, Int) {
        let lead = UInt32(text[position])
        let length: Int
        var value: UInt32
        if lead < 0xE0 {
            length = 2
            value = lead & 0x1F
        } else if lead < 0xF0 {
            length = 3
            value = lead & 0x0F
        } else {
            length = 4
            value = lead & 0x07
        }
        for offset in 1..<length {
            value = value << 6 | UInt32(text[position + offset] & 0x3F)
        }
        guard let scalar = Unicode.Scalar(value) else { return (.other, length) }
        return (ScalarClass.classify(scalar), length)
    }
}
