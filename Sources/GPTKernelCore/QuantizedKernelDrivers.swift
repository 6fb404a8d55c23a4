// The drivers of the stored-format products: the task split and the per-format dispatch that
// every kernel target's entry point runs. Each is `@inline(__always)` and generic over the
// target's kernel set (`tag`), so the closures it creates are compiled, and named, per target
// (see QuantizedKernels.swift on why a shared symbol would be wrong).

/// `y [rows, n] = (accumulate ? y : 0) + bias + x · Wᵀ` with W in a block format; see
/// `GPTKernelCore.quantizedGEMMTask`.
@inlinable @inline(__always)
public func quantizedGEMMDriver<Tag: ByteDotProducts>(
    _ tag: Tag.Type, _ format: QuantizedBlockFormat, n: Int, k: Int, w: UnsafeRawPointer, rowBytes: Int,
    rows: Int, values: UnsafePointer<Int8>, scales: UnsafePointer<Float>, sums: UnsafePointer<Float>,
    y: UnsafeMutablePointer<Float>, ldy: Int, bias: UnsafePointer<Float>?, accumulate: Bool, threads: Int
) {
    guard n > 0, rows > 0 else { return }
    let taskCount = storedProductTaskCount(n: n, k: k, rows: rows, threads: threads)
    // One copy per format, so the block decoding is not a branch in the loop.
    switch format {
    case .q8_0:
        Parallel.forEachTask(taskCount) { task in
            quantizedGEMMTask(tag, .q8_0, n: n, k: k, w: w, rowBytes: rowBytes, rows: rows, values: values, scales: scales, sums: sums,
                              y: y, ldy: ldy, bias: bias, accumulate: accumulate, task: task, taskCount: taskCount)
        }
    case .q4_0:
        Parallel.forEachTask(taskCount) { task in
            quantizedGEMMTask(tag, .q4_0, n: n, k: k, w: w, rowBytes: rowBytes, rows: rows, values: values, scales: scales, sums: sums,
                              y: y, ldy: ldy, bias: bias, accumulate: accumulate, task: task, taskCount: taskCount)
        }
    case .q4_1:
        Parallel.forEachTask(taskCount) { task in
            quantizedGEMMTask(tag, .q4_1, n: n, k: k, w: w, rowBytes: rowBytes, rows: rows, values: values, scales: scales, sums: sums,
                              y: y, ldy: ldy, bias: bias, accumulate: accumulate, task: task, taskCount: taskCount)
        }
    case .q5_0:
        Parallel.forEachTask(taskCount) { task in
            quantizedGEMMTask(tag, .q5_0, n: n, k: k, w: w, rowBytes: rowBytes, rows: rows, values: values, scales: scales, sums: sums,
                              y: y, ldy: ldy, bias: bias, accumulate: accumulate, task: task, taskCount: taskCount)
        }
    case .q5_1:
        Parallel.forEachTask(taskCount) { task in
            quantizedGEMMTask(tag, .q5_1, n: n, k: k, w: w, rowBytes: rowBytes, rows: rows, values: values, scales: scales, sums: sums,
                              y: y, ldy: ldy, bias: bias, accumulate: accumulate, task: task, taskCount: taskCount)
        }
    }
}

