// Reading GGUF files (llama.cpp's format, versions 2 and 3), memory-mapped.
//
// Layout (little-endian): "GGUF", version u32, tensor count u64, metadata count u64; the
// metadata entries (key: u64 length + UTF-8 bytes, value type u32, value); the tensor infos
// (name, dimension count u32, ne[dims] u64 — the fastest-varying dimension first —, ggml_type
// u32, offset u64 from the data section); padding to `general.alignment` (default 32); the data.
// Every count and length is checked against the bytes that remain before anything is allocated.
import Foundation
import GPTFiles

/// One tensor of a GGUF file.
public struct GGUFTensorInfo: Sendable, Hashable {
    /// The tensor's name, e.g. `blk.0.attn_q.weight`.
    public let name: String
    /// The shape in row-major order, slowest dimension first (`[rows, columns]` for a matrix:
    /// the reverse of GGUF's `ne`, as gguf-py's writer and numpy see it).
    public let shape: [Int]
    /// The storage format.
    public let format: WeightFormat
    /// The byte offset of the tensor from the start of the data section.
    public let offset: Int
    /// The tensor's size in bytes.
    public let byteCount: Int

    /// The number of elements.
    public var elementCount: Int { shape.reduce(1, *) }
}

/// A parsed, validated GGUF file whose tensor data stays in the (memory-mapped) file.
///
/// ```swift
/// let file = try GGUFFile(contentsOf: URL(fileURLWithPath: "SmolLM2-135M-Instruct.Q4_1.gguf"))
/// print(file.metadata["general.architecture"]?.string ?? "?")   // "llama"
/// let embedding = try file.floats(of: "token_embd.weight")      // dequantized, [49152 · 576]
/// ```
public struct GGUFFile: Sendable {
    /// The format version (2 or 3).
    public let version: UInt32
    /// The metadata, by key.
    public let metadata: [String: GGUFValue]
    /// The metadata keys in file order.
    public let metadataKeys: [String]
    /// The tensors in file order.
    public let tensors: [GGUFTensorInfo]
    /// The alignment of the data section and of every tensor in it.
    public let alignment: Int
    /// The byte offset of the data section from the start of the file.
    public let dataOffset: Int
    /// The file's bytes (a read-only map, or a copy for `init(data:)`).
    public let memory: WeightMemory
    private let index: [String: Int]

    /// Maps and validates the file at `url`.
    /// - Throws: `GGUFError` naming the problem.
    public init(contentsOf url: URL) throws {
        if let problem = Files.problemReading(url) { throw GGUFError.io(file: url.path, reason: problem) }
        let memory: WeightMemory
        do { memory = try WeightMemory(mapping: url) } catch {
            throw GGUFError.io(file: url.path, reason: (error as? LocalizedError)?.errorDescription ?? "\(error)")
        }
        try self.init(memory: memory, name: url.lastPathComponent)
    }

    /// Validates GGUF bytes held in memory (tests, fuzzing); `name` appears in error messages.
    public init(data: Data, name: String = "GGUF data") throws {
        let memory = WeightMemory(floatCount: (data.count + 3) / 4) { floats in
            data.withUnsafeBytes { UnsafeMutableRawPointer(floats).copyMemory(from: $0.baseAddress ?? UnsafeRawPointer(floats), byteCount: data.count) }
        }
        try self.init(memory: memory, byteCount: data.count, name: name)
    }

