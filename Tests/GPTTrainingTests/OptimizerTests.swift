import Foundation
import GPTLayers
import GPTTensor
import GPTTokenizers
import GPTTraining
import XCTest

let fixturesDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Fixtures")

final class ScheduleTests: XCTestCase {
    func testWarmupCosineMatchesNanoGPTAsUsedByTheFixture() throws {
        let file = try SafetensorsFile(contentsOf: fixturesDirectory.appendingPathComponent("tiny-gpt2-training.safetensors"))
        let expected = try file.tensor(named: "lrs").scalars
        let schedule = LearningRateSchedule.warmupCosine(maximum: 1e-3, minimum: 1e-4, warmupSteps: 3, decaySteps: 10)
        for (step, rate) in expected.enumerated() { XCTAssertEqual(schedule(step), rate, accuracy: 1e-9, "step \(step)") }
        XCTAssertEqual(schedule(10), 1e-4); XCTAssertEqual(schedule(500), 1e-4)
    }

    func testCompositionAndCoding() throws {
        let schedule = LearningRateSchedule.sequence(first: .constant(1), steps: 2, then: .cosineDecay(maximum: 0.5, minimum: 0.1, steps: 4))
        XCTAssertEqual((0..<7).map { schedule($0) }, [1, 1, 0.5, Float(0.1 + 0.4 * 0.5 * (1 + cos(Double.pi / 4))), 0.3, Float(0.1 + 0.4 * 0.5 * (1 + cos(3 * Double.pi / 4))), 0.1])
        let decoded = try JSONDecoder().decode(LearningRateSchedule.self, from: JSONEncoder().encode(schedule))
        XCTAssertEqual(decoded, schedule)
    }
}

final class AdamWTests: XCTestCase {
    func makeBuffer() -> (ParameterBuffer, ParameterLayout) {
        let (values, _, layout) = makeBuffers()
        return (values, layout)
    }

    func makeBuffers() -> (ParameterBuffer, GradientBuffer, ParameterLayout) {
        var layout = ParameterLayout()
        _ = layout.add("w", shape: [5, 7], role: .matrix)
        _ = layout.add("b", shape: [5], role: .bias)
        _ = layout.add("e", shape: [3, 4], role: .embedding)
        return (ParameterBuffer(layout: layout), GradientBuffer(layout: layout), layout)
    }

    func testMatchesTorchFormulaInDoubleOverSeveralSteps() throws {
        for decayEmbeddings in [true, false] {
            let (buffer, gradients, layout) = makeBuffers()
            var generator = RandomGenerator(seed: 4)
            for entry in layout.entries {
                try buffer.setValue(Tensor(randomNormal: entry.slot.shape, generator: &generator), of: entry.slot)
            }
            let optimizer = AdamW(layout: layout, beta1: 0.9, beta2: 0.95, epsilon: 1e-8, weightDecay: 0.1, decayEmbeddings: decayEmbeddings)
            // Reference state in Double, per parameter entry.
            var p = layout.entries.map { buffer.value(of: $0.slot).scalars.map(Double.init) }
            var m = p.map { $0.map { _ in 0.0 } }, v = m
            for step in 1...4 {
                let lr = 1e-3 * Double(step)
                for (index, entry) in layout.entries.enumerated() {
                    let g = Tensor(randomNormal: entry.slot.shape, generator: &generator)
                    g.withUnsafeBufferPointer { gradients[entry.slot].update(from: $0.baseAddress!, count: entry.slot.count) }
                    let decays = entry.role == .matrix || (entry.role == .embedding && decayEmbeddings)
                    for i in 0..<entry.slot.count {
                        let gi = Double(g.scalars[i])
                        if decays { p[index][i] *= 1 - lr * 0.1 }
                        m[index][i] = 0.9 * m[index][i] + 0.1 * gi
                        v[index][i] = 0.95 * v[index][i] + 0.05 * gi * gi
                        let stepSize = lr / (1 - pow(0.9, Double(step)))
                        p[index][i] -= stepSize * m[index][i] / (v[index][i].squareRoot() / (1 - pow(0.95, Double(step))).squareRoot() + 1e-8)
                    }
                }
                optimizer.step(buffer, gradients: gradients, learningRate: Float(lr))
            }
            for (index, entry) in layout.entries.enumerated() {
                let actual = buffer.value(of: entry.slot).scalars
                for (a, e) in zip(actual, p[index]) { XCTAssertEqual(Double(a), e, accuracy: 1e-5, "\(entry.name) decayEmbeddings=\(decayEmbeddings)") }
            }
            XCTAssertEqual(optimizer.stepCount, 4)
        }
    }

