import Dispatch
import GPTKernelCore
import XCTest

final class ParallelTests: XCTestCase {
    /// Every task index runs exactly once, over many back-to-back calls (which reach the spinning
    /// workers) and after pauses long enough for them to park.
    func testEveryTaskRunsExactlyOnce() {
        for round in 0..<2000 {
            let count = 2 + round % 9
            let hits = UnsafeMutablePointer<Int>.allocate(capacity: count)
            hits.initialize(repeating: 0, count: count)
            defer { hits.deallocate() }
            Parallel.forEachTask(count) { index in hits[index] += 1 }
            XCTAssertEqual(Array(UnsafeBufferPointer(start: hits, count: count)), Array(repeating: 1, count: count), "round \(round)")
            if round % 500 == 499 { usleep(2000) }  // past the spin window: the workers park
        }
    }

    /// Calls from several threads at once, and calls nested inside a task, all complete with
    /// every task run once (the pool serves one call; the others fall back to Dispatch).
    func testConcurrentAndNestedCalls() {
        let callers = 8, inner = 5
        let totals = UnsafeMutablePointer<Int>.allocate(capacity: callers * inner * inner)
        totals.initialize(repeating: 0, count: callers * inner * inner)
        defer { totals.deallocate() }
        nonisolated(unsafe) let shared = totals
        DispatchQueue.concurrentPerform(iterations: callers) { caller in
            for _ in 0..<200 {
                Parallel.forEachTask(inner) { outer in
                    Parallel.forEachTask(inner) { index in
                        shared[(caller * inner + outer) * inner + index] += 1
                    }
                }
            }
        }
        XCTAssertEqual(Array(UnsafeBufferPointer(start: totals, count: callers * inner * inner)),
                       Array(repeating: 200, count: callers * inner * inner))
    }
}
