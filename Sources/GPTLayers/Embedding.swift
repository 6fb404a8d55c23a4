// Token embedding and positional encodings (learned, sinusoidal, rotary).
import Foundation
import GPTTensor

/// A token embedding table `[vocabularySize, dimensions]` (GPT-2's `wte`).
public struct Embedding: Sendable, Hashable {
    /// The number of tokens.
    public let vocabularySize: Int
    /// The width of each embedding.
    public let dimensions: Int
    /// The table `[vocabularySize, dimensions]`.
    public let weight: ParameterSlot

    /// Registers `name.weight` in `layout`.
    public init(vocabularySize: Int, dimensions: Int, name: String, layout: inout ParameterLayout) {
        self.vocabularySize = vocabularySize
        self.dimensions = dimensions
        weight = layout.add("\(name).weight", shape: [vocabularySize, dimensions], role: .embedding)
    }

    /// `y[r, :] = table[ids[r], :]`. Ids must be in the vocabulary (the model checks them).
    public func forward(ids: UnsafePointer<Int32>, rows: Int, weights: WeightStore, into y: UnsafeMutablePointer<Float>) {
        weights.matrix(weight).gatherRows(ids: ids, count: rows, into: y)
    }

    /// Adds each row of `dy` into the gradient row of its token.
    public func backward(outputGradient dy: UnsafePointer<Float>, ids: UnsafePointer<Int32>, rows: Int, gradients: GradientBuffer) {
        guard gradients.tracks(weight) else { return }
        Kernels.scatterAddRows(dy, ids: ids, rows: rows, columns: dimensions, into: gradients[weight])
    }
}

/// Learned absolute positions (GPT-2's `wpe`): `y[b, t] = x[b, t] + table[offset + t]`.
public struct LearnedPositionalEmbedding: Sendable, Hashable {
    /// The context length: positions `0..<maximumPositions`.
    public let maximumPositions: Int
    /// The width.
    public let dimensions: Int
    /// The table `[maximumPositions, dimensions]`.
    public let weight: ParameterSlot

    /// Registers `name.weight` in `layout`.
    public init(maximumPositions: Int, dimensions: Int, name: String, layout: inout ParameterLayout) {
        self.maximumPositions = maximumPositions
        self.dimensions = dimensions
        weight = layout.add("\(name).weight", shape: [maximumPositions, dimensions], role: .embedding)
    }

    /// Adds the position rows `offset ..< offset + time` to each of `batch` sequences of `x`, in
    /// place; with `positions [B·T]` (packed rows, each below `time`), row r gets table row `positions[r]`.
    /// - Throws: `LayerError.positionOutOfRange` past the context length.
    public func forward(
        _ x: UnsafeMutablePointer<Float>, batch: Int, time: Int, positionOffset: Int = 0, positions: UnsafePointer<Int32>? = nil,
        weights: WeightStore
    ) throws {
        guard positionOffset + time <= maximumPositions else {
            throw LayerError.positionOutOfRange(position: positionOffset + time - 1, maximum: maximumPositions)
        }
        if let positions {
            let table = weights.vector(weight)
            for r in 0..<(batch * time) {
                Kernels.add(x + r * dimensions, table + Int(positions[r]) * dimensions, into: x + r * dimensions, count: dimensions)
            }
            return
        }
        let rows = weights.vector(weight) + positionOffset * dimensions
        for b in 0..<batch {
            let sequence = x + b * time * dimensions
            Kernels.add(sequence, rows, into: sequence, count: time * dimensions)
        }
    }

    /// Adds the sum over the batch of `dy` into the gradient rows `offset ..< offset + time`.
    /// (The input gradient is `dy` itself.)
    /// With `positions`, row r's gradient goes to table row `positions[r]`.
    public func backward(
        outputGradient dy: UnsafePointer<Float>, batch: Int, time: Int, positionOffset: Int = 0, positions: UnsafePointer<Int32>? = nil,
        gradients: GradientBuffer
    ) {
        guard gradients.tracks(weight) else { return }
        if let positions {
            let table = gradients[weight]
            for r in 0..<(batch * time) {
                Kernels.axpy(alpha: 1, x: dy + r * dimensions, y: table + Int(positions[r]) * dimensions, count: dimensions)
            }
            return
        }
        let rows = gradients[weight] + positionOffset * dimensions
        for b in 0..<batch {
            Kernels.axpy(alpha: 1, x: dy + b * time * dimensions, y: rows, count: time * dimensions)
        }
    }
}

