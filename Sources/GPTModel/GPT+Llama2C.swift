// Loading llama2.c checkpoints (the legacy format `run.c` reads).
//
// Layout: a header of 7 little-endian Int32 — dim, hidden_dim, n_layers, n_heads, n_kv_heads,
// vocab_size (negative: the classifier is not shared with the embedding), seq_len — then Float32
// arrays in this order: token_embedding_table [V, C], rms_att_weight [L, C], wq [L, NH·HS, C],
// wk [L, KVH·HS, C], wv [L, KVH·HS, C], wo [L, C, NH·HS], rms_ffn_weight [L, C],
// w1 [L, H, C], w2 [L, C, H], w3 [L, H, C], rms_final_weight [C], freq_cis_real and
// freq_cis_imag [seq_len, HS/2] each (unused), and wcls [V, C] when not shared.
//
// run.c rotates adjacent pairs (2i, 2i+1) of each head; GPTKit's RoPE pairs i with i + HS/2 (as
// Hugging Face). Permuting the rows of wq and wk within each head — new row i ← old row 2i, new
// row HS/2 + i ← old row 2i + 1 (HF's convert_llama_weights_to_hf.py `permute`) — makes the two
// compute the same attention scores.
import Foundation
import GPTFiles
import GPTLayers
import GPTTensor

extension GPTConfiguration {
    /// The configuration in a llama2.c checkpoint's header (see `GPTConfiguration.llama2c`).
    /// - Throws: `ModelError.io` or `.malformedFile` naming the problem.
    public init(llama2cCheckpointAt url: URL) throws {
        self = try Llama2CHeader(data: GPT.readFile(url), name: url.lastPathComponent).configuration
    }
}

/// The 7-integer header of a llama2.c checkpoint.
struct Llama2CHeader {
    static let byteCount = 28
    let configuration: GPTConfiguration

    init(data: Data, name: String) throws {
        guard data.count >= Self.byteCount else {
            throw ModelError.malformedFile("\(name): \(data.count) bytes, shorter than the 28-byte llama2.c header")
        }
        let values: [Int] = data.withUnsafeBytes { raw in
            (0..<7).map { Int(Int32(littleEndian: raw.loadUnaligned(fromByteOffset: 4 * $0, as: Int32.self))) }
        }
        if values[0] == 0x616b_3432 {
            throw ModelError.unsupported("\(name): a llama2.c export of version 1 or later (magic 'ak42'); run.c reads the legacy format")
        }
        let names = ["dim", "hidden_dim", "n_layers", "n_heads", "n_kv_heads", "vocab_size", "seq_len"]
        for (index, value) in values.enumerated() where value == 0 || (value < 0 && index != 5) {
            throw ModelError.malformedFile("\(name): header field \(names[index]) is \(value)")
        }
        configuration = .llama2c(dimensions: values[0], hiddenDimensions: values[1], layerCount: values[2], headCount: values[3],
                                 keyValueHeadCount: values[4], vocabularySize: abs(values[5]), contextLength: values[6],
                                 sharedClassifier: values[5] > 0)
        do { try configuration.validate() } catch ModelError.invalidConfiguration(let message) {
            throw ModelError.malformedFile("\(name): header \(values) describes an impossible model: \(message)")
        }
    }
}