    func testStateRoundTripResumesIdentically() throws {
        let (a, ga, layout) = makeBuffers()
        let (b, gb, _) = makeBuffers()
        let first = AdamW(layout: layout), second = AdamW(layout: layout)
        for step in 0..<3 {
            for i in 0..<layout.count { ga.values[i] = Float(i % 7) - 3 + Float(step); gb.values[i] = ga.values[i] }
            first.step(a, gradients: ga, learningRate: 1e-2)
            if step == 1 { try second.restore(first.state); b.values.update(from: a.values, count: layout.count) }
            if step == 2 { second.step(b, gradients: gb, learningRate: 1e-2) }
        }
        XCTAssertEqual(Array(UnsafeBufferPointer(start: a.values, count: layout.count)), Array(UnsafeBufferPointer(start: b.values, count: layout.count)))
        XCTAssertThrowsError(try second.restore(AdamW.State(stepCount: 1, firstMoment: [1], secondMoment: [1])))
    }

    func testClippingScalesToTheMaximumNorm() {
        let (_, buffer, layout) = makeBuffers()
        for i in 0..<layout.count { buffer.values[i] = 0 }
        for entry in layout.entries { for i in 0..<entry.slot.count { buffer.values[entry.slot.offset + i] = 2 } }
        let count = Float(layout.parameterCount)
        let before = buffer.clip(maximumNorm: 1)
        XCTAssertEqual(before, 2 * count.squareRoot(), accuracy: 1e-4)
        XCTAssertEqual(buffer.norm, 1, accuracy: 1e-5)
        XCTAssertEqual(buffer.clip(maximumNorm: 5), buffer.norm)  // below the maximum: unchanged
        XCTAssertEqual(buffer.norm, 1, accuracy: 1e-5)
    }
}

final class DataTests: XCTestCase {
    func testShardRoundTripAndMalformedShards() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("gptkit-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let url = directory.appendingPathComponent("train.bin")
        let data = TokenDataset(tokens: (0..<1000).map { Int32($0 * 37 % 50257) })
        try data.writeShard(to: url)
        XCTAssertEqual(try TokenDataset(shard: url), data)

        var bytes = try Data(contentsOf: url)
        try bytes.prefix(1000).write(to: url)
        XCTAssertThrowsError(try TokenDataset(shard: url)) { XCTAssertTrue("\($0)".contains("shorter than")) }
        try bytes.dropLast(2).write(to: url)
        XCTAssertThrowsError(try TokenDataset(shard: url)) { XCTAssertTrue("\($0)".contains("header says 1000 tokens")) }
        bytes[0] = 7
        try bytes.write(to: url)
        XCTAssertThrowsError(try TokenDataset(shard: url)) { XCTAssertTrue("\($0)".contains("magic")) }
        XCTAssertThrowsError(try TokenDataset(tokens: [Int32(70000)]).writeShard(to: url))
    }

    func testSamplerWindowsTargetsAndResume() throws {
        let data = TokenDataset(tokens: (0..<100).map(Int32.init))
        var sampler = try BatchSampler(dataset: data, batchSize: 3, sequenceLength: 5, order: .random(seed: 1))
        let batch = sampler.next()
        XCTAssertEqual(batch.inputs.count, 15)
        for row in 0..<3 {
            for t in 0..<5 { XCTAssertEqual(batch.targets[row * 5 + t], batch.inputs[row * 5 + t] + 1) }
        }
        let saved = sampler.state
        let next = sampler.next()
        var resumed = try BatchSampler(dataset: data, batchSize: 3, sequenceLength: 5, order: .random(seed: 1))
        resumed.state = saved
        XCTAssertEqual(resumed.next(), next)

        var sequential = try BatchSampler(dataset: data, batchSize: 2, sequenceLength: 10, order: .sequential)
        XCTAssertEqual(Array(sequential.next().inputs.prefix(12)), (0..<10).map(Int32.init) + [10, 11])
        XCTAssertThrowsError(try BatchSampler(dataset: TokenDataset(tokens: [1, 2]), batchSize: 1, sequenceLength: 2, order: .sequential))
        let (train, validation) = data.split(validationFraction: 0.1)
        XCTAssertEqual(train.tokens.count, 90); XCTAssertEqual(validation.tokens.first, 90)
    }
}

final class TextDatasetTests: XCTestCase {
    func testDatasetFromATextFileAndATokenizer() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("text-\(UUID().uuidString).txt")
        defer { try? FileManager.default.removeItem(at: url) }
        try Data("abcab".utf8).write(to: url)
        let tokenizer = CharacterTokenizer(trainingText: "abc")
        XCTAssertEqual(try TokenDataset(contentsOf: url, tokenizer: tokenizer).tokens, [0, 1, 2, 0, 1])
        try Data([0xFF, 0xFE]).write(to: url)
        XCTAssertThrowsError(try TokenDataset(contentsOf: url, tokenizer: tokenizer))
    }
}
