// Several sequences decoded in one pass (GPT.forward(batch:caches:), GenerationSession.next(_:))
// against each sequence decoded alone.
import Foundation
import GPTLayers
@testable import GPTModel
import GPTTensor
import XCTest

final class BatchedDecodingTests: XCTestCase {
    /// Each row of a batched step equals that sequence's step alone, for sequences at different
    /// positions taking different numbers of new tokens, in every positional scheme and cache precision.
    func testABatchedStepGivesEachSequenceItsOwnLogits() throws {
        for (configuration, precision) in [(GPTConfiguration.nano, KVCachePrecision.float32), (llamaNano, .float32), (llamaNano, .float16)] {
            let model = try randomModel(configuration, seed: 31)
            let v = configuration.vocabularySize
            let prompts = [[1, 2, 3], [7], [4, 9, 9, 9, 2, 5], [11, 3]]
            let steps = [[5], [6, 8, 1], [2], [3, 3]]
            let batched = prompts.map { _ in model.makeCache(precision: precision) }
            let alone = prompts.map { _ in model.makeCache(precision: precision) }
            for (prompt, (a, b)) in zip(prompts, zip(batched, alone)) {
                _ = try model.forward(tokens: prompt, cache: a)
                _ = try model.forward(tokens: prompt, cache: b)
            }
            let logits = try model.forward(batch: steps, caches: batched)
            XCTAssertEqual(logits.shape, [4, v])
            for (index, (step, cache)) in zip(steps, alone).enumerated() {
                let expected = try model.forward(tokens: step, cache: cache).scalars
                assertClose(Array(logits.scalars[index * v ..< (index + 1) * v]), expected, rtol: 1e-5, atol: 1e-5)
                XCTAssertEqual(batched[index].length, prompts[index].count + step.count)
            }
            // The caches hold the same keys and values: the next steps agree too.
            let next = try model.forward(batch: [[1], [2], [3], [4]], caches: batched)
            for index in 0..<4 {
                let expected = try model.forward(tokens: [index + 1], cache: alone[index]).scalars
                assertClose(Array(next.scalars[index * v ..< (index + 1) * v]), expected, rtol: 1e-5, atol: 1e-5)
            }
        }
    }

    func testBadBatchesThrowAndAppendNothing() throws {
        let model = try randomModel(llamaNano, seed: 32)   // context 24, vocabulary 40
        let caches = [model.makeCache(), model.makeCache()]
        _ = try model.forward(batch: [[1, 2], Array(repeating: 3, count: 20)], caches: caches)
        XCTAssertEqual(caches.map(\.length), [2, 20])
        assertThrows(.contextOverflow(length: 25, limit: 24)) { try model.forward(batch: [[1], [1, 2, 3, 4, 5]], caches: caches) }
        assertInvalidInput {
            try model.forward(batch: [[1], []], caches: caches)
        }
        assertInvalidInput {
            try model.forward(batch: [[1], [2]], caches: [caches[0], caches[0]])
        }
        assertInvalidInput {
            try model.forward(batch: [[1]], caches: caches)
        }
        assertThrows(.tokenOutOfRange(token: 40, vocabularySize: 40)) { try model.forward(batch: [[1], [40]], caches: caches) }
        let other = try randomModel(.nano, seed: 33)
        assertInvalidInput {
            try model.forward(batch: [[1]], caches: [other.makeCache()])
        }
        XCTAssertEqual(caches.map(\.length), [2, 20], "a refused batch appends to no cache")
        XCTAssertEqual(try model.forward(batch: [], caches: []).shape, [0, 40])
    }

