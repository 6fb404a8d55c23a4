// SentencePiece-style tokenizer.json files (Llama 2 / TinyLlama / Mistral layouts) and the NFC
// normalizer of Qwen2's layout, against Hugging Face tokenizers on the same files
// (Fixtures/make_sentencepiece_fixtures.py: the real stories260K tok512 model and one trained on
// tiny Shakespeare, 70 texts each).
import Foundation
import XCTest
@testable import GPTTokenizers

final class SentencePieceTokenizerTests: XCTestCase {
    static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Fixtures/sentencepiece")

    struct Cases: Decodable {
        struct Model: Decodable {
            let cases: [Case]
        }
        struct Case: Decodable {
            let text: String
            let sentencepiece: [Int]
            let hf_legacy: [Int]
            let hf_legacy_with_special: [Int]
            let hf_metaspace: [Int]
            let hf_metaspace_with_special: [Int]?
            let decoded: [String: String]
            let llama_cpp: [Int]?
            let llama_cpp_special: [Int]?
        }
        let models: [String: Model]
    }

    static func cases() throws -> Cases {
        try JSONDecoder().decode(Cases.self, from: Data(contentsOf: folder.appendingPathComponent("cases.json")))
    }

    /// Both layouts of both models give Hugging Face's ids on all 70 texts (special-token names
    /// parsed, as `tokenizers` does by default), and BOS as the post-processor adds it.
    func testTokenizerJSONLayoutsEqualHuggingFace() throws {
        let fixture = try Self.cases()
        XCTAssertEqual(Set(fixture.models.keys), ["tok512", "shakespeare2000"])
        for (name, model) in fixture.models.sorted(by: { $0.key < $1.key }) {
            XCTAssertEqual(model.cases.count, 70)
            for layout in ["legacy", "metaspace"] {
                let loaded = try TokenizerJSON.load(contentsOf: Self.folder.appendingPathComponent("\(name).\(layout).tokenizer.json"))
                let tokenizer = try XCTUnwrap(loaded as? SentencePieceTokenizer, "\(name).\(layout) is SentencePiece-style")
                XCTAssertEqual(tokenizer.spacePrefix, layout == "legacy" ? .everySegment : .firstSegment)
                XCTAssertTrue(tokenizer.addsBOSToken)
                XCTAssertEqual(tokenizer.bosTokenID, 1)
                XCTAssertEqual(tokenizer.eosTokenID, 2)
                XCTAssertEqual(tokenizer.unknownTokenID, 0)
                for item in model.cases {
                    let expected = layout == "legacy" ? item.hf_legacy : item.hf_metaspace
                    let ids = tokenizer.encode(item.text, parsingSpecialTokens: true)
                    XCTAssertEqual(ids, expected, "\(name).\(layout): \(item.text.debugDescription)")
                    if let withSpecial = layout == "legacy" ? item.hf_legacy_with_special : item.hf_metaspace_with_special {
                        XCTAssertEqual([tokenizer.bosTokenID!] + ids, withSpecial, "\(name).\(layout) with BOS: \(item.text.debugDescription)")
                    }
                    // Decoding the ground-truth ids gives what tokenizers' decoder gives.
                    XCTAssertEqual(try tokenizer.decode(item.sentencepiece), item.decoded["tokenizers"],
                                   "\(name).\(layout) decode: \(item.text.debugDescription)")
                    var stream = tokenizer.makeStreamingDecoder()
                    var streamed = ""
                    for id in item.sentencepiece { streamed += try stream.append(id) }
                    XCTAssertEqual(streamed + stream.finish(), item.decoded["tokenizers"], "\(name).\(layout) streamed")
                }
            }
        }
    }

