// Token datasets (from text or llm.c shards) and batches of windows drawn from them.
import Foundation
import GPTFiles
import GPTTensor
import GPTTokenizers

/// A sequence of token ids to train on.
///
/// ```swift
/// let data = try TokenDataset(shard: URL(fileURLWithPath: "train.bin"))   // llm.c format
/// let (train, validation) = data.split(validationFraction: 0.1)
/// ```
public struct TokenDataset: Sendable, Hashable {
    /// The tokens.
    public let tokens: [Int32]

    /// Wraps token ids.
    public init(tokens: [Int32]) { self.tokens = tokens }

    /// Wraps token ids.
    /// - Throws: `TrainingError.invalidData` for an id outside `Int32` or negative.
    public init(tokens: [Int]) throws {
        guard tokens.allSatisfy({ $0 >= 0 && $0 <= Int(Int32.max) }) else {
            throw TrainingError.invalidData("token ids must be non-negative 32-bit integers")
        }
        self.tokens = tokens.map(Int32.init)
    }

    /// The tokens of a UTF-8 text file under `tokenizer`.
    /// - Throws: `TrainingError.io` if the file cannot be read as UTF-8, or the tokenizer's error.
    public init(contentsOf url: URL, tokenizer: some Tokenizer) throws {
        let text: String
        do { text = try Files.readText(url) } catch {
            throw TrainingError.io("cannot read \(url.path): \(error.reason)")
        }
        try self.init(tokens: tokenizer.encode(text))
    }

    /// Reads an llm.c token shard: a header of 256 little-endian Int32 (magic 20240520,
    /// version 1, token count), then the tokens as little-endian UInt16.
    /// - Throws: `TrainingError.invalidData` naming the problem (magic, version, size).
    public init(shard url: URL) throws {
        let data: Data
        do { data = try Files.read(url) } catch { throw TrainingError.io("cannot read \(url.path): \(error.reason)") }
        guard data.count >= 1024 else {
            throw TrainingError.invalidData("\(url.lastPathComponent): \(data.count) bytes, shorter than the 1024-byte header")
        }
        let header = (0..<3).map { i in data.withUnsafeBytes { Int32(littleEndian: $0.loadUnaligned(fromByteOffset: 4 * i, as: Int32.self)) } }
        guard header[0] == 20_240_520 else {
            throw TrainingError.invalidData("\(url.lastPathComponent): magic \(header[0]), expected 20240520 (llm.c token shard)")
        }
        guard header[1] == 1 else { throw TrainingError.invalidData("\(url.lastPathComponent): version \(header[1]), expected 1") }
        let count = Int(header[2])
        guard count >= 0, data.count == 1024 + 2 * count else {
            throw TrainingError.invalidData("\(url.lastPathComponent): header says \(count) tokens but the file holds \((data.count - 1024) / 2)")
        }
        tokens = data.withUnsafeBytes { raw in
            (0..<count).map { Int32(UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: 1024 + 2 * $0, as: UInt16.self))) }
        }
    }

    /// Writes the tokens as an llm.c shard, atomically.
    /// - Throws: `TrainingError.invalidData` if an id does not fit in UInt16.
    public func writeShard(to url: URL) throws {
        guard tokens.allSatisfy({ $0 >= 0 && $0 <= Int32(UInt16.max) }) else {
            throw TrainingError.invalidData("an llm.c shard holds ids below 65536")
        }
        var data = Data(capacity: 1024 + 2 * tokens.count)
        for value in [Int32(20_240_520), 1, Int32(tokens.count)] + [Int32](repeating: 0, count: 253) {
            withUnsafeBytes(of: value.littleEndian) { data.append(contentsOf: $0) }
        }
        for token in tokens { withUnsafeBytes(of: UInt16(token).littleEndian) { data.append(contentsOf: $0) } }
        do { try data.write(to: url, options: .atomic) } catch {
            throw TrainingError.io("cannot write \(url.path): \(Files.reason(for: error))")
        }
    }

    /// The first `1 − validationFraction` of the tokens for training, the rest for validation.
    public func split(validationFraction: Double) -> (train: TokenDataset, validation: TokenDataset) {
        let cut = Int((Double(tokens.count) * (1 - min(1, max(0, validationFraction)))).rounded())
        return (TokenDataset(tokens: Array(tokens[..<cut])), TokenDataset(tokens: Array(tokens[cut...])))
    }
}

