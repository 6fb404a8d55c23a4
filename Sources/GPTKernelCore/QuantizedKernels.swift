// Products with weights kept in their stored block formats (GGUF Q8_0, Q4_0, Q4_1; F16, BF16):
// no dequantized copy of the matrix exists. As llama.cpp does, the activations may be quantized
// to 8-bit blocks of 32 (one float scale d per block: q = round(x / d), d = max|x| / 127), and
// each weight block dotted with them in integers: exact byte products summed in 16 and then 32
// bits (`vpmaddubsw`, `vpmaddwd` on x86), scaled once per block.
//
// A weight block stores w_j = d_w·v_j + c (Q8_0: v signed, c = 0; Q4_0: v = nibble, c = −8·d_w;
// Q4_1: v = nibble, c = m). With a_j = d_a·q_j:
//   Σ w_j a_j = d_w·d_a·Σ v_j q_j + c·(d_a·Σ q_j)
// so the activations keep, per block, d_a and s = d_a·Σ q_j, and the integer dot is of
// non-negative 4-bit values (or signed 8-bit ones) with signed 8-bit activations.
//
// Work is split over output rows; every output is summed block by block in a fixed order, so the
// result does not depend on the thread count. Four weight rows share each activation block
// (independent accumulator chains), and up to `directRowLimit` activation rows each weight block
// (batched decoding).

/// The block formats the quantized kernels read (GGUF's layouts).
public enum QuantizedBlockFormat: Int, Sendable {
    /// 32 × int8 with an F16 scale (34 bytes).
    case q8_0
    /// 32 × 4-bit with an F16 scale, values q − 8 (18 bytes).
    case q4_0
    /// 32 × 4-bit with F16 scale and minimum (20 bytes).
    case q4_1
    /// 32 × 5-bit with an F16 scale, values q − 16: the fifth bits in a 32-bit word (22 bytes).
    case q5_0
    /// 32 × 5-bit with F16 scale and minimum, the fifth bits in a 32-bit word (24 bytes).
    case q5_1

    /// Bytes per 32-element block.
    @inlinable public var bytesPerBlock: Int {
        switch self {
        case .q8_0: return 34
        case .q4_0: return 18
        case .q4_1: return 20
        case .q5_0: return 22
        case .q5_1: return 24
        }
    }
}

import GPTCompilerBuiltins

// Everything here is `@inline(__always)`, the per-ISA targets own the closures that run the
// tasks, and the entry points are generic over a tag type each target sets to its own kernel
// set: a function or closure compiled in several targets under one symbol is merged by the
// linker, which may keep the baseline copy (no F16C, no FMA), so any copy the compiler does not
// inline must carry the target in its name.

/// Elements per activation block.
public let quantizedBlockLength = 32

/// Converts IEEE half-precision bits to a float, bit-exact (subnormals, infinities and NaNs too):
/// `Float16` (one `vcvtph2ps` with F16C) where Swift has it, else by bits.
@inlinable @inline(__always)
public func floatFromHalfBits(_ bits: UInt16) -> Float {
    #if arch(x86_64) && os(macOS)
    let sign = UInt32(bits & 0x8000) << 16, exponent = UInt32(bits >> 10) & 0x1F, mantissa = UInt32(bits & 0x3FF)
    if exponent == 0 {
        if mantissa == 0 { return Float(bitPattern: sign) }
        let magnitude = Float(mantissa) * 0x1p-24  // subnormal: mantissa · 2^-24
        return sign == 0 ? magnitude : -magnitude
    }
    if exponent == 31 { return Float(bitPattern: sign | 0x7F80_0000 | mantissa << 13) }
    return Float(bitPattern: sign | (exponent + 112) << 23 | mantissa << 13)
    #else
    return Float(Float16(bitPattern: bits))
    #endif
}