    /// Without special-token parsing, a control token's name is text; SentencePiece itself
    /// never parses control names, and where the text has no extra spaces the legacy layout
    /// gives its ids.
    func testControlNamesAreTextUnlessParsed() throws {
        let tokenizer = try SentencePieceTokenizer(tokenizerJSON: Self.folder.appendingPathComponent("tok512.legacy.tokenizer.json"))
        let fixture = try Self.cases()
        let item = try XCTUnwrap(fixture.models["tok512"]?.cases.first { $0.text == "<s>hello</s>" })
        XCTAssertEqual(try tokenizer.encode(item.text), item.sentencepiece)
        XCTAssertEqual(tokenizer.encode(item.text, parsingSpecialTokens: true), item.hf_legacy)
        XCTAssertEqual(tokenizer.specialTokens["<s>"], 1)
        XCTAssertEqual(tokenizer.specialTokens["<unk>"], 0)
        XCTAssertEqual(tokenizer.piece(for: 1), "<s>")
        XCTAssertEqual(tokenizer.type(of: 1), .control)
        XCTAssertNil(tokenizer.piece(for: tokenizer.vocabularySize))
        XCTAssertThrowsError(try tokenizer.decode([tokenizer.vocabularySize]))
    }

    /// transformers 5's own layout (regex Replace normalizers, ignore_merges) is refused by name
    /// rather than tokenized differently; so are a changed decoder and options GPTKit lacks.
    func testUnsupportedLayoutsAreRefusedByName() throws {
        func refusal(_ url: URL) -> String? {
            do {
                _ = try TokenizerJSON.load(contentsOf: url)
                return nil
            } catch let error as TokenizerError {
                if case .unsupportedTokenizerJSON(_, let field, _) = error { return field }
                return "\(error)"
            } catch {
                return "\(error)"
            }
        }
        XCTAssertEqual(refusal(Self.folder.appendingPathComponent("tok512.spm.tokenizer.json")), "normalizer.normalizers[0]")
        let original = try String(contentsOf: Self.folder.appendingPathComponent("tok512.legacy.tokenizer.json"), encoding: .utf8)
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("gptkit-spm-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        for (from, to, field) in [
            (#""type":"Strip","content":" ","start":1"#, #""type":"Strip","content":" ","start":2"#, "decoder.decoders[3]"),
            (#""dropout":null"#, #""dropout":0.1"#, "model.dropout"),
            (#""type":"Prepend","prepend":"▁""#, #""type":"Prepend","prepend":"_""#, "normalizer.normalizers[0]"),
        ] {
            XCTAssertTrue(original.contains(from), from)
            let url = directory.appendingPathComponent("tokenizer.json")
            try original.replacingOccurrences(of: from, with: to).write(to: url, atomically: true, encoding: .utf8)
            XCTAssertEqual(refusal(url), field, from)
        }
    }

    /// The NFC normalizer of Qwen2's layout: ids equal tokenizers' on texts whose NFC differs
    /// from the input (decomposed accents, Å from the Angstrom sign, Hangul jamo) and others.
    func testNFCNormalizerEqualsHuggingFace() throws {
        struct NFCCases: Decodable {
            struct Case: Decodable {
                let text: String
                let ids: [Int]
                let changed_by_nfc: Bool
                let decoded: String
            }
            let nfc: [Case]
        }
        let fixture = try JSONDecoder().decode(NFCCases.self, from: Data(contentsOf: Self.folder.appendingPathComponent("nfc-cases.json")))
        let loaded = try TokenizerJSON.load(contentsOf: Self.folder.appendingPathComponent("nfc-qwen2-style.tokenizer.json"))
        let tokenizer = try XCTUnwrap(loaded as? GPT2Tokenizer)
        XCTAssertTrue(tokenizer.normalizesToNFC)
        XCTAssertEqual(tokenizer.preTokenization, .qwen2)
        XCTAssertGreaterThan(fixture.nfc.filter(\.changed_by_nfc).count, 5)
        for item in fixture.nfc {
            XCTAssertEqual(try tokenizer.encode(item.text, allowedSpecial: Set(tokenizer.specialTokens.keys)), item.ids, item.text.debugDescription)
            XCTAssertEqual(try tokenizer.decode(item.ids), item.decoded)
        }
        // Segments between special tokens are normalized apart: ">" + U+0338 stays two characters.
        let split = try tokenizer.encode("<|im_end|>\u{338}", allowedSpecial: ["<|im_end|>"])
        XCTAssertEqual(split.first, tokenizer.specialTokens["<|im_end|>"])
        XCTAssertEqual(try tokenizer.decode(Array(split.dropFirst())), "\u{338}")
    }
}