/// One batch: inputs and next-token targets, `[batchSize, sequenceLength]` each, row-major.
public struct TokenBatch: Sendable, Hashable {
    /// Input ids.
    public var inputs: [Int32]
    /// Target ids (the inputs shifted by one).
    public var targets: [Int32]
    /// Rows and columns.
    public var batchSize: Int, sequenceLength: Int
    /// For rows that pack several documents: each token's position in its document (0 starts
    /// a document); attention stays inside documents (see `GPTWorkspace.forward`). Nil: one
    /// sequence a row.
    public var positions: [Int32]?

    /// A batch from explicit ids (targets of -100 are not counted in the loss), and optional
    /// packed `positions`.
    /// - Throws: `TrainingError.invalidData` unless each holds `batchSize × sequenceLength` ids.
    public init(inputs: [Int32], targets: [Int32], positions: [Int32]? = nil, batchSize: Int, sequenceLength: Int) throws {
        let (count, overflow) = batchSize.multipliedReportingOverflow(by: sequenceLength)
        guard batchSize > 0, sequenceLength > 0, !overflow, inputs.count == count, targets.count == count,
              positions.map({ $0.count == count }) ?? true else {
            throw TrainingError.invalidData(
                "a batch of \(batchSize) × \(sequenceLength) positions with \(inputs.count) inputs, \(targets.count) targets"
                    + (positions.map { " and \($0.count) position ids" } ?? ""))
        }
        self.init(checked: inputs, targets: targets, batchSize: batchSize, sequenceLength: sequenceLength)
        self.positions = positions
    }

    /// A batch whose sizes the caller guarantees (the sampler's own windows).
    init(checked inputs: [Int32], targets: [Int32], batchSize: Int, sequenceLength: Int) {
        (self.inputs, self.targets, self.batchSize, self.sequenceLength) = (inputs, targets, batchSize, sequenceLength)
    }
}

/// Draws batches of windows from a dataset: at random positions from a seeded generator, or
/// sequentially, wrapping around. Its `state` can be saved and restored to resume exactly.
public struct BatchSampler: Sendable {
    /// How windows are chosen.
    public enum Order: Sendable, Hashable { case random(seed: UInt64), sequential }

    /// The dataset.
    public let dataset: TokenDataset
    /// Rows per batch.
    public let batchSize: Int
    /// Tokens per row.
    public let sequenceLength: Int
    /// What to save to resume.
    public struct State: Sendable, Hashable, Codable {
        /// The generator (random order).
        public var generator: RandomGenerator
        /// The next start position (sequential order).
        public var position: Int
    }
    /// The current state.
    public var state: State
    private let order: Order

    /// A sampler over `dataset`.
    /// - Throws: `TrainingError.invalidData` if the dataset holds fewer than `sequenceLength + 1` tokens.
    public init(dataset: TokenDataset, batchSize: Int, sequenceLength: Int, order: Order) throws {
        guard batchSize > 0, sequenceLength > 0 else {
            throw TrainingError.invalidConfiguration("batch size and sequence length must be positive")
        }
        guard dataset.tokens.count > sequenceLength else {
            throw TrainingError.invalidData("\(dataset.tokens.count) tokens cannot fill a window of \(sequenceLength) + 1")
        }
        self.dataset = dataset
        self.batchSize = batchSize
        self.sequenceLength = sequenceLength
        self.order = order
        if case .random(let seed) = order {
            state = State(generator: RandomGenerator(seed: seed), position: 0)
        } else {
            state = State(generator: RandomGenerator(seed: 0), position: 0)
        }
    }

    /// The next batch.
    public mutating func next() -> TokenBatch {
        let t = sequenceLength, tokens = dataset.tokens
        let starts = tokens.count - t  // valid starts: 0 ..< starts (each needs t + 1 tokens)
        var inputs = [Int32](), targets = [Int32]()
        inputs.reserveCapacity(batchSize * t)
        targets.reserveCapacity(batchSize * t)
        for _ in 0..<batchSize {
            let start: Int
            switch order {
            case .random:
                start = Int(state.generator.next() % UInt64(starts))
            case .sequential:
                if state.position >= starts { state.position = 0 }
                start = state.position
                state.position += t
            }
            inputs.append(contentsOf: tokens[start..<(start + t)])
            targets.append(contentsOf: tokens[(start + 1)...(start + t)])
        }
        return TokenBatch(checked: inputs, targets: targets, batchSize: batchSize, sequenceLength: t)
    }
}
