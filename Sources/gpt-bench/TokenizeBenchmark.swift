// TokenizeBenchmark: `gpt-bench tokenize --vocab DIR --text FILE [--json]`.
//
// Measures the GPT-2 tokenizer of GPTTokenizers: load time of encoder.json + vocab.bpe (median
// of 5 loads) and single-threaded encode throughput (best of 3 encodes of the whole file). In
// the same run, where `python3` with Hugging Face `tokenizers` is installed, a child process
// measures Hugging Face's encode of the same file with a tokenizer built from the same two
// files, restricted to one thread (RAYON_NUM_THREADS=1), and the ratio GPTKit / Hugging Face is
// reported. MB means 10^6 bytes of UTF-8 text.

import Foundation
import GPTKit

// MARK: - Entry point

/// Runs the tokenizer benchmark; `arguments` are those after `tokenize`.
///
/// ```
/// gpt-bench tokenize --vocab ../shared/data/gpt2-tokenizer --text ../shared/data/tinyshakespeare/input.txt --json
/// ```
func runTokenizeBenchmark(arguments: [String]) throws {
    let options = try TokenizeBenchmarkOptions(arguments: arguments)
    let vocabulary = URL(fileURLWithPath: options.vocabularyDirectory)
    let textURL = URL(fileURLWithPath: options.textFile)
    let text = String(decoding: try Data(contentsOf: textURL), as: UTF8.self)
    let megabytes = Double(text.utf8.count) / 1e6

    // Load: median of 5.
    var loadTimes: [Double] = []
    var loaded: GPT2Tokenizer?
    for _ in 0..<5 {
        let start = DispatchTime.now().uptimeNanoseconds
        loaded = try GPT2Tokenizer(directory: vocabulary)
        loadTimes.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6)
    }
    let tokenizer = loaded!
    let loadMilliseconds = loadTimes.sorted()[loadTimes.count / 2]

    // Encode: best of 3, one thread. The first encode runs with an empty merge cache (cold);
    // the later ones find earlier words in the tokenizer's shared cache, as Hugging Face's do.
    var times: [Double] = []
    var tokenCount = 0
    for _ in 0..<3 {
        let start = DispatchTime.now().uptimeNanoseconds
        let ids = try tokenizer.encode(text)
        times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
        tokenCount = ids.count
    }
    let encodeRate = megabytes / times.min()!
    let coldRate = megabytes / times[0]

    let peer = measureHuggingFace(vocabularyDirectory: vocabulary, textFile: textURL)
    if let peer, peer.tokens != tokenCount {
        FileHandle.standardError.write(Data(
            "warning: Hugging Face produced \(peer.tokens) tokens, GPTKit \(tokenCount)\n".utf8))
    }

    if options.json {
        var fields = [
            "\"load_ms\": \(format(loadMilliseconds, 2))",
            "\"encode_mb_per_s\": \(format(encodeRate, 2))",
            "\"encode_cold_mb_per_s\": \(format(coldRate, 2))",
            "\"tokens\": \(tokenCount)",
        ]
        if let peer {
            let peerRate = megabytes / peer.seconds
            fields.append("\"hf_encode_mb_per_s\": \(format(peerRate, 2))")
            fields.append("\"ratio\": \(format(encodeRate / peerRate, 3))")
        }
        print("{" + fields.joined(separator: ", ") + "}")
    } else {
        print("GPT-2 tokenizer: \(options.vocabularyDirectory), text: \(options.textFile) (\(format(megabytes, 3)) MB)")
        print("metric                          value")
        print("load (median of 5)              \(format(loadMilliseconds, 2)) ms (loads: \(loadTimes.map { format($0, 1) }.joined(separator: ", ")))")
        print("GPTKit encode (best of 3, 1 thread)  \(format(encodeRate, 2)) MB/s, \(tokenCount) tokens")
        print("GPTKit first encode (cold cache)     \(format(coldRate, 2)) MB/s")
        if let peer {
            let peerRate = megabytes / peer.seconds
            print("HF tokenizers \(peer.version) encode (best of 3, RAYON_NUM_THREADS=1)  \(format(peerRate, 2)) MB/s, \(peer.tokens) tokens")
            print("ratio GPTKit / HF               \(format(encodeRate / peerRate, 3))")
            if let seconds = peer.tiktokenSeconds, let version = peer.tiktokenVersion {
                print("tiktoken \(version) encode_ordinary (best of 3, 1 thread, for reference)  \(format(megabytes / seconds, 2)) MB/s")
            }
        } else {
            print("Hugging Face tokenizers: not measured (python3 with `tokenizers` not found)")
        }
    }
}

