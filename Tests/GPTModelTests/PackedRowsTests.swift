// Several documents packed into one row (position ids restarting at 0, attention kept inside
// each document) against each document in a row of its own.
import Foundation
import GPTLayers
@testable import GPTModel
import GPTTensor
import XCTest

final class PackedRowsTests: XCTestCase {
    /// Documents of 5, 3 and 6 tokens (and 2 padding positions) packed into rows of 8, against
    /// each document alone in a padded row.
    private let documents = [[3, 7, 1, 9, 4], [2, 8, 5], [6, 6, 1, 3, 9, 2]]

    private func packed(_ docs: [[Int]], rows: [[Int]], time: Int) -> (tokens: [Int], targets: [Int], positions: [Int]) {
        var tokens: [Int] = [], targets: [Int] = [], positions: [Int] = []
        for row in rows {
            var used = 0
            for index in row {
                let doc = docs[index]
                for t in 0..<(doc.count - 1) {
                    tokens.append(doc[t]); targets.append(doc[t + 1]); positions.append(t)
                }
                used += doc.count - 1
            }
            for p in 0..<(time - used) { tokens.append(0); targets.append(-100); positions.append(p) }
        }
        return (tokens, targets, positions)
    }

    func testPackedRowsGiveEachDocumentItsOwnLogitsLossAndGradients() throws {
        for configuration in [GPTConfiguration.nano, llamaNano] {
            for recompute in [RecomputePolicy.none, .perBlock] {
                let parameters = try randomParameters(configuration, seed: 41)
                let model = try GPT(configuration: configuration, parameters: parameters)
                // Packed: [doc 0 + doc 1] and [doc 2], time 8 (4 + 2 + 2 padding; 5 + 3 padding).
                let pack = packed(documents, rows: [[0, 1], [2]], time: 8)
                let packedSpace = GPTWorkspace(model: model, recompute: recompute)
                let packedLoss = try XCTUnwrap(try packedSpace.forward(tokens: pack.tokens, targets: pack.targets, positions: pack.positions,
                                                                       batch: 2, time: 8))
                let packedLogits = try XCTUnwrap(packedSpace.logits?.scalars)
                try packedSpace.backward()
                // Padded: one document a row, time 5.
                let pad = packed(documents, rows: [[0], [1], [2]], time: 5)
                let paddedSpace = GPTWorkspace(model: model, recompute: recompute)
                let paddedLoss = try XCTUnwrap(try paddedSpace.forward(tokens: pad.tokens, targets: pad.targets, batch: 3, time: 5))
                try paddedSpace.backward()
                XCTAssertEqual(packedLoss, paddedLoss, accuracy: 1e-6 * abs(paddedLoss), "\(configuration.positionalEncoding) \(recompute)")
                for entry in model.layout.entries {
                    assertClose(packedSpace.gradients.gradient(of: entry.slot).scalars, paddedSpace.gradients.gradient(of: entry.slot).scalars,
                                rtol: 1e-4, atol: 1e-6, "\(entry.name)")
                }
                // Each document's logits are those of the document alone.
                let v = configuration.vocabularySize
                var row = 0
                for (index, doc) in documents.enumerated() {
                    let alone = try model.forward(tokens: Array(doc.dropLast()), batch: 1, time: doc.count - 1).scalars
                    let start = index == 2 ? 8 : row
                    assertClose(Array(packedLogits[(start * v)..<((start + doc.count - 1) * v)]), alone, rtol: 1e-5, atol: 1e-5,
                                "document \(index)")
                    row += doc.count - 1
                }
            }
        }
    }

    func testPackedGradientsMatchFiniteDifferences() throws {
        let parameters = try randomParameters(llamaNano, seed: 42)
        let workspace = try mutableWorkspace(llamaNano, parameters: parameters)
        let pack = packed(documents, rows: [[0, 1], [2]], time: 8)
        func loss() throws -> Double {
            Double(try workspace.forward(tokens: pack.tokens, targets: pack.targets, positions: pack.positions, batch: 2, time: 8) ?? 0)
        }
        _ = try loss()
        workspace.gradients.zero()
        try workspace.backward()
        try checkFiniteDifferences(parameters, gradients: workspace.gradients, seed: 43, objective: loss)
    }

    func testPositionsThatAreNotRunsFromZeroAreRefused() throws {
        let workspace = GPTWorkspace(model: try randomModel(llamaNano, seed: 44))
        let tokens = [1, 2, 3, 4, 5, 6]
        for bad in [[1, 2, 3, 4, 5, 6], [0, 1, 2, 0, 2, 3], [0, 1, 2, 1, 2, 3], [0, 1, 2]] {
            assertThrows({ try workspace.forward(tokens: tokens, positions: bad, batch: 1, time: 6) }, matches: { if case .invalidInput = $0 { true } else { false } })
        }
        // Each row starts its own runs.
        XCTAssertNoThrow(try workspace.forward(tokens: tokens, positions: [0, 1, 2, 0, 1, 0], batch: 2, time: 3))
        assertThrows({ try workspace.forward(tokens: tokens, positions: [0, 1, 2, 3, 4, 5], batch: 2, time: 3) }, matches: { if case .invalidInput = $0 { true } else { false } })
    }
}

final class FrozenParameterTests: XCTestCase {
    /// A workspace training a subset computes exactly those gradients, stores nothing for the rest.
    func testOnlyTrainableParametersGetGradients() throws {
        for configuration in [GPTConfiguration.nano, llamaNano] {
            let model = try randomModel(configuration, seed: 45)
            let tokens = randomTokens(12, vocabulary: configuration.vocabularySize, seed: 46)
            let targets = randomTokens(12, vocabulary: configuration.vocabularySize, seed: 47)
            let full = GPTWorkspace(model: model)
            try full.forward(tokens: tokens, targets: targets, batch: 2, time: 6)
            try full.backward()
            let trainable = Set(model.layout.entries.filter { $0.name.contains("1.") && ($0.role == .matrix || $0.role == .norm) }.map(\.slot.index))
            XCTAssertFalse(trainable.isEmpty)
            let partial = GPTWorkspace(model: model, trainable: trainable)
            try partial.forward(tokens: tokens, targets: targets, batch: 2, time: 6)
            try partial.backward()
            XCTAssertLessThan(partial.gradients.count, full.gradients.count)
            XCTAssertFalse(partial.gradients.tracksEverything)
            for entry in model.layout.entries {
                let expected = trainable.contains(entry.slot.index) ? full.gradients.gradient(of: entry.slot).scalars
                    : [Float](repeating: 0, count: entry.slot.count)
                XCTAssertEqual(partial.gradients.gradient(of: entry.slot).scalars, expected, entry.name)
            }
            // The tracked gradients lie packed in layout order, as a layout of just those entries places them.
            var sub = ParameterLayout()
            for entry in model.layout.entries where trainable.contains(entry.slot.index) {
                let slot = sub.add(entry.name, shape: entry.slot.shape, role: entry.role)
                XCTAssertEqual(Array(UnsafeBufferPointer(start: partial.gradients.values + slot.offset, count: slot.count)),
                               full.gradients.gradient(of: entry.slot).scalars)
            }
            XCTAssertEqual(partial.gradients.count, sub.count)
        }
    }
}
