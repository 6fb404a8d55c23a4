// PortableKernels' entry points for the products with stored block formats: each runs its driver
// (GPTKernelCore's QuantizedKernelDrivers.swift) compiled with this target's instruction set.
import GPTKernelCore

extension PortableKernels {
    /// See `ByteDotProducts.dot(unsigned:_:)`: `PortableByteDotProducts`' element loops.
    @inline(__always)
    public static func dot(unsigned u: SIMD32<UInt8>, _ s: SIMD32<Int8>) -> SIMD8<Int32> {
        PortableByteDotProducts.dot(unsigned: u, s)
    }

    /// See `ByteDotProducts.dot(signed:_:)`: `PortableByteDotProducts`' element loops.
    @inline(__always)
    public static func dot(signed a: SIMD32<Int8>, _ s: SIMD32<Int8>) -> SIMD8<Int32> {
        PortableByteDotProducts.dot(signed: a, s)
    }

    /// See `GPTKernelCore.quantizeActivationBlocks`.
    @inline(never)
    public static func quantizeActivationBlocks(
        _ x: UnsafePointer<Float>, rows: Int, k: Int, ldx: Int,
        values: UnsafeMutablePointer<Int8>, scales: UnsafeMutablePointer<Float>, sums: UnsafeMutablePointer<Float>
    ) {
        GPTKernelCore.quantizeActivationBlocks(Self.self, x, rows: rows, k: k, ldx: ldx, values: values, scales: scales, sums: sums)
    }

    /// `y [rows, n] = (accumulate ? y : 0) + bias + x · Wᵀ` with W in a block format; see
    /// `GPTKernelCore.quantizedGEMMTask`.
    @inline(never)
    public static func quantizedGEMM(
        _ format: QuantizedBlockFormat, n: Int, k: Int, w: UnsafeRawPointer, rowBytes: Int,
        rows: Int, values: UnsafePointer<Int8>, scales: UnsafePointer<Float>, sums: UnsafePointer<Float>,
        y: UnsafeMutablePointer<Float>, ldy: Int, bias: UnsafePointer<Float>?, accumulate: Bool, threads: Int
    ) {
        quantizedGEMMDriver(Self.self, format, n: n, k: k, w: w, rowBytes: rowBytes, rows: rows, values: values, scales: scales,
            sums: sums, y: y, ldy: ldy, bias: bias, accumulate: accumulate, threads: threads)
    }

    /// Several products with quantized activations over the same x in one dispatch; see
    /// `GPTKernelCore.quantizedGEMMGroupTask`.
    @inline(never)
    public static func quantizedGEMMGroup(
        _ format: QuantizedBlockFormat, parts: UnsafePointer<StoredProductPart>, count: Int, k: Int, rowBytes: Int,
        rows: Int, values: UnsafePointer<Int8>, scales: UnsafePointer<Float>, sums: UnsafePointer<Float>, accumulate: Bool,
        threads: Int
    ) {
        quantizedGEMMGroupDriver(Self.self, format, parts: parts, count: count, k: k, rowBytes: rowBytes, rows: rows,
            values: values, scales: scales, sums: sums, accumulate: accumulate, threads: threads)
    }

    /// `y [rows, n] = (accumulate ? y : 0) + bias + x · Wᵀ` with W in F16 or BF16; see
    /// `GPTKernelCore.halfGEMMTask`.
    @inline(never)
    public static func halfGEMM(
        isBFloat16: Bool, n: Int, k: Int, w: UnsafePointer<UInt16>, ldw: Int, rows: Int,
        x: UnsafePointer<Float>, ldx: Int, y: UnsafeMutablePointer<Float>, ldy: Int,
        bias: UnsafePointer<Float>?, accumulate: Bool, threads: Int
    ) {
        halfGEMMDriver(Self.self, isBFloat16: isBFloat16, n: n, k: k, w: w, ldw: ldw, rows: rows, x: x, ldx: ldx, y: y,
            ldy: ldy, bias: bias, accumulate: accumulate, threads: threads)
    }

