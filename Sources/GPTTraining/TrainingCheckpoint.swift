// Checkpoints: model + optimizer + step + sampler state, written atomically as a directory.
//
//   config.json, model.safetensors   the model (GPT.save(directory:))
//   optimizer.safetensors            AdamW's moments "m" and "v", flat, in the parameter layout
//   trainer.json                     step, training configuration, sampler state, loss history
//
// The directory is written under a hidden name beside the target, synced, and exchanged with the
// previous checkpoint atomically (see DurableDirectory.swift), so the target always holds one
// whole checkpoint: tokenizer and companions included, since they are written before the switch.
import Foundation
import GPTFiles
import GPTModel
import GPTTensor
import GPTTokenizers

struct TrainerState: Codable {
    var step: Int
    var optimizerSteps: Int
    var configuration: TrainingConfiguration
    var sampler: BatchSampler.State?
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

    /// Writes a checkpoint directory at `url`, replacing a previous checkpoint there so that
    /// `url` holds one whole checkpoint at every instant, whatever kills the process.
    ///
    /// Every file — the model, the optimizer's moments, `trainer.json` (last, so a directory
    /// holding it is whole) and whatever `extraFiles` writes (a tokenizer, a loss curve) — is
    /// written into a hidden `.NAME.partial-…` directory beside `url` and `fsync`ed with it; then
    /// the two are exchanged atomically (`renameat2(RENAME_EXCHANGE)`; where the system cannot,
    /// two renames, whose one intermediate state the next save or load repairs) and the parent is
    /// synced. Leftover hidden copies of interrupted saves are removed first. A symbolic link at
    /// `url` is followed: the checkpoint replaces the directory it points to.
    /// - Throws: `TrainingError.io` if `url` is a directory holding files other than
    ///   `checkpointDirectoryFiles` (it is never deleted), a file, or if writing fails.
    public func saveCheckpoint(to url: URL, extraFiles: ((URL) throws -> Void)? = nil) throws {
        guard !isTrainingAdapters else {
            throw TrainingError.invalidConfiguration("checkpoints hold whole models: save the trained adapters with model.saveAdapter(directory:)")
        }
        let url = DurableDirectory.followingLink(url)
        let manager = FileManager.default
        Self.recoverCheckpoint(at: url, removingLeftovers: true)
        try Self.checkCheckpointDestination(url)
        let parent = url.deletingLastPathComponent()
        let temporary = DurableDirectory.partialURL(for: url)
        do {
            try Files.createFolder(parent)
            try manager.createDirectory(at: temporary, withIntermediateDirectories: false)
            // The model and the moments stream from the flat buffers: no copy of either.
            try liveModel.configuration.write(to: temporary.appendingPathComponent("config.json"))
            try GPT.writeSafetensors(layout: parameters.layout, family: liveModel.family,
                                     to: temporary.appendingPathComponent("model.safetensors")) { slot in
                (UnsafePointer(parameters.values + slot.offset), false)
            }
            Self.fault("after-model")
            try SafetensorsFile.write(streaming: [
                SafetensorsSource(name: "m", shape: [optimizer.count], elements: optimizer.firstMoment),
                SafetensorsSource(name: "v", shape: [optimizer.count], elements: optimizer.secondMoment),
            ], metadata: ["step": "\(optimizer.stepCount)"], to: temporary.appendingPathComponent("optimizer.safetensors"))
            Self.fault("after-optimizer")
            try extraFiles?(temporary)
            let trainerState = TrainerState(step: step, optimizerSteps: optimizer.stepCount, configuration: configuration, sampler: sampler?.state,                                            trainingLosses: trainingLosses.map(\.loss), trainingSteps: trainingLosses.map(\.step),
                                            validationLosses: validationLosses.map(\.loss), validationSteps: validationLosses.map(\.step))
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            try encoder.encode(trainerState).write(to: temporary.appendingPathComponent("trainer.json"), options: .atomic)
            try DurableDirectory.syncContents(of: temporary)
            Self.fault("before-switch")
            if try DurableDirectory.install(temporary, at: url, fault: Self.fault) {
                Self.fault("after-switch")
                try? manager.removeItem(at: temporary)  // the old checkpoint, now under the hidden name
            }
        } catch {
            try? manager.removeItem(at: temporary)
            if let error = error as? TrainingError { throw error }
            throw TrainingError.io("cannot write the checkpoint \(url.path): \(Files.reason(for: error))")
        }
    }

