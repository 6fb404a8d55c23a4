// Re-quantizing a GGUF file: the same metadata (architecture, tokenizer, chat template) and
// tensors, with every matrix in another format — what llama.cpp's `llama-quantize` does with
// `--pure` for the formats GPTKit quantizes byte-identically to gguf-py.
import Foundation

extension GGUFFile {
    /// llama.cpp's `general.file_type` (`llama_ftype`) for a file whose matrices are in `format`.
    public static func fileType(for format: WeightFormat) -> UInt32? {
        switch format {
        case .float32: return 0
        case .float16: return 1
        case .q4_0: return 2
        case .q4_1: return 3
        case .q8_0: return 7
        case .q4_K: return 14  // LLAMA_FTYPE_MOSTLY_Q4_K_S: Q4_K throughout (with its fallbacks)
        case .q6_K: return 18
        case .bfloat16: return 32
        default: return nil
        }
    }

    /// Writes a copy of this file to `url` with every matrix (a tensor of two or more dimensions
    /// whose rows are whole blocks of `format`) dequantized and quantized again to `format`
    /// (``Kernels/quantize(_:_:count:into:)``, byte-identical to gguf-py); vectors (norms,
    /// biases) and anything else keep their bytes. The metadata is copied in order, with
    /// `general.file_type` set. The file is written to a temporary name, synced, then renamed.
    ///
    /// ```swift
    /// try GGUFFile(contentsOf: input).writeQuantized(to: URL(fileURLWithPath: "model.Q8_0.gguf"), format: .q8_0)
    /// ```
    /// - Returns: how many tensors were converted.
    /// - Throws: `GGUFError.invalidTensor` for a format with no quantizer, and the writer's errors.
    @discardableResult
    public func writeQuantized(to url: URL, format: WeightFormat) throws -> Int {
        guard Kernels.quantizableFormats.contains(format), let fileType = Self.fileType(for: format) else {
            let names = Kernels.quantizableFormats.map(\.rawValue).sorted().joined(separator: ", ")
            throw GGUFError.invalidTensor(file: url.lastPathComponent, name: "(all)", reason: "no quantizer for \(format.rawValue) (GPTKit writes \(names))")
        }
        var metadata = metadataKeys.map { (key: $0, value: self.metadata[$0]!) }
        if let index = metadata.firstIndex(where: { $0.key == "general.file_type" }) {
            metadata[index].value = .uint32(fileType)
        } else {
            metadata.append((key: "general.file_type", value: .uint32(fileType)))
        }
        var buffers: [UnsafeMutableRawPointer] = []
        defer { buffers.forEach { $0.deallocate() } }
        var sources: [GGUFTensorSource] = []
        var converted = 0
        let largest = tensors.map(\.elementCount).max() ?? 0
        let staging = UnsafeMutablePointer<Float>.allocate(capacity: max(1, largest))
        defer { staging.deallocate() }
        for tensor in tensors {
            let columns = tensor.shape.last ?? 1
            let target = Kernels.quantizationFormat(format, rowLength: columns)
            guard tensor.shape.count >= 2, let target, tensor.format != target,
                  let byteCount = target.byteCount(elements: tensor.elementCount) else {
                sources.append(GGUFTensorSource(name: tensor.name, shape: tensor.shape, format: tensor.format, bytes: bytes(of: tensor)))
                continue
            }
            Kernels.dequantize(tensor.format, bytes(of: tensor), count: tensor.elementCount, into: staging)
            let buffer = UnsafeMutableRawPointer.allocate(byteCount: max(1, byteCount), alignment: 64)
            buffers.append(buffer)
            Kernels.quantize(target, staging, count: tensor.elementCount, into: buffer)
            sources.append(GGUFTensorSource(name: tensor.name, shape: tensor.shape, format: target, bytes: buffer))
            converted += 1
        }
        try Self.write(metadata: metadata, tensors: sources, to: url)
        return converted
    }
}
