import Foundation
import GPTLayers
import GPTTensor
import XCTest

/// The repository's Fixtures folder.
let fixturesDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Fixtures")

/// Runs a layer: forward on `x`; when `dy` is given, also backward writing `dx` (if not nil)
/// and adding parameter gradients. Returns the output.
typealias LayerRun = (_ x: UnsafeMutablePointer<Float>, _ parameters: TestParameters, _ arena: Arena,
                      _ dy: UnsafePointer<Float>?, _ dx: UnsafeMutablePointer<Float>?) throws -> [Float]

/// A layer test's parameters: mutable values (perturbed by finite differences), the store
/// that reads them in place, and gradients.
final class TestParameters {
    let values: ParameterBuffer
    let weights: WeightStore
    let gradients: GradientBuffer
    var layout: ParameterLayout { values.layout }

    init(layout: ParameterLayout) {
        values = ParameterBuffer(layout: layout)
        weights = WeightStore(borrowing: values)
        gradients = GradientBuffer(layout: layout)
    }

    func setValue(_ tensor: Tensor, of slot: ParameterSlot) throws { try values.setValue(tensor, of: slot) }
    func gradient(of slot: ParameterSlot) -> Tensor { gradients.gradient(of: slot) }
    func zeroGradients() { gradients.zero() }
    func pointer(_ slot: ParameterSlot, _ index: Int) -> UnsafeMutablePointer<Float> { values.values + slot.offset + index }
}

/// Checks a layer against a PyTorch fixture (forward, input and parameter gradients at
/// rtol 1e-4, atol 1e-5), then against central finite differences on sampled coordinates.
func checkLayer(
    fixture name: String, prefix: String, rename: [String: String] = [:], finiteDifferences: Bool = true,
    build: (inout ParameterLayout) throws -> Void, run: LayerRun, file: StaticString = #filePath, line: UInt = #line
) throws {
    let fixture = try SafetensorsFile(contentsOf: fixturesDirectory.appendingPathComponent("layers/\(name).safetensors"))
    var layout = ParameterLayout()
    try build(&layout)
    let parameters = TestParameters(layout: layout)
    func fixtureName(_ parameter: String) -> String {
        let local = parameter.hasPrefix(prefix) ? String(parameter.dropFirst(prefix.count)) : parameter
        return rename[local] ?? local
    }
    for entry in layout.entries {
        try parameters.setValue(fixture.tensor(named: fixtureName(entry.name)), of: entry.slot)
    }
    let xValues = try fixture.tensor(named: "x").scalars
    // A buffer of our own: the finite differences write into it while the closures read it.
    let x = UnsafeMutablePointer<Float>.allocate(capacity: xValues.count)
    x.initialize(from: xValues, count: xValues.count)
    defer { x.deallocate() }
    let dy = try fixture.tensor(named: "dy").scalars
    let arena = Arena()

    // Forward.
    let y = try run(x, parameters, arena, nil, nil)
    assertClose(y, try fixture.tensor(named: "y").scalars, rtol: 1e-4, atol: 1e-5, "\(name): y", file: file, line: line)

    // Backward.
    arena.reset()
    parameters.zeroGradients()
    var dx = [Float](repeating: .nan, count: xValues.count)
    _ = try dy.withUnsafeBufferPointer { dyp in
        try dx.withUnsafeMutableBufferPointer { try run(x, parameters, arena, dyp.baseAddress!, $0.baseAddress!) }
    }
    if fixture.entries["d_x"] != nil {
        assertClose(dx, try fixture.tensor(named: "d_x").scalars, rtol: 1e-4, atol: 1e-5, "\(name): d_x", file: file, line: line)
    }
    for entry in layout.entries {
        assertClose(parameters.gradient(of: entry.slot).scalars, try fixture.tensor(named: "d_" + fixtureName(entry.name)).scalars,
                    rtol: 1e-4, atol: 1e-5, "\(name): d_\(entry.name)", file: file, line: line)
    }
    guard finiteDifferences else { return }

    // Central differences of L = Σ y·dy, in Float with ε = 1e-2, on sampled coordinates.
    func loss() throws -> Double {
        arena.reset()
        let output = try run(x, parameters, arena, nil, nil)
        return zip(output, dy).reduce(0) { $0 + Double($1.0) * Double($1.1) }
    }
    let epsilon: Float = 1e-2
    var generator = RandomGenerator(seed: 99)
    func check(_ analytic: Float, _ pointer: UnsafeMutablePointer<Float>, _ label: String) throws {
        let saved = pointer.pointee
        pointer.pointee = saved + epsilon; let plus = try loss()
        pointer.pointee = saved - epsilon; let minus = try loss()
        pointer.pointee = saved
        let numeric = Float((plus - minus) / Double(2 * epsilon))
        XCTAssertEqual(analytic, numeric, accuracy: 5e-3 + 1e-2 * abs(numeric), "\(name): finite difference of \(label)", file: file, line: line)
    }
    if fixture.entries["d_x"] != nil {
        for _ in 0..<12 {
            let i = Int(generator.next() % UInt64(xValues.count))
            try check(dx[i], x + i, "x[\(i)]")
        }
    }
    let gradients = layout.entries.map { parameters.gradient(of: $0.slot).scalars }
    for (entry, gradient) in zip(layout.entries, gradients) {
        for _ in 0..<8 {
            let i = Int(generator.next() % UInt64(entry.slot.count))
            try check(gradient[i], parameters.pointer(entry.slot, i), "\(entry.name)[\(i)]")
        }
    }
}

func assertClose(
    _ actual: [Float], _ expected: [Float], rtol: Float, atol: Float, _ message: String = "",
    file: StaticString = #filePath, line: UInt = #line
) {
    XCTAssertEqual(actual.count, expected.count, "count \(message)", file: file, line: line)
    for (index, (a, e)) in zip(actual, expected).enumerated() where !(abs(a - e) <= atol + rtol * abs(e)) {
        XCTFail("element \(index): \(a) vs expected \(e) \(message)", file: file, line: line)
        return
    }
}

/// Copies `count` floats from a pointer into an array.
func array(_ pointer: UnsafePointer<Float>, _ count: Int) -> [Float] { Array(UnsafeBufferPointer(start: pointer, count: count)) }

/// A fixture's integer metadata value.
func metadata(_ fixture: String, _ key: String) throws -> Int {
    let file = try SafetensorsFile(contentsOf: fixturesDirectory.appendingPathComponent("layers/\(fixture).safetensors"))
    guard let text = file.metadata[key], let value = Int(text) else { throw TensorError.missingTensor("metadata \(key)") }
    return value
}
