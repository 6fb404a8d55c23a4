// GGUF: the fixtures written by gguf-py (Fixtures/make_gguf_fixtures.py) read back with every
// metadata type, tensor info and dequantized value exactly; the writer reproduces gguf-py's
// bytes; every malformed file is a typed error.
import Foundation
import XCTest
@testable import GPTTensor

let ggufFixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().appendingPathComponent("Fixtures/gguf")

/// A JSON value of metadata.json, decoded without going through Double for 64-bit integers.
enum FixtureJSON: Decodable, Equatable {
    case bool(Bool), signed(Int64), unsigned(UInt64), double(Double), string(String), array([FixtureJSON]), object([String: FixtureJSON])

    init(from decoder: Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let value = try? container.decode(Bool.self) { self = .bool(value) }
        else if let value = try? container.decode(Int64.self) { self = .signed(value) }
        else if let value = try? container.decode(UInt64.self) { self = .unsigned(value) }
        else if let value = try? container.decode(Double.self) { self = .double(value) }
        else if let value = try? container.decode(String.self) { self = .string(value) }
        else if let value = try? container.decode([FixtureJSON].self) { self = .array(value) }
        else { self = .object(try container.decode([String: FixtureJSON].self)) }
    }

    subscript(key: String) -> FixtureJSON? { if case .object(let members) = self { members[key] } else { nil } }
    var text: String? { if case .string(let value) = self { value } else { nil } }
    var items: [FixtureJSON] { if case .array(let value) = self { value } else { [] } }
    var int: Int? {
        switch self {
        case .signed(let value): Int(value)
        case .unsigned(let value): Int(exactly: value)
        default: nil
        }
    }
}

final class GGUFTests: XCTestCase {
    func expected() throws -> FixtureJSON {
        try JSONDecoder().decode(FixtureJSON.self, from: Data(contentsOf: ggufFixtures.appendingPathComponent("metadata.json")))
    }

    /// Whether a parsed value equals the fixture's (floats by their bits, as written).
    func matches(_ value: GGUFValue, _ json: FixtureJSON, bits: FixtureJSON?) -> Bool {
        switch value {
        case .uint8(let v): return json == .signed(Int64(v))
        case .int8(let v): return json == .signed(Int64(v))
        case .uint16(let v): return json == .signed(Int64(v))
        case .int16(let v): return json == .signed(Int64(v))
        case .uint32(let v): return json == .signed(Int64(v))
        case .int32(let v): return json == .signed(Int64(v))
        case .int64(let v): return json == .signed(v)
        case .uint64(let v): return json == (v <= UInt64(Int64.max) ? .signed(Int64(v)) : .unsigned(v))
        case .float32(let v): return bits?.text == "0x" + String(format: "%08x", v.bitPattern)
        case .float64(let v): return bits?.text == "0x" + String(format: "%016llx", v.bitPattern)
        case .bool(let v): return json == .bool(v)
        case .string(let v): return json == .string(v)
        case .array(_, let items):
            let values = json.items, allBits = bits?.items
            return items.count == values.count && items.indices.allSatisfy { matches(items[$0], values[$0], bits: allBits?[$0]) }
        }
    }