/// Quantizes `rows` rows of `x [rows, k]` (rows `ldx` apart; `k` a multiple of 32) to 8-bit
/// blocks: `values [rows, k]` (each in −127…127), `scales [rows, k/32]` (d) and
/// `sums [rows, k/32]` (d·Σq). Rounding is to nearest, ties to even.
@inlinable @inline(__always)
public func quantizeActivationBlocks<Tag>(
    _: Tag.Type,     _ x: UnsafePointer<Float>, rows: Int, k: Int, ldx: Int,
    values: UnsafeMutablePointer<Int8>, scales: UnsafeMutablePointer<Float>, sums: UnsafeMutablePointer<Float>
) {
    let blocks = k / quantizedBlockLength
    for r in 0..<rows {
        let row = x + r &* ldx
        for b in 0..<blocks {
            let p = row + b &* 32
            let v0 = p.loadVector(SIMD8<Float>.self, at: 0), v1 = p.loadVector(SIMD8<Float>.self, at: 8)
            let v2 = p.loadVector(SIMD8<Float>.self, at: 16), v3 = p.loadVector(SIMD8<Float>.self, at: 24)
            // Element loops: the standard library's pointwiseMax and max() are generic calls.
            let a0 = absValues(v0), a1 = absValues(v1), a2 = absValues(v2), a3 = absValues(v3)
            var largest = SIMD8<Float>()
            for i in 0..<8 { largest[i] = Swift.max(Swift.max(a0[i], a1[i]), Swift.max(a2[i], a3[i])) }
            var m: Float = 0
            for i in 0..<8 { m = Swift.max(m, largest[i]) }
            let d = m / 127
            let inverse: Float = d > 0 ? 1 / d : 0
            let q0 = roundedIntegers(v0 * inverse), q1 = roundedIntegers(v1 * inverse)
            let q2 = roundedIntegers(v2 * inverse), q3 = roundedIntegers(v3 * inverse)
            let start: Int = r &* k &+ b &* 32
            let out = UnsafeMutableRawPointer(values + start)
            out.storeBytes(of: narrowBytes(q0), toByteOffset: 0, as: SIMD8<Int8>.self)
            out.storeBytes(of: narrowBytes(q1), toByteOffset: 8, as: SIMD8<Int8>.self)
            out.storeBytes(of: narrowBytes(q2), toByteOffset: 16, as: SIMD8<Int8>.self)
            out.storeBytes(of: narrowBytes(q3), toByteOffset: 24, as: SIMD8<Int8>.self)
            scales[r &* blocks &+ b] = d
            let total: SIMD8<Int32> = (q0 &+ q1) &+ (q2 &+ q3)
            sums[r &* blocks &+ b] = d * Float(total.wrappedSum())
        }
    }
}


// Lane conversions as element loops: LLVM turns each into one vector instruction (vpmovzxbw,
// vpmovsxbw, vpmovsxwd, vpackssdw…), whereas the standard library's SIMD conversion
// initialisers are called as pre-specialised, element-by-element functions.

@inlinable @inline(__always)
func widen(_ v: SIMD16<UInt8>) -> SIMD16<Int16> {
    var r = SIMD16<Int16>()
    for i in 0..<16 { r[i] = Int16(truncatingIfNeeded: v[i]) }
    return r
}

@inlinable @inline(__always)
func widen(_ v: SIMD16<Int8>) -> SIMD16<Int16> {
    var r = SIMD16<Int16>()
    for i in 0..<16 { r[i] = Int16(truncatingIfNeeded: v[i]) }
    return r
}

@inlinable @inline(__always)
func narrowBytes(_ v: SIMD8<Int32>) -> SIMD8<Int8> {
    var r = SIMD8<Int8>()
    for i in 0..<8 { r[i] = Int8(truncatingIfNeeded: v[i]) }
    return r
}

@inlinable @inline(__always)
func floats(_ v: SIMD8<Int32>) -> SIMD8<Float> {
    var r = SIMD8<Float>()
    for i in 0..<8 { r[i] = Float(v[i]) }
    return r
}

/// Rounds to the nearest integer, ties to even, for |v| < 2²²: adding 1.5·2²³ leaves the
/// rounded value in the low mantissa bits (the FPU's default rounding).
@inlinable @inline(__always)
func roundedIntegers(_ v: SIMD8<Float>) -> SIMD8<Int32> {
    unsafeBitCast(v + 12_582_912, to: SIMD8<Int32>.self) &- 0x4B40_0000
}

@inlinable @inline(__always)
func absValues(_ v: SIMD8<Float>) -> SIMD8<Float> {
    unsafeBitCast(unsafeBitCast(v, to: SIMD8<UInt32>.self) & 0x7FFF_FFFF, to: SIMD8<Float>.self)
}

/// One weight block decoded: values of elements 0..<16 and 16..<32, the scale d and offset c.
@inlinable @inline(__always)
func decodeBlock(_ format: QuantizedBlockFormat, _ b: UnsafeRawPointer)
    -> (low: SIMD16<Int16>, high: SIMD16<Int16>, d: Float, c: Float) {
    let d = floatFromHalfBits(UInt16(littleEndian: b.loadUnaligned(as: UInt16.self)))
    switch format {
    case .q8_0:
        let low = b.loadUnaligned(fromByteOffset: 2, as: SIMD16<Int8>.self)
        let high = b.loadUnaligned(fromByteOffset: 18, as: SIMD16<Int8>.self)
        return (widen(low), widen(high), d, 0)
    case .q4_0:
        let packed = b.loadUnaligned(fromByteOffset: 2, as: SIMD16<UInt8>.self)
        return (widen(packed & 0x0F), widen(packed &>> 4), d, -8 * d)
    case .q4_1:
        let m = floatFromHalfBits(UInt16(littleEndian: b.loadUnaligned(fromByteOffset: 2, as: UInt16.self)))
        let packed = b.loadUnaligned(fromByteOffset: 4, as: SIMD16<UInt8>.self)
        return (widen(packed & 0x0F), widen(packed &>> 4), d, m)
    case .q5_0:
        let (first, second) = fiveBitHalves(b + 6, high: b + 2)
        return (widen(first), widen(second), d, -16 * d)
    case .q5_1:
        let m = floatFromHalfBits(UInt16(littleEndian: b.loadUnaligned(fromByteOffset: 2, as: UInt16.self)))
        let (first, second) = fiveBitHalves(b + 8, high: b + 4)
        return (widen(first), widen(second), d, m)
    }
}

