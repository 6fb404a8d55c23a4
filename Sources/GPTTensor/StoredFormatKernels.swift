// Products with weight matrices kept in their stored formats (GGUF block quantizations, F16,
// BF16), choosing per format and row count:
//   - Q8_0, Q4_0, Q4_1, Q5_0, Q5_1 with at most `directRowLimit` rows: as llama.cpp does,
//     activations quantized to 8-bit blocks and integer block dot products, or each weight block
//     expanded to float32 in registers against float32 activations (QuantizedKernels.swift);
//   - Q4_K, Q5_K, Q6_K, F16, BF16 with at most `directRowLimit` rows: widened in registers,
//     float32 accumulation;
//   - more rows (prefill):
//     panels of `panelRows` weight rows dequantized into a scratch buffer and multiplied by
//     SGEMM, so no dequantized copy of the whole matrix ever exists.
import GPTKernelCore

/// How the direct Q8_0/Q4_0/Q4_1 kernels take the activations.
public enum StoredProductActivations: Sendable {
    /// As float32: the weights are expanded to float32 in registers, so the product equals the
    /// float32 product of the dequantized weights up to float rounding (the default).
    case float32
    /// Quantized to 8-bit blocks of 32, with integer block dot products, as llama.cpp computes:
    /// the error adds the activations' rounding (see `multiplyStored`).
    case int8
}

extension Kernels {
    /// Row counts up to this use the direct kernels; more use dequantized panels and SGEMM.
    public static let directRowLimit = 8
    /// Weight rows per dequantized panel (a 128 × 1536 panel is 768 KiB).
    static let panelRows = 128

    /// The direct integer kernel's name for `format`, if it has one.
    static func blockFormat(_ format: WeightFormat) -> QuantizedBlockFormat? {
        switch format {
        case .q8_0: return .q8_0
        case .q4_0: return .q4_0
        case .q4_1: return .q4_1
        case .q5_0: return .q5_0
        case .q5_1: return .q5_1
        default: return nil
        }
    }

    /// Bytes of one row of `inputs` elements in `format`.
    public static func rowBytes(_ format: WeightFormat, inputs: Int) -> Int {
        inputs / format.blockSize * format.bytesPerBlock
    }

