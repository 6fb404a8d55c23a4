import Foundation
import GPTLayers
import GPTModel
import GPTTensor
import XCTest

/// The tiny Hugging Face GPT-2 of `Fixtures/tiny-gpt2` against PyTorch's logits, loss and gradients.
final class FixtureTests: XCTestCase {
    var model: GPT!
    var reference: SafetensorsFile!
    var inputs: [Int] = [], targets: [Int] = []

    override func setUpWithError() throws {
        model = try GPT(directory: fixturesDirectory.appendingPathComponent("tiny-gpt2"))
        reference = try SafetensorsFile(contentsOf: fixturesDirectory.appendingPathComponent("tiny-gpt2-reference.safetensors"))
        inputs = try reference.integers(named: "input_ids")
        targets = try reference.integers(named: "targets")
    }

    func testConfigurationIsReadFromConfigJSON() {
        let c = model.configuration
        XCTAssertEqual([c.vocabularySize, c.contextLength, c.layerCount, c.headCount, c.keyValueHeadCount, c.embeddingDimensions,
                        c.hiddenDimensions], [96, 32, 2, 3, 3, 24, 96])
        XCTAssertEqual(c.positionalEncoding, .learned)
        XCTAssertEqual(c.normalization, .layerNorm)
        XCTAssertEqual(c.feedForward, .gelu)
        XCTAssertTrue(c.tiesEmbeddings && c.usesBias)
        XCTAssertEqual(model.layout.entries.count, 28)
        XCTAssertNil(model.layout.entry(named: "lm_head.weight"))
    }

    func testLogitsLossAndGradientsMatchPyTorch() throws {
        _ = try checkAgainstReference(targets: targets, loss: "loss", gradientPrefix: "grad.")
    }

    func testMaskedLossAndGradientsMatchPyTorch() throws {
        let masked = try reference.integers(named: "targets_masked")
        XCTAssertEqual(masked.filter { $0 == -100 }.count, 5)
        _ = try checkAgainstReference(targets: masked, loss: "loss_masked", gradientPrefix: "grad_masked.")
        // A Bool mask over the unmasked targets is the same loss.
        _ = try checkAgainstReference(targets: targets, lossMask: masked.map { $0 != -100 }, loss: "loss_masked", gradientPrefix: "grad_masked.")
    }

    func checkAgainstReference(
        targets: [Int], lossMask: [Bool]? = nil, loss lossName: String, gradientPrefix: String, recompute: RecomputePolicy = .none,
        file: StaticString = #filePath, line: UInt = #line
    ) throws -> GPTWorkspace {
        let workspace = GPTWorkspace(model: model, recompute: recompute)
        let loss = try XCTUnwrap(try workspace.forward(tokens: inputs, targets: targets, lossMask: lossMask, batch: 2, time: 8))
        assertClose(try XCTUnwrap(workspace.logits).scalars, try reference.tensor(named: "logits").scalars, rtol: 1e-4, atol: 1e-5,
                    "logits", file: file, line: line)
        assertClose([loss], try reference.tensor(named: lossName).scalars, rtol: 1e-4, atol: 1e-5, lossName, file: file, line: line)
        try workspace.backward()
        XCTAssertNil(workspace.logits, "backward overwrites the logits", file: file, line: line)
        var compared = 0
        for name in reference.tensorNames where name.hasPrefix(gradientPrefix) {
            let parameter = String(name.dropFirst(gradientPrefix.count + "transformer.".count))
            let ours = try XCTUnwrap(workspace.gradient(named: parameter), parameter, file: file, line: line)
            assertClose(hfLayout(ours, name: parameter), try reference.tensor(named: name).scalars, rtol: 1e-4, atol: 1e-5,
                        "\(name) (\(recompute))", file: file, line: line)
            compared += 1
        }
        XCTAssertEqual(compared, 28, file: file, line: line)
        return workspace
    }

