// Quantizing float32 values into GGUF block formats, byte for byte as gguf-py's reference
// quantizers (`gguf.quants.quantize`, gguf 0.19) write them: F16 and BF16 (round to nearest
// even, BF16 NaNs made quiet), Q8_0 (d = max|x|/127, q = x/d rounded half away from zero),
// Q4_0 (d = the signed value of largest magnitude / −8, q = trunc(x/d + 8.5) clipped to 0…15)
// and Q4_1 (d = (max − min)/15, q = trunc((x − min)/d + 0.5) clipped), every step in float32
// without fused multiply-adds, as numpy computes it. Q6_K, which gguf-py cannot quantize, follows
// llama.cpp's reference quantizer (`quantize_row_q6_K_ref`): a least-squares scale per 16
// values, searched over 19 candidate steps, then the 16 scales as int8 of one F16 d; Q4_K its
// `quantize_row_q4_K_ref`: a weighted least-squares scale and minimum per 32 values, searched
// over 21 steps, then both as 6-bit multiples of an F16 d and dmin. Split
// across threads by blocks; the bytes do not depend on the split.

import GPTKernelCore

extension Kernels {
    /// The formats ``quantize(_:_:count:into:)`` writes.
    public static let quantizableFormats: Set<WeightFormat> = [.float32, .float16, .bfloat16, .q8_0, .q4_0, .q4_1, .q4_K, .q6_K]

    /// Writes `count` floats of `x` into `bytes` in `format` (`count` a whole number of the
    /// format's blocks; `bytes` holds `count / blockSize · bytesPerBlock` bytes).
    ///
    /// ```swift
    /// Kernels.quantize(.q4_1, weights, count: 576 * 1536, into: buffer)   // 20 bytes per 32 values
    /// ```
    /// - Precondition: `format` is in ``quantizableFormats`` (the K-quants have no reference
    ///   quantizer in gguf-py to match).
    public static func quantize(_ format: WeightFormat, _ x: UnsafePointer<Float>, count: Int, into bytes: UnsafeMutableRawPointer) {
        precondition(quantizableFormats.contains(format), "quantize: no quantizer for \(format)")
        precondition(count % format.blockSize == 0, "quantize: \(count) is not a whole number of \(format) blocks")
        let blocks = count / format.blockSize, size = format.bytesPerBlock, n = format.blockSize
        let grain = Swift.max(1, elementwiseParallelThreshold / Swift.max(n, 32))
        forEachRange(format.blockSize == 1 ? (count + 31) / 32 : blocks, grain: grain) { range in
            for block in range {
                switch format {
                case .float32:
                    for i in (block * 32)..<Swift.min(count, block * 32 + 32) { (bytes + 4 * i).storeBytes(of: x[i].bitPattern.littleEndian, as: UInt32.self) }
                case .float16:
                    for i in (block * 32)..<Swift.min(count, block * 32 + 32) { (bytes + 2 * i).storeBytes(of: halfBits(x[i]).littleEndian, as: UInt16.self) }
                case .bfloat16:
                    for i in (block * 32)..<Swift.min(count, block * 32 + 32) { (bytes + 2 * i).storeBytes(of: bfloat16Bits(x[i]).littleEndian, as: UInt16.self) }
                case .q8_0: quantizeQ8_0(x + block * n, bytes + block * size)
                case .q4_0: quantizeQ4_0(x + block * n, bytes + block * size)
                case .q4_1: quantizeQ4_1(x + block * n, bytes + block * size)
                case .q4_K: quantizeQ4K(x + block * n, bytes + block * size)
                case .q6_K: quantizeQ6K(x + block * n, bytes + block * size)
                default: break
                }
            }
        }
    }

    /// IEEE half bits of `x`, rounded to nearest even (as numpy's `astype(float16)`).
    @inline(__always)
    static func halfBits(_ x: Float) -> UInt16 {
        #if arch(x86_64) && os(macOS)
        return halfBitsPortable(x)
        #else
        return Float16(x).bitPattern
        #endif
    }

