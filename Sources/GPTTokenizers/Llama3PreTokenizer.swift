// Llama3PreTokenizer: the pre-tokenization pattern of Llama 3 (GGUF `tokenizer.ggml.pre`
// `llama-bpe`) and of Qwen2 (`qwen2`, which takes one digit at a time), written by hand over
// the Unicode scalars of UTF-8 text, as GPT2PreTokenizer is:
//
//   (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+
//
// The alternatives are tried in order at each position (leftmost-first, as Hugging Face
// tokenizers' Split with this Regex). Classes as GPT-2's: \s White_Space, \p{L} letters,
// \p{N} numbers; [\r\n] is CR and LF.

// MARK: - Pre-tokenizer

enum Llama3PreTokenizer {
    /// Calls `body(start, end)` for the byte range of each pre-token of `text`, in order; a
    /// run of numbers is cut every `digits` scalars (3 for Llama 3, 1 for Qwen2).
    @inline(__always)
    static func forEachPiece(in text: UnsafeBufferPointer<UInt8>, digits: Int, _ body: (_ start: Int, _ end: Int) throws -> Void) rethrows {
        var start = 0
        while start < text.count {
            let end = pieceEnd(in: text, from: start, digits: digits)
            try body(start, end)
            start = end
        }
    }

    @inline(__always)
    static func isNewline(_ byte: UInt8) -> Bool { byte == 0x0A || byte == 0x0D }

    @inline(__always)
    static func lowercase(_ byte: UInt8) -> UInt8 { byte | 0x20 }

    /// The end of the pre-token that starts at byte `start`.
    static func pieceEnd(in text: UnsafeBufferPointer<UInt8>, from start: Int, digits: Int) -> Int {
        let count = text.count
        let first = text[start]
        // (?i:'s|'t|'re|'ve|'m|'ll|'d)
        if first == UInt8(ascii: "'"), start + 1 < count {
            switch lowercase(text[start + 1]) {
            case UInt8(ascii: "s"), UInt8(ascii: "t"), UInt8(ascii: "m"), UInt8(ascii: "d"): return start + 2
            case UInt8(ascii: "r"), UInt8(ascii: "v"):
                if start + 2 < count && lowercase(text[start + 2]) == UInt8(ascii: "e") { return start + 3 }
            case UInt8(ascii: "l"):
                if start + 2 < count && lowercase(text[start + 2]) == UInt8(ascii: "l") { return start + 3 }
            default: break
            }
        }
        let (firstClass, firstLength) = GPT2PreTokenizer.scalarClass(in: text, at: start)
        // [^\r\n\p{L}\p{N}]?\p{L}+
        if firstClass == .letter { return GPT2PreTokenizer.runEnd(in: text, from: start + firstLength, of: .letter) }
        if firstClass != .number && !isNewline(first) && start + firstLength < count {
            let (nextClass, nextLength) = GPT2PreTokenizer.scalarClass(in: text, at: start + firstLength)
            if nextClass == .letter { return GPT2PreTokenizer.runEnd(in: text, from: start + firstLength + nextLength, of: .letter) }
        }
        // \p{N}{1,digits}
        if firstClass == .number {
            var end = start + firstLength, taken = 1
            while taken < digits && end < count {
                let (nextClass, nextLength) = GPT2PreTokenizer.scalarClass(in: text, at: end)
                guard nextClass == .number else { break }
                end += nextLength
                taken += 1
            }
            return end
        }
        // ` ?[^\s\p{L}\p{N}]+[\r\n]*`
        var punctuation = -1
        if firstClass == .other {
            punctuation = start
        } else if first == UInt8(ascii: " "), start + 1 < count, GPT2PreTokenizer.scalarClass(in: text, at: start + 1).0 == .other {
            punctuation = start + 1
        }
        if punctuation >= 0 {
            var end = GPT2PreTokenizer.runEnd(in: text, from: punctuation, of: .other)
            while end < count && isNewline(text[end]) { end += 1 }
            return end
        }
        // Whitespace: `\s*[\r\n]+` ends after the run's last CR/LF; else `\s+(?!\S)` leaves the
        // last scalar of a run followed by other text to start the next piece; else `\s+`.
        var end = start, lastNewlineEnd = -1, lastStart = start
        while end < count {
            let (nextClass, nextLength) = GPT2PreTokenizer.scalarClass(in: text, at: end)
            guard nextClass == .whitespace else { break }
            if isNewline(text[end]) { lastNewlineEnd = end + 1 }
            lastStart = end
            end += nextLength
        }
        if lastNewlineEnd > 0 { return lastNewlineEnd }
        if end == count || lastStart == start { return end }
        return lastStart
    }
}
