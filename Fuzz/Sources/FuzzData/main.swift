// Any bytes as training data: a text file (UTF-8 checked, then a character tokenizer is learnt
// from it and encodes it, and a tiny byte-level BPE encodes it, as `gpt train --data` does) and
// an llm.c token shard (`.bin`, header and UInt16 tokens). Only thrown errors are allowed.
import Foundation
import FuzzSupport
import GPTKit

let manager = FileManager.default
let scratch = manager.temporaryDirectory.appendingPathComponent("gptkit-fuzz-data-\(getpid())")
try? manager.createDirectory(at: scratch, withIntermediateDirectories: true)

/// A byte-level BPE learnt from a fixed text (256 byte tokens and a few merges).
let bpe: GPT2Tokenizer = {
    let trainer = try! BPETrainer(vocabularySize: 270)
    let vocabulary = try! trainer.train(texts: ["the cat sat on the mat; the hat is on the cat"])
    let folder = scratch.appendingPathComponent("bpe")
    try! vocabulary.save(to: folder)
    return try! GPT2Tokenizer(directory: folder)
}()

func fuzzData(_ input: UnsafeBufferPointer<UInt8>) {
    let data = Data(input)
    let text = scratch.appendingPathComponent("input.txt")
    let shard = scratch.appendingPathComponent("input.bin")
    guard (try? data.write(to: text)) != nil, (try? data.write(to: shard)) != nil else { return }
    if let decoded = try? String(contentsOf: text, encoding: .utf8) {
        let characters = CharacterTokenizer(trainingText: decoded)
        if let dataset = try? TokenDataset(contentsOf: text, tokenizer: characters) {
            _ = try? characters.decode(dataset.tokens.prefix(64).map(Int.init))
        }
    } else {
        // Not UTF-8: the dataset must refuse it with an error.
        _ = try? TokenDataset(contentsOf: text, tokenizer: bpe)
    }
    _ = try? TokenDataset(contentsOf: text, tokenizer: bpe)
    _ = try? TokenDataset(shard: shard)
}

exit(runFuzzer(fuzzData))
