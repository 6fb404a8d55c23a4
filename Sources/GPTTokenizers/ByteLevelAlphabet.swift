// ByteLevelAlphabet: GPT-2's reversible byte-to-unicode table (`bytes_to_unicode` in OpenAI's
// encoder.py), which lets a vocabulary of byte strings be written as printable text.

// MARK: - ByteLevelAlphabet

/// GPT-2's mapping between the 256 byte values and 256 printable Unicode scalars.
///
/// The printable Latin-1 bytes `!`...`~`, `¡`...`¬`, `®`...`ÿ` map to themselves; the 68 others
/// (controls, space, soft hyphen...) map to U+0100 upward in byte order, so a space is `Ġ`
/// (U+0120) and a newline `Ċ` (U+010A). Vocabulary and merge files store tokens in this
/// alphabet.
enum ByteLevelAlphabet {
    /// The bytes in GPT-2's order: the printable ones first, then the rest ascending. The first
    /// 256 ids of GPT-2's vocabulary are these bytes in this order.
    static let bytesInVocabularyOrder: [UInt8] = {
        var printable = Array(UInt8(ascii: "!")...UInt8(ascii: "~"))
        printable += Array(UInt8(0xA1)...UInt8(0xAC))
        printable += Array(UInt8(0xAE)...UInt8(0xFF))
        let printableSet = Set(printable)
        return printable + (0...255).map { UInt8($0) }.filter { !printableSet.contains($0) }
    }()

    /// `scalarValue[byte]` is the Unicode scalar value that stands for `byte`.
    static let scalarValue: [UInt32] = {
        var table = [UInt32](repeating: 0, count: 256)
        var next: UInt32 = 256
        for byte in bytesInVocabularyOrder {
            let isPrintable = (0x21...0x7E).contains(byte) || (0xA1...0xAC).contains(byte)
                || (0xAE...0xFF).contains(byte)
            if isPrintable {
                table[Int(byte)] = UInt32(byte)
            } else {
                table[Int(byte)] = next
                next += 1
            }
        }
        return table
    }()

    /// The largest scalar value used by the alphabet (U+0143).
    static let maximumScalarValue: UInt32 = 256 + 67

    /// `byteForScalar[value]` is the byte that scalar `value` stands for, or -1 when the
    /// scalar is not in the alphabet. Indexed by scalar values `0...maximumScalarValue`.
    static let byteForScalar: [Int16] = {
        var table = [Int16](repeating: -1, count: Int(maximumScalarValue) + 1)
        for byte in 0..<256 { table[Int(scalarValue[byte])] = Int16(byte) }
        return table
    }()

    /// Returns the byte that `scalar` stands for, or nil when it is not in the alphabet.
    @inline(__always)
    static func byte(for scalar: UInt32) -> UInt8? {
        guard scalar <= maximumScalarValue else { return nil }
        let byte = byteForScalar[Int(scalar)]
        return byte < 0 ? nil : UInt8(byte)
    }

    /// Returns the byte-level text of `bytes` (e.g. `" hi"` → `"Ġhi"`).
    static func text(of bytes: some Sequence<UInt8>) -> String {
        var scalars = String.UnicodeScalarView()
        for byte in bytes { scalars.append(Unicode.Scalar(scalarValue[Int(byte)])!) }
        return String(scalars)
    }
}