/// The 32 values (0…31) of a Q5 block as two halves (elements 0..<16, 16..<32): nibbles from
/// the 16 bytes at `low` (element j in the low nibble of byte j, element j + 16 in its high
/// nibble), fifth bits from the little-endian 32-bit word at `high` (bit j for element j).
/// Written in 16-lane operations: LLVM leaves 32-lane element loops scalar.
@inlinable @inline(__always)
func fiveBitHalves(_ low: UnsafeRawPointer, high: UnsafeRawPointer) -> (SIMD16<UInt8>, SIMD16<UInt8>) {
    @inline(__always)
    func fifthBits(_ a: UInt8, _ b: UInt8) -> SIMD16<UInt8> {
        let spread = SIMD16<UInt8>(lowHalf: SIMD8(repeating: a), highHalf: SIMD8(repeating: b))
        let masks = SIMD16<UInt8>(1, 2, 4, 8, 16, 32, 64, 128, 1, 2, 4, 8, 16, 32, 64, 128)
        // 0 or a power of two: adding 127 sets bit 7 exactly when it is not 0; that bit → 16.
        return (((spread & masks) &+ 0x7F) & 0x80) &>> 3
    }
    let q = high.loadUnaligned(as: SIMD4<UInt8>.self)
    let packed = low.loadUnaligned(as: SIMD16<UInt8>.self)
    return ((packed & 0x0F) | fifthBits(q[0], q[1]), (packed &>> 4) | fifthBits(q[2], q[3]))
}

/// `fiveBitHalves` as one vector.
@inlinable @inline(__always)
func fiveBitValues(_ low: UnsafeRawPointer, high: UnsafeRawPointer) -> SIMD32<UInt8> {
    let (first, second) = fiveBitHalves(low, high: high)
    return SIMD32(lowHalf: first, highHalf: second)
}

/// Below this many weights a quantized product runs on the calling thread.
public let quantizedParallelThreshold = 1 << 16

/// The number of tasks a stored-format product of `n` outputs, `k` inputs and `rows` rows is
/// split into (groups of eight outputs).
@inlinable
public func storedProductTaskCount(n: Int, k: Int, rows: Int, threads: Int) -> Int {
    n &* k &* rows < quantizedParallelThreshold ? 1 : min(max(1, threads), (n + 7) / 8)
}

/// The 32 nibbles of a Q4 block in element order: the low nibbles of the 16 bytes are elements
/// 0..<16, the high nibbles 16..<32 (GGUF's layout).
@inlinable @inline(__always)
func nibbles(_ packed: SIMD16<UInt8>) -> SIMD32<UInt8> {
    // The halves' initialiser is one `vinserti128`; an element loop over both halves is not
    // vectorised.
    SIMD32(lowHalf: packed & 0x0F, highHalf: packed &>> 4)
}

/// The values of a weight block at `b` dotted with a block `q` of 8-bit activations: eight
/// lanes of four exact integer products each (the block's scale and offset are applied by the
/// caller, four rows at once).
@inlinable @inline(__always)
func byteBlockDot<Tag: ByteDotProducts>(_: Tag.Type, _ format: QuantizedBlockFormat, _ b: UnsafeRawPointer, _ q: SIMD32<Int8>)
    -> SIMD8<Int32> {
    switch format {
    case .q8_0: return Tag.dot(signed: b.loadUnaligned(fromByteOffset: 2, as: SIMD32<Int8>.self), q)
    case .q4_0: return Tag.dot(unsigned: nibbles(b.loadUnaligned(fromByteOffset: 2, as: SIMD16<UInt8>.self)), q)
    case .q4_1: return Tag.dot(unsigned: nibbles(b.loadUnaligned(fromByteOffset: 4, as: SIMD16<UInt8>.self)), q)
    case .q5_0: return Tag.dot(unsigned: fiveBitValues(b + 6, high: b + 2), q)
    case .q5_1: return Tag.dot(unsigned: fiveBitValues(b + 8, high: b + 4), q)
    }
}

/// Four IEEE half values at byte `offset` of four blocks, as floats (one `vcvtph2ps` with F16C).
@inlinable @inline(__always)
func halves(_ b0: UnsafeRawPointer, _ b1: UnsafeRawPointer, _ b2: UnsafeRawPointer, _ b3: UnsafeRawPointer, at offset: Int)
    -> SIMD4<Float> {
    let bits = SIMD4<UInt16>(b0.loadUnaligned(fromByteOffset: offset, as: UInt16.self), b1.loadUnaligned(fromByteOffset: offset, as: UInt16.self),
                             b2.loadUnaligned(fromByteOffset: offset, as: UInt16.self), b3.loadUnaligned(fromByteOffset: offset, as: UInt16.self))
    var r = SIMD4<Float>()
    for i in 0..<4 { r[i] = floatFromHalfBits(UInt16(littleEndian: bits[i])) }
    return r
}

