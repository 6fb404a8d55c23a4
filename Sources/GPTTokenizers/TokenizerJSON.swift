// TokenizerJSON: a Hugging Face `tokenizer.json` of either kind GPTKit reads — byte-level BPE
// (GPT-2, SmolLM, Llama 3, Qwen2) or SentencePiece-style BPE with byte fallback (Llama 2,
// TinyLlama, Mistral) — loaded as the matching tokenizer.

import Foundation

// MARK: - TokenizerJSON

/// Loads Hugging Face `tokenizer.json` files.
///
/// ```swift
/// let tokenizer = try TokenizerJSON.load(contentsOf: folder.appendingPathComponent("tokenizer.json"))
/// // a GPT2Tokenizer for byte-level BPE, a SentencePieceTokenizer for byte-fallback BPE
/// ```
public enum TokenizerJSON {
    /// Returns the tokenizer a `tokenizer.json` describes: a ``SentencePieceTokenizer`` when its
    /// BPE model has `byte_fallback` or its text is marked with "▁" (`Metaspace`, `Prepend`),
    /// else a ``GPT2Tokenizer``.
    /// - Throws: ``TokenizerError`` for unreadable or malformed JSON, and
    ///   ``TokenizerError/unsupportedTokenizerJSON(path:field:value:)`` naming a component or
    ///   option neither tokenizer implements.
    public static func load(contentsOf url: URL) throws -> any Tokenizer {
        let root = try parse(url)
        if isSentencePiece(root) { return try SentencePieceTokenizer(tokenizerJSON: root, path: url.path) }
        return try GPT2Tokenizer(tokenizerJSON: root, path: url.path)
    }

    /// Reads and parses the file.
    static func parse(_ url: URL) throws -> JSONValue {
        let data = try FileIO.read(url)
        return try data.withUnsafeBytes { raw -> JSONValue in
            var scanner = JSONScanner(bytes: raw.bindMemory(to: UInt8.self), path: url.path)
            let value = try scanner.scanValue()
            try scanner.expectEnd()
            return value
        }
    }

    /// Whether the file is SentencePiece-style: byte fallback, a Metaspace pre-tokenizer or a
    /// normalizer that writes "▁".
    static func isSentencePiece(_ root: JSONValue) -> Bool {
        guard case .object(let top) = root else { return false }
        if case .object(let model)? = top["model"], model["byte_fallback"] == .bool(true) { return true }
        if case .object(let pre)? = top["pre_tokenizer"], pre["type"] == .string("Metaspace") { return true }
        if let normalizer = top["normalizer"], containsString(normalizer, "▁") { return true }
        return false
    }

    /// Whether a string anywhere in `value` contains `text`.
    static func containsString(_ value: JSONValue, _ text: String) -> Bool {
        switch value {
        case .string(let string): return string.contains(text)
        case .array(let items): return items.contains { containsString($0, text) }
        case .object(let members): return members.values.contains { containsString($0, text) }
        default: return false
        }
    }
}
