import Foundation
import GPTKit
import XCTest

/// The README's "Using GPTKit from Swift" code, run as a test. The block between the markers is
/// the README's code (less its imports, indented); `testReadmeCodeIsCopyIdentical` fails if the two
/// drift apart.
final class ReadmeExamplesTests: XCTestCase {
    static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    func testReadmeCodeRuns() async throws {
        XCTAssertTrue(FileManager.default.changeCurrentDirectoryPath(Self.packageRoot.path))
        // BEGIN README
        // Train a small character-level model on a text.
        let text = String(repeating: "to be or not to be, that is the question. ", count: 100)
        let tokenizer = CharacterTokenizer(trainingText: text)
        var configuration = GPTConfiguration.nano
        configuration.vocabularySize = tokenizer.vocabularySize
        let model = try GPT(configuration: configuration, seed: 42)

        var settings = TrainingConfiguration(batchSize: 8, sequenceLength: 32, steps: 40)
        settings.schedule = .warmupCosine(maximum: 1e-2, minimum: 1e-3, warmupSteps: 5, decaySteps: 40)
        let trainer = try Trainer(model: model, configuration: settings,
                                  training: TokenDataset(tokens: tokenizer.encode(text)))
        try trainer.run { progress in
            if progress.step % 10 == 0 { print("step \(progress.step): loss \(progress.loss)") }
        }
        try trainer.saveCheckpoint(to: FileManager.default.temporaryDirectory.appendingPathComponent("readme-run"))

        // Generate from the trained weights (`trainer.model`, an immutable snapshot; `model` is
        // unchanged): greedy here; temperature, top-k, top-p and a seed are options.
        let session = try GenerationSession(model: trainer.model, options: GenerationOptions(maximumNewTokens: 24))
        let continuation = try session.generate(prompt: tokenizer.encode("to be or "))
        print(try tokenizer.decode(continuation))

        // Load a Hugging Face GPT-2 checkpoint (config.json + model.safetensors) and stream tokens.
        let gpt2 = try GPT(directory: URL(fileURLWithPath: "Fixtures/tiny-gpt2"))
        for try await token in gpt2.tokenStream(prompt: [1, 2, 3], options: GenerationOptions(maximumNewTokens: 5)) {
            print(token, terminator: " ")
        }
        // END README
        XCTAssertLessThan(trainer.trainingLosses.last!.loss, trainer.trainingLosses.first!.loss / 2)
        XCTAssertEqual(continuation.count, 24)
        XCTAssertEqual(try tokenizer.decode(continuation).count, 24)
    }

    func testReadmeCodeIsCopyIdentical() throws {
        let readme = try String(contentsOf: Self.packageRoot.appendingPathComponent("README.md"), encoding: .utf8)
        let marker = "<!-- readme-example: Tests/GPTKitTests/ReadmeExamplesTests.swift -->"
        let afterMarker = try XCTUnwrap(readme.range(of: marker)).upperBound
        let blockStart = try XCTUnwrap(readme.range(of: "```swift\n", range: afterMarker..<readme.endIndex)).upperBound
        let blockEnd = try XCTUnwrap(readme.range(of: "```", range: blockStart..<readme.endIndex)).lowerBound
        let readmeLines = readme[blockStart..<blockEnd].split(separator: "\n", omittingEmptySubsequences: false)
            .map(String.init).filter { !$0.hasPrefix("import ") }
        let source = try String(contentsOf: URL(fileURLWithPath: #filePath), encoding: .utf8)
        let begin = try XCTUnwrap(source.range(of: "// BEGIN README\n")).upperBound
        let end = try XCTUnwrap(source.range(of: "        // END " + "README")).lowerBound
        let testLines = source[begin..<end].split(separator: "\n", omittingEmptySubsequences: false)
            .map { $0.hasPrefix("        ") ? String($0.dropFirst(8)) : String($0) }
        func trimmed(_ lines: [String]) -> [String] {
            var result = lines
            while result.first?.isEmpty == true { result.removeFirst() }
            while result.last?.isEmpty == true { result.removeLast() }
            return result
        }
        XCTAssertEqual(trimmed(readmeLines), trimmed(testLines))
    }
}
