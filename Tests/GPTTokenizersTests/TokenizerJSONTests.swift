// TokenizerJSONTests: loading Hugging Face tokenizer.json files: the supported layout loads
// like the OpenAI files; other models, pre-tokenizers and options throw the specific error.

import Foundation
import XCTest
@testable import GPTTokenizers

final class TokenizerJSONTests: XCTestCase {
    // MARK: - A tiny tokenizer.json

    /// A tokenizer.json object for the tiny vocabulary of GPT2LoadingErrorTests.
    static func tinyTokenizerJSON() -> [String: Any] {
        var vocabulary: [String: Int] = [:]
        for (token, id) in GPT2LoadingErrorTests.tinyVocabulary() { vocabulary[token] = id }
        return [
            "version": "1.0",
            "truncation": ["max_length": 50, "strategy": "LongestFirst", "direction": "Right", "stride": 0],
            "padding": NSNull(),
            "added_tokens": [[
                "id": 259, "content": "<|endoftext|>", "single_word": false, "lstrip": false, "rstrip": false,
                "normalized": true, "special": true,
            ]],
            "normalizer": NSNull(),
            "pre_tokenizer": ["type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true, "use_regex": true],
            "post_processor": ["type": "ByteLevel", "add_prefix_space": true, "trim_offsets": false, "use_regex": true],
            "decoder": ["type": "ByteLevel", "add_prefix_space": true, "trim_offsets": true, "use_regex": true],
            "model": [
                "type": "BPE", "dropout": NSNull(), "unk_token": NSNull(), "continuing_subword_prefix": "",
                "end_of_word_suffix": "", "fuse_unk": false, "byte_fallback": false,
                "vocab": vocabulary, "merges": GPT2LoadingErrorTests.tinyMerges,
            ] as [String: Any],
        ]
    }

    func write(_ object: [String: Any]) throws -> URL {
        let url = try makeTemporaryDirectory(self).appendingPathComponent("tokenizer.json")
        try JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted]).write(to: url)
        return url
    }

    /// Returns the tiny tokenizer.json with `path` (e.g. ["model", "type"]) set to `value`.
    static func modified(_ path: [String], _ value: Any) -> [String: Any] {
        func set(_ object: [String: Any], _ path: ArraySlice<String>) -> [String: Any] {
            var object = object
            if path.count == 1 {
                object[path.first!] = value
            } else {
                object[path.first!] = set(object[path.first!] as? [String: Any] ?? [:], path.dropFirst())
            }
            return object
        }
        return set(tinyTokenizerJSON(), path[...])
    }

    // MARK: - Supported

    func testTinyTokenizerJSONLoadsLikeTheOpenAIFiles() throws {
        let tokenizer = try GPT2Tokenizer(tokenizerJSON: try write(Self.tinyTokenizerJSON()))
        XCTAssertEqual(tokenizer.vocabularySize, 260)
        XCTAssertEqual(tokenizer.specialTokens, ["<|endoftext|>": 259])
        let space = ByteLevelAlphabet.bytesInVocabularyOrder.firstIndex(of: 0x20)!
        XCTAssertEqual(try tokenizer.encode(" the he<|endoftext|>", allowedSpecial: ["<|endoftext|>"]), [258, space, 257, 259])
    }

    func testMergesAsArraysAreAccepted() throws {
        let merges = GPT2LoadingErrorTests.tinyMerges.map { $0.split(separator: " ").map(String.init) }
        let tokenizer = try GPT2Tokenizer(tokenizerJSON: try write(Self.modified(["model", "merges"], merges)))
        XCTAssertEqual(try tokenizer.encode(" the"), [258])
    }

    // MARK: - Rejected

    func testUnsupportedModelTypeThrows() throws {
        let url = try write(Self.modified(["model", "type"], "WordPiece"))
        XCTAssertThrowsTokenizerError(.unsupportedTokenizerJSON(path: url.path, field: "model.type", value: "\"WordPiece\"")) {
            try GPT2Tokenizer(tokenizerJSON: url)
        }
    }

    func testUnsupportedPreTokenizerThrows() throws {
        let url = try write(Self.modified(["pre_tokenizer"], ["type": "Whitespace"]))
        XCTAssertThrowsTokenizerError(.unsupportedTokenizerJSON(path: url.path, field: "pre_tokenizer.type", value: "\"Whitespace\"")) {
            try GPT2Tokenizer(tokenizerJSON: url)
        }
        let sequence = try write(Self.modified(["pre_tokenizer"], ["type": "Sequence", "pretokenizers": []]))
        XCTAssertThrowsTokenizerError(.unsupportedTokenizerJSON(path: sequence.path, field: "pre_tokenizer.pretokenizers", value: "an array of 0 items")) {
            try GPT2Tokenizer(tokenizerJSON: sequence)
        }
        let otherRegex = try write(Self.modified(["pre_tokenizer"], ["type": "Sequence", "pretokenizers": [
            ["type": "Split", "pattern": ["Regex": "\\s+"], "behavior": "Isolated", "invert": false],
            ["type": "ByteLevel", "add_prefix_space": false, "use_regex": false]]]))
        XCTAssertThrowsTokenizerError(.unsupportedTokenizerJSON(path: otherRegex.path, field: "pre_tokenizer.pretokenizers[0].pattern", value: "an object")) {
            try GPT2Tokenizer(tokenizerJSON: otherRegex)
        }
    }

    /// The pre-tokenizer sequences of SmolLM (digits one by one, then ByteLevel) and of Llama 3 /
    /// Qwen2 (a Split on their pattern, then ByteLevel without its own regex) are read.
    func testKnownPreTokenizerSequencesAreRead() throws {
        let byteLevel: [String: Any] = ["type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true, "use_regex": true]
        let digits = try write(Self.modified(["pre_tokenizer"], ["type": "Sequence", "pretokenizers": [
            ["type": "Digits", "individual_digits": true], byteLevel]]))
        XCTAssertEqual(try GPT2Tokenizer(tokenizerJSON: digits).preTokenization, .gpt2IndividualDigits)
        for (pattern, expected) in TokenizerJSONReader.splitPatterns {
            var plain = byteLevel
            plain["use_regex"] = false
            let url = try write(Self.modified(["pre_tokenizer"], ["type": "Sequence", "pretokenizers": [
                ["type": "Split", "pattern": ["Regex": pattern], "behavior": "Isolated", "invert": false], plain]]))
            XCTAssertEqual(try GPT2Tokenizer(tokenizerJSON: url).preTokenization, expected)
        }
        XCTAssertEqual(try GPT2Tokenizer(tokenizerJSON: write(Self.tinyTokenizerJSON())).preTokenization, .gpt2)
    }

    func testOptionsThatChangeTokenizationThrow() throws {
        let rejected: [([String], Any, String, String)] = [
            (["pre_tokenizer", "add_prefix_space"], true, "pre_tokenizer.add_prefix_space", "true"),
            (["pre_tokenizer", "use_regex"], false, "pre_tokenizer.use_regex", "false"),
            (["normalizer"], ["type": "NFKC"], "normalizer", "an object"),
            (["model", "dropout"], 0.1, "model.dropout", "0.1"),
            (["model", "continuing_subword_prefix"], "##", "model.continuing_subword_prefix", "\"##\""),
            (["model", "byte_fallback"], true, "model.byte_fallback", "true"),
            (["model", "ignore_merges"], true, "model.ignore_merges", "true"),
            (["decoder", "type"], "WordPiece", "decoder.type", "\"WordPiece\""),
        ]
        for (path, value, field, summary) in rejected {
            let url = try write(Self.modified(path, value))
            XCTAssertThrowsTokenizerError(.unsupportedTokenizerJSON(path: url.path, field: field, value: summary)) {
                try GPT2Tokenizer(tokenizerJSON: url)
            }
        }
    }

    func testStrippingAddedTokenThrows() throws {
        var object = Self.tinyTokenizerJSON()
        object["added_tokens"] = [["id": 259, "content": "<|endoftext|>", "lstrip": true, "special": true]]
        let url = try write(object)
        XCTAssertThrowsTokenizerError(
            .unsupportedTokenizerJSON(path: url.path, field: "added_tokens[0] ('<|endoftext|>').lstrip", value: "true")
        ) {
            try GPT2Tokenizer(tokenizerJSON: url)
        }
    }

    func testMissingModelThrowsUnexpectedJSON() throws {
        var object = Self.tinyTokenizerJSON()
        object["model"] = nil
        let url = try write(object)
        XCTAssertThrowsTokenizerError(.unexpectedJSON(path: url.path, reason: "missing object 'model'")) {
            try GPT2Tokenizer(tokenizerJSON: url)
        }
    }

    func testMergeWithUnknownSymbolThrows() throws {
        let url = try write(Self.modified(["model", "merges"], ["Ġ t", "q zz"]))
        XCTAssertThrowsTokenizerError(.unknownMergeSymbol(path: url.path, line: 2, symbol: "zz")) {
            try GPT2Tokenizer(tokenizerJSON: url)
        }
    }
}
