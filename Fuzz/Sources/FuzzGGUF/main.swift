// Any bytes as a GGUF file: parsed and validated; a file that parses has every tensor
// dequantized (up to a million elements each) and is loaded as a model when its metadata names
// an architecture. Only thrown errors are allowed.
import Foundation
import FuzzSupport
import GPTKit

func fuzzGGUF(_ input: UnsafeBufferPointer<UInt8>) {
    guard let file = try? GGUFFile(data: Data(input), name: "fuzz.gguf") else { return }
    var scratch: [Float] = []
    for tensor in file.tensors where tensor.elementCount <= 1 << 20 {
        scratch = [Float](repeating: 0, count: tensor.elementCount)
        scratch.withUnsafeMutableBufferPointer { try? file.dequantize(tensor.name, into: $0.baseAddress!) }
    }
    _ = try? GPT(gguf: file, name: "fuzz.gguf")
}

exit(runFuzzer(fuzzGGUF))
