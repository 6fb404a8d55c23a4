// A small formal task whose learning is visible and measurable: addition, one problem a line.
import GPTTensor

/// Addition problems such as `123+45=168`, one per line, from a seeded generator, with a
/// held-out set of problems that never appear in the training text.
///
/// ```swift
/// let task = ArithmeticTask(maximumOperand: 999, seed: 7)
/// let text = task.trainingText(lines: 20_000)      // "417+86=503\n…"
/// let accuracy = task.accuracy(on: task.heldOut) { prompt in model.complete(prompt) }
/// ```
public struct ArithmeticTask: Sendable {
    /// One problem: the prompt `a+b=` and its answer `a+b`.
    public struct Problem: Sendable, Hashable {
        /// The operands.
        public var a: Int, b: Int
        /// `"a+b="`.
        public var prompt: String { "\(a)+\(b)=" }
        /// The decimal sum.
        public var answer: String { "\(a + b)" }
        /// The whole line with its newline.
        public var line: String { prompt + answer + "\n" }
    }

    /// Operands are drawn from `0...maximumOperand`.
    public let maximumOperand: Int
    /// Problems kept out of the training text.
    public let heldOut: [Problem]
    private let heldOutSet: Set<Problem>
    private let seed: UInt64

    /// Characters the task uses: digits, `+`, `=` and newline.
    public static let alphabet = "0123456789+=\n"

    /// A task with `heldOutCount` held-out problems (at most half of all the problems there are,
    /// so that training text remains). `maximumOperand` must be at least 1.
    public init(maximumOperand: Int = 999, heldOutCount: Int = 200, seed: UInt64 = 7) {
        precondition(maximumOperand >= 1, "ArithmeticTask: maximumOperand must be at least 1")
        let distinct = (maximumOperand + 1).multipliedReportingOverflow(by: maximumOperand + 1)
        let heldOutCount = distinct.overflow ? heldOutCount : min(heldOutCount, distinct.partialValue / 2)
        self.maximumOperand = maximumOperand
        self.seed = seed
        var generator = RandomGenerator(seed: seed ^ 0x5EED)
        var problems: [Problem] = [], seen = Set<Problem>()
        while problems.count < heldOutCount {
            let problem = Problem(a: Int(generator.next() % UInt64(maximumOperand + 1)), b: Int(generator.next() % UInt64(maximumOperand + 1)))
            if seen.insert(problem).inserted { problems.append(problem) }
        }
        heldOut = problems
        heldOutSet = seen
    }

    /// `lines` random training problems (never a held-out one), one per line.
    public func trainingText(lines: Int) -> String {
        var generator = RandomGenerator(seed: seed)
        var text = ""
        text.reserveCapacity(lines * 12)
        var count = 0
        while count < lines {
            let problem = Problem(a: Int(generator.next() % UInt64(maximumOperand + 1)), b: Int(generator.next() % UInt64(maximumOperand + 1)))
            if heldOutSet.contains(problem) { continue }
            text += problem.line
            count += 1
        }
        return text
    }

    /// The fraction of `problems` for which `complete(prompt)` starts with the right answer
    /// followed by a newline (or ends right after it).
    public func accuracy(on problems: [Problem], complete: (String) throws -> String) rethrows -> Double {
        guard !problems.isEmpty else { return 0 }
        var correct = 0
        for problem in problems {
            let output = try complete(problem.prompt)
            let answer = output.split(separator: "\n", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? ""
            if answer == problem.answer { correct += 1 }
        }
        return Double(correct) / Double(problems.count)
    }
}
