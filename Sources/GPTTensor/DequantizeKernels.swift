// Dequantization: every storage format to float32, exactly as llama.cpp's reference
// `dequantize_row_*` (ggml-quants.c) and gguf-py's `gguf.quants.dequantize` compute it (the same
// float32 operations in the same order, so the results are bit-identical).
//
// Block layouts (little-endian; d, m, dmin are IEEE half precision):
//   Q8_0  [d, qs: 32 × int8]                          x = d·q
//   Q4_0  [d, qs: 16 bytes]                           x = d·(q − 8), q = low nibbles (0..<16), then high
//   Q4_1  [d, m, qs: 16 bytes]                        x = d·q + m
//   Q5_0  [d, qh: 4 bytes, qs: 16 bytes]              x = d·(q − 16), the fifth bit of element j in qh bit j
//   Q5_1  [d, m, qh: 4 bytes, qs: 16 bytes]           x = d·q + m
//   Q4_K  [d, dmin, scales: 12, qs: 128]              8 sub-blocks of 32: x = d·sc·q − dmin·mn (6-bit sc, mn)
//   Q5_K  [d, dmin, scales: 12, qh: 32, qs: 128]      as Q4_K with a fifth bit from qh
//   Q6_K  [ql: 128, qh: 64, scales: 16 × int8, d]     16 sub-blocks of 16: x = d·sc·(q − 32)
import GPTKernelCore

extension Kernels {
    /// `out[0..<count] = the elements of the blocks at bytes`, in `format` (any alignment).
    /// `count` must be a whole number of the format's blocks. Split across threads by blocks;
    /// the result does not depend on the split.
    public static func dequantize(_ format: WeightFormat, _ bytes: UnsafeRawPointer, count: Int, into out: UnsafeMutablePointer<Float>) {
        switch format {
        case .float32: widen(bytes, type: .float32, count: count, into: out); return
        case .float16: widen(bytes, type: .float16, count: count, into: out); return
        case .bfloat16: widen(bytes, type: .bfloat16, count: count, into: out); return
        default: break
        }
        precondition(count % format.blockSize == 0, "dequantize: \(count) is not a whole number of \(format) blocks")
        let blocks = count / format.blockSize, size = format.bytesPerBlock, n = format.blockSize
        forEachRange(blocks, grain: Swift.max(1, elementwiseParallelThreshold / n)) { range in
            for block in range {
                let b = bytes + block &* size, y = out + block &* n
                switch format {
                case .q8_0: dequantizeQ8_0(b, y)
                case .q4_0: dequantizeQ4(b, y, hasMinimum: false)
                case .q4_1: dequantizeQ4(b, y, hasMinimum: true)
                case .q5_0: dequantizeQ5(b, y, hasMinimum: false)
                case .q5_1: dequantizeQ5(b, y, hasMinimum: true)
                case .q4_K: dequantizeQ4_K(b, y)
                case .q5_K: dequantizeQ5_K(b, y)
                case .q6_K: dequantizeQ6_K(b, y)
                case .float32, .float16, .bfloat16: break
                }
            }
        }
    }

    // MARK: - 32-element blocks

    @inline(__always)
    static func half(_ b: UnsafeRawPointer, _ offset: Int) -> Float {
        floatFromHalfBits(UInt16(littleEndian: b.loadUnaligned(fromByteOffset: offset, as: UInt16.self)))
    }

    @inline(__always)
    static func byte(_ b: UnsafeRawPointer, _ offset: Int) -> UInt8 { b.load(fromByteOffset: offset, as: UInt8.self) }

    static func dequantizeQ8_0(_ b: UnsafeRawPointer, _ y: UnsafeMutablePointer<Float>) {
        let d = half(b, 0)
        for j in 0..<32 { y[j] = d * Float(Int8(bitPattern: byte(b, 2 &+ j))) }
    }

    static func dequantizeQ4(_ b: UnsafeRawPointer, _ y: UnsafeMutablePointer<Float>, hasMinimum: Bool) {
        let d = half(b, 0), m = hasMinimum ? half(b, 2) : 0, qs = hasMinimum ? 4 : 2
        for j in 0..<16 {
            let q = byte(b, qs &+ j)
            if hasMinimum {
                y[j] = Float(q & 0x0F) * d + m
                y[j &+ 16] = Float(q >> 4) * d + m
            } else {
                y[j] = Float(Int(q & 0x0F) &- 8) * d
                y[j &+ 16] = Float(Int(q >> 4) &- 8) * d
            }
        }
    }

