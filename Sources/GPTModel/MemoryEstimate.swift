// How much memory a model and its passes need, estimated before anything is allocated, so that
// sizes that validate but cannot fit this machine are refused with a message instead of an abort.
import Foundation
import GPTLayers
import GPTTensor

extension GPTConfiguration {
    /// Bytes of the weights (every bias counted) and the position tables.
    public var estimatedWeightBytes: Double {
        let c = Double(embeddingDimensions), positions = Double(contextLength)
        var tables = 0.0
        switch positionalEncoding {
        case .learned: tables = 0
        case .sinusoidal: tables = positions * c
        case .rotary: tables = positions * Double(headSize)  // cos and sin, HS/2 each
        }
        return 4 * (Double(parameterBound ?? Int.max) + tables)
    }

    /// Bytes of the activations one training pass of `batch × time` keeps (an upper estimate:
    /// every block's saved tensors, or one block's with `perBlock` recomputation, the attention
    /// probabilities, the logits and the backward pass's scratch).
    public func estimatedActivationBytes(batch: Int, time: Int, perBlock: Bool) -> Double {
        let rows = Double(batch) * Double(time)
        let c = Double(embeddingDimensions), h = Double(hiddenDimensions), heads = Double(headCount)
        let qkv = Double(headCount + 2 * keyValueHeadCount) * Double(headSize), attended = heads * Double(headSize)
        let block = rows * (7 * c + qkv + attended + 3 * h + 4) + Double(batch) * heads * Double(time) * Double(time)
        let blocks = perBlock ? rows * c * Double(layerCount) + block : block * Double(layerCount)
        let scratch = rows * (4 * max(c, h, qkv))
        return 4 * (blocks + rows * Double(vocabularySize) + scratch)
    }

    /// The machine's physical memory in bytes.
    public static var physicalMemoryBytes: Double { Double(ProcessInfo.processInfo.physicalMemory) }

    /// nil when `bytes` fit this machine's memory, else a sentence saying how much `what` needs
    /// and how much there is (each caller throws it as its own error type).
    public static func memoryShortfall(_ bytes: Double, for what: String) -> String? {
        let available = physicalMemoryBytes
        guard bytes > available else { return nil }
        return String(format: "%@ needs about %.1f GB of memory; this machine has %.1f GB", what, bytes / 1e9, available / 1e9)
    }
}

extension GPT {
    /// Bytes of weights one decoding step reads, in their stored formats: every matrix in full
    /// (the output projection too, even when it is the token table), one row of each embedding
    /// table otherwise, and every vector. Divided into a memory bandwidth, it bounds the decoding
    /// speed (`gpt-bench generate` reports the fraction reached).
    public var weightBytesReadPerToken: Int {
        var total = 0
        for entry in layout.entries {
            let matrix = weights.matrix(entry.slot)
            let rowBytes = matrix.format == .float32 ? 4 * matrix.inputs : Kernels.rowBytes(matrix.format, inputs: matrix.inputs)
            let readsOneRow = entry.role == .embedding && entry.slot.index != architecture.outputWeight.index
            total += rowBytes * (readsOneRow ? 1 : matrix.outputs)
        }
        return total
    }
}
