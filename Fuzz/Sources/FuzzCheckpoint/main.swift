// Any bytes as the training state of a checkpoint folder: the input is `trainer.json`, and if it
// holds a NUL byte, what follows it is `optimizer.safetensors`. The folder's config.json and
// model.safetensors come from a tiny real checkpoint written at start-up; each input is resumed
// with `Trainer(resumingFrom:)`, and a resumed trainer takes one step. Leftover hidden folders of
// an interrupted save are planted too, so recovery runs on every input. Only thrown errors are
// allowed. GPTKIT_FUZZ_WRITE_SEEDS=DIR writes the seed inputs (the real checkpoint's state).
import Foundation
import FuzzSupport
import GPTKit

let manager = FileManager.default
let scratch = manager.temporaryDirectory.appendingPathComponent("gptkit-fuzz-checkpoint-\(getpid())")
let base = scratch.appendingPathComponent("base")
let work = scratch.appendingPathComponent("work")
let tokens = TokenDataset(tokens: (0..<512).map { Int32(($0 * 7 + $0 / 5) % 16) })

/// A 1-layer model of width 8 (a few thousand parameters), trained two steps and saved.
func writeBaseCheckpoint() throws {
    try? manager.removeItem(at: scratch)
    try manager.createDirectory(at: scratch, withIntermediateDirectories: true)
    let model = try GPT(configuration: GPTConfiguration(vocabularySize: 16, contextLength: 8, layerCount: 1, headCount: 2,
                                                       embeddingDimensions: 8), seed: 1)
    var configuration = TrainingConfiguration(batchSize: 2, sequenceLength: 8, steps: 4)
    configuration.evaluationInterval = 2
    let trainer = try Trainer(model: model, configuration: configuration, training: tokens, validation: tokens)
    for _ in 0..<2 { _ = try trainer.trainStep() }
    try trainer.saveCheckpoint(to: base)
}

do { try writeBaseCheckpoint() } catch { fatalError("cannot write the base checkpoint: \(error)") }

if let seeds = ProcessInfo.processInfo.environment["GPTKIT_FUZZ_WRITE_SEEDS"] {
    let state = try! Data(contentsOf: base.appendingPathComponent("trainer.json"))
    let moments = try! Data(contentsOf: base.appendingPathComponent("optimizer.safetensors"))
    let folder = URL(fileURLWithPath: seeds)
    try! manager.createDirectory(at: folder, withIntermediateDirectories: true)
    try! state.write(to: folder.appendingPathComponent("trainer.json"))
    try! (state + Data([0]) + moments).write(to: folder.appendingPathComponent("trainer-and-optimizer"))
    exit(0)
}

func fuzzCheckpoint(_ input: UnsafeBufferPointer<UInt8>) {
    let data = Data(input)
    try? manager.removeItem(at: work)
    guard (try? manager.createDirectory(at: work, withIntermediateDirectories: true)) != nil else { return }
    for name in ["config.json", "model.safetensors", "optimizer.safetensors"] {
        try? manager.copyItem(at: base.appendingPathComponent(name), to: work.appendingPathComponent(name))
    }
    let parts = data.split(separator: 0, maxSplits: 1, omittingEmptySubsequences: false)
    try? Data(parts[0]).write(to: work.appendingPathComponent("trainer.json"))
    if parts.count == 2 {
        let optimizer = work.appendingPathComponent("optimizer.safetensors")
        try? manager.removeItem(at: optimizer)
        try? Data(parts[1]).write(to: optimizer)
    }
    // An interrupted save's leftovers beside the folder, for recovery to clear.
    try? manager.createDirectory(at: scratch.appendingPathComponent(".work.partial-fuzz"), withIntermediateDirectories: true)
    guard let trainer = try? Trainer(resumingFrom: work, training: tokens, validation: tokens) else { return }
    _ = try? trainer.trainStep()
}

exit(runFuzzer(fuzzCheckpoint))