    /// Round-to-nearest-even float32 → half by bits, for platforms without `Float16`.
    static func halfBitsPortable(_ x: Float) -> UInt16 {
        let bits = x.bitPattern
        let sign = UInt16((bits >> 16) & 0x8000)
        let exponent = Int((bits >> 23) & 0xFF), mantissa = bits & 0x7F_FFFF
        if exponent == 0xFF { return sign | 0x7C00 | (mantissa != 0 ? 0x200 | UInt16(mantissa >> 13) : 0) }
        let unbiased = exponent - 127
        if unbiased > 15 { return sign | 0x7C00 }
        if unbiased >= -14 {
            var half = UInt32(unbiased + 15) << 10 | mantissa >> 13
            let rest = mantissa & 0x1FFF
            if rest > 0x1000 || rest == 0x1000 && half & 1 == 1 { half += 1 }
            return sign | UInt16(half)
        }
        if unbiased < -25 { return sign }
        let full = mantissa | 0x80_0000, shift = UInt32(-unbiased - 1)
        var half = full >> shift
        let rest = full & ((1 << shift) - 1), halfway = UInt32(1) << (shift - 1)
        if rest > halfway || rest == halfway && half & 1 == 1 { half += 1 }
        return sign | UInt16(half)
    }

    /// bfloat16 bits of `x` as ggml's `ggml_compute_fp32_to_bf16`: NaNs made quiet, round to
    /// nearest even.
    @inline(__always)
    static func bfloat16Bits(_ x: Float) -> UInt16 {
        let n = x.bitPattern
        if n & 0x7FFF_FFFF > 0x7F80_0000 { return UInt16((n & 0xFFFF_0000 | 64 << 16) >> 16) }
        return UInt16((UInt64(n) + UInt64(0x7FFF + ((n >> 16) & 1))) >> 16)
    }

    /// numpy's `np_roundf` of gguf-py: round half away from zero, as
    /// `sign(x)·(floor(|x|) + floor(2·(|x| − floor(|x|))))`.
    @inline(__always)
    static func roundHalfAway(_ x: Float) -> Float {
        let a = Swift.abs(x), floored = a.rounded(.down)
        let b = floored + (2 * (a - floored)).rounded(.down)
        return x < 0 ? -b : (x > 0 ? b : 0)
    }

    static func quantizeQ8_0(_ x: UnsafePointer<Float>, _ out: UnsafeMutableRawPointer) {
        var amax: Float = 0
        for j in 0..<32 { amax = Swift.max(amax, Swift.abs(x[j])) }
        let d = amax / 127, inverse: Float = d == 0 ? 0 : 1 / d
        out.storeBytes(of: halfBits(d).littleEndian, as: UInt16.self)
        for j in 0..<32 {
            let q = roundHalfAway(x[j] * inverse)
            out.storeBytes(of: q.isFinite ? Int8(clamping: Int(q)) : 0, toByteOffset: 2 + j, as: Int8.self)
        }
    }

    /// `trunc(v)` as numpy's `astype(uint8)` after `clip(0, 15)` sees it: NaN and negatives → 0.
    @inline(__always)
    static func nibble(_ v: Float) -> UInt8 {
        guard v.isFinite else { return v == .infinity ? 15 : 0 }
        let t = v.rounded(.towardZero)
        return t <= 0 ? 0 : (t >= 15 ? 15 : UInt8(t))
    }

    static func quantizeQ4_0(_ x: UnsafePointer<Float>, _ out: UnsafeMutableRawPointer) {
        // The first value of largest magnitude, with its sign.
        var largest: Float = 0, magnitude: Float = -1
        for j in 0..<32 where Swift.abs(x[j]) > magnitude {
            magnitude = Swift.abs(x[j])
            largest = x[j]
        }
        let d = largest / -8, inverse: Float = d == 0 ? 0 : 1 / d
        out.storeBytes(of: halfBits(d).littleEndian, as: UInt16.self)
        for j in 0..<16 {
            let low = nibble(withoutFusing(x[j], inverse, 8.5)), high = nibble(withoutFusing(x[j + 16], inverse, 8.5))
            out.storeBytes(of: low | high << 4, toByteOffset: 2 + j, as: UInt8.self)
        }
    }

