import Foundation
import GPTLayers
@testable import GPTModel
import GPTTokenizers
import GPTTensor
import XCTest

final class GenerationTests: XCTestCase {
    let sampling = SamplingParameters(temperature: 0.9, topK: 20, topP: 0.95, repetitionPenalty: 1.2)

    func testGreedyMatchesArgmaxOfTheFullForwardPass() throws {
        let model = try randomModel(.nano, seed: 21)
        let prompt = [5, 9, 2]
        let produced = try GenerationSession(model: model, options: GenerationOptions(maximumNewTokens: 10)).generate(prompt: prompt)
        XCTAssertEqual(produced.count, 10)
        var sequence = prompt
        for token in produced {
            let logits = Array(try model.forward(tokens: sequence, batch: 1, time: sequence.count).scalars.suffix(64))
            XCTAssertEqual(token, logits.indices.max { logits[$0] < logits[$1] })
            sequence.append(token)
        }
    }

    func testSameSeedSameSamples() throws {
        let model = try randomModel(.nano, seed: 22)
        func run(seed: UInt64) throws -> [Int] {
            try GenerationSession(model: model, options: GenerationOptions(maximumNewTokens: 24, sampling: sampling, seed: seed))
                .generate(prompt: [1, 2])
        }
        let first = try run(seed: 7)
        XCTAssertEqual(try run(seed: 7), first)
        XCTAssertNotEqual(try run(seed: 8), first)
        // Restarting a session restarts its generator.
        let session = try GenerationSession(model: model, options: GenerationOptions(maximumNewTokens: 24, sampling: sampling, seed: 7))
        _ = try session.generate(prompt: [3])
        XCTAssertEqual(try session.generate(prompt: [1, 2]), first)
        XCTAssertEqual(session.tokens, [1, 2] + first)
        XCTAssertEqual(session.finishReason, .maximumNewTokens)
    }

    func testStopTokensAndLimits() throws {
        let model = try randomModel(.nano, seed: 23)
        let greedy = try GenerationSession(model: model, options: GenerationOptions(maximumNewTokens: 6)).generate(prompt: [4])
        let stop = greedy[2]
        let session = try GenerationSession(model: model, options: GenerationOptions(maximumNewTokens: 6, stopTokens: [stop]))
        let produced = try session.generate(prompt: [4])
        XCTAssertEqual(produced, Array(greedy.prefix(while: { $0 != stop })))
        XCTAssertEqual(session.finishReason, .stopToken(stop))
        XCTAssertNil(try session.next(), "finished sessions return nil")
        XCTAssertEqual(try GenerationSession(model: model, options: GenerationOptions(maximumNewTokens: 0)).generate(prompt: [4]), [])
    }

    func testContextLimitStopsOrSlides() throws {
        let model = try randomModel(.nano, seed: 24)   // context 32
        let prompt = randomTokens(30, vocabulary: 64, seed: 1)
        let stopping = try GenerationSession(model: model, options: GenerationOptions(maximumNewTokens: 10))
        let stopped = try stopping.generate(prompt: prompt)
        XCTAssertEqual(stopped.count, 3, "positions 30 and 31 are fed; the token after position 31 is the last")
        XCTAssertEqual(stopping.finishReason, .contextFull)
        let sliding = try GenerationSession(model: model, options: GenerationOptions(maximumNewTokens: 20, contextOverflow: .slide))
        let slid = try sliding.generate(prompt: prompt)
        XCTAssertEqual(slid.count, 20)
        XCTAssertEqual(Array(slid.prefix(3)), stopped)
        XCTAssertEqual(sliding.finishReason, .maximumNewTokens)
        XCTAssertLessThanOrEqual(sliding.cache.length, 32)
        // A prompt longer than the context: an error when stopping, cut when sliding.
        let long = randomTokens(40, vocabulary: 64, seed: 2)
        assertThrows(.contextOverflow(length: 40, limit: 32)) { try stopping.start(prompt: long) }
        XCTAssertEqual(try sliding.generate(prompt: long).count, 20)
        XCTAssertEqual(sliding.tokens.count, 60)
    }

