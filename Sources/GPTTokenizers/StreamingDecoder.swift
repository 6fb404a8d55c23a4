// StreamingDecoder: turns token ids into text one id at a time, holding back the bytes of a
// UTF-8 sequence that is split across tokens until it is complete.

// MARK: - StreamingDecoder

/// Decodes token ids one at a time, emitting text only when its UTF-8 is complete.
///
/// A byte-level tokenizer may split one character (an emoji, a CJK ideograph) over several
/// tokens; decoding each token separately would print replacement characters. This decoder
/// keeps the incomplete tail of the bytes and emits it once the character is complete. The
/// concatenation of everything returned by ``append(_:)`` and ``finish()`` equals
/// `decode(ids)` of the whole sequence.
///
/// ```swift
/// var stream = tokenizer.makeStreamingDecoder()
/// for id in generatedIDs {
///     print(try stream.append(id), terminator: "")   // "" while a character is incomplete
/// }
/// print(stream.finish())
/// ```
public struct StreamingDecoder: Sendable {
    /// Returns the bytes of token `id` given the previous id of the stream (nil for the first).
    public typealias PieceProvider = @Sendable (_ id: Int, _ previousID: Int?) throws -> [UInt8]

    private let piece: PieceProvider
    private var pending: [UInt8] = []
    private var previousID: Int?

    /// Creates a decoder that looks up the bytes of each token with `piece`.
    ///
    /// Tokenizers make one with `makeStreamingDecoder()`; this initializer is for custom
    /// ``Tokenizer`` conformances.
    public init(piece: @escaping PieceProvider) {
        self.piece = piece
    }

    /// Appends token `id` and returns the text that became complete (possibly empty).
    ///
    /// Bytes that can never become valid UTF-8 are emitted as U+FFFD at once.
    /// - Throws: the tokenizer's error for an unknown id; the decoder is unchanged then.
    public mutating func append(_ id: Int) throws -> String {
        let bytes = try piece(id, previousID)
        previousID = id
        pending.append(contentsOf: bytes)
        let complete = UTF8Completion.completePrefixLength(of: pending)
        guard complete > 0 else { return "" }
        let text = String(decoding: pending[0..<complete], as: UTF8.self)
        pending.removeFirst(complete)
        return text
    }

    /// Returns any bytes still held back (an incomplete sequence becomes U+FFFD) and resets
    /// the decoder to its initial state.
    public mutating func finish() -> String {
        let text = String(decoding: pending, as: UTF8.self)
        pending.removeAll()
        previousID = nil
        return text
    }
}

// MARK: - UTF-8 completeness

/// Finds how much of a byte buffer can be decoded without splitting a UTF-8 sequence.
enum UTF8Completion {
    /// Returns the length of the longest prefix of `bytes` that does not end inside a UTF-8
    /// sequence that could still become valid. Invalid bytes count as complete (they decode to
    /// U+FFFD whatever follows), so only a genuine, so-far-valid prefix is held back.
    static func completePrefixLength(of bytes: [UInt8]) -> Int {
        let count = bytes.count
        var index = count - 1
        // A UTF-8 sequence is at most 4 bytes: look back at most 3 continuation bytes.
        while index >= 0 && index >= count - 4 {
            let byte = bytes[index]
            if byte & 0xC0 != 0x80 {
                let needed = sequenceLength(lead: byte)
                let available = count - index
                guard needed > available else { return count }
                return isValidPrefix(bytes, from: index) ? index : count
            }
            index -= 1
        }
        return count
    }

    /// The length of the sequence a lead byte starts, or 1 for an ASCII or invalid byte.
    static func sequenceLength(lead: UInt8) -> Int {
        switch lead {
        case 0xC2...0xDF: return 2
        case 0xE0...0xEF: return 3
        case 0xF0...0xF4: return 4
        default: return 1
        }
    }

    /// Whether the bytes from `start` to the end are a valid beginning of one UTF-8 sequence
    /// (the second byte obeys the lead byte's narrower range, as in Unicode Table 3-7).
    static func isValidPrefix(_ bytes: [UInt8], from start: Int) -> Bool {
        let lead = bytes[start]
        guard start + 1 < bytes.count else { return true }
        let second = bytes[start + 1]
        let secondRange: ClosedRange<UInt8>
        switch lead {
        case 0xE0: secondRange = 0xA0...0xBF
        case 0xED: secondRange = 0x80...0x9F
        case 0xF0: secondRange = 0x90...0xBF
        case 0xF4: secondRange = 0x80...0x8F
        default: secondRange = 0x80...0xBF
        }
        guard secondRange.contains(second) else { return false }
        for byte in bytes[(start + 2)...] where byte & 0xC0 != 0x80 { return false }
        return true
    }
}
