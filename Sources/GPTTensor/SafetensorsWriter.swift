// Writing safetensors by streaming each tensor from where it lies (no copy of the whole model
// or of the optimizer's moments), to a temporary file that is synced and then renamed.
import Foundation
import GPTFiles
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One F32 tensor to write: its name, shape and where its elements are.
public struct SafetensorsSource {
    /// The tensor's name in the file.
    public var name: String
    /// The shape written to the header.
    public var shape: [Int]
    /// The elements in row-major order of `shape` — or, with `transposedFrom`, a `[rows,
    /// columns]` matrix that is written transposed (`shape` is then `[columns, rows]`).
    public var elements: UnsafePointer<Float>
    /// The stored matrix to transpose while writing, if any.
    public var transposedFrom: (rows: Int, columns: Int)?

    /// A tensor to write; the pointer must stay valid until the write returns.
    public init(name: String, shape: [Int], elements: UnsafePointer<Float>, transposedFrom: (rows: Int, columns: Int)? = nil) {
        self.name = name
        self.shape = shape
        self.elements = elements
        self.transposedFrom = transposedFrom
    }
}

extension SafetensorsFile {
    /// Writes `tensors` as safetensors (names sorted, data in that order, header padded to 8
    /// bytes) in `dataType` — F32, or F16 / BF16 rounded to nearest even as PyTorch's `.half()`
    /// and `.bfloat16()` round —, streaming each from memory: to a temporary file beside `url`,
    /// `fsync`ed, then renamed over `url`, so a reader never sees a partial file.
    /// - Precondition: `dataType` is `.float32`, `.float16` or `.bfloat16`.
    /// - Throws: `TensorError.io` naming the file if it cannot be written.
    public static func write(streaming tensors: [SafetensorsSource], metadata: [String: String] = [:], dataType: WeightFormat = .float32,
                             to url: URL) throws {
        precondition([.float32, .float16, .bfloat16].contains(dataType), "safetensors: \(dataType) is not F32, F16 or BF16")
        let sorted = tensors.sorted { $0.name < $1.name }
        let size = dataType == .float32 ? 4 : 2, name = dataType == .float32 ? "F32" : (dataType == .float16 ? "F16" : "BF16")
        var header: [String: Any] = [:]
        if !metadata.isEmpty { header["__metadata__"] = metadata }
        var offset = 0, largestTransposed = 0
        for tensor in sorted {
            let count = tensor.shape.reduce(1, *)
            header[tensor.name] = ["dtype": name, "shape": tensor.shape, "data_offsets": [offset, offset + size * count]] as [String: Any]
            offset += size * count
            if tensor.transposedFrom != nil { largestTransposed = max(largestTransposed, count) }
        }
        var json = try JSONSerialization.data(withJSONObject: header, options: [.sortedKeys])
        while json.count % 8 != 0 { json.append(0x20) }
        let temporary = url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).partial-\(UUID().uuidString)")
        guard let file = fopen(temporary.path, "wb") else {
            throw TensorError.io("cannot write \(url.path): \(Files.reason(errno: errno))")
        }
        var failed = false
        func put(_ pointer: UnsafeRawPointer, _ count: Int) {
            if !failed && count > 0 && fwrite(pointer, 1, count, file) != count { failed = true }
        }
        var length = UInt64(json.count).littleEndian
        put(&length, 8)
        json.withUnsafeBytes { put($0.baseAddress!, json.count) }
        let scratch = UnsafeMutablePointer<Float>.allocate(capacity: max(1, largestTransposed))
        defer { scratch.deallocate() }
        // Half precision is converted in chunks of 64 Ki values.
        let chunk = 1 << 16
        let halves = UnsafeMutableRawPointer.allocate(byteCount: 2 * chunk, alignment: 64)
        defer { halves.deallocate() }
        for tensor in sorted {
            let count = tensor.shape.reduce(1, *)
            #if _endian(big)
            failed = true  // safetensors is little-endian; GPTKit runs on little-endian hosts only
            #endif
            var elements = tensor.elements
            if let (rows, columns) = tensor.transposedFrom {
                Kernels.transpose(tensor.elements, rows: rows, columns: columns, into: scratch)
                elements = UnsafePointer(scratch)
            }
            if dataType == .float32 {
                put(elements, 4 * count)
                continue
            }
            var start = 0
            while start < count {
                let n = Swift.min(chunk, count - start)
                Kernels.quantize(dataType, elements + start, count: n, into: halves)
                put(halves, 2 * n)
                start += n
            }
        }
        if fflush(file) != 0 || fsync(fileno(file)) != 0 { failed = true }
        fclose(file)
        if failed || rename(temporary.path, url.path) != 0 {
            let reason = Files.reason(errno: errno)
            unlink(temporary.path)
            throw TensorError.io("cannot write \(url.path): \(reason)")
        }
    }
}