    init(memory: WeightMemory, byteCount: Int? = nil, name: String) throws {
        var reader = GGUFByteReader(bytes: UnsafeRawBufferPointer(start: memory.base, count: byteCount ?? memory.byteCount), file: name)
        guard reader.bytes.count >= 4, reader.bytes.load(as: UInt32.self) == UInt32(littleEndian: 0x4655_4747) else {
            throw GGUFError.notGGUF(file: name)
        }
        reader.position = 4
        version = try reader.u32("the version")
        guard version == 2 || version == 3 else { throw GGUFError.unsupportedVersion(file: name, version: version) }
        let tensorCount = try reader.count("the tensor count", minimumBytesEach: 8 + 4 + 8 + 4 + 8)
        let metadataCount = try reader.count("the metadata count", minimumBytesEach: 8 + 4 + 1)
        var metadata: [String: GGUFValue] = [:]
        var keys: [String] = []
        keys.reserveCapacity(metadataCount)
        for entry in 0..<metadataCount {
            let key = try reader.string("the key of metadata entry \(entry)")
            guard metadata[key] == nil else { throw GGUFError.invalidMetadata(file: name, key: key, reason: "appears twice") }
            metadata[key] = try reader.value(key: key, depth: 0)
            keys.append(key)
        }
        var alignment = 32
        if let value = metadata["general.alignment"] {
            guard case .uint32(let raw) = value, raw > 0, raw & (raw - 1) == 0, raw <= 1 << 20 else {
                throw GGUFError.invalidMetadata(file: name, key: "general.alignment", reason: "must be a uint32 power of two, got \(value)")
            }
            alignment = Int(raw)
        }
        var infos: [(name: String, shape: [Int], format: WeightFormat, offset: Int, byteCount: Int)] = []
        infos.reserveCapacity(tensorCount)
        var index: [String: Int] = [:]
        for number in 0..<tensorCount {
            let tensorName = try reader.string("the name of tensor \(number)")
            guard index[tensorName] == nil else { throw GGUFError.invalidTensor(file: name, name: tensorName, reason: "appears twice") }
            let dimensions = Int(try reader.u32("the dimension count of '\(tensorName)'"))
            guard (1...4).contains(dimensions) else {
                throw GGUFError.invalidTensor(file: name, name: tensorName, reason: "\(dimensions) dimensions (1 to 4 are possible)")
            }
            var ne: [Int] = []
            for _ in 0..<dimensions {
                let extent = try reader.u64("a dimension of '\(tensorName)'")
                guard extent >= 1, extent <= UInt64(Int32.max) else {
                    throw GGUFError.invalidTensor(file: name, name: tensorName, reason: "dimension \(extent) is out of range (1...2^31-1)")
                }
                ne.append(Int(extent))
            }
            let type = try reader.u32("the type of '\(tensorName)'")
            guard let format = WeightFormat(ggmlType: type) else {
                throw GGUFError.unsupportedTensorType(file: name, name: tensorName, type: WeightFormat.ggmlTypeName(type))
            }
            let offset = try reader.u64("the offset of '\(tensorName)'")
            var elements = 1
            for extent in ne {
                let (product, overflow) = elements.multipliedReportingOverflow(by: extent)
                guard !overflow, product <= 1 << 40 else {
                    throw GGUFError.invalidTensor(file: name, name: tensorName, reason: "shape \(ne) has too many elements")
                }
                elements = product
            }
            guard ne[0] % format.blockSize == 0, let size = format.byteCount(elements: elements) else {
                throw GGUFError.invalidTensor(file: name, name: tensorName,
                                              reason: "its rows of \(ne[0]) elements are not whole \(format.rawValue) blocks of \(format.blockSize)")
            }
            guard offset % UInt64(alignment) == 0 else {
                throw GGUFError.invalidTensor(file: name, name: tensorName, reason: "offset \(offset) is not a multiple of the alignment \(alignment)")
            }
            guard offset <= UInt64(reader.bytes.count) else {
                throw GGUFError.invalidTensor(file: name, name: tensorName, reason: "offset \(offset) is past the end of the file")
            }
            index[tensorName] = infos.count
            infos.append((tensorName, ne.reversed(), format, Int(offset), size))
        }
        let headerEnd = reader.position
        let (padded, overflow) = headerEnd.addingReportingOverflow(alignment - 1)
        dataOffset = overflow ? Int.max : padded / alignment * alignment
        let dataLength = reader.bytes.count - min(dataOffset, reader.bytes.count)
        guard dataOffset <= reader.bytes.count || infos.isEmpty else {
            throw GGUFError.truncated(file: name, offset: reader.bytes.count, reading: "the padding before the tensor data")
        }
        // Every tensor inside the data section, and no two overlapping.
        for info in infos where info.offset > dataLength || info.byteCount > dataLength - info.offset {
            throw GGUFError.invalidTensor(file: name, name: info.name,
                                          reason: "its \(info.byteCount) bytes at offset \(info.offset) run past the end of the data section (\(dataLength) bytes)")
        }
        // As ggml: the tensors lie in file order, each at the aligned end of the one before (no
        // overlaps, no holes).
        var expected = 0
        for info in infos {
            guard info.offset == expected else {
                throw GGUFError.invalidTensor(file: name, name: info.name,
                                              reason: "offset \(info.offset), but the tensors before it end at \(expected) (aligned to \(alignment))")
            }
            expected = (info.offset + info.byteCount + alignment - 1) / alignment * alignment
        }
        self.memory = memory
        self.metadata = metadata
        self.metadataKeys = keys
        self.alignment = alignment
        self.index = index
        tensors = infos.map { GGUFTensorInfo(name: $0.name, shape: $0.shape, format: $0.format, offset: $0.offset, byteCount: $0.byteCount) }
    }

    // MARK: - Tensors

    /// The tensor called `name`, if any.
    public func tensor(named name: String) -> GGUFTensorInfo? { index[name].map { tensors[$0] } }

    /// The first byte of a tensor's data (valid while this file, or its `memory`, is alive).
    public func bytes(of tensor: GGUFTensorInfo) -> UnsafeRawPointer { memory.base + dataOffset + tensor.offset }

    /// Dequantizes tensor `name` to float32 (row-major, `elementCount` values) into `target`.
    /// - Throws: `GGUFError.invalidTensor` if there is no such tensor.
    public func dequantize(_ name: String, into target: UnsafeMutablePointer<Float>) throws {
        guard let tensor = tensor(named: name) else { throw GGUFError.invalidTensor(file: "GGUF", name: name, reason: "no such tensor") }
        Kernels.dequantize(tensor.format, bytes(of: tensor), count: tensor.elementCount, into: target)
    }

    /// Tensor `name` dequantized to float32, row-major.
    /// - Throws: `GGUFError.invalidTensor` if there is no such tensor.
    public func floats(of name: String) throws -> [Float] {
        guard let tensor = tensor(named: name) else { throw GGUFError.invalidTensor(file: "GGUF", name: name, reason: "no such tensor") }
        return try [Float](unsafeUninitializedCapacity: tensor.elementCount) { buffer, count in
            try dequantize(name, into: buffer.baseAddress!)
            count = tensor.elementCount
        }
    }
}
