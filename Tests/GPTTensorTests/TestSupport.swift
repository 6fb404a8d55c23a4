import GPTTensor
import XCTest

/// Random Float arrays from the project's seeded generator.
func randomArray(_ count: Int, seed: UInt64, scale: Float = 1) -> [Float] {
    var generator = RandomGenerator(seed: seed)
    var values = [Float](repeating: 0, count: count)
    values.withUnsafeMutableBufferPointer { buffer in
        for index in 0..<count { buffer[index] = generator.nextNormal() * scale }
    }
    return values
}

/// numpy-style allclose with a message naming the first bad element.
func assertClose(
    _ actual: [Float], _ expected: [Float], rtol: Float, atol: Float, _ message: String = "",
    file: StaticString = #filePath, line: UInt = #line
) {
    XCTAssertEqual(actual.count, expected.count, "count \(message)", file: file, line: line)
    // Index loops over buffers: this runs unoptimised in `swift test`, on up to a million elements.
    let bad: Int? = actual.withUnsafeBufferPointer { a in
        expected.withUnsafeBufferPointer { e in
            for index in 0..<min(a.count, e.count) where !(abs(a[index] - e[index]) <= atol + rtol * abs(e[index])) {
                return index
            }
            return nil
        }
    }
    if let index = bad {
        XCTFail("element \(index): \(actual[index]) vs expected \(expected[index]) \(message)", file: file, line: line)
    }
}