/// Task `task` of `taskCount` of `y [rows, n] = (accumulate ? y : 0) + bias + x · Wᵀ` for W
/// `[n, k]` in a block `format` (row `j` at `w + j·rowBytes`) and x given as quantized
/// activation blocks (see `quantizeActivationBlocks`); y's rows are `ldy` apart. Each task
/// computes its own outputs (groups of eight), so any split gives the same result.
@inlinable @inline(__always)
public func quantizedGEMMTask<Tag: ByteDotProducts>(
    _ tag: Tag.Type, _ format: QuantizedBlockFormat, n: Int, k: Int, w: UnsafeRawPointer, rowBytes: Int,
    rows: Int, values: UnsafePointer<Int8>, scales: UnsafePointer<Float>, sums: UnsafePointer<Float>,
    y: UnsafeMutablePointer<Float>, ldy: Int, bias: UnsafePointer<Float>?, accumulate: Bool, task: Int, taskCount: Int
) {
    let range = evenSplit((n + 7) / 8, parts: taskCount, index: task)
    quantizedGEMMRows(tag, format, k: k, w: w, rowBytes: rowBytes, rows: rows, values: values, scales: scales, sums: sums,
                      y: y, ldy: ldy, bias: bias, accumulate: accumulate, start: range.lowerBound &* 8,
                      end: min(n, range.upperBound &* 8))
}

/// Task `task` of `taskCount` of a grouped product with quantized activations: every part's
/// `y = (accumulate ? y : 0) + bias + x · Wᵀ`, the parts' output rows split together in groups
/// of eight (one dispatch for q, k and v, or gate and up). Each output is computed as in
/// `quantizedGEMMTask`.
@inlinable @inline(__always)
public func quantizedGEMMGroupTask<Tag: ByteDotProducts>(
    _ tag: Tag.Type, _ format: QuantizedBlockFormat, parts: UnsafePointer<StoredProductPart>, count: Int, k: Int, rowBytes: Int,
    rows: Int, values: UnsafePointer<Int8>, scales: UnsafePointer<Float>, sums: UnsafePointer<Float>, accumulate: Bool,
    task: Int, taskCount: Int
) {
    var groups = 0
    for p in 0..<count { groups &+= (parts[p].outputs &+ 7) / 8 }
    let range = evenSplit(groups, parts: taskCount, index: task)
    var first = 0
    for p in 0..<count {
        let part = parts[p], partGroups = (part.outputs &+ 7) / 8
        let lower = max(range.lowerBound, first), upper = min(range.upperBound, first &+ partGroups)
        if lower < upper {
            quantizedGEMMRows(tag, format, k: k, w: part.w, rowBytes: rowBytes, rows: rows, values: values, scales: scales, sums: sums,
                              y: part.y, ldy: part.ldy, bias: part.bias, accumulate: accumulate,
                              start: (lower &- first) &* 8, end: min(part.outputs, (upper &- first) &* 8))
        }
        first &+= partGroups
    }
}