// MARK: - Options

private struct TokenizeBenchmarkOptions {
    var vocabularyDirectory = ""
    var textFile = ""
    var json = false

    init(arguments: [String]) throws {
        var remaining = arguments[...]
        while let argument = remaining.popFirst() {
            switch argument {
            case "--vocab": vocabularyDirectory = try Self.value(after: argument, in: &remaining)
            case "--text": textFile = try Self.value(after: argument, in: &remaining)
            case "--json": json = true
            default: throw TokenizeBenchmarkError("unknown argument '\(argument)'")
            }
        }
        guard !vocabularyDirectory.isEmpty, !textFile.isEmpty else {
            throw TokenizeBenchmarkError("both --vocab DIR (with encoder.json and vocab.bpe) and --text FILE are required")
        }
    }

    private static func value(after option: String, in arguments: inout ArraySlice<String>) throws -> String {
        guard let value = arguments.popFirst() else { throw TokenizeBenchmarkError("\(option) needs a value") }
        return value
    }
}

/// A usage error of `gpt-bench tokenize`.
struct TokenizeBenchmarkError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = "gpt-bench tokenize: \(description)" }
}

// MARK: - Hugging Face peer

/// The Python side: build HF's BPE from the same encoder.json + vocab.bpe with GPT-2's
/// ByteLevel pre-tokenizer and time `encode` of the whole text (best of 3).
private let huggingFaceScript = #"""
import json, os, sys, time
import tokenizers
from tokenizers import Tokenizer, models, pre_tokenizers
directory, path = sys.argv[1], sys.argv[2]
tok = Tokenizer(models.BPE.from_file(os.path.join(directory, "encoder.json"), os.path.join(directory, "vocab.bpe")))
tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
with open(path, "rb") as f:
    text = f.read().decode("utf-8", "replace")
best, count = float("inf"), 0
for _ in range(3):
    start = time.perf_counter()
    count = len(tok.encode(text).ids)
    best = min(best, time.perf_counter() - start)
result = {"seconds": best, "tokens": count, "version": tokenizers.__version__}
try:  # tiktoken from the same encoder.json (its ranks are GPT-2's ids), for reference
    import tiktoken
    bs = list(range(33, 127)) + list(range(161, 173)) + list(range(174, 256))
    cs = bs[:] + [256 + i for i in range(256 - len(bs))]
    bs += [b for b in range(256) if b not in bs]
    byte_of = {chr(c): b for b, c in zip(bs, cs)}
    with open(os.path.join(directory, "encoder.json"), encoding="utf-8") as f:
        encoder = json.load(f)
    ranks = {bytes(byte_of[c] for c in t): i for t, i in encoder.items() if t != "<|endoftext|>"}
    pattern = r"""'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"""
    enc = tiktoken.Encoding(name="gpt2-local", pat_str=pattern, mergeable_ranks=ranks, special_tokens={})
    tbest = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        enc.encode_ordinary(text)
        tbest = min(tbest, time.perf_counter() - start)
    result["tiktoken_seconds"], result["tiktoken_version"] = tbest, tiktoken.__version__
except Exception:
    pass
print(json.dumps(result))
"""#

private struct PeerMeasurement: Decodable {
    var seconds: Double
    var tokens: Int
    var version: String
    var tiktokenSeconds: Double?
    var tiktokenVersion: String?

    enum CodingKeys: String, CodingKey {
        case seconds, tokens, version
        case tiktokenSeconds = "tiktoken_seconds"
        case tiktokenVersion = "tiktoken_version"
    }
}

/// Runs the Python script in a child process; nil when python3 or tokenizers is unavailable.
private func measureHuggingFace(vocabularyDirectory: URL, textFile: URL) -> PeerMeasurement? {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = ["python3", "-c", huggingFaceScript, vocabularyDirectory.path, textFile.path]
    var environment = ProcessInfo.processInfo.environment
    environment["RAYON_NUM_THREADS"] = "1"
    environment["TOKENIZERS_PARALLELISM"] = "false"
    process.environment = environment
    let output = Pipe()
    process.standardOutput = output
    process.standardError = FileHandle.nullDevice
    do {
        try process.run()
    } catch {
        return nil
    }
    let data = output.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    guard process.terminationStatus == 0 else { return nil }
    return try? JSONDecoder().decode(PeerMeasurement.self, from: data)
}

private func format(_ value: Double, _ decimals: Int) -> String {
    String(format: "%.\(decimals)f", value)
}