    /// `y [rows, outputs] = (accumulate ? y : 0) + bias + x [rows, inputs] · Wᵀ` for W
    /// `[outputs, inputs]` stored row by row in `format` at `w` (`inputs` a whole number of the
    /// format's blocks); y's rows are `ldy` apart. The result does not depend on the thread count.
    ///
    /// With `activations: .float32` the result equals the float32 product of the dequantized
    /// weights up to float rounding; with `.int8` it differs by the 8-bit rounding of the
    /// activations too: per block of 32, at most `d_a/2 · Σ|w_j|` with `d_a = max|x| / 127`.
    public static func multiplyStored(
        _ format: WeightFormat, w: UnsafeRawPointer, outputs: Int, inputs: Int,
        x: UnsafePointer<Float>, rows: Int, ldx: Int? = nil, into y: UnsafeMutablePointer<Float>, ldy: Int? = nil,
        bias: UnsafePointer<Float>? = nil, accumulate: Bool = false, activations: StoredProductActivations = .float32,
        threads: Int = Parallel.threadCount
    ) {
        precondition(inputs % format.blockSize == 0, "multiplyStored: \(inputs) inputs is not a whole number of \(format) blocks")
        guard rows > 0, outputs > 0 else { return }
        let ldx = ldx ?? inputs, ldy = ldy ?? outputs
        if format == .float32 {
            sgemm(m: rows, n: outputs, k: inputs, a: x, lda: ldx, b: w.assumingMemoryBound(to: Float.self), transposeB: true,
                  c: y, ldc: ldy, bias: bias, accumulate: accumulate, threads: threads)
            return
        }
        if rows <= directRowLimit, let block = blockFormat(format), inputs % quantizedBlockLength == 0, activations == .float32 {
            let scratch = ScratchPool.shared.checkOut(capacity: rows * inputs / quantizedBlockLength + 16)
            defer { ScratchPool.shared.checkIn(scratch) }
            blockSums(x, rows: rows, inputs: inputs, ldx: ldx, into: scratch.pointer)
            active.floatBlockGEMM(block, n: outputs, k: inputs, w: w, rowBytes: rowBytes(format, inputs: inputs), rows: rows,
                                  x: x, ldx: ldx, blockSums: scratch.pointer, y: y, ldy: ldy, bias: bias,
                                  accumulate: accumulate, threads: threads)
            return
        }
        if rows <= directRowLimit, let block = blockFormat(format), inputs % quantizedBlockLength == 0 {
            let blocks = inputs / quantizedBlockLength
            // Int8 values (a quarter of a float each), then the scales and sums.
            let scratch = ScratchPool.shared.checkOut(capacity: rows * inputs / 4 + 2 * rows * blocks + 16)
            defer { ScratchPool.shared.checkIn(scratch) }
            let values = UnsafeMutableRawPointer(scratch.pointer).assumingMemoryBound(to: Int8.self)
            let scales = scratch.pointer + rows * inputs / 4, sums = scales + rows * blocks
            active.quantizeActivationBlocks(x, rows: rows, k: inputs, ldx: ldx, values: values, scales: scales, sums: sums)
            active.quantizedGEMM(block, n: outputs, k: inputs, w: w, rowBytes: rowBytes(format, inputs: inputs), rows: rows,
                                 values: values, scales: scales, sums: sums, y: y, ldy: ldy, bias: bias,
                                 accumulate: accumulate, threads: threads)
            return
        }
        if rows <= directRowLimit, format == .q4_K {
            let scratch = ScratchPool.shared.checkOut(capacity: rows * inputs / quantizedBlockLength + 16)
            defer { ScratchPool.shared.checkIn(scratch) }
            blockSums(x, rows: rows, inputs: inputs, ldx: ldx, into: scratch.pointer)
            active.floatQ4KGEMM(n: outputs, k: inputs, w: w, rowBytes: rowBytes(format, inputs: inputs), rows: rows, x: x, ldx: ldx,
                                blockSums: scratch.pointer, y: y, ldy: ldy, bias: bias, accumulate: accumulate, threads: threads)
            return
        }
        if rows <= directRowLimit, format == .q5_K {
            let scratch = ScratchPool.shared.checkOut(capacity: rows * inputs / quantizedBlockLength + 16)
            defer { ScratchPool.shared.checkIn(scratch) }
            blockSums(x, rows: rows, inputs: inputs, ldx: ldx, into: scratch.pointer)
            active.floatQ5KGEMM(n: outputs, k: inputs, w: w, rowBytes: rowBytes(format, inputs: inputs), rows: rows, x: x, ldx: ldx,
                                blockSums: scratch.pointer, y: y, ldy: ldy, bias: bias, accumulate: accumulate, threads: threads)
            return
        }
        if rows <= directRowLimit, format == .q6_K {
            active.floatQ6KGEMM(n: outputs, k: inputs, w: w, rowBytes: rowBytes(format, inputs: inputs), rows: rows, x: x, ldx: ldx,
                                y: y, ldy: ldy, bias: bias, accumulate: accumulate, threads: threads)
            return
        }
        if rows <= directRowLimit, format == .float16 || format == .bfloat16 {
            active.halfGEMM(isBFloat16: format == .bfloat16, n: outputs, k: inputs, w: w.assumingMemoryBound(to: UInt16.self),
                            ldw: inputs, rows: rows, x: x, ldx: ldx, y: y, ldy: ldy, bias: bias, accumulate: accumulate,
                            threads: threads)
            return
        }
        // Dequantized panels of W through SGEMM.
        let panel = min(panelRows, outputs)
        let scratch = ScratchPool.shared.checkOut(capacity: panel * inputs)
        defer { ScratchPool.shared.checkIn(scratch) }
        let stride = rowBytes(format, inputs: inputs)
        var j0 = 0
        while j0 < outputs {
            let count = min(panel, outputs - j0)
            dequantize(format, w + j0 * stride, count: count * inputs, into: scratch.pointer)
            sgemm(m: rows, n: count, k: inputs, a: x, lda: ldx, b: scratch.pointer, transposeB: true, c: y + j0, ldc: ldy,
                  bias: bias.map { $0 + j0 }, accumulate: accumulate, threads: threads)
            j0 += count
        }
    }

    /// `dx [rows, inputs] = (accumulate ? dx : 0) + dy [rows, outputs] · W` for W stored in
    /// `format` (the input gradient of ``multiplyStored(_:w:outputs:inputs:x:rows:ldx:into:ldy:bias:accumulate:threads:)``,
    /// for adapters trained over frozen quantized weights): dequantized panels through SGEMM.
    public static func multiplyStoredTransposed(
        _ format: WeightFormat, w: UnsafeRawPointer, outputs: Int, inputs: Int,
        dy: UnsafePointer<Float>, rows: Int, lddy: Int? = nil, into dx: UnsafeMutablePointer<Float>, accumulate: Bool = false,
        threads: Int = Parallel.threadCount
    ) {
        let lddy = lddy ?? outputs
        if format == .float32 {
            sgemm(m: rows, n: inputs, k: outputs, a: dy, lda: lddy, b: w.assumingMemoryBound(to: Float.self), c: dx,
                  accumulate: accumulate, threads: threads)
            return
        }
        let panel = min(panelRows, outputs)
        let scratch = ScratchPool.shared.checkOut(capacity: Swift.max(1, panel * inputs))
        defer { ScratchPool.shared.checkIn(scratch) }
        let stride = rowBytes(format, inputs: inputs)
        var j0 = 0
        var first = true
        while j0 < outputs {
            let count = min(panel, outputs - j0)
            dequantize(format, w + j0 * stride, count: count * inputs, into: scratch.pointer)
            sgemm(m: rows, n: inputs, k: count, a: dy + j0, lda: lddy, b: scratch.pointer, c: dx,
                  accumulate: accumulate || !first, threads: threads)
            first = false
            j0 += count
        }
        if first && !accumulate { dx.initialize(repeating: Float(0), count: rows * inputs) }
    }