    /// A tensor in Hugging Face's layout (Conv1D weights transposed to [in, out]).
    func hfLayout(_ tensor: Tensor, name: String) -> [Float] {
        guard GPT.isConv1DWeight(name) else { return tensor.scalars }
        let (rows, columns) = (tensor.shape[0], tensor.shape[1])
        let values = tensor.scalars
        return (0..<(rows * columns)).map { values[($0 % rows) * columns + $0 / rows] }
    }

    func testPerBlockRecomputationGivesTheSameGradients() throws {
        let perBlock = try checkAgainstReference(targets: targets, loss: "loss", gradientPrefix: "grad.", recompute: .perBlock)
        let recomputed = model.layout.entries.map { perBlock.gradients.gradient(of: $0.slot) }
        let full = try checkAgainstReference(targets: targets, loss: "loss", gradientPrefix: "grad.", recompute: .none)
        for (entry, gradient) in zip(model.layout.entries, recomputed) {
            XCTAssertEqual(full.gradients.gradient(of: entry.slot), gradient, entry.name)
        }
    }

    func testGradientsAccumulateAndScale() throws {
        let workspace = GPTWorkspace(model: model)
        try workspace.forward(tokens: inputs, targets: targets, batch: 2, time: 8)
        try workspace.backward()
        let once = workspace.gradient(named: "h.1.mlp.c_fc.weight")!.scalars
        // Two micro-batches at loss scale 1/2 each: the same total as one full step.
        workspace.gradients.zero()
        for _ in 0..<2 {
            try workspace.forward(tokens: inputs, targets: targets, batch: 2, time: 8)
            try workspace.backward(lossScale: 0.5)
        }
        assertClose(workspace.gradient(named: "h.1.mlp.c_fc.weight")!.scalars, once, rtol: 1e-5, atol: 1e-7)
        // The second step reused the arena: no growth.
        let used = workspace.activationFloats
        try workspace.forward(tokens: inputs, targets: targets, batch: 2, time: 8)
        XCTAssertEqual(workspace.activationFloats, used)
    }

    func testBackwardOutOfOrderThrows() throws {
        let workspace = GPTWorkspace(model: model)
        assertThrows(file: #filePath, line: #line, { try workspace.backward() }) { if case .invalidState = $0 { true } else { false } }
        try workspace.forward(tokens: inputs, batch: 2, time: 8)
        assertThrows(file: #filePath, line: #line, { try workspace.backward() }) { if case .invalidState = $0 { true } else { false } }
        try workspace.forward(tokens: inputs, targets: targets, batch: 2, time: 8)
        try workspace.backward()
        assertThrows(file: #filePath, line: #line, { try workspace.backward() }) { if case .invalidState = $0 { true } else { false } }
    }

    func testBadInputsThrow() {
        let workspace = GPTWorkspace(model: model)
        assertThrows(.invalidInput("16 tokens for batch 3 × time 8")) { try workspace.forward(tokens: inputs, batch: 3, time: 8) }
        assertThrows(.tokenOutOfRange(token: 96, vocabularySize: 96)) { try model.forward(tokens: [1, 96], batch: 1, time: 2) }
        assertThrows(.tokenOutOfRange(token: -1, vocabularySize: 96)) { try model.forward(tokens: [-1], batch: 1, time: 1) }
        assertThrows(.tokenOutOfRange(token: 200, vocabularySize: 96)) {
            try model.loss(tokens: [1, 2], targets: [3, 200], batch: 1, time: 2)
        }
        assertThrows(.contextOverflow(length: 33, limit: 32)) {
            try model.forward(tokens: [Int](repeating: 1, count: 33), batch: 1, time: 33)
        }
        assertThrows(.invalidInput("2 mask entries for 16 positions")) {
            try workspace.forward(tokens: inputs, targets: targets, lossMask: [true, false], batch: 2, time: 8)
        }
        // Every target ignored: loss 0, not NaN.
        XCTAssertEqual(try model.loss(tokens: [1, 2], targets: [-100, -100], batch: 1, time: 2), 0)
    }
}
