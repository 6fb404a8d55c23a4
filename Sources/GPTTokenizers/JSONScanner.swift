// JSONScanner: a small, fast JSON reader over UTF-8 bytes. Foundation cannot meet the 100 ms
// load budget: parsing the 50,257-entry encoder.json alone takes ~125 ms with JSONSerialization
// and ~107 ms with JSONDecoder (release build, this project's 2-core x86-64 machine), while the
// whole GPT-2 load with this scanner takes ~30 ms. A vocabulary is also better decoded straight
// into Unicode scalar values than into Strings.

import Foundation

// MARK: - JSONScanner

/// Reads JSON from a UTF-8 buffer, throwing ``TokenizerError/malformedJSON(path:offset:reason:)``
/// with the byte offset of the first problem.
struct JSONScanner {
    let bytes: UnsafeBufferPointer<UInt8>
    let path: String
    private(set) var position = 0
    private var depth = 0
    private static let maximumDepth = 256

    init(bytes: UnsafeBufferPointer<UInt8>, path: String) {
        self.bytes = bytes
        self.path = path
        // Skip a UTF-8 byte order mark.
        if bytes.count >= 3 && bytes[0] == 0xEF && bytes[1] == 0xBB && bytes[2] == 0xBF { position = 3 }
    }

    func error(_ reason: String, at offset: Int? = nil) -> TokenizerError {
        .malformedJSON(path: path, offset: offset ?? position, reason: reason)
    }

    // MARK: Structure

    /// Skips spaces, tabs, carriage returns and newlines.
    @inline(__always)
    mutating func skipWhitespace() {
        while position < bytes.count {
            switch bytes[position] {
            case 0x20, 0x09, 0x0A, 0x0D: position += 1
            default: return
            }
        }
    }

    /// Skips whitespace and returns the next byte without consuming it, or nil at the end.
    mutating func peek() -> UInt8? {
        skipWhitespace()
        return position < bytes.count ? bytes[position] : nil
    }

    /// Skips whitespace and consumes `byte`, throwing if another byte (or the end) is there.
    mutating func expect(_ byte: UInt8) throws {
        guard peek() == byte else {
            let found = position < bytes.count ? "'\(Unicode.Scalar(bytes[position]))'" : "end of file"
            throw error("expected '\(Unicode.Scalar(byte))', found \(found)")
        }
        position += 1
    }

    /// Consumes `byte` if it is next (after whitespace) and returns whether it was.
    mutating func consume(_ byte: UInt8) -> Bool {
        guard peek() == byte else { return false }
        position += 1
        return true
    }

    /// Throws unless only whitespace remains.
    mutating func expectEnd() throws {
        if peek() != nil { throw error("unexpected data after the JSON value") }
    }

    /// Iterates over the members of an object: `body` is called with each key's scalar values
    /// and the scanner positioned at the value, which `body` must consume.
    mutating func scanObject(_ body: (inout JSONScanner, _ key: [UInt32]) throws -> Void) throws {
        try expect(UInt8(ascii: "{"))
        if consume(UInt8(ascii: "}")) { return }
        var key: [UInt32] = []
        key.reserveCapacity(64)
        repeat {
            try scanString(into: &key)
            try expect(UInt8(ascii: ":"))
            try body(&self, key)
        } while consume(UInt8(ascii: ","))
        try expect(UInt8(ascii: "}"))
    }

    // MARK: Strings

    /// Reads a string (after whitespace), replacing `scalars` with its Unicode scalar values.
    mutating func scanString(into scalars: inout [UInt32]) throws {
        scalars.removeAll(keepingCapacity: true)
        try expect(UInt8(ascii: "\""))
        while position < bytes.count {
            let byte = bytes[position]
            if byte == UInt8(ascii: "\"") {
                position += 1
                return
            } else if byte == UInt8(ascii: "\\") {
                scalars.append(try scanEscape())
            } else if byte < 0x20 {
                throw error("control character 0x\(String(byte, radix: 16)) inside a string")
            } else if byte < 0x80 {
                scalars.append(UInt32(byte))
                position += 1
            } else {
                scalars.append(try scanMultiByteScalar())
            }
        }
        throw error("unterminated string")
    }