    /// Repairs the checkpoint at `url` after an interrupted save: if the name is absent (a
    /// two-rename switch was cut between its renames), the whole hidden copy goes back in
    /// place; with `removingLeftovers` (writers: `saveCheckpoint`, `init(resumingFrom:)`),
    /// leftover hidden copies (`.NAME.partial-…`, `.NAME.old-…`) are removed too. Safe to call
    /// on any path.
    public static func recoverCheckpoint(at url: URL, removingLeftovers: Bool = false) {
        DurableDirectory.recover(DurableDirectory.followingLink(url), removingLeftovers: removingLeftovers) { directory in
            FileManager.default.fileExists(atPath: directory.appendingPathComponent("trainer.json").path)
        }
    }

    /// A test hook: `GPTKIT_CHECKPOINT_FAULT=STAGE` ends the process at that stage of a save
    /// (`after-model`, `after-optimizer`, `before-switch`, `between-renames`, `after-switch`),
    /// as a kill would, so tests can check what is left on disk.
    static func fault(_ stage: String) {
        if ProcessInfo.processInfo.environment["GPTKIT_CHECKPOINT_FAULT"] == stage { _exit(75) }
    }

    /// A trainer restored from a checkpoint written by `saveCheckpoint(to:)`, continuing exactly
    /// where that run stopped (same parameters, optimizer moments, step, data position).
    /// `steps`, if given, replaces the run's total number of steps (the learning-rate schedule is
    /// unchanged: past its end it gives its final rate).
    /// - Throws: `TrainingError.invalidCheckpoint` naming what is missing or inconsistent.
    public convenience init(resumingFrom url: URL, training: TokenDataset, validation: TokenDataset? = nil, steps: Int? = nil) throws {
        Self.recoverCheckpoint(at: url, removingLeftovers: true)
        let model: GPT
        do { model = try GPT(directory: url) } catch {
            throw TrainingError.invalidCheckpoint("\(url.path): model: \(error.localizedDescription)")
        }
        let state: TrainerState
        let stateURL = url.appendingPathComponent("trainer.json")
        do {
            let data = try Files.read(stateURL)
            let parsed = try JSONSyntax.parse(data, path: stateURL.path)
            if let (path, value) = parsed.firstWholeNumberBeyondInt {
                throw TrainingError.invalidCheckpoint("\(stateURL.path): '\(path)' is \(value), out of range")
            }
            state = try JSONDecoder().decode(TrainerState.self, from: data)
        } catch let error as FileProblem {
            throw TrainingError.invalidCheckpoint("\(error)")
        } catch let error as TrainingError {
            throw error
        } catch let error as TokenizerError {
            throw TrainingError.invalidCheckpoint(error.localizedDescription)
        } catch let error as DecodingError {
            throw TrainingError.invalidCheckpoint("\(stateURL.path): \(DecodingErrors.describe(error))")
        }
        // Every number read from the file is bounded before any arithmetic uses it.
        let limit = Int(Int32.max)
        guard (0...limit).contains(state.step), (0...limit).contains(state.optimizerSteps),
              state.trainingSteps.allSatisfy({ (0...state.step).contains($0) }),
              state.validationSteps.allSatisfy({ (0...state.step).contains($0) }),
              state.trainingLosses.count <= limit, state.sampler.map({ (0...limit).contains($0.position) }) ?? true else {
            throw TrainingError.invalidCheckpoint("\(url.path)/trainer.json: a step, a step count or the data position is out of range")
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
        if let position = state.sampler { sampler?.state = position }
        trainingLosses = zip(state.trainingSteps, state.trainingLosses).map { ($0, $1) }
        validationLosses = zip(state.validationSteps, state.validationLosses).map { ($0, $1) }
    }
}