/// Several products with quantized activations over the same x in one dispatch; see
/// `GPTKernelCore.quantizedGEMMGroupTask`.
@inlinable @inline(__always)
public func quantizedGEMMGroupDriver<Tag: ByteDotProducts>(
    _ tag: Tag.Type, _ format: QuantizedBlockFormat, parts: UnsafePointer<StoredProductPart>, count: Int, k: Int, rowBytes: Int,
    rows: Int, values: UnsafePointer<Int8>, scales: UnsafePointer<Float>, sums: UnsafePointer<Float>, accumulate: Bool,
    threads: Int
) {
    var outputs = 0
    for p in 0..<count { outputs += parts[p].outputs }
    guard outputs > 0, rows > 0 else { return }
    let taskCount = storedProductTaskCount(n: outputs, k: k, rows: rows, threads: threads)
    switch format {
    case .q8_0:
        Parallel.forEachTask(taskCount) { task in
            quantizedGEMMGroupTask(tag, .q8_0, parts: parts, count: count, k: k, rowBytes: rowBytes, rows: rows, values: values,
                                   scales: scales, sums: sums, accumulate: accumulate, task: task, taskCount: taskCount)
        }
    case .q4_0:
        Parallel.forEachTask(taskCount) { task in
            quantizedGEMMGroupTask(tag, .q4_0, parts: parts, count: count, k: k, rowBytes: rowBytes, rows: rows, values: values,
                                   scales: scales, sums: sums, accumulate: accumulate, task: task, taskCount: taskCount)
        }
    case .q4_1:
        Parallel.forEachTask(taskCount) { task in
            quantizedGEMMGroupTask(tag, .q4_1, parts: parts, count: count, k: k, rowBytes: rowBytes, rows: rows, values: values,
                                   scales: scales, sums: sums, accumulate: accumulate, task: task, taskCount: taskCount)
        }
    case .q5_0:
        Parallel.forEachTask(taskCount) { task in
            quantizedGEMMGroupTask(tag, .q5_0, parts: parts, count: count, k: k, rowBytes: rowBytes, rows: rows, values: values,
                                   scales: scales, sums: sums, accumulate: accumulate, task: task, taskCount: taskCount)
        }
    case .q5_1:
        Parallel.forEachTask(taskCount) { task in
            quantizedGEMMGroupTask(tag, .q5_1, parts: parts, count: count, k: k, rowBytes: rowBytes, rows: rows, values: values,
                                   scales: scales, sums: sums, accumulate: accumulate, task: task, taskCount: taskCount)
        }
    }
}

/// `y [rows, n] = (accumulate ? y : 0) + bias + x · Wᵀ` with W in F16 or BF16; see
/// `GPTKernelCore.halfGEMMTask`.
@inlinable @inline(__always)
public func halfGEMMDriver<Tag>(
    _ tag: Tag.Type, isBFloat16: Bool, n: Int, k: Int, w: UnsafePointer<UInt16>, ldw: Int, rows: Int,
    x: UnsafePointer<Float>, ldx: Int, y: UnsafeMutablePointer<Float>, ldy: Int,
    bias: UnsafePointer<Float>?, accumulate: Bool, threads: Int
) {
    guard n > 0, rows > 0 else { return }
    let taskCount = storedProductTaskCount(n: n, k: k, rows: rows, threads: threads)
    if isBFloat16 {
        Parallel.forEachTask(taskCount) { task in
            halfGEMMTask(tag, isBFloat16: true, n: n, k: k, w: w, ldw: ldw, rows: rows, x: x, ldx: ldx, y: y, ldy: ldy, bias: bias,
                         accumulate: accumulate, task: task, taskCount: taskCount)
        }
    } else {
        Parallel.forEachTask(taskCount) { task in
            halfGEMMTask(tag, isBFloat16: false, n: n, k: k, w: w, ldw: ldw, rows: rows, x: x, ldx: ldx, y: y, ldy: ldy, bias: bias,
                         accumulate: accumulate, task: task, taskCount: taskCount)
        }
    }
}

