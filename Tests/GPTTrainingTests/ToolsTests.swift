import Foundation
import GPTTraining
import XCTest

final class ToolsTests: XCTestCase {
    func testLossCurveSVGHasBothSeriesAndIsWrittenAtomically() throws {
        var curve = LossCurve(title: "a < b")
        curve.train = [(0, 4.5), (10, 3.0), (20, .nan), (30, 2.0)]
        curve.validation = [(10, 3.5), (30, 2.5)]
        let svg = curve.svg()
        XCTAssertTrue(svg.hasPrefix("<svg")); XCTAssertTrue(svg.hasSuffix("</svg>\n"))
        XCTAssertEqual(svg.components(separatedBy: "<polyline").count - 1, 2)
        XCTAssertTrue(svg.contains("a &lt; b")); XCTAssertFalse(svg.contains("nan"))
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("loss-\(UUID().uuidString).svg")
        defer { try? FileManager.default.removeItem(at: url) }
        try curve.write(to: url)
        XCTAssertEqual(try String(contentsOf: url, encoding: .utf8), svg)
    }

    func testArithmeticTaskKeepsHeldOutProblemsOutAndScores() {
        let task = ArithmeticTask(maximumOperand: 20, heldOutCount: 30, seed: 3)
        let lines = Set(task.trainingText(lines: 2000).split(separator: "\n").map(String.init))
        XCTAssertTrue(task.heldOut.allSatisfy { !lines.contains(String($0.line.dropLast())) })
        XCTAssertTrue(lines.allSatisfy { line in
            let parts = line.split(whereSeparator: { $0 == "+" || $0 == "=" }).compactMap { Int($0) }
            return parts.count == 3 && parts[0] + parts[1] == parts[2]
        })
        XCTAssertEqual(task.accuracy(on: task.heldOut) { _ in "nope" }, 0)
        XCTAssertEqual(task.accuracy(on: task.heldOut) { prompt in
            let operands = prompt.dropLast().split(separator: "+").compactMap { Int($0) }
            return "\(operands[0] + operands[1])\n12+"
        }, 1)
    }
}
