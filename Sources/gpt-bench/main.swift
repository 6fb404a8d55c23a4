// gpt-bench: GPTKit's speed against peers measured in the same run.
import Foundation
import GPTKit

let usage = """
usage: gpt-bench <command> [options]
commands:
  matmul [--json] [--no-numpy] [--quick] [--no-gemv] [--shapes MxNxK;...] [--rounds N]
                                   SGEMM GFLOP/s in three forms vs numpy, timed in
                                   alternation (N rounds of 0.1 s each per case, default 3)
  train [--preset mini|gpt2-small|nano] [--batch N] [--seq N] [--steps N] [--recompute none|block] [--json] [--no-torch]
                                   ms per training step, memory, vs PyTorch eager in the same run
  generate [--preset gpt2-small] [--prompt N] [--tokens N] [--mapped] [--json]
                                   prefill and decode tokens/s, memory bandwidth, peak RSS
                                   (--mapped: on the weights saved and loaded back by mmap)
  load [--preset gpt2-small] [--repeats N] [--json] [--no-python]
                                   GPT(directory:) time on a saved checkpoint vs safetensors' load_file
  gguf [--model FILE.gguf] [--repeats N] [--tokens N] [--json] [--no-python]
                                   a GGUF model (SmolLM2): file to first token, float32 decode vs
                                   transformers, stored-format prefill/decode vs llama.cpp
  quantized [--outputs N] [--inputs K] [--rows N] [--json]
                                   stored-format matrix-vector products: µs, weight GB/s, ns per block
  tokenize --vocab DIR --text FILE [--json]
                                   GPT-2 tokenizer load time and encode MB/s vs Hugging Face
  score [--text FILE] [--segments N] [--json] [--no-python]
                                   BLEU, chrF, ROUGE segments/s vs sacrebleu and rouge-score
  perplexity [--model FILE.gguf] [--characters N] [--window N] [--stride N] [--batch N] [--json] [--no-python]
                                   sliding-window perplexity tokens/s vs transformers/PyTorch
  batch [--model FILE.gguf] [--sizes 1,2,4,8] [--tokens N] [--dequantize] [--json] [--no-python]
                                   sequences decoded together: aggregate tokens/s per batch size
                                   vs llama.cpp decoding as many sequences in one context
  finetune [--model FILE.gguf] [--batch N] [--seq N] [--rank R] [--steps N] [--json] [--no-python]
                                   LoRA ms/step and peak RSS over the Q4_1 and float32 weights vs
                                   PyTorch eager + peft float32
"""

var arguments = Array(CommandLine.arguments.dropFirst())
guard let command = arguments.first, !["-h", "--help", "help"].contains(command) else {
    print(usage)
    exit(arguments.isEmpty ? 1 : 0)
}
arguments.removeFirst()
if arguments.contains("--help") || arguments.contains("-h") {
    print(usage)
    exit(0)
}
do {
    switch command {
    case "matmul": try runMatmulBenchmark(arguments: arguments)
    case "tokenize": try runTokenizeBenchmark(arguments: arguments)
    case "train": try runTrainBenchmark(arguments: arguments)
    case "generate": try runGenerateBenchmark(arguments: arguments)
    case "load": try runLoadBenchmark(arguments: arguments)
    case "gguf": try runGGUFBenchmark(arguments: arguments)
    case "quantized": try runQuantizedBenchmark(arguments: arguments)
    case "score": try runScoreBenchmark(arguments: arguments)
    case "perplexity": try runPerplexityBenchmark(arguments: arguments)
    case "batch": try runBatchBenchmark(arguments: arguments)
    case "finetune": try runFinetuneBenchmark(arguments: arguments)
    default:
        FileHandle.standardError.write(Data("gpt-bench: unknown command '\(command)'\n\(usage)\n".utf8))
        exit(2)
    }
} catch {
    FileHandle.standardError.write(Data("gpt-bench: \(error)\n".utf8))
    exit(2)
}