/// `y [rows, n] = (accumulate ? y : 0) + bias + x · Wᵀ` with W in a block format and x in
/// float32; see `GPTKernelCore.floatBlockGEMMTask`.
@inlinable @inline(__always)
public func floatBlockGEMMDriver<Tag>(
    _ tag: Tag.Type, _ format: QuantizedBlockFormat, n: Int, k: Int, w: UnsafeRawPointer, rowBytes: Int,
    rows: Int, x: UnsafePointer<Float>, ldx: Int, blockSums: UnsafePointer<Float>,
    y: UnsafeMutablePointer<Float>, ldy: Int, bias: UnsafePointer<Float>?, accumulate: Bool, threads: Int
) {
    guard n > 0, rows > 0 else { return }
    let taskCount = storedProductTaskCount(n: n, k: k, rows: rows, threads: threads)
    switch format {
    case .q8_0:
        Parallel.forEachTask(taskCount) { task in
            floatBlockGEMMTask(tag, .q8_0, n: n, k: k, w: w, rowBytes: rowBytes, rows: rows, x: x, ldx: ldx, blockSums: blockSums,
                               y: y, ldy: ldy, bias: bias, accumulate: accumulate, task: task, taskCount: taskCount)
        }
    case .q4_0:
        Parallel.forEachTask(taskCount) { task in
            floatBlockGEMMTask(tag, .q4_0, n: n, k: k, w: w, rowBytes: rowBytes, rows: rows, x: x, ldx: ldx, blockSums: blockSums,
                               y: y, ldy: ldy, bias: bias, accumulate: accumulate, task: task, taskCount: taskCount)
        }
    case .q4_1:
        Parallel.forEachTask(taskCount) { task in
            floatBlockGEMMTask(tag, .q4_1, n: n, k: k, w: w, rowBytes: rowBytes, rows: rows, x: x, ldx: ldx, blockSums: blockSums,
                               y: y, ldy: ldy, bias: bias, accumulate: accumulate, task: task, taskCount: taskCount)
        }
    case .q5_0:
        Parallel.forEachTask(taskCount) { task in
            floatBlockGEMMTask(tag, .q5_0, n: n, k: k, w: w, rowBytes: rowBytes, rows: rows, x: x, ldx: ldx, blockSums: blockSums,
                               y: y, ldy: ldy, bias: bias, accumulate: accumulate, task: task, taskCount: taskCount)
        }
    case .q5_1:
        Parallel.forEachTask(taskCount) { task in
            floatBlockGEMMTask(tag, .q5_1, n: n, k: k, w: w, rowBytes: rowBytes, rows: rows, x: x, ldx: ldx, blockSums: blockSums,
                               y: y, ldy: ldy, bias: bias, accumulate: accumulate, task: task, taskCount: taskCount)
        }
    }
}

/// Several stored-format products over the same x in one dispatch; see
/// `GPTKernelCore.floatBlockGEMMGroupTask`.
@inlinable @inline(__always)
public func floatBlockGEMMGroupDriver<Tag>(
    _ tag: Tag.Type, _ format: QuantizedBlockFormat, parts: UnsafePointer<StoredProductPart>, count: Int, k: Int, rowBytes: Int,
    rows: Int, x: UnsafePointer<Float>, ldx: Int, blockSums: UnsafePointer<Float>, accumulate: Bool, threads: Int
) {
    var outputs = 0
    for p in 0..<count { outputs += parts[p].outputs }
    guard outputs > 0, rows > 0 else { return }
    let taskCount = storedProductTaskCount(n: outputs, k: k, rows: rows, threads: threads)
    switch format {
    case .q8_0:
        Parallel.forEachTask(taskCount) { task in
            floatBlockGEMMGroupTask(tag, .q8_0, parts: parts, count: count, k: k, rowBytes: rowBytes, rows: rows, x: x, ldx: ldx,
                                    blockSums: blockSums, accumulate: accumulate, task: task, taskCount: taskCount)
        }
    case .q4_0:
        Parallel.forEachTask(taskCount) { task in
            floatBlockGEMMGroupTask(tag, .q4_0, parts: parts, count: count, k: k, rowBytes: rowBytes, rows: rows, x: x, ldx: ldx,
                                    blockSums: blockSums, accumulate: accumulate, task: task, taskCount: taskCount)
        }
    case .q4_1:
        Parallel.forEachTask(taskCount) { task in
            floatBlockGEMMGroupTask(tag, .q4_1, parts: parts, count: count, k: k, rowBytes: rowBytes, rows: rows, x: x, ldx: ldx,
                                    blockSums: blockSums, accumulate: accumulate, task: task, taskCount: taskCount)
        }
    case .q5_0:
        Parallel.forEachTask(taskCount) { task in
            floatBlockGEMMGroupTask(tag, .q5_0, parts: parts, count: count, k: k, rowBytes: rowBytes, rows: rows, x: x, ldx: ldx,
                                    blockSums: blockSums, accumulate: accumulate, task: task, taskCount: taskCount)
        }
    case .q5_1:
        Parallel.forEachTask(taskCount) { task in
            floatBlockGEMMGroupTask(tag, .q5_1, parts: parts, count: count, k: k, rowBytes: rowBytes, rows: rows, x: x, ldx: ldx,
                                    blockSums: blockSums, accumulate: accumulate, task: task, taskCount: taskCount)
        }
    }
}

