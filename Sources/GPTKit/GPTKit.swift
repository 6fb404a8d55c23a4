// The umbrella module: `import GPTKit` brings in every layer of the package.
@_exported import GPTTensor
@_exported import GPTLayers
@_exported import GPTModel
@_exported import GPTTokenizers
@_exported import GPTTraining
@_exported import GPTEvaluation
@_exported import GPTFineTuning
