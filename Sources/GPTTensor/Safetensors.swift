// Reading and writing the safetensors format (Hugging Face):
//   8 bytes: little-endian UInt64 N, the header's length
//   N bytes: a JSON object {name: {"dtype", "shape", "data_offsets": [begin, end]}, "__metadata__": {…}}
//   the data: every tensor's bytes, row-major, little-endian, offsets relative to the data's start.
import Foundation
import GPTFiles

/// A safetensors file read into memory. Reads F32, F16 and BF16 as `Float`, and I32/I64 as
/// integers; writes F32.
///
/// ```swift
/// let file = try SafetensorsFile(contentsOf: url)
/// let wte = try file.tensor(named: "wte.weight")
/// try SafetensorsFile.write(["wte.weight": wte], to: outputURL)
/// ```
public struct SafetensorsFile: Sendable {
    /// One tensor's entry in the header.
    public struct Entry: Sendable, Equatable {
        /// The element type as written in the file ("F32", "F16", "BF16", "I32", "I64", ...).
        public var dataType: String
        /// The tensor's shape.
        public var shape: [Int]
        /// The byte range of its data, relative to the start of the data section.
        public var byteRange: Range<Int>
    }

    /// The `__metadata__` map (empty if absent).
    public let metadata: [String: String]
    /// Every tensor's entry, by name.
    public let entries: [String: Entry]
    private let data: Data
    private let dataStart: Int
    /// The byte offset of the data section from the start of the file (8 + header length).
    public let dataOffset: Int

    /// The tensor names, sorted.
    public var tensorNames: [String] { entries.keys.sorted() }

    /// Reads and validates a file.
    /// - Throws: `TensorError.io` if it cannot be read, `TensorError.malformedFile` naming the
    ///   problem if it is not valid safetensors.
    public init(contentsOf url: URL) throws {
        let data: Data
        do { data = try Files.read(url, mapped: true) } catch {
            throw TensorError.io("cannot read \(url.path): \(error.reason)")
        }
        try self.init(data: data, name: url.lastPathComponent)
    }