/// Output rows `start..<end` of `quantizedGEMMTask`'s product: four weight rows at a time (each
/// activation block loaded once for the four), every activation row against them while they are
/// in L1.
@inlinable @inline(__always)
public func quantizedGEMMRows<Tag: ByteDotProducts>(
    _ tag: Tag.Type, _ format: QuantizedBlockFormat, k: Int, w: UnsafeRawPointer, rowBytes: Int,
    rows: Int, values: UnsafePointer<Int8>, scales: UnsafePointer<Float>, sums: UnsafePointer<Float>,
    y: UnsafeMutablePointer<Float>, ldy: Int, bias: UnsafePointer<Float>?, accumulate: Bool, start: Int, end: Int
) {
    let blocks = k / quantizedBlockLength
    let size = format.bytesPerBlock
    // The four rows' blocks are interleaved streams of a few hundred bytes each, too short for
    // the hardware prefetchers: each step prefetches the same share of the next four rows
    // (contiguous, `4·size` bytes a step), which doubles the DRAM rate of a Q8_0 GEMV.
    let step = 4 &* size
    var j = start
    while j < end {
        let count = min(4, end &- j)
        let w0 = w + j &* rowBytes
        let w1 = count > 1 ? w0 + rowBytes : w0, w2 = count > 2 ? w0 + 2 &* rowBytes : w0
        let w3 = count > 3 ? w0 + 3 &* rowBytes : w0
        let next = w0 + 4 &* rowBytes
        for r in 0..<rows {
            let qr = UnsafeRawPointer(values + r &* k), dr = scales + r &* blocks, sr = sums + r &* blocks
            var a0 = SIMD8<Float>(), a1 = SIMD8<Float>(), a2 = SIMD8<Float>(), a3 = SIMD8<Float>()
            var c = SIMD4<Float>()
            for b in 0..<blocks {
                if r == 0 {
                    let ahead = next + b &* step
                    prefetchForReading(ahead)
                    prefetchForReading(ahead + 64)
                    prefetchForReading(ahead + (step &- 1))
                }
                let q = qr.loadUnaligned(fromByteOffset: b &* 32, as: SIMD32<Int8>.self)
                let p0 = w0 + b &* size, p1 = w1 + b &* size, p2 = w2 + b &* size, p3 = w3 + b &* size
                // The four rows' scales converted and scaled at once.
                let d = halves(p0, p1, p2, p3, at: 0)
                let ds = d * dr[b]
                a0.addProduct(floats(byteBlockDot(tag, format, p0, q)), SIMD8<Float>(repeating: ds[0]))
                a1.addProduct(floats(byteBlockDot(tag, format, p1, q)), SIMD8<Float>(repeating: ds[1]))
                a2.addProduct(floats(byteBlockDot(tag, format, p2, q)), SIMD8<Float>(repeating: ds[2]))
                a3.addProduct(floats(byteBlockDot(tag, format, p3, q)), SIMD8<Float>(repeating: ds[3]))
                switch format {
                case .q8_0: break
                case .q4_0: c.addProduct(d * -8, SIMD4<Float>(repeating: sr[b]))
                case .q4_1, .q5_1: c.addProduct(halves(p0, p1, p2, p3, at: 2), SIMD4<Float>(repeating: sr[b]))
                case .q5_0: c.addProduct(d * -16, SIMD4<Float>(repeating: sr[b]))
                }
            }
            let totals = SIMD4<Float>(a0.sum(), a1.sum(), a2.sum(), a3.sum()) + c
            for i in 0..<count {
                var value = totals[i]
                if let bias { value += bias[j &+ i] }
                let out = y + (r &* ldy &+ j &+ i)
                out.pointee = accumulate ? out.pointee + value : value
            }
        }
        j &+= 4
    }
}

/// Task `task` of `taskCount` of `y [rows, n] = (accumulate ? y : 0) + bias + x · Wᵀ` for W
/// `[n, k]` stored as IEEE half (`isBFloat16` false) or bfloat16 (true), rows `ldw` elements
/// apart; x rows `ldx` apart. Float32 accumulation.
@inlinable @inline(__always)
public func halfGEMMTask<Tag>(
    _: Tag.Type,     isBFloat16: Bool, n: Int, k: Int, w: UnsafePointer<UInt16>, ldw: Int, rows: Int,
    x: UnsafePointer<Float>, ldx: Int, y: UnsafeMutablePointer<Float>, ldy: Int,
    bias: UnsafePointer<Float>?, accumulate: Bool, task: Int, taskCount: Int
) {
    @inline(__always)
    func widen(_ p: UnsafePointer<UInt16>) -> SIMD8<Float> {
        let bits = UnsafeRawPointer(p).loadUnaligned(as: SIMD8<UInt16>.self)
        if isBFloat16 {
            var wide = SIMD8<UInt32>()
            for i in 0..<8 { wide[i] = UInt32(bits[i]) &<< 16 }
            return unsafeBitCast(wide, to: SIMD8<Float>.self)
        }
        #if arch(x86_64) && os(macOS)
        var out = SIMD8<Float>()
        for i in 0..<8 { out[i] = floatFromHalfBits(bits[i]) }
        return out
        #else
        let halves = unsafeBitCast(bits, to: SIMD8<Float16>.self)
        var out = SIMD8<Float>()
        for i in 0..<8 { out[i] = Float(halves[i]) }
        return out
        #endif
    }
    let range = evenSplit((n + 7) / 8, parts: taskCount, index: task)
    for r in 0..<rows {
        let xr = x + r &* ldx
        for j in (range.lowerBound &* 8)..<min(n, range.upperBound &* 8) {
            let row = w + j &* ldw
            var a0 = SIMD8<Float>(), a1 = SIMD8<Float>()
            var p = 0
            while p &+ 16 <= k {
                a0.addProduct(widen(row + p), xr.loadVector(SIMD8<Float>.self, at: p))
                a1.addProduct(widen(row + (p &+ 8)), xr.loadVector(SIMD8<Float>.self, at: p &+ 8))
                p &+= 16
            }
            var value = (a0 + a1).sum()
            while p < k {
                let bits = row[p]
                value += (isBFloat16 ? Float(bitPattern: UInt32(bits) << 16) : floatFromHalfBits(bits)) * xr[p]
                p &+= 1
            }
            if let bias { value += bias[j] }
            let out = y + (r &* ldy &+ j)
            out.pointee = accumulate ? out.pointee + value : value
        }
    }
}