extension GPT {
    /// Loads a llama2.c checkpoint (the format of `run.c`: header, then Float32 weights) into
    /// the RoPE / RMSNorm / SwiGLU / grouped-query configuration, permuting wq and wk for GPTKit's
    /// rotate-half RoPE. Greedy decoding then matches `run.c` token for token.
    ///
    /// ```swift
    /// let model = try GPT(llama2cCheckpointAt: URL(fileURLWithPath: "stories260K.bin"))
    /// ```
    /// - Throws: `ModelError.io` if unreadable; `.malformedFile` for a short file, an impossible
    ///   header, or a size other than the header implies; `.unsupported` for the newer export
    ///   versions (magic "ak42").
    public convenience init(llama2cCheckpointAt url: URL) throws {
        let name = url.lastPathComponent
        let data = try Self.readFile(url)
        let configuration = try Llama2CHeader(data: data, name: name).configuration
        let c = configuration.embeddingDimensions, h = configuration.hiddenDimensions, l = configuration.layerCount
        let hs = configuration.headSize, qRows = configuration.headCount * hs, kvRows = configuration.keyValueHeadCount * hs
        let v = configuration.vocabularySize
        // Element counts of each array, in file order (validated sizes are far below overflow).
        let sections: [(String, Int)] = [
            ("token_embedding_table", v * c), ("rms_att_weight", l * c), ("wq", l * qRows * c), ("wk", l * kvRows * c),
            ("wv", l * kvRows * c), ("wo", l * c * qRows), ("rms_ffn_weight", l * c), ("w1", l * h * c), ("w2", l * c * h),
            ("w3", l * h * c), ("rms_final_weight", c), ("freq_cis", configuration.contextLength * hs),
            ("wcls", configuration.tiesEmbeddings ? 0 : v * c),
        ]
        let expected = Llama2CHeader.byteCount + 4 * sections.reduce(0) { $0 + $1.1 }
        guard data.count == expected else {
            throw ModelError.malformedFile(
                "\(name): \(data.count) bytes, but its header \(configuration.llama2cDescription) implies \(expected)")
        }
        var offsets: [String: Int] = [:]
        var position = Llama2CHeader.byteCount
        for (section, count) in sections {
            offsets[section] = position
            position += 4 * count
        }
        #if _endian(big)
        throw ModelError.unsupported("llama2.c checkpoints on big-endian machines")
        #else
        let a = try Architecture(configuration)
        let weights = WeightStore(layout: a.layout) { values in
            data.withUnsafeBytes { (raw: UnsafeRawBufferPointer) in
                /// Copies `count` floats of `section`, starting `index · count` floats in, to `target`.
                func copy(_ section: String, index: Int = 0, count: Int, to target: UnsafeMutablePointer<Float>) {
                    UnsafeMutableRawPointer(target).copyMemory(from: raw.baseAddress! + offsets[section]! + 4 * index * count,
                                                               byteCount: 4 * count)
                }
                copy("token_embedding_table", count: v * c, to: values + a.tokenEmbedding.weight.offset)
                if !configuration.tiesEmbeddings { copy("wcls", count: v * c, to: values + a.outputWeight.offset) }
                copy("rms_final_weight", count: c, to: values + a.finalNorm.weight.offset)
                let staging = UnsafeMutablePointer<Float>.allocate(capacity: qRows * c)
                defer { staging.deallocate() }
                for (index, block) in a.blocks.enumerated() {
                    let projections = block.attention.qkvProjections  // q_proj, k_proj, v_proj
                    for (section, rows, linear) in [("wq", qRows, projections[0]), ("wk", kvRows, projections[1])] {
                        copy(section, index: index, count: rows * c, to: staging)
                        Self.permuteRotaryRows(staging, rows: rows, columns: c, headSize: hs, into: values + linear.weight.offset)
                    }
                    copy("wv", index: index, count: kvRows * c, to: values + projections[2].weight.offset)
                    copy("wo", index: index, count: c * qRows, to: values + block.attention.projection.weight.offset)
                    copy("rms_att_weight", index: index, count: c, to: values + block.norm1.weight.offset)
                    copy("rms_ffn_weight", index: index, count: c, to: values + block.norm2.weight.offset)
                    let ffn = block.feedForward
                    copy("w1", index: index, count: h * c, to: values + ffn.gate!.weight.offset)
                    copy("w2", index: index, count: c * h, to: values + ffn.down.weight.offset)
                    copy("w3", index: index, count: h * c, to: values + ffn.up.weight.offset)
                }
            }
        }
        self.init(architecture: a, weights: weights)
        #endif
    }

    /// For one head: the source row of each destination row (new i ← old 2i, new HS/2 + i ←
    /// old 2i + 1).
    static func rotateHalfPermutation(headSize: Int) -> [Int32] {
        let half = headSize / 2
        return (0..<headSize).map { Int32(2 * ($0 % half) + $0 / half) }
    }

    /// Copies the `rows × columns` q or k projection (or bias, `columns` 1) at `source`, stored
    /// with each head's rows in adjacent-pair rotary order (llama2.c, llama.cpp), into `target`
    /// in rotate-half order (GPTKit, Hugging Face).
    static func permuteRotaryRows(_ source: UnsafePointer<Float>, rows: Int, columns: Int, headSize: Int,
                                  into target: UnsafeMutablePointer<Float>) {
        let permutation = rotateHalfPermutation(headSize: headSize)
        let ids = (0..<rows).map { Int32($0 / headSize * headSize) + permutation[$0 % headSize] }
        ids.withUnsafeBufferPointer {
            Kernels.gatherRows(table: source, ids: $0.baseAddress!, rows: rows, columns: columns, into: target)
        }
    }

    /// A file's bytes (memory-mapped when possible).
    static func readFile(_ url: URL) throws -> Data {
        do { return try Files.read(url, mapped: true) } catch {
            throw ModelError.io("cannot read \(url.path): \(error.reason)")
        }
    }
}

extension GPTConfiguration {
    /// The header fields of a llama2.c checkpoint, for messages.
    var llama2cDescription: String {
        "(dim \(embeddingDimensions), hidden_dim \(hiddenDimensions), n_layers \(layerCount), n_heads \(headCount), "
            + "n_kv_heads \(keyValueHeadCount), vocab_size \(tiesEmbeddings ? vocabularySize : -vocabularySize), seq_len \(contextLength))"
    }
}