    /// Parses and validates the bytes of a file; `name` appears in error messages.
    public init(data: Data, name: String = "safetensors data") throws {
        guard data.count >= 8 else { throw TensorError.malformedFile("\(name): \(data.count) bytes, shorter than the 8-byte header length") }
        let headerLength = data.prefix(8).enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) }
        guard headerLength <= UInt64(data.count - 8) else {
            throw TensorError.malformedFile("\(name): header length \(headerLength) exceeds the file (\(data.count) bytes)")
        }
        let headerEnd = 8 + Int(headerLength)
        let headerBytes = data.subdata(in: (data.startIndex + 8)..<(data.startIndex + headerEnd))
        // The format's header is UTF-8 JSON starting with '{' (JSONSerialization would also take
        // UTF-16 or UTF-32, and a header that is not the file's).
        guard headerBytes.first == UInt8(ascii: "{"), String(data: headerBytes, encoding: .utf8) != nil else {
            throw TensorError.malformedFile("\(name): the header is not a JSON object in UTF-8 (header length \(headerLength))")
        }
        let json: Any
        do { json = try JSONSerialization.jsonObject(with: headerBytes) } catch {
            throw TensorError.malformedFile("\(name): header is not valid JSON")
        }
        guard let header = json as? [String: Any] else { throw TensorError.malformedFile("\(name): header is not a JSON object") }
        let dataLength = data.count - headerEnd
        var entries: [String: Entry] = [:]
        var metadata: [String: String] = [:]
        for (key, value) in header {
            if key == "__metadata__" {
                guard let map = value as? [String: Any] else { throw TensorError.malformedFile("\(name): __metadata__ is not an object") }
                for (k, v) in map {
                    guard let text = v as? String else { throw TensorError.malformedFile("\(name): metadata value '\(k)' is not a string") }
                    metadata[k] = text
                }
                continue
            }
            guard let info = value as? [String: Any], let dataType = info["dtype"] as? String,
                  let shape = (info["shape"] as? [Any]).flatMap(Self.integers),
                  let offsets = (info["data_offsets"] as? [Any]).flatMap(Self.integers), offsets.count == 2
            else { throw TensorError.malformedFile("\(name): entry '\(key)' lacks dtype, whole-number shape or data_offsets") }
            guard shape.allSatisfy({ $0 >= 0 }) else { throw TensorError.malformedFile("\(name): '\(key)' has a negative dimension") }
            var elements = 1
            for dimension in shape {
                let (product, overflow) = elements.multipliedReportingOverflow(by: dimension)
                guard !overflow, product <= Int(Int32.max) * 16 else {
                    throw TensorError.malformedFile("\(name): '\(key)' has an impossibly large shape \(shape)")
                }
                elements = product
            }
            guard offsets[0] >= 0, offsets[0] <= offsets[1], offsets[1] <= dataLength else {
                throw TensorError.malformedFile("\(name): '\(key)' data_offsets \(offsets) fall outside the \(dataLength) data bytes")
            }
            if let size = Self.elementSize(dataType), offsets[1] - offsets[0] != elements * size {
                throw TensorError.malformedFile("\(name): '\(key)' has \(offsets[1] - offsets[0]) bytes for shape \(shape) of \(dataType)")
            }
            entries[key] = Entry(dataType: dataType, shape: shape, byteRange: offsets[0]..<offsets[1])
        }
        // The tensors tile the data section exactly: no overlap, no alias, no byte left over.
        var end = 0
        for (key, entry) in entries.sorted(by: { ($0.value.byteRange.lowerBound, $0.key) < ($1.value.byteRange.lowerBound, $1.key) }) {
            guard entry.byteRange.lowerBound == end else {
                throw TensorError.malformedFile(entry.byteRange.lowerBound < end
                    ? "\(name): '\(key)' overlaps another tensor (data_offsets from \(entry.byteRange.lowerBound), another ends at \(end))"
                    : "\(name): bytes \(end)..<\(entry.byteRange.lowerBound) of the data belong to no tensor")
            }
            end = entry.byteRange.upperBound
        }
        guard end == dataLength else {
            throw TensorError.malformedFile("\(name): \(dataLength - end) bytes after the last tensor belong to no tensor")
        }
        self.entries = entries
        self.metadata = metadata
        self.data = data
        self.dataStart = data.startIndex + headerEnd
        self.dataOffset = headerEnd
    }

    /// Whole numbers of a JSON array (not fractions, not Booleans), or nil.
    static func integers(_ values: [Any]) -> [Int]? {
        var result: [Int] = []
        for value in values {
            guard let number = value as? NSNumber, String(cString: number.objCType) != "c",  // "c": a Boolean
                  number.doubleValue == number.doubleValue.rounded(), abs(number.doubleValue) < 0x1p62 else { return nil }
            result.append(number.intValue)
        }
        return result
    }

    static func elementSize(_ dataType: String) -> Int? {
        switch dataType {
        case "F32", "I32", "U32": return 4
        case "F16", "BF16", "I16", "U16": return 2
        case "F64", "I64", "U64": return 8
        case "I8", "U8", "BOOL", "F8_E4M3", "F8_E5M2": return 1
        default: return nil
        }
    }

    // MARK: - Reading

    /// The tensor `name` as Float32 (converted from F16 or BF16).
    /// - Throws: `TensorError.missingTensor`, or `.unsupportedDataType` for other types.
    public func tensor(named name: String) throws -> Tensor {
        guard let entry = entries[name] else { throw TensorError.missingTensor(name) }
        var result = Tensor(zeros: entry.shape)
        try result.withUnsafeMutableBufferPointer { try read(named: name, into: $0) }
        return result
    }

    /// Writes the tensor `name`, widened to Float32, into `target` (no intermediate copy).
    /// - Throws: `TensorError.missingTensor`, `.unsupportedDataType` for types other than F32,
    ///   F16 and BF16, or `.shapeMismatch` if `target` does not hold exactly its elements.
    public func read(named name: String, into target: UnsafeMutableBufferPointer<Float>) throws {
        guard let entry = entries[name] else { throw TensorError.missingTensor(name) }
        let count = entry.shape.reduce(1, *)
        guard target.count == count else {
            throw TensorError.shapeMismatch("'\(name)' has \(count) elements, the destination \(target.count)")
        }
        let type: Kernels.StoredFloat
        switch entry.dataType {
        case "F32": type = .float32
        case "F16": type = .float16
        case "BF16": type = .bfloat16
        default: throw TensorError.unsupportedDataType("\(entry.dataType) for tensor '\(name)' (expected F32, F16 or BF16)")
        }
        guard count > 0 else { return }
        let start = dataStart - data.startIndex + entry.byteRange.lowerBound
        data.withUnsafeBytes { (raw: UnsafeRawBufferPointer) in
            Kernels.widen(raw.baseAddress! + start, type: type, count: count, into: target.baseAddress!)
        }
    }

    /// The integer tensor `name` (I32 or I64), flattened.
    public func integers(named name: String) throws -> [Int] {
        guard let entry = entries[name] else { throw TensorError.missingTensor(name) }
        let count = entry.shape.reduce(1, *)
        let start = dataStart - data.startIndex + entry.byteRange.lowerBound
        return try data.withUnsafeBytes { raw in
            switch entry.dataType {
            case "I32": return (0..<count).map { Int(Int32(littleEndian: raw.loadUnaligned(fromByteOffset: start + 4 * $0, as: Int32.self))) }
            case "I64": return (0..<count).map { Int(Int64(littleEndian: raw.loadUnaligned(fromByteOffset: start + 8 * $0, as: Int64.self))) }
            default: throw TensorError.unsupportedDataType("\(entry.dataType) for integer tensor '\(name)'")
            }
        }
    }

    // MARK: - Writing

    /// Writes `tensors` as F32 (names sorted, data in that order, header padded to 8 bytes)
    /// with optional metadata, atomically: to a temporary file, then renamed over `url`.
    public static func write(_ tensors: [String: Tensor], metadata: [String: String] = [:], to url: URL) throws {
        var header: [String: Any] = [:]
        if !metadata.isEmpty { header["__metadata__"] = metadata }
        var offset = 0
        let names = tensors.keys.sorted()
        for name in names {
            let bytes = tensors[name]!.count * 4
            header[name] = ["dtype": "F32", "shape": tensors[name]!.shape, "data_offsets": [offset, offset + bytes]] as [String: Any]
            offset += bytes
        }
        var json = try JSONSerialization.data(withJSONObject: header, options: [.sortedKeys])
        while json.count % 8 != 0 { json.append(0x20) }
        // One allocation, filled with bulk copies (appending float by float took seconds for
        // GPT-2 small).
        var file = Data(count: 8 + json.count + offset)
        file.withUnsafeMutableBytes { (raw: UnsafeMutableRawBufferPointer) in
            raw.storeBytes(of: UInt64(json.count).littleEndian, toByteOffset: 0, as: UInt64.self)
            json.withUnsafeBytes { raw.baseAddress!.advanced(by: 8).copyMemory(from: $0.baseAddress!, byteCount: json.count) }
            var position = 8 + json.count
            for name in names {
                tensors[name]!.withUnsafeBufferPointer { buffer in
                    let target = raw.baseAddress!.advanced(by: position)
                    #if _endian(little)
                    target.copyMemory(from: UnsafeRawPointer(buffer.baseAddress!), byteCount: buffer.count * 4)
                    #else
                    for (i, value) in buffer.enumerated() {
                        target.storeBytes(of: value.bitPattern.littleEndian, toByteOffset: 4 * i, as: UInt32.self)
                    }
                    #endif
                    position += buffer.count * 4
                }
            }
        }
        do { try file.write(to: url, options: .atomic) } catch {
            throw TensorError.io("cannot write \(url.path): \(Files.reason(for: error))")
        }
    }
}

