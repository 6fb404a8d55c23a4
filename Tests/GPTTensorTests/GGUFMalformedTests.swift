// Malformed GGUF files: each impossible field is a typed GGUFError naming it (never a trap or a
// huge allocation), every truncation fails cleanly, and bounded loops of random mutations of
// the real files (the gguf-py fixture and SmolLM2's header) end in values or errors only.
import Foundation
import XCTest
@testable import GPTTensor
import GPTTestSupport

final class GGUFMalformedTests: XCTestCase {
    /// A file: header fields, then `body` (metadata entries and tensor infos), padded, then data.
    func file(version: UInt32 = 3, tensors: UInt64 = 0, entries: UInt64 = 0, body: (inout GGUFByteWriter) -> Void,
              data: [UInt8] = []) -> Data {
        var writer = GGUFByteWriter()
        writer.bytes = Array("GGUF".utf8)
        writer.u32(version)
        writer.u64(tensors)
        writer.u64(entries)
        body(&writer)
        writer.pad(to: 32)
        return Data(writer.bytes + data)
    }

    /// A tensor info: name, dims, ne, type, offset.
    func tensor(_ w: inout GGUFByteWriter, _ name: String, ne: [UInt64], type: UInt32 = 0, offset: UInt64 = 0) {
        w.string(name)
        w.u32(UInt32(ne.count))
        for extent in ne { w.u64(extent) }
        w.u32(type)
        w.u64(offset)
    }

    func assertError(_ data: Data, _ check: (GGUFError) -> Bool, _ message: String, line: UInt = #line) {
        do {
            _ = try GGUFFile(data: data, name: "bad.gguf")
            XCTFail("accepted: \(message)", line: line)
        } catch let error as GGUFError {
            XCTAssertTrue(check(error), "\(message): \(error.localizedDescription)", line: line)
        } catch {
            XCTFail("\(message): not a GGUFError: \(error)", line: line)
        }
    }

    func testEveryImpossibleFieldIsATypedError() throws {
        let valid = file(tensors: 1, entries: 1, body: { w in
            w.string("general.architecture"); w.u32(8); w.string("llama")
            tensor(&w, "t", ne: [4])
        }, data: [UInt8](repeating: 0, count: 16))
        XCTAssertNoThrow(try GGUFFile(data: valid))
        assertError(Data("GGUX".utf8) + valid.dropFirst(4), { $0 == .notGGUF(file: "bad.gguf") }, "magic")
        assertError(file(version: 1, body: { _ in }), { $0 == .unsupportedVersion(file: "bad.gguf", version: 1) }, "version 1")
        assertError(file(version: 3 << 24, body: { _ in }), { $0.localizedDescription.contains("big-endian") }, "byte-swapped version")
        assertError(file(tensors: 1 << 60, body: { _ in }), { if case .invalidHeader(_, 8, let r) = $0 { r.contains("tensor count") } else { false } }, "tensor count")
        assertError(file(entries: UInt64.max, body: { _ in }), { if case .invalidHeader(_, 16, let r) = $0 { r.contains("metadata count") } else { false } }, "kv count")
        assertError(file(entries: 1, body: { w in w.u64(1 << 62); w.bytes += [UInt8](repeating: 0, count: 16) }), { if case .truncated(_, _, let r) = $0 { r.contains("key of metadata entry 0") } else { false } }, "key length")
        assertError(file(entries: 1, body: { w in w.string("k"); w.u32(13); w.u32(0) }),
                    { $0 == .invalidMetadata(file: "bad.gguf", key: "k", reason: "unknown value type 13 at byte 33") }, "value type")
        assertError(file(entries: 1, body: { w in w.string("k"); w.u32(7); w.bytes.append(2) }), { if case .invalidMetadata(_, "k", let r) = $0 { r.contains("bool byte 2") } else { false } }, "bool")
        assertError(file(entries: 1, body: { w in w.u64(2); w.bytes += [0xC3, 0x28]; w.u32(0); w.bytes.append(0) }),
                    { if case .invalidHeader(_, _, let r) = $0 { r.contains("not UTF-8") } else { false } }, "non-UTF-8 key")
        assertError(file(entries: 2, body: { w in w.string("k"); w.u32(0); w.bytes.append(1); w.string("k"); w.u32(0); w.bytes.append(1) }),
                    { $0 == .invalidMetadata(file: "bad.gguf", key: "k", reason: "appears twice") }, "duplicate key")
        assertError(file(entries: 1, body: { w in w.string("a"); w.u32(9); w.u32(4); w.u64(1 << 61) }),
                    { if case .invalidHeader(_, _, let r) = $0 { r.contains("element count of 'a'") } else { false } }, "array count")
        assertError(file(entries: 1, body: { w in
            w.string("deep"); w.u32(9)
            for _ in 0..<12 { w.u32(9); w.u64(1) }
            w.u32(5); w.u64(0)
        }), { if case .invalidMetadata(_, "deep", let r) = $0 { r.contains("nested") } else { false } }, "nesting")
        for bad in [GGUFValue.uint32(3), .uint32(0), .string("32"), .uint64(32)] {
            var alignment = GGUFByteWriter()
            try alignment.value(bad, key: "general.alignment", file: "x")
            assertError(file(entries: 1, body: { w in w.string("general.alignment"); w.bytes += alignment.bytes }),
                        { if case .invalidMetadata(_, "general.alignment", _) = $0 { true } else { false } }, "alignment \(bad)")
        }
        let tensorCases: [(String, (inout GGUFByteWriter) -> Void, String)] = [
            ("no dimensions", { w in self.tensor(&w, "t", ne: []) }, "0 dimensions"),
            ("five dimensions", { w in self.tensor(&w, "t", ne: [1, 1, 1, 1, 1]) }, "5 dimensions"),
            ("zero extent", { w in self.tensor(&w, "t", ne: [4, 0]) }, "dimension 0"),
            ("overflowing shape", { w in self.tensor(&w, "t", ne: [1 << 31 - 1, 1 << 31 - 1, 1 << 31 - 1]) }, "too many elements"),
            ("partial blocks", { w in self.tensor(&w, "t", ne: [16, 2], type: 2) }, "not whole Q4_0 blocks"),
            ("misaligned offset", { w in self.tensor(&w, "t", ne: [4], offset: 4) }, "not a multiple of the alignment"),
            ("offset past the end", { w in self.tensor(&w, "t", ne: [4], offset: 1 << 40) }, "past the end"),
            ("data past the end", { w in self.tensor(&w, "t", ne: [1024]) }, "run past the end"),
        ]
        for (label, body, fragment) in tensorCases {
            assertError(file(tensors: 1, body: body, data: [UInt8](repeating: 0, count: 64)),
                        { if case .invalidTensor(_, "t", let r) = $0 { r.contains(fragment) } else { false } }, label)
        }
        assertError(file(tensors: 2, body: { w in self.tensor(&w, "t", ne: [8]); self.tensor(&w, "t", ne: [8], offset: 32) }, data: .init(repeating: 0, count: 64)),
                    { $0 == .invalidTensor(file: "bad.gguf", name: "t", reason: "appears twice") }, "duplicate tensor")
        assertError(file(tensors: 2, body: { w in self.tensor(&w, "a", ne: [16]); self.tensor(&w, "b", ne: [8], offset: 32) }, data: .init(repeating: 0, count: 128)),
                    { if case .invalidTensor(_, "b", let r) = $0 { r.contains("end at 64") } else { false } }, "overlap")
        assertError(file(tensors: 1, body: { w in self.tensor(&w, "q", ne: [256], type: 10) }, data: .init(repeating: 0, count: 128)),
                    { $0 == .unsupportedTensorType(file: "bad.gguf", name: "q", type: "Q2_K") }, "Q2_K")
        assertError(file(tensors: 1, body: { w in self.tensor(&w, "q", ne: [256], type: 99) }, data: .init(repeating: 0, count: 128)),
                    { $0 == .unsupportedTensorType(file: "bad.gguf", name: "q", type: "unknown type 99") }, "type 99")
    }