    static func quantizeQ4_1(_ x: UnsafePointer<Float>, _ out: UnsafeMutableRawPointer) {
        var maximum = x[0], minimum = x[0]
        for j in 1..<32 {
            maximum = Swift.max(maximum, x[j])
            minimum = Swift.min(minimum, x[j])
        }
        let d = (maximum - minimum) / 15, inverse: Float = d == 0 ? 0 : 1 / d
        out.storeBytes(of: halfBits(d).littleEndian, as: UInt16.self)
        out.storeBytes(of: halfBits(minimum).littleEndian, toByteOffset: 2, as: UInt16.self)
        for j in 0..<16 {
            let low = nibble(withoutFusing(x[j] - minimum, inverse, 0.5))
            let high = nibble(withoutFusing(x[j + 16] - minimum, inverse, 0.5))
            out.storeBytes(of: low | high << 4, toByteOffset: 4 + j, as: UInt8.self)
        }
    }

    /// `a·b + c` with the product rounded first, as numpy computes it (Swift never contracts a
    /// product and a sum into a fused multiply-add on its own).
    @inline(__always)
    static func withoutFusing(_ a: Float, _ b: Float, _ c: Float) -> Float {
        let product = a * b
        return product + c
    }

    /// The format a matrix with rows of `rowLength` values takes when `format` is asked for:
    /// `format` when the rows are whole blocks of it; for a K-quant (256-value super-blocks) on
    /// shorter rows, Q8_0 as llama.cpp falls back (SmolLM2's 576-wide rows); else nil (the
    /// matrix stays as it is).
    public static func quantizationFormat(_ format: WeightFormat, rowLength: Int) -> WeightFormat? {
        if rowLength % format.blockSize == 0 { return format }
        if format.blockSize == 256 && rowLength % 32 == 0 { return .q8_0 }
        return nil
    }

    /// Round to nearest, ties to even (llama.cpp's `nearest_int`, for |x| < 2²²).
    static func nearestInteger(_ x: Float) -> Int { Int(x.rounded(.toNearestOrEven)) }

    /// The scale of `n` values quantized to −nmax…nmax−1 minimising the x²-weighted squared
    /// error over 19 candidate steps (llama.cpp's `make_qx_quants` with its rmse_type 1); the
    /// levels, offset by nmax, go to `levels`.
    static func searchedScale(_ x: UnsafePointer<Float>, count n: Int, levels: UnsafeMutablePointer<Int8>, nmax: Int) -> Float {
        var maximum: Float = 0, largest: Float = 0
        for i in 0..<n where abs(x[i]) > largest {
            largest = abs(x[i])
            maximum = x[i]
        }
        if largest < 1e-15 {
            for i in 0..<n { levels[i] = 0 }
            return 0
        }
        func sums(_ inverse: Float, write: Bool) -> (Float, Float) {
            var sumlx: Float = 0, suml2: Float = 0
            for i in 0..<n {
                let l = Swift.max(-nmax, Swift.min(nmax - 1, nearestInteger(inverse * x[i])))
                if write { levels[i] = Int8(l + nmax) }
                let w = x[i] * x[i]
                sumlx += w * x[i] * Float(l)
                suml2 += w * Float(l) * Float(l)
            }
            return (sumlx, suml2)
        }
        var (sumlx, suml2) = sums(-Float(nmax) / maximum, write: true)
        var scale = suml2 != 0 ? sumlx / suml2 : 0
        var best = scale * sumlx
        for step in -9...9 where step != 0 {
            let inverse = -(Float(nmax) + 0.1 * Float(step)) / maximum
            (sumlx, suml2) = sums(inverse, write: false)
            if suml2 > 0 && sumlx * sumlx > best * suml2 {
                _ = sums(inverse, write: true)
                scale = sumlx / suml2
                best = scale * sumlx
            }
        }
        return scale
    }

