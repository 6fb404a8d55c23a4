// PairStatistics: the BPE trainer's incremental pair counts. For every adjacent token pair: its
// frequency-weighted count over the words, and the words it occurs in; a max-heap of
// (count, pair) entries that may be stale and are checked when popped.

// MARK: - TokenPair

/// An adjacent pair of token ids.
struct TokenPair: Hashable, Comparable {
    var left: Int32
    var right: Int32

    /// Orders by left id, then right id (the trainer's tie-break: smaller pairs first).
    static func < (lhs: TokenPair, rhs: TokenPair) -> Bool {
        lhs.left != rhs.left ? lhs.left < rhs.left : lhs.right < rhs.right
    }
}

// MARK: - PairStatistics

struct PairStatistics {
    private(set) var words: [[Int32]]
    private let frequencies: [Int]
    private var counts: [TokenPair: Int] = [:]
    /// The words each pair occurs in (may list a word twice or list words that lost the pair).
    private var occurrences: [TokenPair: [Int32]] = [:]
    private var heap = PairHeap()
    /// The merge step in which each word was last rewritten, to process each word once a step.
    private var lastVisit: [Int]
    private var step = 0

    init(words: [[Int32]], frequencies: [Int]) {
        self.words = words
        self.frequencies = frequencies
        lastVisit = [Int](repeating: -1, count: words.count)
        for (index, word) in words.enumerated() where word.count > 1 {
            for position in 0..<(word.count - 1) {
                let pair = TokenPair(left: word[position], right: word[position + 1])
                counts[pair, default: 0] += frequencies[index]
                occurrences[pair, default: []].append(Int32(index))
            }
        }
        for (pair, count) in counts { heap.push(count: count, pair: pair) }
    }

    /// Removes and returns the most frequent pair (the smallest on ties), or nil if none is left.
    mutating func popMostFrequentPair() -> TokenPair? {
        while let top = heap.pop() {
            let current = counts[top.pair] ?? 0
            if current == top.count && current > 0 { return top.pair }
            // A stale entry: the pair lost occurrences since it was pushed.
            if current > 0 && current < top.count { heap.push(count: current, pair: top.pair) }
        }
        return nil
    }

    /// Replaces every occurrence of `pair` (left to right, not overlapping) by `merged` and
    /// updates the counts of the pairs around it.
    mutating func merge(_ pair: TokenPair, into merged: Int32) {
        step += 1
        let affected = occurrences.removeValue(forKey: pair) ?? []
        var created = Set<TokenPair>()
        for wordIndex in affected where lastVisit[Int(wordIndex)] != step {
            lastVisit[Int(wordIndex)] = step
            let word = words[Int(wordIndex)]
            let frequency = frequencies[Int(wordIndex)]
            var rewritten: [Int32] = []
            rewritten.reserveCapacity(word.count)
            var position = 0
            var changed = false
            while position < word.count {
                if position + 1 < word.count && word[position] == pair.left && word[position + 1] == pair.right {
                    rewritten.append(merged)
                    position += 2
                    changed = true
                } else {
                    rewritten.append(word[position])
                    position += 1
                }
            }
            guard changed else { continue }
            // Subtract the old pairs, add the new ones; only pairs with `merged` are new.
            for index in 0..<(word.count - 1) {
                counts[TokenPair(left: word[index], right: word[index + 1]), default: 0] -= frequency
            }
            for index in 0..<max(rewritten.count - 1, 0) {
                let newPair = TokenPair(left: rewritten[index], right: rewritten[index + 1])
                counts[newPair, default: 0] += frequency
                if newPair.left == merged || newPair.right == merged {
                    occurrences[newPair, default: []].append(wordIndex)
                    created.insert(newPair)
                }
            }
            words[Int(wordIndex)] = rewritten
        }
        counts[pair] = nil
        for newPair in created.sorted() { heap.push(count: counts[newPair] ?? 0, pair: newPair) }
    }
}

// MARK: - PairHeap

/// A binary max-heap of (count, pair): the highest count first, then the smallest pair.
struct PairHeap {
    private var items: [(count: Int, pair: TokenPair)] = []

    private static func isBefore(_ a: (count: Int, pair: TokenPair), _ b: (count: Int, pair: TokenPair)) -> Bool {
        a.count != b.count ? a.count > b.count : a.pair < b.pair
    }

    mutating func push(count: Int, pair: TokenPair) {
        items.append((count, pair))
        var child = items.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard Self.isBefore(items[child], items[parent]) else { break }
            items.swapAt(parent, child)
            child = parent
        }
    }

    mutating func pop() -> (count: Int, pair: TokenPair)? {
        guard let last = items.popLast() else { return nil }
        guard !items.isEmpty else { return last }
        let top = items[0]
        items[0] = last
        var parent = 0
        while true {
            let left = 2 * parent + 1
            guard left < items.count else { break }
            let right = left + 1
            let child = right < items.count && Self.isBefore(items[right], items[left]) ? right : left
            guard Self.isBefore(items[child], items[parent]) else { break }
            items.swapAt(parent, child)
            parent = child
        }
        return top
    }
}
