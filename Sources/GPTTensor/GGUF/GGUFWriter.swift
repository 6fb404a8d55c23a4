// Writing GGUF files (version 3) that llama.cpp and gguf-py read: metadata, tensor infos, then
// each tensor's bytes at an aligned offset. Written to a temporary file, synced, then renamed.
import Foundation
import GPTFiles
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One tensor to write: its name, row-major shape, format and the bytes in that format.
public struct GGUFTensorSource {
    /// The tensor's name.
    public var name: String
    /// Row-major shape, slowest dimension first (`[rows, columns]`).
    public var shape: [Int]
    /// The storage format of `bytes`.
    public var format: WeightFormat
    /// `format.byteCount(elements:)` bytes, valid while the write runs.
    public var bytes: UnsafeRawPointer

    /// A tensor to write.
    public init(name: String, shape: [Int], format: WeightFormat, bytes: UnsafeRawPointer) {
        self.name = name
        self.shape = shape
        self.format = format
        self.bytes = bytes
    }
}

extension GGUFFile {
    /// Writes a GGUF version 3 file: `metadata` in the order given (`general.alignment`, if
    /// present, must be a power-of-two `uint32`; it sets the alignment), then `tensors`.
    ///
    /// ```swift
    /// try GGUFFile.write(metadata: [("general.architecture", .string("llama"))],
    ///                    tensors: [GGUFTensorSource(name: "output_norm.weight", shape: [576], format: .float32, bytes: gains)],
    ///                    to: URL(fileURLWithPath: "model.gguf"))
    /// ```
    /// - Throws: `GGUFError` for a duplicate name, an impossible shape or a write failure.
    public static func write(metadata: [(key: String, value: GGUFValue)], tensors: [GGUFTensorSource], to url: URL) throws {
        let file = url.lastPathComponent
        var alignment = 32
        if let value = metadata.first(where: { $0.key == "general.alignment" })?.value {
            guard case .uint32(let raw) = value, raw > 0, raw & (raw - 1) == 0 else {
                throw GGUFError.invalidMetadata(file: file, key: "general.alignment", reason: "must be a uint32 power of two")
            }
            alignment = Int(raw)
        }
        guard Set(metadata.map(\.key)).count == metadata.count else {
            throw GGUFError.invalidMetadata(file: file, key: "(keys)", reason: "a key appears twice")
        }
        var header = GGUFByteWriter()
        header.bytes.append(contentsOf: Array("GGUF".utf8))
        header.u32(3)
        header.u64(UInt64(tensors.count))
        header.u64(UInt64(metadata.count))
        for (key, value) in metadata {
            header.string(key)
            try header.value(value, key: key, file: file)
        }
        var offsets: [Int] = []
        var offset = 0
        var names = Set<String>()
        for tensor in tensors {
            guard names.insert(tensor.name).inserted else { throw GGUFError.invalidTensor(file: file, name: tensor.name, reason: "appears twice") }
            let elements = tensor.shape.reduce(1) { $0.multipliedReportingOverflow(by: max($1, 0)).partialValue }
            guard (1...4).contains(tensor.shape.count), tensor.shape.allSatisfy({ $0 >= 1 }),
                  tensor.shape.last! % tensor.format.blockSize == 0, let size = tensor.format.byteCount(elements: elements) else {
                throw GGUFError.invalidTensor(file: file, name: tensor.name, reason: "shape \(tensor.shape) is not whole \(tensor.format.rawValue) rows")
            }
            header.string(tensor.name)
            header.u32(UInt32(tensor.shape.count))
            for extent in tensor.shape.reversed() { header.u64(UInt64(extent)) }
            header.u32(tensor.format.ggmlType)
            header.u64(UInt64(offset))
            offsets.append(offset)
            offset = (offset + size + alignment - 1) / alignment * alignment
        }
        header.pad(to: alignment)
        try writeAtomically(to: url) { put in
            put(header.bytes.withUnsafeBytes { $0.baseAddress! }, header.bytes.count)
            var written = 0
            let zeros = [UInt8](repeating: 0, count: alignment)
            for (tensor, start) in zip(tensors, offsets) {
                if start > written { zeros.withUnsafeBytes { put($0.baseAddress!, start - written) } }
                let size = tensor.format.byteCount(elements: tensor.shape.reduce(1, *))!
                put(tensor.bytes, size)
                written = start + size
            }
            // The data section ends padded too, as gguf-py and ggml write it.
            let end = (written + alignment - 1) / alignment * alignment
            if end > written { zeros.withUnsafeBytes { put($0.baseAddress!, end - written) } }
        }
    }

    /// Writes through `body`'s `put(pointer, count)` into a temporary file beside `url`, syncs it
    /// and renames it into place.
    static func writeAtomically(to url: URL, _ body: ((UnsafeRawPointer, Int) -> Void) -> Void) throws {
        let temporary = url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).partial-\(UUID().uuidString)")
        guard let handle = fopen(temporary.path, "wb") else {
            throw GGUFError.io(file: url.path, reason: "cannot write: \(Files.reason(errno: errno))")
        }
        var failed = false
        body { pointer, count in
            if !failed && count > 0 && fwrite(pointer, 1, count, handle) != count { failed = true }
        }
        if fflush(handle) != 0 || fsync(fileno(handle)) != 0 { failed = true }
        let reason = Files.reason(errno: errno)
        fclose(handle)
        guard !failed, rename(temporary.path, url.path) == 0 else {
            unlink(temporary.path)
            throw GGUFError.io(file: url.path, reason: "cannot write: \(reason)")
        }
    }
}

/// Serialises GGUF header fields, little-endian.
struct GGUFByteWriter {
    var bytes: [UInt8] = []

    mutating func integer<T: FixedWidthInteger>(_ value: T) { withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) } }
    mutating func u32(_ value: UInt32) { integer(value) }
    mutating func u64(_ value: UInt64) { integer(value) }
    mutating func string(_ text: String) {
        u64(UInt64(text.utf8.count))
        bytes.append(contentsOf: text.utf8)
    }
    mutating func pad(to alignment: Int) { while bytes.count % alignment != 0 { bytes.append(0) } }

    /// A value with its type tag.
    mutating func value(_ value: GGUFValue, key: String, file: String) throws {
        u32(value.type.rawValue)
        try payload(value, key: key, file: file)
    }

    /// A value without its type tag (array elements).
    mutating func payload(_ value: GGUFValue, key: String, file: String) throws {
        switch value {
        case .uint8(let v): integer(v)
        case .int8(let v): integer(v)
        case .uint16(let v): integer(v)
        case .int16(let v): integer(v)
        case .uint32(let v): integer(v)
        case .int32(let v): integer(v)
        case .uint64(let v): integer(v)
        case .int64(let v): integer(v)
        case .float32(let v): integer(v.bitPattern)
        case .float64(let v): integer(v.bitPattern)
        case .bool(let v): bytes.append(v ? 1 : 0)
        case .string(let v): string(v)
        case .array(let elementType, let items):
            guard items.allSatisfy({ $0.type == elementType }) else {
                throw GGUFError.invalidMetadata(file: file, key: key, reason: "an array of \(elementType.name) holds another type")
            }
            u32(elementType.rawValue)
            u64(UInt64(items.count))
            for item in items { try payload(item, key: key, file: file) }
        }
    }
}