/// The fixed sinusoidal encoding of "Attention Is All You Need":
/// `pe[p, 2i] = sin(p / 10000^(2i/C))`, `pe[p, 2i+1] = cos(p / 10000^(2i/C))`, computed in
/// Double and rounded once. No parameters; the input gradient is the output gradient.
public struct SinusoidalPositionalEncoding: Sendable, Hashable {
    /// The context length.
    public let maximumPositions: Int
    /// The width (even).
    public let dimensions: Int
    /// The table, `[maximumPositions, dimensions]` row-major.
    public let table: [Float]

    /// Builds the table.
    public init(maximumPositions: Int, dimensions: Int, base: Double = 10_000) {
        self.maximumPositions = maximumPositions
        self.dimensions = dimensions
        var table = [Float](repeating: 0, count: maximumPositions * dimensions)
        for p in 0..<maximumPositions {
            for j in 0..<dimensions {
                let angle = Double(p) / Foundation.pow(base, Double(j / 2 * 2) / Double(dimensions))
                table[p * dimensions + j] = Float(j % 2 == 0 ? Foundation.sin(angle) : Foundation.cos(angle))
            }
        }
        self.table = table
    }

    /// Adds positions `offset ..< offset + time` to each of `batch` sequences of `x`, in place;
    /// with `positions [B·T]` (packed rows, each below `time`), row r gets position `positions[r]`.
    public func forward(
        _ x: UnsafeMutablePointer<Float>, batch: Int, time: Int, positionOffset: Int = 0, positions: UnsafePointer<Int32>? = nil
    ) throws {
        guard positionOffset + time <= maximumPositions else {
            throw LayerError.positionOutOfRange(position: positionOffset + time - 1, maximum: maximumPositions)
        }
        table.withUnsafeBufferPointer { rows in
            if let positions {
                for r in 0..<(batch * time) {
                    Kernels.add(x + r * dimensions, rows.baseAddress! + Int(positions[r]) * dimensions, into: x + r * dimensions,
                                count: dimensions)
                }
                return
            }
            for b in 0..<batch {
                let sequence = x + b * time * dimensions
                Kernels.add(sequence, rows.baseAddress! + positionOffset * dimensions, into: sequence, count: time * dimensions)
            }
        }
    }
}

/// Rotary position embedding (RoPE), as Hugging Face's Llama (`apply_rotary_pos_emb` with
/// `rotate_half`: element i pairs with i + HS/2; inv_freq = 1/θ^(2i/HS) in float32).
/// llama2.c checkpoints pair adjacent elements instead; their loader permutes q/k weights.
public struct RotaryEmbedding: Sendable, Hashable {
    /// The head size HS (even).
    public let headSize: Int
    /// The largest position + 1.
    public let maximumPositions: Int
    /// θ, the base (10000 in Llama).
    public let theta: Float
    private let cosTable: [Float]
    private let sinTable: [Float]

    /// Precomputes the tables for positions `0..<maximumPositions`.
    public init(headSize: Int, maximumPositions: Int, theta: Float = 10_000) {
        precondition(headSize % 2 == 0, "RotaryEmbedding: head size must be even")
        self.headSize = headSize
        self.maximumPositions = maximumPositions
        self.theta = theta
        (cosTable, sinTable) = Kernels.rotaryTables(positions: maximumPositions, headSize: headSize, theta: theta)
    }

    /// Rotates `heads` head vectors in each of `batch × time` rows (`rowStride` floats apart) in
    /// place, by positions `offset + t` (or, for packed rows, `positions [B·T]`, each below
    /// `time`); `inverse` applies the transpose (the backward pass).
    public func apply(
        _ x: UnsafeMutablePointer<Float>, batch: Int, time: Int, heads: Int, rowStride: Int, positionOffset: Int,
        positions: UnsafePointer<Int32>? = nil, inverse: Bool = false
    ) {
        precondition(positionOffset + time <= maximumPositions, "RotaryEmbedding: position beyond the table")
        cosTable.withUnsafeBufferPointer { c in
            sinTable.withUnsafeBufferPointer { s in
                Kernels.applyRotary(x, batch: batch, time: time, heads: heads, headSize: headSize, rowStride: rowStride,
                                    positionOffset: positionOffset, positions: positions, cos: c.baseAddress!, sin: s.baseAddress!,
                                    inverse: inverse)
            }
        }
    }
}