/// `y [rows, n] = (accumulate ? y : 0) + bias + x · Wᵀ` with W in Q4_K and x in float32; see
/// `GPTKernelCore.floatKQuantRows`.
@inlinable @inline(__always)
public func floatQ4KGEMMDriver<Tag>(
    _ tag: Tag.Type, n: Int, k: Int, w: UnsafeRawPointer, rowBytes: Int, rows: Int, x: UnsafePointer<Float>, ldx: Int,
    blockSums: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>, ldy: Int, bias: UnsafePointer<Float>?,
    accumulate: Bool, threads: Int
) {
    guard n > 0, rows > 0 else { return }
    let taskCount = storedProductTaskCount(n: n, k: k, rows: rows, threads: threads)
    Parallel.forEachTask(taskCount) { task in
        let range = evenSplit((n + 7) / 8, parts: taskCount, index: task)
        floatKQuantRows(tag, fifthBits: false, k: k, w: w, rowBytes: rowBytes, rows: rows, x: x, ldx: ldx, blockSums: blockSums, y: y, ldy: ldy,
                     bias: bias, accumulate: accumulate, start: range.lowerBound * 8, end: min(n, range.upperBound * 8))
    }
}

/// `y [rows, n] = (accumulate ? y : 0) + bias + x · Wᵀ` with W in Q5_K and x in float32; see
/// `GPTKernelCore.floatKQuantRows`.
@inlinable @inline(__always)
public func floatQ5KGEMMDriver<Tag>(
    _ tag: Tag.Type, n: Int, k: Int, w: UnsafeRawPointer, rowBytes: Int, rows: Int, x: UnsafePointer<Float>, ldx: Int,
    blockSums: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>, ldy: Int, bias: UnsafePointer<Float>?,
    accumulate: Bool, threads: Int
) {
    guard n > 0, rows > 0 else { return }
    let taskCount = storedProductTaskCount(n: n, k: k, rows: rows, threads: threads)
    Parallel.forEachTask(taskCount) { task in
        let range = evenSplit((n + 7) / 8, parts: taskCount, index: task)
        floatKQuantRows(tag, fifthBits: true, k: k, w: w, rowBytes: rowBytes, rows: rows, x: x, ldx: ldx, blockSums: blockSums, y: y, ldy: ldy,
                     bias: bias, accumulate: accumulate, start: range.lowerBound * 8, end: min(n, range.upperBound * 8))
    }
}

/// `y [rows, n] = (accumulate ? y : 0) + bias + x · Wᵀ` with W in Q6_K and x in float32; see
/// `GPTKernelCore.floatQ6KRows`.
@inlinable @inline(__always)
public func floatQ6KGEMMDriver<Tag>(
    _ tag: Tag.Type, n: Int, k: Int, w: UnsafeRawPointer, rowBytes: Int, rows: Int, x: UnsafePointer<Float>, ldx: Int,
    y: UnsafeMutablePointer<Float>, ldy: Int, bias: UnsafePointer<Float>?, accumulate: Bool, threads: Int
) {
    guard n > 0, rows > 0 else { return }
    let taskCount = storedProductTaskCount(n: n, k: k, rows: rows, threads: threads)
    Parallel.forEachTask(taskCount) { task in
        let range = evenSplit((n + 7) / 8, parts: taskCount, index: task)
        floatQ6KRows(tag, k: k, w: w, rowBytes: rowBytes, rows: rows, x: x, ldx: ldx, y: y, ldy: ldy, bias: bias,
                     accumulate: accumulate, start: range.lowerBound * 8, end: min(n, range.upperBound * 8))
    }
}