    /// Reads a string (after whitespace).
    mutating func scanString() throws -> String {
        var scalars: [UInt32] = []
        try scanString(into: &scalars)
        var view = String.UnicodeScalarView()
        for value in scalars { view.append(Unicode.Scalar(value)!) }
        return String(view)
    }

    private mutating func scanEscape() throws -> UInt32 {
        let start = position
        guard position + 1 < bytes.count else { throw error("unterminated escape") }
        let code = bytes[position + 1]
        position += 2
        switch code {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): return UInt32(code)
        case UInt8(ascii: "b"): return 0x08
        case UInt8(ascii: "f"): return 0x0C
        case UInt8(ascii: "n"): return 0x0A
        case UInt8(ascii: "r"): return 0x0D
        case UInt8(ascii: "t"): return 0x09
        case UInt8(ascii: "u"):
            let unit = try scanHex4()
            if (0xD800...0xDBFF).contains(unit) {
                guard position + 1 < bytes.count, bytes[position] == UInt8(ascii: "\\"),
                      bytes[position + 1] == UInt8(ascii: "u") else {
                    throw error("unpaired surrogate \\u\(String(unit, radix: 16))", at: start)
                }
                position += 2
                let low = try scanHex4()
                guard (0xDC00...0xDFFF).contains(low) else {
                    throw error("unpaired surrogate \\u\(String(unit, radix: 16))", at: start)
                }
                return 0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00)
            }
            if (0xDC00...0xDFFF).contains(unit) {
                throw error("unpaired surrogate \\u\(String(unit, radix: 16))", at: start)
            }
            return unit
        default:
            throw error("invalid escape '\\\(Unicode.Scalar(code))'", at: start)
        }
    }

    private mutating func scanHex4() throws -> UInt32 {
        guard position + 4 <= bytes.count else { throw error("truncated \\u escape") }
        var value: UInt32 = 0
        for _ in 0..<4 {
            let byte = bytes[position]
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
            default: throw error("invalid hexadecimal digit in \\u escape")
            }
            value = value << 4 | UInt32(digit)
            position += 1
        }
        return value
    }

    /// Decodes one multi-byte UTF-8 scalar, rejecting invalid UTF-8.
    private mutating func scanMultiByteScalar() throws -> UInt32 {
        let lead = bytes[position]
        let length = UTF8Completion.sequenceLength(lead: lead)
        guard length > 1, position + length <= bytes.count else { throw error("invalid UTF-8") }
        var value = UInt32(lead) & (length == 2 ? 0x1F : length == 3 ? 0x0F : 0x07)
        for offset in 1..<length {
            let byte = bytes[position + offset]
            guard byte & 0xC0 == 0x80 else { throw error("invalid UTF-8") }
            value = value << 6 | UInt32(byte & 0x3F)
        }
        let minimum: UInt32 = length == 2 ? 0x80 : length == 3 ? 0x800 : 0x10000
        guard value >= minimum, value <= 0x10FFFF, !(0xD800...0xDFFF).contains(value) else {
            throw error("invalid UTF-8")
        }
        position += length
        return value
    }

    // MARK: Numbers and values

    /// Reads an integer (after whitespace); a fraction or exponent is an error.
    mutating func scanInteger() throws -> Int {
        guard case .integer(let value) = try scanValue() else {
            throw error("expected an integer")
        }
        return value
    }

    /// Reads any JSON value (after whitespace).
    mutating func scanValue() throws -> JSONValue {
        guard let byte = peek() else { throw error("expected a value, found end of file") }
        switch byte {
        case UInt8(ascii: "{"):
            depth += 1
            defer { depth -= 1 }
            guard depth <= Self.maximumDepth else { throw error("nesting too deep") }
            var members: [String: JSONValue] = [:]
            try scanObject { scanner, key in
                var view = String.UnicodeScalarView()
                for value in key { view.append(Unicode.Scalar(value)!) }
                members[String(view)] = try scanner.scanValue()
            }
            return .object(members)
        case UInt8(ascii: "["):
            depth += 1
            defer { depth -= 1 }
            guard depth <= Self.maximumDepth else { throw error("nesting too deep") }
            position += 1
            var items: [JSONValue] = []
            if consume(UInt8(ascii: "]")) { return .array(items) }
            repeat { items.append(try scanValue()) } while consume(UInt8(ascii: ","))
            try expect(UInt8(ascii: "]"))
            return .array(items)
        case UInt8(ascii: "\""):
            return .string(try scanString())
        case UInt8(ascii: "t"): try scanLiteral("true"); return .bool(true)
        case UInt8(ascii: "f"): try scanLiteral("false"); return .bool(false)
        case UInt8(ascii: "n"): try scanLiteral("null"); return .null
        default:
            return try scanNumber()
        }
    }

    private mutating func scanLiteral(_ literal: StaticString) throws {
        let count = literal.utf8CodeUnitCount
        guard position + count <= bytes.count,
              (0..<count).allSatisfy({ bytes[position + $0] == literal.utf8Start[$0] }) else {
            throw error("invalid literal")
        }
        position += count
    }

    private mutating func scanNumber() throws -> JSONValue {
        let start = position
        var isInteger = true
        var magnitude = 0
        var overflow = false
        let negative = position < bytes.count && bytes[position] == UInt8(ascii: "-")
        if negative { position += 1 }
        while position < bytes.count, Self.isNumberByte(bytes[position]) {
            let byte = bytes[position]
            if isInteger, byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") {
                let (times10, o1) = magnitude.multipliedReportingOverflow(by: 10)
                let (sum, o2) = times10.addingReportingOverflow(Int(byte - UInt8(ascii: "0")))
                magnitude = sum
                overflow = overflow || o1 || o2
            } else {
                isInteger = false
            }
            position += 1
        }
        let length = position - start - (negative ? 1 : 0)
        guard length > 0 else { throw error("expected a value", at: start) }
        let leadingZero = bytes[start + (negative ? 1 : 0)] == UInt8(ascii: "0") && length > 1
        if isInteger && !overflow && !leadingZero { return .integer(negative ? -magnitude : magnitude) }
        let text = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<position]), as: UTF8.self)
        guard !leadingZero || !isInteger, let value = Double(text) else {
            throw error("invalid number '\(text)'", at: start)
        }
        guard value.isFinite else { throw error("number '\(text)' is out of range of a 64-bit float", at: start) }
        return .double(value)
    }

    private static func isNumberByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "."), UInt8(ascii: "e"), UInt8(ascii: "E"),
             UInt8(ascii: "+"), UInt8(ascii: "-"):
            return true
        default:
            return false
        }
    }
}

// MARK: - Syntax check for other modules

/// JSON syntax checking with byte offsets, for the package's other JSON readers (config.json,
/// trainer.json), which decode with `JSONDecoder` but want its errors in words.
package enum JSONSyntax {
    /// Checks that `data` is exactly one well-formed JSON value whose numbers are finite.
    /// - Throws: ``TokenizerError/malformedJSON(path:offset:reason:)`` with the byte offset.
    package static func check(_ data: Data, path: String) throws {
        _ = try parse(data, path: path)
    }

    /// Parses `data` as exactly one JSON value (integers that overflow `Int` become doubles).
    /// - Throws: ``TokenizerError/malformedJSON(path:offset:reason:)`` with the byte offset.
    package static func parse(_ data: Data, path: String) throws -> JSONValue {
        try data.withUnsafeBytes { raw in
            var scanner = JSONScanner(bytes: raw.bindMemory(to: UInt8.self), path: path)
            let value = try scanner.scanValue()
            try scanner.expectEnd()
            return value
        }
    }
}