    /// Sessions stepped together produce what each produces alone: greedy and sampled, with stop
    /// tokens, different limits, a context that fills (stopping) and one that slides.
    func testSessionsSteppedTogetherMatchSessionsAlone() throws {
        let model = try randomModel(llamaNano, seed: 34)
        let sampling = SamplingParameters(temperature: 0.9, topK: 20, topP: 0.95, repetitionPenalty: 1.2)
        let greedyAlone = try GenerationSession(model: model, options: GenerationOptions(maximumNewTokens: 8)).generate(prompt: [2, 4])
        let cases: [(options: GenerationOptions, prompt: [Int])] = [
            (GenerationOptions(maximumNewTokens: 12), [1, 2, 3]),
            (GenerationOptions(maximumNewTokens: 20, sampling: sampling, seed: 5), [5]),
            (GenerationOptions(maximumNewTokens: 8, stopTokens: [greedyAlone[3]]), [2, 4]),
            (GenerationOptions(maximumNewTokens: 3), [9, 9]),
            (GenerationOptions(maximumNewTokens: 10), randomTokens(20, vocabulary: 40, seed: 3)),   // context full after 5
            (GenerationOptions(maximumNewTokens: 30, sampling: sampling, seed: 6, contextOverflow: .slide), randomTokens(18, vocabulary: 40, seed: 4)),
            (GenerationOptions(maximumNewTokens: 6, cachePrecision: .float16), [3, 1]),
        ]
        let alone = try cases.map { c -> ([Int], FinishReason?) in
            let session = try GenerationSession(model: model, options: c.options)
            return (try session.generate(prompt: c.prompt), session.finishReason)
        }
        let sessions = try cases.map { try GenerationSession(model: model, options: $0.options) }
        for (session, c) in zip(sessions, cases) { try session.start(prompt: c.prompt) }
        var produced = [[Int]](repeating: [], count: cases.count), steps = 0
        while true {
            let step = try GenerationSession.next(sessions)
            XCTAssertEqual(step.count, sessions.count)
            guard step.contains(where: { $0 != nil }) else { break }
            for (index, token) in step.enumerated() { if let token { produced[index].append(token) } }
            steps += 1
        }
        XCTAssertEqual(steps, 30)
        for index in cases.indices {
            XCTAssertEqual(produced[index], alone[index].0, "case \(index)")
            XCTAssertEqual(sessions[index].finishReason, alone[index].1, "case \(index)")
            XCTAssertEqual(sessions[index].tokens, cases[index].prompt + alone[index].0)
        }
        XCTAssertEqual(sessions[4].finishReason, .contextFull)
        XCTAssertEqual(sessions[2].finishReason, .stopToken(greedyAlone[3]))
        XCTAssertEqual(try GenerationSession.next(sessions), [Int?](repeating: nil, count: cases.count), "finished sessions stay finished")
        // A session started again joins the others between steps.
        try sessions[3].start(prompt: [9, 9])
        XCTAssertEqual(try GenerationSession.next(sessions)[3], alone[3].0[0])
    }

    func testSteppingSessionsTogetherChecksThem() throws {
        let model = try randomModel(llamaNano, seed: 35)
        XCTAssertEqual(try GenerationSession.next([]), [])
        let started = try GenerationSession(model: model), idle = try GenerationSession(model: model)
        try started.start(prompt: [1])
        assertInvalidState {
            try GenerationSession.next([started, idle])
        }
        assertInvalidInput {
            try GenerationSession.next([started, started])
        }
        let stranger = try GenerationSession(model: try randomModel(llamaNano, seed: 35))
        try stranger.start(prompt: [1])
        assertInvalidInput {
            try GenerationSession.next([started, stranger])
        }
        XCTAssertEqual(started.generatedCount, 0, "a refused step produces nothing")
    }

    /// On the real model as stored (Q4_1, 8-bit activations: the direct kernels for up to 8 rows),
    /// batched greedy decoding is the sequential one token for token.
    func testSmolLM2BatchedGreedyEqualsSequential() throws {
        let smol = try SmolLM2.load()
        let texts = ["The capital of France is", "Once upon a time", "def fibonacci(n):", "Water boils at",
                     "The best way to learn Swift is"]
        let prompts = try texts.map { try smol.tokenizer.encode($0) }
        let options = GenerationOptions(maximumNewTokens: 12)
        let alone = try prompts.map { try GenerationSession(model: smol.storedInt8, options: options, cacheCapacity: 64).generate(prompt: $0) }
        let sessions = try prompts.map { _ in try GenerationSession(model: smol.storedInt8, options: options, cacheCapacity: 64) }
        for (session, prompt) in zip(sessions, prompts) { try session.start(prompt: prompt) }
        while try GenerationSession.next(sessions).contains(where: { $0 != nil }) {}
        XCTAssertEqual(sessions.map { Array($0.tokens.dropFirst($0.tokens.count - $0.generatedCount)) }, alone)
        XCTAssertEqual(Set(alone).count, texts.count)
    }

    private func assertInvalidInput<T>(line: UInt = #line, _ body: () throws -> T) {
        assertThrows(line: line, body, matches: { if case .invalidInput = $0 { true } else { false } })
    }

    private func assertInvalidState<T>(line: UInt = #line, _ body: () throws -> T) {
        assertThrows(line: line, body, matches: { if case .invalidState = $0 { true } else { false } })
    }
}
