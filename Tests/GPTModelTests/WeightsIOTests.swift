import Foundation
import GPTModel
import GPTTensor
import XCTest

final class WeightsIOTests: XCTestCase {
    let tokens = [3, 1, 4, 1, 5, 9, 2, 6]

    func testSaveLoadRoundTripGivesIdenticalLogits() throws {
        for configuration in [GPTConfiguration.nano, llamaNano] {
            let model = try randomModel(configuration, seed: 31)
            let directory = try temporaryDirectory(self).appendingPathComponent("saved")
            try model.save(directory: directory)
            let loaded = try GPT(directory: directory)
            XCTAssertEqual(loaded.configuration, configuration)
            XCTAssertEqual(try loaded.forward(tokens: tokens, batch: 2, time: 4), try model.forward(tokens: tokens, batch: 2, time: 4))
            // The file holds Hugging Face layouts: Conv1D weights [in, out].
            let file = try SafetensorsFile(contentsOf: directory.appendingPathComponent("model.safetensors"))
            XCTAssertEqual(file.metadata["format"], "pt")
            XCTAssertEqual(file.entries["h.0.attn.c_attn.weight"]?.shape, [32, configuration.headCount == configuration.keyValueHeadCount ? 96 : 64])
            XCTAssertEqual(file.entries["lm_head.weight"] != nil, !configuration.tiesEmbeddings)
        }
    }

    func testLoadingMapsTheFileInPlace() throws {
        for configuration in [GPTConfiguration.nano, llamaNano] {
            let model = try randomModel(configuration, seed: 33)
            let directory = try temporaryDirectory(self).appendingPathComponent("mapped")
            try model.save(directory: directory)
            let loaded = try GPT(directory: directory)
            // Every float32 tensor is read where it lies in the file, GPT-2's Conv1D weights too
            // (as the transposed matrices they are on disk): nothing was copied.
            for entry in loaded.layout.entries {
                XCTAssertTrue(loaded.weights.isMapped(entry.slot), entry.name)
                XCTAssertEqual(loaded.weights.matrix(entry.slot).isTransposed, GPT.isConv1DWeight(entry.name), entry.name)
            }
            XCTAssertFalse(model.weights.isMapped(model.layout.entries[0].slot))
            // Decoding one token at a time runs the matrix-vector products on the transposed
            // layout (another summation order): the same text, logits within rounding.
            let options = GenerationOptions(maximumNewTokens: 10)
            XCTAssertEqual(try GenerationSession(model: loaded, options: options).generate(prompt: [1, 2, 3]),
                           try GenerationSession(model: model, options: options).generate(prompt: [1, 2, 3]))
            let a = try loaded.forward(tokens: [5], cache: loaded.makeCache()), b = try model.forward(tokens: [5], cache: model.makeCache())
            assertClose(a.scalars, b.scalars, rtol: 1e-5, atol: 1e-6, "decode logits")
        }
    }

    func testTheTinyGPT2FileRoundTrips() throws {
        let model = try GPT(directory: fixturesDirectory.appendingPathComponent("tiny-gpt2"))
        let url = try temporaryDirectory(self).appendingPathComponent("tiny.safetensors")
        try model.saveSafetensors(to: url)
        let original = try SafetensorsFile(contentsOf: fixturesDirectory.appendingPathComponent("tiny-gpt2/model.safetensors"))
        let saved = try SafetensorsFile(contentsOf: url)
        for name in original.tensorNames {
            XCTAssertEqual(try saved.tensor(named: String(name.dropFirst("transformer.".count))), try original.tensor(named: name), name)
        }
    }

