// GGUF vocabularies with `tokenizer.ggml.model = llama` (SentencePiece BPE, scores, token types)
// against llama.cpp itself on the same files (Fixtures/make_sentencepiece_fixtures.py with
// llama-cpp-python): the real stories260K tok512 vocabulary and one trained on tiny
// Shakespeare, with user-defined pieces in a second file.
import Foundation
import XCTest
@testable import GPTModel
import GPTTensor
import GPTTokenizers

final class SentencePieceGGUFTests: XCTestCase {
    static let folder = repositoryRoot.appendingPathComponent("Fixtures/sentencepiece")

    struct Cases: Decodable {
        struct Model: Decodable { let cases: [Case] }
        struct Case: Decodable {
            let text: String
            let sentencepiece: [Int]
            let llama_cpp: [Int]
            let llama_cpp_special: [Int]
            let llama_cpp_detokenize_api: String
            let llama_cpp_user_defined: [Int]?
            let llama_cpp_user_defined_special: [Int]?
        }
        let models: [String: Model]
    }

    func testIDsEqualLlamaCpp() throws {
        let fixture = try JSONDecoder().decode(Cases.self, from: Data(contentsOf: Self.folder.appendingPathComponent("cases.json")))
        let files = [("tok512", "tok512.gguf", false), ("shakespeare2000", "shakespeare2000.gguf", false),
                     ("shakespeare2000", "shakespeare2000.user-defined.gguf", true)]
        for (model, fileName, userDefined) in files {
            let file = try GGUFFile(contentsOf: Self.folder.appendingPathComponent(fileName))
            let tokenizer = try XCTUnwrap(try file.tokenizer(name: fileName) as? SentencePieceTokenizer, fileName)
            XCTAssertEqual(tokenizer.spacePrefix, .everySegment)
            XCTAssertTrue(tokenizer.addsBOSToken)
            XCTAssertEqual([tokenizer.bosTokenID, tokenizer.eosTokenID, tokenizer.unknownTokenID], [1, 2, 0])
            let cases = try XCTUnwrap(fixture.models[model]).cases
            XCTAssertEqual(cases.count, 70)
            for item in cases {
                let special = try XCTUnwrap(userDefined ? item.llama_cpp_user_defined_special : item.llama_cpp_special)
                let plain = try XCTUnwrap(userDefined ? item.llama_cpp_user_defined : item.llama_cpp)
                XCTAssertEqual(tokenizer.encode(item.text, parsingSpecialTokens: true), special, "\(fileName): \(item.text.debugDescription)")
                // Without special-token parsing, user-defined pieces are still matched and control
                // ones (including a piece named "<|im_end|>", which llama.cpp makes a control token
                // by its name) are text.
                XCTAssertEqual(try tokenizer.encode(item.text), plain, "\(fileName) plain: \(item.text.debugDescription)")
                if !userDefined {
                    // llama.cpp's detokenizer (llama_detokenize, dropping the dummy-prefix space).
                    XCTAssertEqual(try tokenizer.decode(plain), item.llama_cpp_detokenize_api, "\(fileName) decode: \(item.text.debugDescription)")
                }
            }
        }
    }

    /// Malformed tokenizer metadata is a clear error naming the key.
    func testMalformedMetadataIsNamed() throws {
        let file = try GGUFFile(contentsOf: Self.folder.appendingPathComponent("tok512.gguf"))
        var metadata = file.metadata
        metadata["tokenizer.ggml.scores"] = .array(elementType: .float32, [.float32(0)])
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("gptkit-spm-\(UUID().uuidString).gguf")
        defer { try? FileManager.default.removeItem(at: url) }
        try GGUFFile.write(metadata: file.metadataKeys.map { (key: $0, value: metadata[$0]!) }, tensors: [], to: url)
        XCTAssertThrowsError(try GGUFFile(contentsOf: url).tokenizer()) { error in
            XCTAssertTrue("\(error)".contains("tokenizer.ggml.scores"), "\(error)")
        }
    }
}
