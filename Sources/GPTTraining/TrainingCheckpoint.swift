// Checkpoints: model + optimizer + step + sampler state, written atomically as a directory.
//
//   config.json, model.safetensors   the model (GPT.save(directory:))
//   optimizer.safetensors            AdamW's moments "m" and "v", flat, in the parameter layout
//   trainer.json                     step, training configuration, sampler state, loss history
//
// The directory is written under a temporary name beside the target and renamed into place,
// so a crash never leaves a half-written checkpoint at the target: when one is replaced, the
// old one is first renamed to `.NAME.old-…` beside it, and removed once the new one is in place
// (a crash between the two renames leaves the old checkpoint there, whole).
import Foundation
import GPTModel
import GPTTensor

struct TrainerState: Codable {
    var step: Int
    var optimizerSteps: Int
    var configuration: TrainingConfiguration
    var sampler: BatchSampler.State
    var trainingLosses: [Float], trainingSteps: [Int]
    var validationLosses: [Float], validationSteps: [Int]
}

extension Trainer {
    /// The files a checkpoint directory may hold: its own, and what `gpt train` writes beside
    /// them (tokenizer files, the loss curve, samples). A directory with anything else in it is
    /// never replaced.
    public static let checkpointDirectoryFiles: Set<String> = [
        "config.json", "model.safetensors", "optimizer.safetensors", "trainer.json", "tokenizer.json", "tokenizer.bin",
        "encoder.json", "vocab.bpe", "loss.svg", "samples.txt",
    ]

    /// Throws unless a checkpoint may be written at `url`: nothing is there, or a directory
    /// holding only `checkpointDirectoryFiles` (the one place this rule is checked).
    /// - Throws: `TrainingError.io` naming the problem.
    public static func checkCheckpointDestination(_ url: URL) throws {
        let manager = FileManager.default
        if let existing = try? manager.contentsOfDirectory(atPath: url.path) {
            let foreign = existing.filter { !checkpointDirectoryFiles.contains($0) && !$0.hasPrefix(".") }.sorted()
            guard foreign.isEmpty else {
                throw TrainingError.io("refusing to replace \(url.path) with a checkpoint: it holds other files (\(foreign.prefix(3).joined(separator: ", ")))")
            }
        } else if manager.fileExists(atPath: url.path) {
            throw TrainingError.io("cannot write a checkpoint at \(url.path): a file is there")
        }
    }

    /// Writes a checkpoint directory at `url` (replacing a previous checkpoint there), atomically.
    /// - Throws: `TrainingError.io` if `url` is a directory holding files other than
    ///   `checkpointDirectoryFiles` (it is never deleted), or if writing fails.
    public func saveCheckpoint(to url: URL) throws {
        let manager = FileManager.default
        try Self.checkCheckpointDestination(url)
        let parent = url.deletingLastPathComponent()
        let temporary = parent.appendingPathComponent(".\(url.lastPathComponent).partial-\(UUID().uuidString)")
        do {
            try manager.createDirectory(at: parent, withIntermediateDirectories: true)
            try manager.createDirectory(at: temporary, withIntermediateDirectories: true)
            // The model and the moments stream from the flat buffers: no copy of either.
            try liveModel.configuration.write(to: temporary.appendingPathComponent("config.json"))
            try GPT.writeSafetensors(layout: parameters.layout, family: liveModel.family,
                                     to: temporary.appendingPathComponent("model.safetensors")) { slot in
                (UnsafePointer(parameters.values + slot.offset), false)
            }
            try SafetensorsFile.write(streaming: [
                SafetensorsSource(name: "m", shape: [optimizer.count], elements: optimizer.firstMoment),
                SafetensorsSource(name: "v", shape: [optimizer.count], elements: optimizer.secondMoment),
            ], metadata: ["step": "\(optimizer.stepCount)"], to: temporary.appendingPathComponent("optimizer.safetensors"))
            let trainerState = TrainerState(step: step, optimizerSteps: optimizer.stepCount, configuration: configuration, sampler: sampler.state,
                                            trainingLosses: trainingLosses.map(\.loss), trainingSteps: trainingLosses.map(\.step),
                                            validationLosses: validationLosses.map(\.loss), validationSteps: validationLosses.map(\.step))
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            try encoder.encode(trainerState).write(to: temporary.appendingPathComponent("trainer.json"), options: .atomic)
            if manager.fileExists(atPath: url.path) {
                // Two renames: the old checkpoint stays whole until the new one is in place.
                let old = parent.appendingPathComponent(".\(url.lastPathComponent).old-\(UUID().uuidString)")
                try manager.moveItem(at: url, to: old)
                try manager.moveItem(at: temporary, to: url)
                try? manager.removeItem(at: old)
            } else {
                try manager.moveItem(at: temporary, to: url)
            }
        } catch {
            try? manager.removeItem(at: temporary)
            if let error = error as? TrainingError { throw error }
            throw TrainingError.io("cannot write the checkpoint \(url.path): \(error.localizedDescription)")
        }
    }

    /// A trainer restored from a checkpoint written by `saveCheckpoint(to:)`, continuing exactly
    /// where that run stopped (same parameters, optimizer moments, step, data position).
    /// `steps`, if given, replaces the run's total number of steps (the learning-rate schedule is
    /// unchanged: past its end it gives its final rate).
    /// - Throws: `TrainingError.invalidCheckpoint` naming what is missing or inconsistent.
    public convenience init(resumingFrom url: URL, training: TokenDataset, validation: TokenDataset? = nil, steps: Int? = nil) throws {
        let model: GPT
        do { model = try GPT(directory: url) } catch {
            throw TrainingError.invalidCheckpoint("\(url.path): model: \(error.localizedDescription)")
        }
        let state: TrainerState
        do { state = try JSONDecoder().decode(TrainerState.self, from: Data(contentsOf: url.appendingPathComponent("trainer.json"))) } catch {
            throw TrainingError.invalidCheckpoint("\(url.path)/trainer.json: \(error.localizedDescription)")
        }
        var configuration = state.configuration
        if let steps { configuration.steps = steps }
        try self.init(model: model, configuration: configuration, training: training, validation: validation)
        do {
            let file = try SafetensorsFile(contentsOf: url.appendingPathComponent("optimizer.safetensors"))
            try optimizer.restore(stepCount: state.optimizerSteps, momentsIn: file)
        } catch let error as TrainingError {
            throw error
        } catch {
            throw TrainingError.invalidCheckpoint("\(url.path)/optimizer.safetensors: \(error.localizedDescription)")
        }
        guard state.trainingLosses.count == state.trainingSteps.count, state.validationLosses.count == state.validationSteps.count else {
            throw TrainingError.invalidCheckpoint("\(url.path)/trainer.json: loss history lengths differ")
        }
        step = state.step
        sampler.state = state.sampler
        trainingLosses = zip(state.trainingSteps, state.trainingLosses).map { ($0, $1) }
        validationLosses = zip(state.validationSteps, state.validationLosses).map { ($0, $1) }
    }
}
