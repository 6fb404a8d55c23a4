// Fine-tuning examples as training batches: one a row and padded, or packed several a row by
// best-fit decreasing, with position ids that keep attention inside each example.
import Foundation
import GPTModel
import GPTTensor
import GPTTokenizers
import GPTTraining

extension SFTDataset {
    /// The examples as training batches (`TokenBatch`: inputs, targets with -100 where the loss
    /// does not count, and for packed rows the position ids), in the order of `order` (default:
    /// file order; `shuffled(seed:)` for an epoch).
    ///
    /// - Padded (`packing: false`): `batchSize` examples a batch, one a row, each row padded with
    ///   `padTokenID` to the batch's longest example (trl's collator).
    /// - Packed (`packing: true`): examples placed whole into rows of `sequenceLength` positions
    ///   by best-fit decreasing (trl's `bfd` strategy), several a row, each with positions from 0
    ///   so attention stays inside it; `batchSize` rows a batch, padded to the batch's fullest row.
    ///
    /// Either way every example is trained exactly as in a row of its own, so a batch of the
    /// same examples has the same loss and gradients padded or packed; packing wastes fewer
    /// positions on padding. The last batch may be smaller.
    /// - Throws: `TrainingError.invalidConfiguration` for a batch size or length below 1, or an
    ///   example longer than `sequenceLength` (truncate or drop it when building the data set).
    public func batches(batchSize: Int, sequenceLength: Int, packing: Bool, padTokenID: Int32, order: [Int]? = nil) throws -> [TokenBatch] {
        guard batchSize >= 1, sequenceLength >= 1 else {
            throw TrainingError.invalidConfiguration("batches need a batch size and a sequence length of at least 1")
        }
        let order = order ?? Array(examples.indices)
        if let long = order.first(where: { examples[$0].inputCount > sequenceLength }) {
            throw TrainingError.invalidConfiguration("the example of line \(examples[long].line) takes \(examples[long].inputCount) positions, "
                                                     + "more than the sequence length \(sequenceLength)")
        }
        let rows: [[Int]] = packing ? packRows(order, capacity: sequenceLength) : order.map { [$0] }
        var batches: [TokenBatch] = []
        var start = 0
        while start < rows.count {
            let group = rows[start..<min(rows.count, start + batchSize)]
            start += batchSize
            let time = group.map { $0.reduce(0) { $0 + examples[$1].inputCount } }.max() ?? 1
            var inputs: [Int32] = [], targets: [Int32] = [], positions: [Int32] = []
            inputs.reserveCapacity(group.count * time)
            for row in group {
                var used = 0
                for index in row {
                    let example = examples[index]
                    for t in 0..<example.inputCount {
                        inputs.append(example.tokens[t])
                        targets.append(example.trained[t + 1] ? example.tokens[t + 1] : -100)
                        positions.append(Int32(t))
                    }
                    used += example.inputCount
                }
                for p in 0..<(time - used) {
                    inputs.append(padTokenID)
                    targets.append(-100)
                    positions.append(Int32(p))
                }
            }
            batches.append(try TokenBatch(inputs: inputs, targets: targets, positions: packing ? positions : nil, batchSize: group.count,
                                          sequenceLength: time))
        }
        return batches
    }

    /// A seeded permutation of the examples (an epoch's order).
    public func shuffled(seed: UInt64) -> [Int] {
        var generator = RandomGenerator(seed: seed)
        return Array(examples.indices).shuffled(using: &generator)
    }

    /// Best-fit decreasing: the examples of `order` by decreasing length (ties in `order`'s
    /// order), each into the open row it fills most tightly, or a new row; rows in order of creation.
    func packRows(_ order: [Int], capacity: Int) -> [[Int]] {
        let sorted = order.enumerated().sorted {
            let (a, b) = (examples[$0.element].inputCount, examples[$1.element].inputCount)
            return a != b ? a > b : $0.offset < $1.offset
        }.map(\.element)
        var rows: [[Int]] = [], free: [Int] = []
        for index in sorted {
            let length = examples[index].inputCount
            var best: Int?
            for (row, space) in free.enumerated() where space >= length && space < (best.map { free[$0] } ?? Int.max) {
                best = row
            }
            if let best {
                rows[best].append(index)
                free[best] -= length
            } else {
                rows.append([index])
                free.append(capacity - length)
            }
        }
        return rows
    }
}