    func testBadInputsThrow() throws {
        let model = try randomModel(.nano, seed: 25)
        let session = try GenerationSession(model: model)
        assertThrows(.invalidState("call start(prompt:) before next()")) { try session.next() }
        assertThrows(.invalidInput("the prompt needs at least one token (e.g. BOS)")) { try session.start(prompt: []) }
        assertThrows(.tokenOutOfRange(token: 99, vocabularySize: 64)) { try session.start(prompt: [1, 99]) }
        // A bad id in the part of a long prompt that sliding drops is still an error, not a crash.
        let sliding = try GenerationSession(model: model, options: GenerationOptions(contextOverflow: .slide))
        assertThrows(.tokenOutOfRange(token: 70, vocabularySize: 64)) { try sliding.start(prompt: [70] + [Int](repeating: 1, count: 100)) }
        assertThrows(.tokenOutOfRange(token: -1, vocabularySize: 64)) { try sliding.start(prompt: [-1] + [Int](repeating: 1, count: 100)) }
        for bad in [SamplingParameters(temperature: -1), SamplingParameters(topK: 0), SamplingParameters(topP: 1.5),
                    SamplingParameters(repetitionPenalty: 0)] {
            assertThrows(file: #filePath, line: #line, { try GenerationSession(model: model, options: GenerationOptions(sampling: bad)) }) {
                if case .invalidInput = $0 { true } else { false }
            }
        }
    }

    func testNonFiniteWeightsAreNamedInsteadOfGeneratingTokenZero() throws {
        let healthy = try randomModel(.nano, seed: 26)
        XCTAssertTrue(healthy.weights.nonFiniteParameters().isEmpty)
        let name = "h.1.mlp.c_fc.weight"
        var poisoned = try XCTUnwrap(healthy.weights.value(of: XCTUnwrap(healthy.layout.entry(named: name)).slot))
        poisoned.withUnsafeMutableBufferPointer { $0[5] = .nan; $0[77] = .infinity; $0[$0.count - 1] = -.infinity }
        let model = try healthy.replacingParameters([name: poisoned])
        let bad = model.weights.nonFiniteParameters()
        XCTAssertEqual(bad.map(\.name), [name])
        XCTAssertEqual(bad.map(\.count), [3])
        let session = try GenerationSession(model: model)
        try session.start(prompt: [1, 2, 3])
        assertThrows(file: #filePath, line: #line, { try session.next() }) {
            guard case .invalidState(let message) = $0 else { return false }
            return message.contains("\(name) (3)") && message.contains("NaN or infinity")
        }
    }

    func testRestartingReusesTheCachedPrefixAndGivesFreshResults() throws {
        let model = try randomModel(.nano, seed: 31)
        let options = GenerationOptions(maximumNewTokens: 5)
        let session = try GenerationSession(model: model, options: options)
        let first = [1, 2, 3, 4]
        let reply = try session.generate(prompt: first)
        XCTAssertEqual(session.reusedTokenCount, 0)
        // The next turn begins with the whole first turn: everything but the unfed last reply token is reused.
        let second = first + reply + [7, 8]
        try session.start(prompt: second, reusingCachedPrefix: true)
        XCTAssertEqual(session.reusedTokenCount, first.count + reply.count - 1)
        var continued: [Int] = []
        while let token = try session.next() { continued.append(token) }
        let fresh = try GenerationSession(model: model, options: options)
        XCTAssertEqual(continued, try fresh.generate(prompt: second))
        try fresh.start(prompt: second)
        try session.start(prompt: second, reusingCachedPrefix: true)
        XCTAssertEqual(session.reusedTokenCount, second.count - 1, "all but the last prompt token")
        assertClose(session.nextTokenLogits.scalars, fresh.nextTokenLogits.scalars, rtol: 1e-5, atol: 1e-5, "logits after reuse")
        // A prompt that diverges early keeps only the common part; without the flag nothing is kept.
        try session.start(prompt: [1, 2, 9, 9], reusingCachedPrefix: true)
        XCTAssertEqual(session.reusedTokenCount, 2)
        try session.start(prompt: second)
        XCTAssertEqual(session.reusedTokenCount, 0)
    }