    /// Copies rows `ids` of a table W `[V, C]` stored in `format` into `y [count, C]`, dequantized.
    public static func gatherStoredRows(
        _ format: WeightFormat, table: UnsafeRawPointer, columns: Int, ids: UnsafePointer<Int32>, count: Int,
        into y: UnsafeMutablePointer<Float>
    ) {
        let stride = rowBytes(format, inputs: columns)
        for r in 0..<count {
            dequantize(format, table + Int(ids[r]) * stride, count: columns, into: y + r * columns)
        }
    }

    /// The sum of each 32-element block of each row of `x [rows, inputs]`.
    static func blockSums(_ x: UnsafePointer<Float>, rows: Int, inputs: Int, ldx: Int, into sums: UnsafeMutablePointer<Float>) {
        let blocks = inputs / quantizedBlockLength
        for r in 0..<rows {
            for b in 0..<blocks {
                let p = UnsafeRawPointer(x + r * ldx + b * quantizedBlockLength)
                var v = SIMD8<Float>()
                for i in 0..<4 { v += p.loadUnaligned(fromByteOffset: 32 * i, as: SIMD8<Float>.self) }
                sums[r * blocks + b] = v.sum()
            }
        }
    }

    /// Several products with the same input: `parts[i].y = bias + x [rows, inputs] · Wᵢᵀ`, with
    /// every Wᵢ `[parts[i].outputs, inputs]` stored in `format`. Direct Q8_0/Q4_0/Q4_1 products of
    /// at most `directRowLimit` rows run as one dispatch over all the parts' outputs (q, k and v;
    /// gate and up), which saves a fork and join per matrix when decoding (and, with `.int8`,
    /// quantizes x once); anything else runs part by part. Each output equals what
    /// ``multiplyStored(_:w:outputs:inputs:x:rows:ldx:into:ldy:bias:accumulate:activations:threads:)``
    /// gives.
    public static func multiplyStored(
        _ format: WeightFormat, parts: [StoredProductPart], inputs: Int, x: UnsafePointer<Float>, rows: Int,
        activations: StoredProductActivations = .float32, threads: Int = Parallel.threadCount
    ) {
        guard rows <= directRowLimit, let block = blockFormat(format), inputs % quantizedBlockLength == 0, parts.count > 1 else {
            for part in parts {
                multiplyStored(format, w: part.w, outputs: part.outputs, inputs: inputs, x: x, rows: rows, into: part.y, ldy: part.ldy,
                               bias: part.bias, activations: activations, threads: threads)
            }
            return
        }
        let stride = rowBytes(format, inputs: inputs)
        if activations == .int8 {
            let blocks = inputs / quantizedBlockLength
            let scratch = ScratchPool.shared.checkOut(capacity: rows * inputs / 4 + 2 * rows * blocks + 16)
            defer { ScratchPool.shared.checkIn(scratch) }
            let values = UnsafeMutableRawPointer(scratch.pointer).assumingMemoryBound(to: Int8.self)
            let scales = scratch.pointer + rows * inputs / 4, sums = scales + rows * blocks
            active.quantizeActivationBlocks(x, rows: rows, k: inputs, ldx: inputs, values: values, scales: scales, sums: sums)
            parts.withUnsafeBufferPointer { parts in
                active.quantizedGEMMGroup(block, parts: parts.baseAddress!, count: parts.count, k: inputs, rowBytes: stride, rows: rows,
                                          values: values, scales: scales, sums: sums, accumulate: false, threads: threads)
            }
            return
        }
        let scratch = ScratchPool.shared.checkOut(capacity: rows * inputs / quantizedBlockLength + 16)
        defer { ScratchPool.shared.checkIn(scratch) }
        blockSums(x, rows: rows, inputs: inputs, ldx: inputs, into: scratch.pointer)
        parts.withUnsafeBufferPointer { parts in
            active.floatBlockGEMMGroup(block, parts: parts.baseAddress!, count: parts.count, k: inputs, rowBytes: stride, rows: rows,
                                       x: x, ldx: inputs, blockSums: scratch.pointer, accumulate: false, threads: threads)
        }
    }
}
