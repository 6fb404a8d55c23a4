// Choosing the next token from a row of logits: argmax, repetition penalty, and sampling with
// temperature, top-k and nucleus (top-p) filtering.
//
// Legend: V vocabulary. Ranking is by probability, then by smaller index, so every choice is
// deterministic for a given uniform number.
import Foundation
import GPTKernelCore

extension Kernels {
    // MARK: - Greedy

    /// The index of the largest of `count` elements (the first one on ties; NaNs never win; 0 if
    /// every element is NaN).
    public static func argmax(_ x: UnsafePointer<Float>, count: Int) -> Int {
        precondition(count > 0, "argmax: no elements")
        var best = 0, bestValue = -Float.infinity
        for i in 0..<count where x[i] > bestValue {
            best = i
            bestValue = x[i]
        }
        return best
    }

    // MARK: - Repetition penalty

    /// The CTRL / Hugging Face repetition penalty, in place: for each id in `tokens` (which should
    /// be distinct), `logit = logit > 0 ? logit / penalty : logit · penalty`. Ids must be in range.
    public static func applyRepetitionPenalty(
        _ logits: UnsafeMutablePointer<Float>, tokens: UnsafePointer<Int32>, tokenCount: Int, penalty: Float
    ) {
        for i in 0..<tokenCount {
            let id = Int(tokens[i])
            let value = logits[id]
            logits[id] = value > 0 ? value / penalty : value * penalty
        }
    }

    // MARK: - Sampling

    /// Samples an index from `softmax(logits / temperature)` restricted, as Hugging Face's warpers
    /// do in this order, to the `topK` most likely entries (`topK <= 0` or `>= V`: all) and then to
    /// the smallest most-likely prefix whose renormalized mass reaches `topP` (`topP >= 1`: all).
    /// `uniform` in `[0, 1)` picks the sample (inverse CDF over the kept entries, most likely
    /// first). `logits [V]` is overwritten with the probabilities.
    ///
    /// Only entries with probability ≥ (1 − topP)/V can be in the nucleus (the others hold at most
    /// 1 − topP of the mass together), so only those are ranked.
    ///
    /// ```swift
    /// let token = Kernels.sampleIndex(logits: row, count: V, temperature: 0.8, topK: 40, topP: 0.95,
    ///                                 uniform: generator.nextDouble())
    /// ```
    public static func sampleIndex(
        logits: UnsafeMutablePointer<Float>, count: Int, temperature: Float, topK: Int = 0, topP: Float = 1, uniform: Double
    ) -> Int {
        precondition(count > 0 && temperature > 0, "sampleIndex: needs elements and a positive temperature")
        if temperature != 1 { scale(logits, by: 1 / temperature, count: count) }
        softmaxRow(logits, logits, count)
        let p = UnsafePointer(logits)
        let k = topK <= 0 ? count : Swift.min(topK, count)
        if k == count && topP >= 1 {
            // No filtering: inverse CDF in index order.
            var total = 0.0
            for i in 0..<count { total += Double(p[i]) }
            let target = uniform * total
            var cumulative = 0.0, last = argmax(p, count: count)
            for i in 0..<count where p[i] > 0 {
                cumulative += Double(p[i])
                last = i
                if cumulative > target { return i }
            }
            return last
        }
        // Candidates that can be in the nucleus, then the k best of them, best first.
        let threshold: Float = topP < 1 ? Float((1 - Double(topP)) / Double(count)) * 0.5 : 0
        var ranked: [Int32] = []
        ranked.reserveCapacity(Swift.min(count, Swift.max(k, 64)))
        let better = { (a: Int32, b: Int32) -> Bool in p[Int(a)] > p[Int(b)] || (p[Int(a)] == p[Int(b)] && a < b) }
        if k < count {
            ranked = topIndices(p, count: count, k: k, threshold: threshold, better: better)
        } else {
            for i in 0..<count where p[i] >= threshold && p[i] > 0 { ranked.append(Int32(i)) }
            ranked.sort(by: better)
        }
        guard !ranked.isEmpty else { return argmax(p, count: count) }
        // Nucleus: the shortest prefix whose share of the kept mass reaches topP.
        var kept = ranked.count
        if topP < 1 {
            var mass = 0.0
            for index in ranked { mass += Double(p[Int(index)]) }
            let cut = Double(topP) * mass
            var cumulative = 0.0
            for (position, index) in ranked.enumerated() {
                cumulative += Double(p[Int(index)])
                if cumulative >= cut { kept = position + 1; break }
            }
        }
        var total = 0.0
        for index in ranked[0..<kept] { total += Double(p[Int(index)]) }
        let target = uniform * total
        var cumulative = 0.0
        for index in ranked[0..<kept] {
            cumulative += Double(p[Int(index)])
            if cumulative > target { return Int(index) }
        }
        return Int(ranked[kept - 1])
    }

    /// The `k` best indices with probability ≥ `threshold` (and > 0), best first: a bounded heap
    /// whose root is the worst kept index, O(V log k).
    static func topIndices(
        _ p: UnsafePointer<Float>, count: Int, k: Int, threshold: Float, better: (Int32, Int32) -> Bool
    ) -> [Int32] {
        var heap: [Int32] = []
        heap.reserveCapacity(k)
        func siftDown(_ start: Int) {
            var parent = start
            while true {
                let left = 2 * parent + 1, right = left + 1
                var worst = parent
                if left < heap.count && better(heap[worst], heap[left]) { worst = left }
                if right < heap.count && better(heap[worst], heap[right]) { worst = right }
                if worst == parent { return }
                heap.swapAt(parent, worst)
                parent = worst
            }
        }
        for i in 0..<count where p[i] >= threshold && p[i] > 0 {
            let index = Int32(i)
            if heap.count < k {
                heap.append(index)
                var child = heap.count - 1
                while child > 0 {
                    let parent = (child - 1) / 2
                    guard better(heap[parent], heap[child]) else { break }
                    heap.swapAt(parent, child)
                    child = parent
                }
            } else if better(index, heap[0]) {
                heap[0] = index
                siftDown(0)
            }
        }
        return heap.sorted(by: better)
    }
}