/// The 32 weights of a block as float offsets from its minimum: values v_j (Q8_0: signed; Q4:
/// nibbles) in four vectors, with w_j = d·v_j + c.
@inlinable @inline(__always)
func blockValues(_ format: QuantizedBlockFormat, _ b: UnsafeRawPointer)
    -> (v0: SIMD8<Float>, v1: SIMD8<Float>, v2: SIMD8<Float>, v3: SIMD8<Float>, d: Float, c: Float) {
    let decoded = decodeBlock(format, b)
    @inline(__always)
    func floats(_ v: SIMD8<Int16>) -> SIMD8<Float> {
        var r = SIMD8<Float>()
        for i in 0..<8 { r[i] = Float(v[i]) }
        return r
    }
    return (floats(decoded.low.lowHalf), floats(decoded.low.highHalf), floats(decoded.high.lowHalf), floats(decoded.high.highHalf),
            decoded.d, decoded.c)
}

/// One matrix of a grouped stored-format product: W `[outputs, k]` at `w`, its output `y`
/// (rows `ldy` apart) and bias.
public struct StoredProductPart {
    /// The first byte of W (row `j` at `w + j·rowBytes`).
    public var w: UnsafeRawPointer
    /// Rows of W.
    public var outputs: Int
    /// Where the outputs go: `y [rows, outputs]`, rows `ldy` apart.
    public var y: UnsafeMutablePointer<Float>
    /// Floats between output rows.
    public var ldy: Int
    /// `outputs` values added to every row, if any.
    public var bias: UnsafePointer<Float>?

    /// A part with these fields.
    public init(w: UnsafeRawPointer, outputs: Int, y: UnsafeMutablePointer<Float>, ldy: Int, bias: UnsafePointer<Float>?) {
        self.w = w
        self.outputs = outputs
        self.y = y
        self.ldy = ldy
        self.bias = bias
    }
}

/// Task `task` of `taskCount` of a grouped product: every part's `y = (accumulate ? y : 0) +
/// bias + x · Wᵀ`, the parts' output rows split together in groups of eight (one dispatch for
/// q, k and v, or gate and up). Each output is computed as in `floatBlockGEMMTask`.
@inlinable @inline(__always)
public func floatBlockGEMMGroupTask<Tag>(
    _ tag: Tag.Type, _ format: QuantizedBlockFormat, parts: UnsafePointer<StoredProductPart>, count: Int, k: Int, rowBytes: Int,
    rows: Int, x: UnsafePointer<Float>, ldx: Int, blockSums: UnsafePointer<Float>, accumulate: Bool, task: Int, taskCount: Int
) {
    var groups = 0
    for p in 0..<count { groups &+= (parts[p].outputs &+ 7) / 8 }
    let range = evenSplit(groups, parts: taskCount, index: task)
    var first = 0
    for p in 0..<count {
        let part = parts[p], partGroups = (part.outputs &+ 7) / 8
        let lower = max(range.lowerBound, first), upper = min(range.upperBound, first &+ partGroups)
        if lower < upper {
            floatBlockGEMMRows(tag, format, k: k, w: part.w, rowBytes: rowBytes, rows: rows, x: x, ldx: ldx, blockSums: blockSums,
                               y: part.y, ldy: part.ldy, bias: part.bias, accumulate: accumulate,
                               start: (lower &- first) &* 8, end: min(part.outputs, (upper &- first) &* 8))
        }
        first &+= partGroups
    }
}

/// Task `task` of `taskCount` of `y [rows, n] = (accumulate ? y : 0) + bias + x · Wᵀ` for W
/// `[n, k]` in a block `format` with x in float32 (rows `ldx` apart) and `blockSums [rows, k/32]`
/// the sum of each 32-block of x: every weight is expanded to float32 in registers, so the
/// result equals the float32 product of the dequantized weights up to float rounding (in a
/// fixed, split-independent order).
@inlinable @inline(__always)
public func floatBlockGEMMTask<Tag>(
    _ tag: Tag.Type, _ format: QuantizedBlockFormat, n: Int, k: Int, w: UnsafeRawPointer, rowBytes: Int,
    rows: Int, x: UnsafePointer<Float>, ldx: Int, blockSums: UnsafePointer<Float>,
    y: UnsafeMutablePointer<Float>, ldy: Int, bias: UnsafePointer<Float>?, accumulate: Bool, task: Int, taskCount: Int
) {
    let range = evenSplit((n + 7) / 8, parts: taskCount, index: task)
    floatBlockGEMMRows(tag, format, k: k, w: w, rowBytes: rowBytes, rows: rows, x: x, ldx: ldx, blockSums: blockSums, y: y, ldy: ldy,
                       bias: bias, accumulate: accumulate, start: range.lowerBound &* 8, end: min(n, range.upperBound &* 8))
}

