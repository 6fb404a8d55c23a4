import GPTLayers
import GPTTensor
import XCTest

/// With a fixed seed the dropped block is a fixed differentiable function: its backward pass
/// must match finite differences, and rate 0 must equal no dropout.
final class DropoutGradientTests: XCTestCase {
    func makeBlock() throws -> (TransformerBlock, TestParameters, [Float], [Float]) {
        var layout = ParameterLayout()
        let block = try TransformerBlock(dimensions: 16, heads: 4, keyValueHeads: 2, hiddenSize: 32, normalization: .layerNorm,
                                         feedForward: .gelu, bias: true, name: "h.0", layout: &layout)
        let parameters = TestParameters(layout: layout)
        var generator = RandomGenerator(seed: 8)
        for entry in layout.entries {
            try parameters.setValue(Tensor(randomNormal: entry.slot.shape, mean: entry.role == .norm ? 1 : 0,
                                           standardDeviation: 0.3, generator: &generator), of: entry.slot)
        }
        let x = Tensor(randomNormal: [2 * 9 * 16], generator: &generator).scalars
        let dy = Tensor(randomNormal: [2 * 9 * 16], generator: &generator).scalars
        return (block, parameters, x, dy)
    }

    func testBackwardMatchesFiniteDifferencesWithDropout() throws {
        let (block, parameters, xValues, dy) = try makeBlock()
        let dropout = Dropout(rate: 0.3, seed: 77)
        let arena = Arena()
        let x = UnsafeMutablePointer<Float>.allocate(capacity: xValues.count)
        x.initialize(from: xValues, count: xValues.count)
        defer { x.deallocate() }
        func loss() -> Double {
            arena.reset()
            let y = block.forward(x, batch: 2, time: 9, weights: parameters.weights, arena: arena, dropout: dropout).output
            return (0..<dy.count).reduce(0) { $0 + Double(y[$1]) * Double(dy[$1]) }
        }
        arena.reset()
        parameters.zeroGradients()
        let saved = block.forward(x, batch: 2, time: 9, weights: parameters.weights, arena: arena, dropout: dropout)
        var dx = [Float](repeating: 0, count: xValues.count)
        dy.withUnsafeBufferPointer { block.backward(outputGradient: $0.baseAddress!, saved: saved, weights: parameters.weights, gradients: parameters.gradients, arena: arena, inputGradient: &dx) }
        let gradients = parameters.layout.entries.map { parameters.gradient(of: $0.slot).scalars }
        let epsilon: Float = 1e-2
        func numeric(_ pointer: UnsafeMutablePointer<Float>) -> Float {
            let saved = pointer.pointee
            pointer.pointee = saved + epsilon; let plus = loss()
            pointer.pointee = saved - epsilon; let minus = loss()
            pointer.pointee = saved
            return Float((plus - minus) / Double(2 * epsilon))
        }
        for i in stride(from: 0, to: xValues.count, by: 23) {
            let expected = numeric(x + i)
            XCTAssertEqual(dx[i], expected, accuracy: 5e-3 + 1e-2 * abs(expected), "x[\(i)]")
        }
        for (entry, gradient) in zip(parameters.layout.entries, gradients) {
            for i in stride(from: 0, to: entry.slot.count, by: max(1, entry.slot.count / 5)) {
                let expected = numeric(parameters.pointer(entry.slot, i))
                XCTAssertEqual(gradient[i], expected, accuracy: 5e-3 + 1e-2 * abs(expected), "\(entry.name)[\(i)]")
            }
        }
        // Dropout changed the output, and rate 0 is the same as none.
        arena.reset()
        let plain = Array(UnsafeBufferPointer(start: block.forward(x, batch: 2, time: 9, weights: parameters.weights, arena: arena).output, count: dy.count))
        arena.reset()
        let dropped = Array(UnsafeBufferPointer(start: block.forward(x, batch: 2, time: 9, weights: parameters.weights, arena: arena, dropout: dropout).output, count: dy.count))
        arena.reset()
        let zeroRate = Array(UnsafeBufferPointer(start: block.forward(x, batch: 2, time: 9, weights: parameters.weights, arena: arena,
                                                                        dropout: Dropout(rate: 0, seed: 77)).output, count: dy.count))
        XCTAssertNotEqual(plain, dropped)
        XCTAssertEqual(plain, zeroRate)
    }
}