    func testHalfPrecisionFilesAreRead() throws {
        let model = try randomModel(.nano, seed: 32)
        let directory = try temporaryDirectory(self)
        try model.save(directory: directory)
        let f32 = try SafetensorsFile(contentsOf: directory.appendingPathComponent("model.safetensors"))
        for dataType in ["BF16", "F16"] {
            // Rewrite every tensor in 16 bits.
            var tensors: [(String, [Int], Data)] = []
            var rounded: [String: [Float]] = [:]
            for name in f32.tensorNames {
                let values = try f32.tensor(named: name).scalars
                let halves: [UInt16] = values.map { dataType == "BF16" ? UInt16($0.bitPattern >> 16) : Float16($0).bitPattern }
                rounded[name] = halves.map { dataType == "BF16" ? Float(bitPattern: UInt32($0) << 16) : Float(Float16(bitPattern: $0)) }
                tensors.append((name, f32.entries[name]!.shape, halves.withUnsafeBytes { Data($0) }))
            }
            let url = directory.appendingPathComponent("\(dataType).safetensors")
            try writeSafetensors(tensors, dataType: dataType, to: url)
            let loaded = try GPT(safetensors: url, configuration: .nano)
            XCTAssertEqual(loaded.parameter(named: "ln_f.weight")!.scalars, rounded["ln_f.weight"]!, dataType)
            // Conv1D weights come back transposed: compare through a save.
            let again = directory.appendingPathComponent("again.safetensors")
            try loaded.saveSafetensors(to: again)
            XCTAssertEqual(try SafetensorsFile(contentsOf: again).tensor(named: "h.1.mlp.c_fc.weight").scalars, rounded["h.1.mlp.c_fc.weight"]!)
        }
    }