/// Output rows `start..<end` of `floatBlockGEMMTask`'s product.
@inlinable @inline(__always)
public func floatBlockGEMMRows<Tag>(
    _: Tag.Type, _ format: QuantizedBlockFormat, k: Int, w: UnsafeRawPointer, rowBytes: Int,
    rows: Int, x: UnsafePointer<Float>, ldx: Int, blockSums: UnsafePointer<Float>,
    y: UnsafeMutablePointer<Float>, ldy: Int, bias: UnsafePointer<Float>?, accumulate: Bool, start: Int, end: Int
) {
    let blocks = k / quantizedBlockLength
    let size = format.bytesPerBlock
    for r in 0..<rows {
        let xr = x + r &* ldx, sums = blockSums + r &* blocks
        var j = start
        while j < end {
            // Two weight rows at a time: independent accumulator chains, shared loads of x (four
            // rows run out of vector registers and are slower).
            let count = min(2, end &- j)
            let w0 = w + j &* rowBytes, w1 = count > 1 ? w0 + rowBytes : w0
            var a0 = SIMD8<Float>(), a1 = SIMD8<Float>()
            var c0: Float = 0, c1: Float = 0
            for b in 0..<blocks {
                let p = xr + b &* 32
                let x0 = p.loadVector(SIMD8<Float>.self, at: 0), x1 = p.loadVector(SIMD8<Float>.self, at: 8)
                let x2 = p.loadVector(SIMD8<Float>.self, at: 16), x3 = p.loadVector(SIMD8<Float>.self, at: 24)
                let q0 = blockValues(format, w0 + b &* size), q1 = blockValues(format, w1 + b &* size)
                var s0 = q0.v0 * x0
                s0.addProduct(q0.v1, x1); s0.addProduct(q0.v2, x2); s0.addProduct(q0.v3, x3)
                var s1 = q1.v0 * x0
                s1.addProduct(q1.v1, x1); s1.addProduct(q1.v2, x2); s1.addProduct(q1.v3, x3)
                a0.addProduct(s0, SIMD8<Float>(repeating: q0.d))
                a1.addProduct(s1, SIMD8<Float>(repeating: q1.d))
                c0.addProduct(q0.c, sums[b])
                c1.addProduct(q1.c, sums[b])
            }
            let totals = SIMD2<Float>(a0.sum(), a1.sum()) + SIMD2<Float>(c0, c1)
            for i in 0..<count {
                var value = totals[i]
                if let bias { value += bias[j &+ i] }
                let out = y + (r &* ldy &+ j &+ i)
                out.pointee = accumulate ? out.pointee + value : value
            }
            j &+= 2
        }
    }
}

/// Eight bytes widened to floats (`vpmovzxbd`, `vcvtdq2ps`).
@inlinable @inline(__always)
func floats(_ v: SIMD8<UInt8>) -> SIMD8<Float> {
    var r = SIMD8<Float>()
    for i in 0..<8 { r[i] = Float(Int32(truncatingIfNeeded: v[i])) }
    return r
}

/// The 6-bit scale and minimum of Q4_K / Q5_K sub-block `j` (0..<8) from the 12 packed bytes at
/// `s` (ggml's `get_scale_min_k4`).
@inlinable @inline(__always)
public func kQuantScaleAndMinimum(_ j: Int, _ s: UnsafeRawPointer) -> (Float, Float) {
    func byte(_ i: Int) -> UInt8 { s.load(fromByteOffset: i, as: UInt8.self) }
    if j < 4 { return (Float(byte(j) & 63), Float(byte(j &+ 4) & 63)) }
    let scale = (byte(j &+ 4) & 0x0F) | (byte(j &- 4) >> 6) << 4
    let minimum = (byte(j &+ 4) >> 4) | (byte(j) >> 6) << 4
    return (Float(scale), Float(minimum))
}