    func testEveryTruncationFailsAndTheWholeFileParses() throws {
        let data = try Data(contentsOf: ggufFixtures.appendingPathComponent("aligned64.gguf"))
        let file = try GGUFFile(data: data)
        let end = file.dataOffset + file.tensors.map { $0.offset + $0.byteCount }.max()!
        for length in 0..<data.count {
            if length < end {
                XCTAssertThrowsError(try GGUFFile(data: data.prefix(length)), "prefix \(length)") { XCTAssertTrue($0 is GGUFError) }
            } else {
                XCTAssertNoThrow(try GGUFFile(data: data.prefix(length)), "prefix \(length)")
            }
        }
    }

    /// Random byte flips, 64-bit overwrites with extreme values and truncations: each mutant
    /// parses or throws a GGUFError. Returns the number of mutants tried.
    @discardableResult
    func mutate(_ original: Data, cases: Int, seed: UInt64, region: Int) -> Int {
        var random = SplitMix64(seed: seed)
        let extremes: [UInt64] = [0, 1, 0xFF, 1 << 31, 1 << 32, 1 << 62, UInt64.max, UInt64.max / 2]
        for index in 0..<cases {
            var bytes = [UInt8](original)
            switch index % 3 {
            case 0:
                for _ in 0..<(1 + Int(random.next() % 4)) { bytes[Int(random.next() % UInt64(region))] ^= UInt8(1 << (random.next() % 8)) }
            case 1:
                let at = Int(random.next() % UInt64(region - 8))
                withUnsafeBytes(of: extremes[Int(random.next() % UInt64(extremes.count))].littleEndian) { bytes.replaceSubrange(at..<(at + 8), with: $0) }
            default:
                bytes.removeLast(Int(random.next() % UInt64(bytes.count)))
            }
            do { _ = try GGUFFile(data: Data(bytes)) } catch { XCTAssertTrue(error is GGUFError, "mutant \(index): \(error)") }
        }
        return cases
    }

    func testMutationsOfTheGGUFPyFileNeverCrash() throws {
        let data = try Data(contentsOf: ggufFixtures.appendingPathComponent("quants.gguf"))
        mutate(data, cases: 3000, seed: 11, region: 1600)  // the header: metadata and tensor infos
    }

    func testMutationsOfSmolLM2sHeaderNeverCrash() throws {
        let url = ggufFixtures.deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("shared/data/smollm2-135m-instruct/SmolLM2-135M-Instruct.Q4_1.gguf")
        guard FileManager.default.fileExists(atPath: url.path) else { throw XCTSkip("../shared/data is absent") }
        let whole = try GGUFFile(contentsOf: url)
        // The header (metadata with the 49,152-token vocabulary, merges and tensor infos) and the
        // first tensor: mutants are parsed in memory without copying the 98 MB.
        let header = try Data(contentsOf: url).prefix(whole.dataOffset + 4096)
        // Early bytes (counts, the first keys), then anywhere in the header.
        mutate(header, cases: 60, seed: 5, region: 4096)
        mutate(header, cases: 60, seed: 6, region: whole.dataOffset)
    }
}
