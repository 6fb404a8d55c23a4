import GPTTensor
import XCTest

/// Random Float arrays from the project's seeded generator.
func randomArray(_ count: Int, seed: UInt64, scale: Float = 1) -> [Float] {
    var generator = RandomGenerator(seed: seed)
    return (0..<count).map { _ in generator.nextNormal() * scale }
}

/// numpy-style allclose with a message naming the first bad element.
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