    static func dequantizeQ5(_ b: UnsafeRawPointer, _ y: UnsafeMutablePointer<Float>, hasMinimum: Bool) {
        let d = half(b, 0), m = hasMinimum ? half(b, 2) : 0, h = hasMinimum ? 4 : 2, qs = h &+ 4
        let qh = UInt32(littleEndian: b.loadUnaligned(fromByteOffset: h, as: UInt32.self))
        for j in 0..<16 {
            let q = byte(b, qs &+ j)
            let low = Int(q & 0x0F) | Int((qh >> UInt32(j)) << 4 & 0x10)
            let high = Int(q >> 4) | Int((qh >> UInt32(j &+ 12)) & 0x10)
            if hasMinimum {
                y[j] = Float(low) * d + m
                y[j &+ 16] = Float(high) * d + m
            } else {
                y[j] = Float(low &- 16) * d
                y[j &+ 16] = Float(high &- 16) * d
            }
        }
    }

    // MARK: - K-quants (256-element super-blocks)

    static func dequantizeQ4_K(_ b: UnsafeRawPointer, _ y: UnsafeMutablePointer<Float>) {
        let d = half(b, 0), dmin = half(b, 2), scales = b + 4
        var q = b + 16, out = y
        for pair in 0..<4 {
            let (s1, m1) = kQuantScaleAndMinimum(2 &* pair, scales), (s2, m2) = kQuantScaleAndMinimum(2 &* pair &+ 1, scales)
            let d1 = d * s1, min1 = dmin * m1, d2 = d * s2, min2 = dmin * m2
            for l in 0..<32 { out[l] = d1 * Float(byte(q, l) & 0x0F) - min1 }
            for l in 0..<32 { out[32 &+ l] = d2 * Float(byte(q, l) >> 4) - min2 }
            q += 32
            out += 64
        }
    }

    static func dequantizeQ5_K(_ b: UnsafeRawPointer, _ y: UnsafeMutablePointer<Float>) {
        let d = half(b, 0), dmin = half(b, 2), scales = b + 4, qh = b + 16
        var ql = b + 48, out = y
        var u1: UInt8 = 1, u2: UInt8 = 2
        for pair in 0..<4 {
            let (s1, m1) = kQuantScaleAndMinimum(2 &* pair, scales), (s2, m2) = kQuantScaleAndMinimum(2 &* pair &+ 1, scales)
            let d1 = d * s1, min1 = dmin * m1, d2 = d * s2, min2 = dmin * m2
            for l in 0..<32 {
                let high: UInt8 = byte(qh, l) & u1 != 0 ? 16 : 0
                out[l] = d1 * Float((byte(ql, l) & 0x0F) &+ high) - min1
            }
            for l in 0..<32 {
                let high: UInt8 = byte(qh, l) & u2 != 0 ? 16 : 0
                out[32 &+ l] = d2 * Float((byte(ql, l) >> 4) &+ high) - min2
            }
            ql += 32
            out += 64
            u1 &<<= 2
            u2 &<<= 2
        }
    }

    static func dequantizeQ6_K(_ b: UnsafeRawPointer, _ y: UnsafeMutablePointer<Float>) {
        let d = half(b, 208)
        var ql = b, qh = b + 128, sc = b + 192, out = y
        for _ in 0..<2 {
            for l in 0..<32 {
                let s = l / 16
                let h = byte(qh, l)
                let q1 = Int((byte(ql, l) & 0x0F) | (h & 3) << 4) &- 32
                let q2 = Int((byte(ql, l &+ 32) & 0x0F) | (h >> 2 & 3) << 4) &- 32
                let q3 = Int((byte(ql, l) >> 4) | (h >> 4 & 3) << 4) &- 32
                let q4 = Int((byte(ql, l &+ 32) >> 4) | (h >> 6 & 3) << 4) &- 32
                func scale(_ k: Int) -> Float { Float(Int8(bitPattern: byte(sc, k))) }
                out[l] = d * scale(s) * Float(q1)
                out[l &+ 32] = d * scale(s &+ 2) * Float(q2)
                out[l &+ 64] = d * scale(s &+ 4) * Float(q3)
                out[l &+ 96] = d * scale(s &+ 6) * Float(q4)
            }
            out += 128
            ql += 64
            qh += 32
            sc += 8
        }
    }
}