    /// `y [rows, n] = (accumulate ? y : 0) + bias + x · Wᵀ` with W in a block format and x in
    /// float32; see `GPTKernelCore.floatBlockGEMMTask`.
    @inline(never)
    public static func floatBlockGEMM(
        _ format: QuantizedBlockFormat, n: Int, k: Int, w: UnsafeRawPointer, rowBytes: Int,
        rows: Int, x: UnsafePointer<Float>, ldx: Int, blockSums: UnsafePointer<Float>,
        y: UnsafeMutablePointer<Float>, ldy: Int, bias: UnsafePointer<Float>?, accumulate: Bool, threads: Int
    ) {
        floatBlockGEMMDriver(Self.self, format, n: n, k: k, w: w, rowBytes: rowBytes, rows: rows, x: x, ldx: ldx,
            blockSums: blockSums, y: y, ldy: ldy, bias: bias, accumulate: accumulate, threads: threads)
    }

    /// Several stored-format products over the same x in one dispatch; see
    /// `GPTKernelCore.floatBlockGEMMGroupTask`.
    @inline(never)
    public static func floatBlockGEMMGroup(
        _ format: QuantizedBlockFormat, parts: UnsafePointer<StoredProductPart>, count: Int, k: Int, rowBytes: Int,
        rows: Int, x: UnsafePointer<Float>, ldx: Int, blockSums: UnsafePointer<Float>, accumulate: Bool, threads: Int
    ) {
        floatBlockGEMMGroupDriver(Self.self, format, parts: parts, count: count, k: k, rowBytes: rowBytes, rows: rows, x: x,
            ldx: ldx, blockSums: blockSums, accumulate: accumulate, threads: threads)
    }

    /// `y [rows, n] = (accumulate ? y : 0) + bias + x · Wᵀ` with W in Q4_K and x in float32; see
    /// `GPTKernelCore.floatKQuantRows`.
    @inline(never)
    public static func floatQ4KGEMM(
        n: Int, k: Int, w: UnsafeRawPointer, rowBytes: Int, rows: Int, x: UnsafePointer<Float>, ldx: Int,
        blockSums: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>, ldy: Int, bias: UnsafePointer<Float>?,
        accumulate: Bool, threads: Int
    ) {
        floatQ4KGEMMDriver(Self.self, n: n, k: k, w: w, rowBytes: rowBytes, rows: rows, x: x, ldx: ldx, blockSums: blockSums,
            y: y, ldy: ldy, bias: bias, accumulate: accumulate, threads: threads)
    }

    /// `y [rows, n] = (accumulate ? y : 0) + bias + x · Wᵀ` with W in Q5_K and x in float32; see
    /// `GPTKernelCore.floatKQuantRows`.
    @inline(never)
    public static func floatQ5KGEMM(
        n: Int, k: Int, w: UnsafeRawPointer, rowBytes: Int, rows: Int, x: UnsafePointer<Float>, ldx: Int,
        blockSums: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>, ldy: Int, bias: UnsafePointer<Float>?,
        accumulate: Bool, threads: Int
    ) {
        floatQ5KGEMMDriver(Self.self, n: n, k: k, w: w, rowBytes: rowBytes, rows: rows, x: x, ldx: ldx, blockSums: blockSums,
            y: y, ldy: ldy, bias: bias, accumulate: accumulate, threads: threads)
    }

    /// `y [rows, n] = (accumulate ? y : 0) + bias + x · Wᵀ` with W in Q6_K and x in float32; see
    /// `GPTKernelCore.floatQ6KRows`.
    @inline(never)
    public static func floatQ6KGEMM(
        n: Int, k: Int, w: UnsafeRawPointer, rowBytes: Int, rows: Int, x: UnsafePointer<Float>, ldx: Int,
        y: UnsafeMutablePointer<Float>, ldy: Int, bias: UnsafePointer<Float>?, accumulate: Bool, threads: Int
    ) {
        floatQ6KGEMMDriver(Self.self, n: n, k: k, w: w, rowBytes: rowBytes, rows: rows, x: x, ldx: ldx, y: y, ldy: ldy,
            bias: bias, accumulate: accumulate, threads: threads)
    }

}
