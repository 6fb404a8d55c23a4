// TestSupport: locating the package's fixtures and ../shared/data, loading the GPT-2 fixture
// cases, a seeded random number generator, and temporary directories.

import Foundation
import XCTest
import GPTTestSupport
@testable import GPTTokenizers

// MARK: - Locations

enum TestData {
    /// The package root: this file is Tests/GPTTokenizersTests/TestSupport.swift.
    static let packageRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// `../shared/data` next to the package.
    static let sharedData = packageRoot.deletingLastPathComponent().appendingPathComponent("shared/data")

    /// Returns `../shared/data/<relative>`, or throws XCTSkip when it is absent.
    static func shared(_ relative: String) throws -> URL {
        let url = sharedData.appendingPathComponent(relative)
        guard FileManager.default.fileExists(atPath: url.path) else {
            throw XCTSkip("\(url.path) is absent (../shared/data not available)")
        }
        return url
    }

    /// The GPT-2 tokenizer from ../shared/data/gpt2-tokenizer (encoder.json + vocab.bpe),
    /// loaded once.
    static func gpt2() throws -> GPT2Tokenizer {
        let directory = try shared("gpt2-tokenizer")
        return try gpt2Cache.value { try GPT2Tokenizer(directory: directory) }
    }

    private static let gpt2Cache = LoadOnce<GPT2Tokenizer>()

    /// The committed fixture cases made by Fixtures/tokenizers/make_tokenizer_fixtures.py.
    static func gpt2Fixture() throws -> GPT2Fixture {
        let url = packageRoot.appendingPathComponent("Fixtures/tokenizers/gpt2_cases.json")
        return try JSONDecoder().decode(GPT2Fixture.self, from: Data(contentsOf: url))
    }
}

/// Caches one loaded value across tests (loading GPT-2 takes a moment in debug builds).
final class LoadOnce<Value: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: Value?

    func value(_ load: () throws -> Value) throws -> Value {
        lock.lock()
        defer { lock.unlock() }
        if let stored { return stored }
        let value = try load()
        stored = value
        return value
    }
}

// MARK: - Fixture format

struct GPT2Fixture: Decodable {
    struct Case: Decodable {
        var name: String
        var text: String
        var allowedSpecial: Bool
        var ids: [Int]
        var pieces: [String]?
        var rawUTF8Hex: String?

        enum CodingKeys: String, CodingKey {
            case name, text, ids, pieces
            case allowedSpecial = "allowed_special"
            case rawUTF8Hex = "raw_utf8_hex"
        }
    }

    struct Corpus: Decodable {
        var file: String
        var sha256: String
        var tokenCount: Int
        var idsFNV1a64: String

        enum CodingKeys: String, CodingKey {
            case file, sha256
            case tokenCount = "token_count"
            case idsFNV1a64 = "ids_fnv1a64"
        }
    }

    struct Training: Decodable {
        var file: String
        var vocabularySize: Int
        var specialTokens: [String]
        var merges: [String]
        var tokenCount: Int

        enum CodingKeys: String, CodingKey {
            case file, merges
            case vocabularySize = "vocab_size"
            case specialTokens = "special_tokens"
            case tokenCount = "token_count"
        }
    }

    var cases: [Case]
    var corpora: [Corpus]
    var training: [Training]
}

// MARK: - Helpers

/// FNV-1a 64 over the ids as little-endian UInt32 (as the fixture script computes it).
func fnv1a64(_ ids: [Int]) -> String {
    var hash: UInt64 = 0xCBF2_9CE4_8422_2325
    for id in ids {
        var value = UInt32(id)
        for _ in 0..<4 {
            hash = (hash ^ UInt64(value & 0xFF)) &* 0x0000_0100_0000_01B3
            value >>= 8
        }
    }
    let hex = String(hash, radix: 16)
    return String(repeating: "0", count: 16 - hex.count) + hex
}

/// Bytes from a hexadecimal string.
func bytes(hex: String) -> [UInt8] {
    let digits = Array(hex.utf8)
    return stride(from: 0, to: digits.count, by: 2).map {
        UInt8(String(decoding: digits[$0..<($0 + 2)], as: UTF8.self), radix: 16)!
    }
}

/// A new empty temporary directory, removed at the end of the test.
func makeTemporaryDirectory(_ testCase: XCTestCase) throws -> URL {
    let url = FileManager.default.temporaryDirectory
        .appendingPathComponent("GPTTokenizersTests-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    testCase.addTeardownBlock { try? FileManager.default.removeItem(at: url) }
    return url
}

/// Asserts that `body` throws exactly `expected`.
func XCTAssertThrowsTokenizerError<T>(
    _ expected: TokenizerError, file: StaticString = #filePath, line: UInt = #line, _ body: () throws -> T
) {
    do {
        _ = try body()
        XCTFail("expected \(expected) but nothing was thrown", file: file, line: line)
    } catch let error as TokenizerError {
        XCTAssertEqual(error, expected, file: file, line: line)
        XCTAssertFalse((error.errorDescription ?? "").isEmpty, file: file, line: line)
    } catch {
        XCTFail("expected \(expected) but got \(error)", file: file, line: line)
    }
}

// MARK: - SplitMix64 (from GPTTestSupport)

extension SplitMix64 {
    /// A random Unicode string of `count` scalars: mostly ASCII letters, digits, punctuation and
    /// whitespace, plus Latin-1, combining marks, other scripts, CJK, emoji, noncharacters and
    /// any valid scalar up to U+10FFFF.
    mutating func unicodeString(count: Int) -> String {
        var scalars = String.UnicodeScalarView()
        while scalars.count < count {
            let value: UInt32
            switch Int.random(in: 0..<10, using: &self) {
            case 0...2: value = UInt32.random(in: 0x20...0x7E, using: &self)
            case 3: value = [0x20, 0x0A, 0x09, 0x0D, 0x27, 0x0B, 0x0C, 0x85, 0xA0, 0x3000][Int.random(in: 0..<10, using: &self)]
            case 4: value = UInt32.random(in: 0x00...0xFF, using: &self)
            case 5: value = UInt32.random(in: 0x300...0x36F, using: &self)
            case 6: value = UInt32.random(in: 0x370...0x2FFF, using: &self)
            case 7: value = UInt32.random(in: 0x4E00...0x9FFF, using: &self)
            case 8: value = UInt32.random(in: 0x1F300...0x1FAFF, using: &self)
            default: value = UInt32.random(in: 0...0x10FFFF, using: &self)
            }
            if let scalar = Unicode.Scalar(value) { scalars.append(scalar) }
        }
        return String(scalars)
    }
}