    /// One Q6_K super-block of 256 values (210 bytes: ql[128], qh[64], int8 scales[16], F16 d).
    static func quantizeQ6K(_ x: UnsafePointer<Float>, _ out: UnsafeMutableRawPointer) {
        var levels = [Int8](repeating: 0, count: 256)
        var scales = [Float](repeating: 0, count: 16)
        var maxScale: Float = 0, maxAbsScale: Float = 0
        levels.withUnsafeMutableBufferPointer { l in
            for group in 0..<16 {
                let scale = searchedScale(x + 16 * group, count: 16, levels: l.baseAddress! + 16 * group, nmax: 32)
                scales[group] = scale
                if abs(scale) > maxAbsScale {
                    maxAbsScale = abs(scale)
                    maxScale = scale
                }
            }
        }
        out.initializeMemory(as: UInt8.self, repeating: 0, count: 210)
        guard maxAbsScale >= 1e-15 else { return }
        let inverse = -128 / maxScale
        let dBits = halfBits(1 / inverse)
        out.storeBytes(of: dBits.littleEndian, toByteOffset: 208, as: UInt16.self)
        let d = floatFromHalfBits(dBits)
        for group in 0..<16 {
            let q = Int8(Swift.min(127, nearestInteger(inverse * scales[group])))
            out.storeBytes(of: q, toByteOffset: 192 + group, as: Int8.self)
            let step = d * Float(q)
            // A zero scale keeps the search's levels (they dequantize to 0 all the same), as
            // llama.cpp leaves them.
            guard step != 0 else { continue }
            for i in 0..<16 {
                let l = Swift.max(-32, Swift.min(31, nearestInteger(x[16 * group + i] / step)))
                levels[16 * group + i] = Int8(l + 32)
            }
        }
        // ql: low nibbles of values j and j + 64 share a byte; qh: the top two bits of four.
        for half in 0..<2 {
            let l = 128 * half, ql = 64 * half, qh = 128 + 32 * half
            for i in 0..<32 {
                let q1 = UInt8(levels[l + i]), q2 = UInt8(levels[l + i + 32])
                let q3 = UInt8(levels[l + i + 64]), q4 = UInt8(levels[l + i + 96])
                out.storeBytes(of: (q1 & 0xF) | (q3 & 0xF) << 4, toByteOffset: ql + i, as: UInt8.self)
                out.storeBytes(of: (q2 & 0xF) | (q4 & 0xF) << 4, toByteOffset: ql + i + 32, as: UInt8.self)
                out.storeBytes(of: q1 >> 4 | (q2 >> 4) << 2 | (q3 >> 4) << 4 | (q4 >> 4) << 6, toByteOffset: qh + i, as: UInt8.self)
            }
        }
    }

    /// The scale and minimum (returned negated, as a non-negative offset) of `n` values
    /// quantized to 0…nmax, minimising the `weights`-weighted squared error over 21 candidate
    /// steps (llama.cpp's `make_qkx2_quants` with rmin −1, rdelta 0.1, 20 steps); the levels go
    /// to `levels`.
    static func searchedScaleAndMinimum(_ x: UnsafePointer<Float>, weights: UnsafePointer<Float>, count n: Int,
                                        levels: UnsafeMutablePointer<UInt8>, nmax: Int) -> (scale: Float, minimum: Float) {
        var low = x[0], high = x[0]
        var sumW = weights[0], sumX = sumW * x[0]
        for i in 1..<n {
            if x[i] < low { low = x[i] }
            if x[i] > high { high = x[i] }
            let w = weights[i]
            sumW += w
            sumX += w * x[i]
        }
        if low > 0 { low = 0 }
        if high == low {
            for i in 0..<n { levels[i] = 0 }
            return (0, -low)
        }
        var inverse = Float(nmax) / (high - low)
        var scale = 1 / inverse
        var bestError: Float = 0
        for i in 0..<n {
            let l = Swift.max(0, Swift.min(nmax, nearestInteger(inverse * (x[i] - low))))
            levels[i] = UInt8(l)
            let difference = scale * Float(l) + low - x[i]
            bestError += weights[i] * (difference * difference)
        }
        var trial = [UInt8](repeating: 0, count: n)
        for step in 0...20 {
            inverse = (-1 + 0.1 * Float(step) + Float(nmax)) / (high - low)
            var sumL: Float = 0, sumL2: Float = 0, sumXL: Float = 0
            for i in 0..<n {
                let l = Swift.max(0, Swift.min(nmax, nearestInteger(inverse * (x[i] - low))))
                trial[i] = UInt8(l)
                let w = weights[i]
                sumL += w * Float(l)
                sumL2 += w * Float(l) * Float(l)
                sumXL += w * Float(l) * x[i]
            }
            let determinant = sumW * sumL2 - sumL * sumL
            guard determinant > 0 else { continue }
            var thisScale = (sumW * sumXL - sumX * sumL) / determinant
            var thisMinimum = (sumL2 * sumX - sumL * sumXL) / determinant
            if thisMinimum > 0 {
                thisMinimum = 0
                thisScale = sumXL / sumL2
            }
            var error: Float = 0
            for i in 0..<n {
                let difference = thisScale * Float(trial[i]) + thisMinimum - x[i]
                error += weights[i] * (difference * difference)
            }
            if error < bestError {
                for i in 0..<n { levels[i] = trial[i] }
                bestError = error
                scale = thisScale
                low = thisMinimum
            }
        }
        return (scale, -low)
    }

