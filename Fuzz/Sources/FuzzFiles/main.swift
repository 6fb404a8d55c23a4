// Any bytes as each file format GPTKit reads from a path: a character tokenizer's JSON, a
// Hugging Face tokenizer.json, a llama2.c tokenizer (tok*.bin), a llama2.c checkpoint, and an
// encoder.json + vocab.bpe pair (the input split at its first NUL byte). Each input is written to
// a scratch file, then read by every loader. Only thrown errors are allowed.
import Foundation
import FuzzSupport
import GPTKit

let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("gptkit-fuzz-\(getpid())")
try? FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)

func fuzzFiles(_ bytes: UnsafePointer<UInt8>, _ count: Int) -> CInt {
    let data = Data(bytes: bytes, count: count)
    let file = scratch.appendingPathComponent("input")
    guard (try? data.write(to: file)) != nil else { return 0 }
    _ = try? CharacterTokenizer(contentsOf: file)
    _ = try? GPT2Tokenizer(tokenizerJSON: file)
    _ = try? LlamaTokenizer(contentsOf: file)
    _ = try? GPT(llama2cCheckpointAt: file)
    let parts = data.split(separator: 0, maxSplits: 1, omittingEmptySubsequences: false)
    if parts.count == 2 {
        let encoder = scratch.appendingPathComponent("encoder.json"), merges = scratch.appendingPathComponent("vocab.bpe")
        if (try? Data(parts[0]).write(to: encoder)) != nil, (try? Data(parts[1]).write(to: merges)) != nil {
            _ = try? GPT2Tokenizer(encoderJSON: encoder, vocabBPE: merges)
        }
    }
    return 0
}

exit(runFuzzer { input in _ = fuzzFiles(input.baseAddress ?? UnsafePointer(bitPattern: 1)!, input.count) })