    func testMalformedFilesThrow() throws {
        let model = try randomModel(.nano, seed: 33)
        let directory = try temporaryDirectory(self)
        let url = directory.appendingPathComponent("model.safetensors")
        try model.saveSafetensors(to: url)
        let file = try SafetensorsFile(contentsOf: url)
        var all: [String: Tensor] = [:]
        for name in file.tensorNames { all[name] = try file.tensor(named: name) }
        func variant(_ change: (inout [String: Tensor]) -> Void) throws -> URL {
            var tensors = all
            change(&tensors)
            let target = directory.appendingPathComponent("variant-\(UUID().uuidString).safetensors")
            try SafetensorsFile.write(tensors, to: target)
            return target
        }
        func load(_ url: URL, _ configuration: GPTConfiguration = .nano) throws -> GPT { try GPT(safetensors: url, configuration: configuration) }
        // Names: missing, unexpected, duplicated through the prefix; shapes.
        let missing = try variant { $0["ln_f.bias"] = nil }
        assertThrows(file: #filePath, line: #line, { try load(missing) }) { if case .missingTensor(let m) = $0 { m.contains("ln_f.bias") } else { false } }
        let extra = try variant { $0["h.2.ln_1.weight"] = Tensor(zeros: [32]) }
        assertThrows(file: #filePath, line: #line, { try load(extra) }) { if case .unexpectedTensor(let m) = $0 { m.contains("h.2.ln_1.weight") } else { false } }
        let duplicate = try variant { $0["transformer.wte.weight"] = $0["wte.weight"] }
        assertThrows(file: #filePath, line: #line, { try load(duplicate) }) { if case .malformedFile(let m) = $0 { m.contains("wte.weight") } else { false } }
        let shape = try variant { $0["wpe.weight"] = Tensor(zeros: [16, 32]) }
        assertThrows(file: #filePath, line: #line, { try load(shape) }) { if case .shapeMismatch(let m) = $0 { m.contains("wpe.weight") } else { false } }
        // A square Conv1D weight stored [out, in] cannot be told apart, but a rectangular one can.
        let transposed = try variant { $0["h.0.mlp.c_fc.weight"] = Tensor(zeros: [128, 32]) }
        assertThrows(file: #filePath, line: #line, { try load(transposed) }) { if case .shapeMismatch = $0 { true } else { false } }
        // The configuration disagrees with the file.
        var deeper = GPTConfiguration.nano
        deeper.layerCount = 3
        assertThrows(file: #filePath, line: #line, { try load(url, deeper) }) { if case .missingTensor(let m) = $0 { m.contains("h.2.") } else { false } }
        var untied = GPTConfiguration.nano
        untied.tiesEmbeddings = false
        assertThrows(file: #filePath, line: #line, { try load(url, untied) }) { if case .missingTensor(let m) = $0 { m.contains("lm_head") } else { false } }
        // Bytes: truncated, garbage header, unsupported type, absent.
        let bytes = try Data(contentsOf: url)
        let truncated = directory.appendingPathComponent("truncated.safetensors")
        try bytes.prefix(bytes.count - 100).write(to: truncated)
        assertThrows(file: #filePath, line: #line, { try load(truncated) }) { if case .malformedFile = $0 { true } else { false } }
        let garbage = directory.appendingPathComponent("garbage.safetensors")
        try (Data([16, 0, 0, 0, 0, 0, 0, 0]) + Data("not json at all!".utf8)).write(to: garbage)
        assertThrows(file: #filePath, line: #line, { try load(garbage) }) { if case .malformedFile = $0 { true } else { false } }
        let integers = directory.appendingPathComponent("integers.safetensors")
        try writeSafetensors(file.tensorNames.map { name in
            let count = file.entries[name]!.shape.reduce(1, *)
            return (name, file.entries[name]!.shape, Data(count: 4 * count))
        }, dataType: "I32", to: integers)
        assertThrows(file: #filePath, line: #line, { try load(integers) }) { if case .unsupported(let m) = $0 { m.contains("I32") } else { false } }
        assertThrows(file: #filePath, line: #line, { try load(directory.appendingPathComponent("absent.safetensors")) }) {
            if case .io = $0 { true } else { false }
        }
    }

    func testBadConfigJSONThrows() throws {
        let directory = try temporaryDirectory(self)
        try randomModel(.nano, seed: 34).save(directory: directory)
        let config = directory.appendingPathComponent("config.json")
        let cases: [(String, String)] = [
            (#"{"n_layer": 2, "n_head": 5, "n_embd": 32, "n_positions": 32, "vocab_size": 64}"#, "divisible"),
            (#"{"n_layer": 2, "n_head": 4, "n_embd": 32, "vocab_size": 64}"#, "n_ctx"),
            (#"{"n_layer": 0, "n_head": 4, "n_embd": 32, "n_positions": 32, "vocab_size": 64}"#, "layer count"),
            (#"{"n_layer": 2, "n_head": 4, "n_embd": 32, "n_positions": 32, "vocab_size": 64, "activation_function": "relu"}"#, "relu"),
            (#"{"n_layer": "two", "n_head": 4, "n_embd": 32, "n_positions": 32, "vocab_size": 64}"#, "n_layer"),
            ("{", "config.json"),
        ]
        for (json, fragment) in cases {
            try Data(json.utf8).write(to: config)
            assertThrows(file: #filePath, line: #line, { try GPT(directory: directory) }) {
                if case .invalidConfiguration(let m) = $0 { m.contains(fragment) } else { false }
            }
        }
        try FileManager.default.removeItem(at: config)
        assertThrows(file: #filePath, line: #line, { try GPT(directory: directory) }) { if case .io = $0 { true } else { false } }
    }
}

/// Writes a safetensors file of raw tensor bytes of one data type (for types GPTKit does not write).
func writeSafetensors(_ tensors: [(name: String, shape: [Int], bytes: Data)], dataType: String, to url: URL) throws {
    var header: [String: Any] = [:], body = Data()
    for tensor in tensors {
        header[tensor.name] = ["dtype": dataType, "shape": tensor.shape, "data_offsets": [body.count, body.count + tensor.bytes.count]]
        body.append(tensor.bytes)
    }
    var json = try JSONSerialization.data(withJSONObject: header, options: [.sortedKeys])
    while json.count % 8 != 0 { json.append(0x20) }
    var file = Data()
    withUnsafeBytes(of: UInt64(json.count).littleEndian) { file.append(contentsOf: $0) }
    try (file + json + body).write(to: url)
}