    /// One Q4_K super-block of 256 values (144 bytes: F16 d and dmin, twelve bytes of 6-bit
    /// scales and minima, 128 bytes of nibbles).
    static func quantizeQ4K(_ x: UnsafePointer<Float>, _ out: UnsafeMutableRawPointer) {
        var levels = [UInt8](repeating: 0, count: 256)
        var scales = [Float](repeating: 0, count: 8), minima = [Float](repeating: 0, count: 8)
        var weights = [Float](repeating: 0, count: 32)
        var maxScale: Float = 0, maxMinimum: Float = 0
        levels.withUnsafeMutableBufferPointer { l in
            weights.withUnsafeMutableBufferPointer { w in
                for group in 0..<8 {
                    let v = x + 32 * group
                    var sumX2: Float = 0
                    for i in 0..<32 { sumX2 += v[i] * v[i] }
                    let average = (sumX2 / 32).squareRoot()
                    for i in 0..<32 { w[i] = average + abs(v[i]) }
                    let (scale, minimum) = searchedScaleAndMinimum(v, weights: w.baseAddress!, count: 32, levels: l.baseAddress! + 32 * group,
                                                                   nmax: 15)
                    scales[group] = scale
                    minima[group] = minimum
                    if scale > maxScale { maxScale = scale }
                    if minimum > maxMinimum { maxMinimum = minimum }
                }
            }
        }
        out.initializeMemory(as: UInt8.self, repeating: 0, count: 144)
        let inverseScale: Float = maxScale > 0 ? 63 / maxScale : 0, inverseMinimum: Float = maxMinimum > 0 ? 63 / maxMinimum : 0
        var packed = [UInt8](repeating: 0, count: 12)
        for group in 0..<8 {
            let ls = UInt8(Swift.min(63, nearestInteger(inverseScale * scales[group])))
            let lm = UInt8(Swift.min(63, nearestInteger(inverseMinimum * minima[group])))
            if group < 4 {
                packed[group] = ls
                packed[group + 4] = lm
            } else {
                packed[group + 4] = (ls & 0xF) | (lm & 0xF) << 4
                packed[group - 4] |= (ls >> 4) << 6
                packed[group] |= (lm >> 4) << 6
            }
        }
        let dBits = halfBits(maxScale / 63), dminBits = halfBits(maxMinimum / 63)
        out.storeBytes(of: dBits.littleEndian, as: UInt16.self)
        out.storeBytes(of: dminBits.littleEndian, toByteOffset: 2, as: UInt16.self)
        for i in 0..<12 { out.storeBytes(of: packed[i], toByteOffset: 4 + i, as: UInt8.self) }
        let d = floatFromHalfBits(dBits), dmin = floatFromHalfBits(dminBits)
        packed.withUnsafeBytes { scaleBytes in
            for group in 0..<8 {
                let (scale, minimum) = kQuantScaleAndMinimum(group, scaleBytes.baseAddress!)
                let step = d * scale
                // A zero scale keeps the search's levels, as llama.cpp leaves them.
                guard step != 0 else { continue }
                let offset = dmin * minimum
                for i in 0..<32 {
                    levels[32 * group + i] = UInt8(Swift.max(0, Swift.min(15, nearestInteger((x[32 * group + i] + offset) / step))))
                }
            }
        }
        // Nibbles: values j and j + 32 of each 64 share a byte.
        for chunk in 0..<4 {
            for i in 0..<32 {
                let byte = levels[64 * chunk + i] | levels[64 * chunk + 32 + i] << 4
                out.storeBytes(of: byte, toByteOffset: 16 + 32 * chunk + i, as: UInt8.self)
            }
        }
    }
}