/// Output rows `start..<end` of `y [rows, n] = (accumulate ? y : 0) + bias + x · Wᵀ` for W in
/// GGUF Q4_K (super-blocks of 256, 144 bytes: F16 d and dmin, eight 6-bit scales and minima,
/// 4-bit values; w = d·scale·q − dmin·min per sub-block of 32) or, with `fifthBits`, Q5_K (176
/// bytes: the same, then the fifth bits in `qh[32]` — bit `sub` of `qh[l]` for element l of
/// sub-block `sub` — before the low bits), x in float32 with `blockSums` its sums per 32: every
/// weight expanded to float32 in registers, in a fixed order.
@inlinable @inline(__always)
public func floatKQuantRows<Tag>(
    _: Tag.Type, fifthBits: Bool, k: Int, w: UnsafeRawPointer, rowBytes: Int, rows: Int, x: UnsafePointer<Float>, ldx: Int,
    blockSums: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>, ldy: Int, bias: UnsafePointer<Float>?, accumulate: Bool,
    start: Int, end: Int
) {
    let superBlocks = k / 256, blocks = k / quantizedBlockLength
    let blockBytes = fifthBits ? 176 : 144, lowBits = fifthBits ? 48 : 16
    for r in 0..<rows {
        let xr = x + r &* ldx, sums = blockSums + r &* blocks
        for j in start..<end {
            let row = w + j &* rowBytes
            var acc = SIMD8<Float>()
            var offset: Float = 0
            for sb in 0..<superBlocks {
                let b = row + sb &* blockBytes
                let d = floatFromHalfBits(UInt16(littleEndian: b.loadUnaligned(as: UInt16.self)))
                let dmin = floatFromHalfBits(UInt16(littleEndian: b.loadUnaligned(fromByteOffset: 2, as: UInt16.self)))
                for pair in 0..<4 {
                    let q = b + (lowBits &+ 32 &* pair)
                    for half in 0..<2 {
                        let sub = 2 &* pair &+ half
                        let (scale, minimum) = kQuantScaleAndMinimum(sub, b + 4)
                        let p = xr + (sb &* 256 &+ sub &* 32)
                        var s = SIMD8<Float>()
                        for g in 0..<4 {
                            let packed = q.loadUnaligned(fromByteOffset: 8 &* g, as: SIMD8<UInt8>.self)
                            var values = half == 0 ? packed & 0x0F : packed &>> 4
                            if fifthBits {
                                values |= ((b + 16).loadUnaligned(fromByteOffset: 8 &* g, as: SIMD8<UInt8>.self) &>> UInt8(sub) & 1) &<< 4
                            }
                            s.addProduct(floats(values), p.loadVector(SIMD8<Float>.self, at: 8 &* g))
                        }
                        acc.addProduct(s, SIMD8<Float>(repeating: d * scale))
                        offset.addProduct(-dmin * minimum, sums[sb &* 8 &+ sub])
                    }
                }
            }
            var value = acc.sum() + offset
            if let bias { value += bias[j] }
            let out = y + (r &* ldy &+ j)
            out.pointee = accumulate ? out.pointee + value : value
        }
    }
}

/// Output rows `start..<end` of `y [rows, n] = (accumulate ? y : 0) + bias + x · Wᵀ` for W in
/// GGUF Q6_K (super-blocks of 256: 4 low bits in `ql[128]`, 2 high bits in `qh[64]`, sixteen
/// int8 scales, an F16 d; w = d·scale·(q − 32) per 16 values), x in float32: every weight
/// expanded to float32 in registers, in a fixed order.
@inlinable @inline(__always)
public func floatQ6KRows<Tag>(
    _: Tag.Type, k: Int, w: UnsafeRawPointer, rowBytes: Int, rows: Int, x: UnsafePointer<Float>, ldx: Int,
    y: UnsafeMutablePointer<Float>, ldy: Int, bias: UnsafePointer<Float>?, accumulate: Bool, start: Int, end: Int
) {
    let superBlocks = k / 256
    for r in 0..<rows {
        let xr = x + r &* ldx
        for j in start..<end {
            let row = w + j &* rowBytes
            var acc = SIMD8<Float>()
            for sb in 0..<superBlocks {
                let b = row + sb &* 210
                let d = floatFromHalfBits(UInt16(littleEndian: b.loadUnaligned(fromByteOffset: 208, as: UInt16.self)))
                for half in 0..<2 {
                    let ql = b + 64 &* half, qh = b + (128 &+ 32 &* half), scales = b + (192 &+ 8 &* half)
                    let p = xr + (sb &* 256 &+ 128 &* half)
                    for group in 0..<4 {
                        // Group g holds values 32g..<32g+32 of this half: low nibbles of ql[0..<32]
                        // (g 0) or ql[32..<64] (g 1), high nibbles of them (g 2, 3), with bits
                        // 2g…2g+1 of qh.
                        let low = (group & 1) &* 32, shift = UInt8(2 &* group)
                        var first = SIMD8<Float>(), second = SIMD8<Float>()
                        for chunk in 0..<4 {
                            let l = ql.loadUnaligned(fromByteOffset: low &+ 8 &* chunk, as: SIMD8<UInt8>.self)
                            let h = qh.loadUnaligned(fromByteOffset: 8 &* chunk, as: SIMD8<UInt8>.self)
                            let nibbles = group < 2 ? l & 0x0F : l &>> 4
                            let q = nibbles | ((h &>> shift) & 3) &<< 4
                            let values = floats(q) - 32
                            let xs = p.loadVector(SIMD8<Float>.self, at: 32 &* group &+ 8 &* chunk)
                            if chunk < 2 { first.addProduct(values, xs) } else { second.addProduct(values, xs) }
                        }
                        let s0 = Float(scales.load(fromByteOffset: 2 &* group, as: Int8.self))
                        let s1 = Float(scales.load(fromByteOffset: 2 &* group &+ 1, as: Int8.self))
                        acc.addProduct(first, SIMD8<Float>(repeating: d * s0))
                        acc.addProduct(second, SIMD8<Float>(repeating: d * s1))
                    }
                }
            }
            var value = acc.sum()
            if let bias { value += bias[j] }
            let out = y + (r &* ldy &+ j)
            out.pointee = accumulate ? out.pointee + value : value
        }
    }
}