    func testEveryMetadataTypeAndTensorInfoReadsAsGGUFPyWroteThem() throws {
        let all = try expected()
        for name in ["quants.gguf", "aligned64.gguf", "nested-array.gguf"] {
            let file = try GGUFFile(contentsOf: ggufFixtures.appendingPathComponent(name))
            let json = try XCTUnwrap(all[name])
            XCTAssertEqual(Int(file.version), json["version"]?.int, name)
            XCTAssertEqual(file.alignment, json["alignment"]?.int, name)
            XCTAssertEqual(file.dataOffset, json["data_offset"]?.int, name)
            guard case .object(let metadata)? = json["metadata"], case .object(let tensors)? = json["tensors"] else { return XCTFail(name) }
            XCTAssertEqual(Set(file.metadataKeys), Set(metadata.keys), name)
            for (key, entry) in metadata {
                let value = try XCTUnwrap(file.metadata[key], key)
                XCTAssertEqual(value.type.name, entry["type"]?.text, key)
                if case .array(let elementType, _) = value { XCTAssertEqual(elementType.name, entry["element_type"]?.text, key) }
                XCTAssertTrue(matches(value, try XCTUnwrap(entry["value"]), bits: entry["bits"]), "\(key): \(value)")
            }
            XCTAssertEqual(file.tensors.map(\.name).sorted(), tensors.keys.sorted(), name)
            for (tensorName, info) in tensors {
                let tensor = try XCTUnwrap(file.tensor(named: tensorName))
                XCTAssertEqual(tensor.format.rawValue, info["type"]?.text, tensorName)
                XCTAssertEqual(tensor.format.ggmlType, info["type_id"]?.int.map(UInt32.init), tensorName)
                XCTAssertEqual(tensor.shape, info["shape_ne"]?.items.compactMap(\.int).reversed(), tensorName)
                XCTAssertEqual(tensor.offset, info["offset"]?.int, tensorName)
                XCTAssertEqual(tensor.byteCount, info["n_bytes"]?.int, tensorName)
                XCTAssertEqual(tensor.format.blockSize, info["block_size"]?.int, tensorName)
                XCTAssertEqual(tensor.format.bytesPerBlock, info["type_size"]?.int, tensorName)
                if let bits = info["bits"] {
                    let values = try file.floats(of: tensorName)
                    XCTAssertEqual(values.map { "0x" + String(format: "%08x", $0.bitPattern) }, bits.items.compactMap(\.text), tensorName)
                }
            }
        }
        let nested = try GGUFFile(contentsOf: ggufFixtures.appendingPathComponent("nested-array.gguf"))
        XCTAssertEqual(nested.metadata["test.array.nested"],
                       .array(elementType: .array, [.array(elementType: .int32, [.int32(1), .int32(2), .int32(3)]),
                                                     .array(elementType: .int32, [.int32(-4)]),
                                                     .array(elementType: .int32, [.int32(5), .int32(6)])]))
    }

    func testEveryTensorTypeDequantizesBitIdenticallyToGGUFPy() throws {
        let file = try GGUFFile(contentsOf: ggufFixtures.appendingPathComponent("quants.gguf"))
        let reference = try SafetensorsFile(contentsOf: ggufFixtures.appendingPathComponent("quants-reference.safetensors"))
        XCTAssertEqual(Set(file.tensors.map(\.format)), Set(WeightFormat.allCases), "the fixture covers every format")
        for tensor in file.tensors {
            let expected = try reference.tensor(named: tensor.name)
            XCTAssertEqual(expected.shape, tensor.shape, tensor.name)
            let values = try file.floats(of: tensor.name)
            let mismatches = zip(values, expected.scalars).filter { $0.bitPattern != $1.bitPattern }.count
            XCTAssertEqual(mismatches, 0, "\(tensor.name): \(mismatches) of \(values.count) values differ from gguf-py")
        }
    }

    func testTheWriterReproducesGGUFPyByteForByte() throws {
        for name in ["quants.gguf", "aligned64.gguf", "nested-array.gguf"] {
            let url = ggufFixtures.appendingPathComponent(name)
            let original = try Data(contentsOf: url)
            let file = try GGUFFile(contentsOf: url)
            let out = FileManager.default.temporaryDirectory.appendingPathComponent("gptkit-gguf-\(UUID().uuidString).gguf")
            defer { try? FileManager.default.removeItem(at: out) }
            try GGUFFile.write(metadata: file.metadataKeys.map { ($0, file.metadata[$0]!) },
                               tensors: file.tensors.map { GGUFTensorSource(name: $0.name, shape: $0.shape, format: $0.format, bytes: file.bytes(of: $0)) },
                               to: out)
            let written = try Data(contentsOf: out)
            XCTAssertEqual(written.count, original.count, name)
            XCTAssertTrue(written == original, "\(name): the rewritten file differs from gguf-py's")
            let reread = try GGUFFile(contentsOf: out)
            XCTAssertEqual(reread.metadata, file.metadata)
            XCTAssertEqual(reread.tensors, file.tensors)
        }
    }
}
