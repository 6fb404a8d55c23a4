// gpt quantize: a GGUF model re-written with its matrices in another format.
import Foundation
import GPTKit

enum QuantizeCommand {
    static let usage = """
    usage: gpt quantize --model IN --type q8_0|q4_0|q4_1|q4_k|q6_k|f16|bf16|f32 --out OUT.gguf
      IN.gguf: writes a copy of a GGUF model with every matrix in --type (quantized as gguf-py's
      reference quantizers do, byte for byte) and everything else — norms, metadata, tokenizer,
      chat template — unchanged; llama.cpp and gpt load the result. Like llama-quantize --pure:
      the output and embedding matrices take --type too.
      IN a folder (a `gpt train` checkpoint, a Hugging Face GPT-2, Llama or Qwen2 folder): writes
      it as GGUF in llama.cpp's conventions, matrices and token table in --type, norms and biases
      F32, without a vocabulary (run it with --tokenizer pointing at the folder's tokenizer).
      Q4_K and Q6_K follow llama.cpp's reference quantizers byte for byte; matrices whose rows are
      not whole 256-value super-blocks take Q8_0, as llama.cpp falls back. Prints what it
      converted and the sizes. Not yet: Q5_K and the Q5 types.
    """

    static let types: [String: WeightFormat] = [
        "q8_0": .q8_0, "q4_0": .q4_0, "q4_1": .q4_1, "q4_k": .q4_K, "q6_k": .q6_K, "f16": .float16, "bf16": .bfloat16, "f32": .float32,
    ]

    static func run(_ arguments: [String]) throws {
        let options = try Arguments(arguments, options: ["model", "type", "out"], switches: [])
        if options.helpRequested { print(usage); return }
        guard let path = options.string("model") else { throw UsageError(message: "--model is required\n\(usage)") }
        guard let typeName = options.string("type") else { throw UsageError(message: "--type is required\n\(usage)") }
        guard let format = types[typeName.lowercased()] else {
            let known = ["q5_k", "q5_0", "q5_1"].contains(typeName.lowercased())
            throw UsageError(message: "--type \(typeName): " + (known ? "GPTKit does not quantize to \(typeName) yet; " : "unknown; ")
                + "choose one of \(types.keys.sorted().joined(separator: ", "))")
        }
        guard let outPath = options.string("out") else { throw UsageError(message: "--out is required\n\(usage)") }
        let input = try PathArguments.url(path, option: "model")
        let output = try PathArguments.url(outPath, option: "out")
        guard output.standardizedFileURL.path != input.standardizedFileURL.path else {
            throw UsageError(message: "--out must differ from --model")
        }
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: input.path, isDirectory: &isDirectory), isDirectory.boolValue {
            guard FileManager.default.fileExists(atPath: input.appendingPathComponent("config.json").path) else {
                throw UsageError(message: "--model \(path): a folder without config.json (gpt quantize reads GGUF files and model folders)")
            }
            let start = DispatchTime.now().uptimeNanoseconds
            let model = try GPT(directory: input)
            try model.writeGGUF(to: output, format: format, name: input.lastPathComponent)
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-9
            let size = (try? FileManager.default.attributesOfItem(atPath: output.path)[.size] as? Int) ?? 0
            print("\(model.configuration.modelType) model of \(model.parameterCount) parameters to GGUF, matrices in \(format.rawValue); "
                  + "\(size / 1_000) kB in " + String(format: "%.1f s", seconds) + ": \(outPath)")
            return
        }
        guard input.pathExtension.lowercased() == "gguf" else {
            throw UsageError(message: "--model \(path): gpt quantize reads GGUF files and model folders (config.json + safetensors)")
        }
        let file = try GGUFFile(contentsOf: input)
        let start = DispatchTime.now().uptimeNanoseconds
        let converted = try file.writeQuantized(to: output, format: format)
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-9
        let size = (try? FileManager.default.attributesOfItem(atPath: output.path)[.size] as? Int) ?? 0
        let inputSize = (try? FileManager.default.attributesOfItem(atPath: input.path)[.size] as? Int) ?? 0
        // What each converted tensor became (K-quants fall back to Q8_0 on rows of other lengths).
        var counts: [WeightFormat: Int] = [:]
        if let copy = try? GGUFFile(contentsOf: output) {
            for (tensor, original) in zip(copy.tensors, file.tensors) where tensor.format != original.format || tensor.format == format {
                counts[tensor.format, default: 0] += 1
            }
        }
        let detail = counts.count > 1
            ? " (" + counts.sorted { $0.value > $1.value }.map { "\($0.value) \($0.key.rawValue)" }.joined(separator: ", ") + ")" : ""
        print("\(converted) of \(file.tensors.count) tensors to \(format.rawValue)\(detail); \(inputSize / 1_000_000) MB → \(size / 1_000_000) MB in "
              + String(format: "%.1f s", seconds) + ": \(outPath)")
    }
}