    func testConcurrentSessionsMatchSequentialOnes() async throws {
        let model = try randomModel(llamaNano, seed: 26)
        let sampling = self.sampling
        func run(_ index: Int) throws -> [Int] {
            let options = GenerationOptions(maximumNewTokens: 16, sampling: index == 0 ? .greedy : sampling, seed: UInt64(index))
            return try GenerationSession(model: model, options: options).generate(prompt: [index + 1, 3, 5])
        }
        let sequential = try (0..<8).map(run)
        let concurrent = try await withThrowingTaskGroup(of: (Int, [Int]).self) { group in
            for index in 0..<8 { group.addTask { (index, try run(index)) } }
            var results = [[Int]](repeating: [], count: 8)
            for try await (index, tokens) in group { results[index] = tokens }
            return results
        }
        XCTAssertEqual(concurrent, sequential)
        XCTAssertEqual(Set(sequential).count, 8)
    }

    func testTokenStreamMatchesTheSession() async throws {
        let model = try randomModel(.nano, seed: 27)
        let options = GenerationOptions(maximumNewTokens: 12, sampling: sampling, seed: 3)
        let expected = try GenerationSession(model: model, options: options).generate(prompt: [7])
        var streamed: [Int] = []
        for try await token in model.tokenStream(prompt: [7], options: options) { streamed.append(token) }
        XCTAssertEqual(streamed, expected)
        // Errors arrive through the stream.
        do {
            for try await _ in model.tokenStream(prompt: []) {}
            XCTFail("expected an error")
        } catch { XCTAssertEqual(error as? ModelError, .invalidInput("the prompt needs at least one token (e.g. BOS)")) }
    }

    func testTextStreamJoinsToTheDecodedSequence() async throws {
        let model = try randomModel(.nano, seed: 28)
        let options = GenerationOptions(maximumNewTokens: 10)
        let expected = try GenerationSession(model: model, options: options).generate(prompt: [1])
        var text = ""
        for try await piece in model.textStream(prompt: [1], options: options, decoder: StreamingDecoder { id, _ in Array("<\(id)>".utf8) }) {
            XCTAssertFalse(piece.isEmpty)
            text += piece
        }
        XCTAssertEqual(text, expected.map { "<\($0)>" }.joined())
    }

    func testIncrementalDecoderHoldsBackIncompleteCharacters() throws {
        // Token i is byte i; "é" is 0xC3 0xA9, "€" is 0xE2 0x82 0xAC.
        let decoder = StreamingDecoder { id, _ in [UInt8(id)] }
        var incremental = try StreamingTextAdapter(decoder: decoder, prompt: [0x41])
        XCTAssertEqual(try incremental.elements(for: 0xC3), [])
        XCTAssertEqual(try incremental.elements(for: 0xA9), ["é"])
        XCTAssertEqual(try incremental.elements(for: 0x20), [" "])
        XCTAssertEqual(try incremental.elements(for: 0xE2), [])
        XCTAssertEqual(try incremental.elements(for: 0x82), [])
        XCTAssertEqual(try incremental.elements(for: 0xAC), ["€"])
        XCTAssertEqual(try incremental.elements(for: 0xC3), [])
        XCTAssertEqual(incremental.finish(), ["\u{FFFD}"], "an incomplete character at the end is flushed")
    }

    func testCancellingTheConsumerStopsGeneration() async throws {
        let model = try randomModel(.nano, seed: 29)
        let counter = Counter()
        let decoder = StreamingDecoder { id, _ in
            counter.increment()
            return Array("\(id) ".utf8)
        }
        // Effectively endless: sliding window, a huge token budget.
        let options = GenerationOptions(maximumNewTokens: 1_000_000, sampling: sampling, contextOverflow: .slide)
        var received = 0
        for try await _ in model.textStream(prompt: [1], options: options, decoder: decoder) {
            received += 1
            if received == 5 { break }
        }
        // The producer notices within a step; afterwards the count stays put.
        try await Task.sleep(nanoseconds: 300_000_000)
        let settled = counter.value
        try await Task.sleep(nanoseconds: 300_000_000)
        XCTAssertEqual(counter.value, settled, "generation continued after the consumer stopped")
        XCTAssertLessThan(settled, 1_000_000)
    }
}

/// A thread-safe counter for the cancellation test.
final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0
    func increment() { lock.withLock { count += 1 } }
    var value: Int { lock.withLock { count } }
}
