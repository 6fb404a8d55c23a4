// The layers of a configuration and the steps every pass shares.
import GPTLayers
import GPTTensor

extension GPT {
    /// The layers of a configuration and the parameter layout they register, under its
    /// family's names; building it allocates no parameters, so loaders can check a file
    /// against it first.
    struct Architecture: Sendable {
        let configuration: GPTConfiguration
        let family: any ModelFamily.Type
        var layout: ParameterLayout
        let tokenEmbedding: Embedding
        let positionEmbedding: LearnedPositionalEmbedding?
        let sinusoidal: SinusoidalPositionalEncoding?
        var blocks: [TransformerBlock]
        /// The LoRA adapters on the blocks' projections, if any: their entries follow the base
        /// model's `baseEntryCount` entries in `layout`.
        var lora: LoRAConfiguration?
        var baseEntryCount: Int
        let finalNorm: Normalization
        /// The output projection `[V, C]`: the token embedding when tied, else `lm_head.weight`.
        let outputWeight: ParameterSlot
        /// The scalar head `score.weight [S, C]`, if the configuration has one.
        let scoreHead: Linear?

        init(_ configuration: GPTConfiguration) throws {
            try configuration.validate()
            // Before any table or weight is allocated: the model must fit this machine.
            if let shortfall = GPTConfiguration.memoryShortfall(configuration.estimatedWeightBytes,
                                                                for: "the model (weights and position tables)") {
                throw ModelError.invalidConfiguration(shortfall)
            }
            let c = configuration
            guard let family = ModelFamilies.family(named: c.modelType) else {
                throw ModelError.invalidConfiguration("unknown model_type '\(c.modelType)'")
            }
            let names = family.names(c)
            var layout = ParameterLayout()
            tokenEmbedding = Embedding(vocabularySize: c.vocabularySize, dimensions: c.embeddingDimensions, name: names.tokenEmbedding,
                                       layout: &layout)
            var rotary: RotaryEmbedding?
            switch c.positionalEncoding {
            case .learned:
                positionEmbedding = LearnedPositionalEmbedding(maximumPositions: c.contextLength, dimensions: c.embeddingDimensions,
                                                               name: names.positionEmbedding, layout: &layout)
                sinusoidal = nil
            case .sinusoidal:
                positionEmbedding = nil
                sinusoidal = SinusoidalPositionalEncoding(maximumPositions: c.contextLength, dimensions: c.embeddingDimensions)
            case .rotary(let theta):
                positionEmbedding = nil
                sinusoidal = nil
                rotary = RotaryEmbedding(headSize: c.headSize, maximumPositions: c.contextLength, theta: theta)
            }
            blocks = try (0..<c.layerCount).map { index in
                let blockNames = family.blockNames(index, configuration: c)
                return try ModelError.wrap(blockNames.norm1) {
                    try TransformerBlock(dimensions: c.embeddingDimensions, heads: c.headCount, keyValueHeads: c.keyValueHeadCount,
                                         headSize: c.headSize, hiddenSize: c.hiddenDimensions, normalization: c.normalization,
                                         epsilon: c.normalizationEpsilon, feedForward: c.feedForward, biases: c.biases,
                                         rotary: rotary, names: blockNames, layout: &layout)
                }
            }
            finalNorm = Normalization(kind: c.normalization, dimensions: c.embeddingDimensions, epsilon: c.normalizationEpsilon,
                                      bias: c.biases.norm, name: names.finalNorm, layout: &layout)
            outputWeight = c.tiesEmbeddings
                ? tokenEmbedding.weight
                : layout.add("\(names.outputProjection).weight", shape: [c.vocabularySize, c.embeddingDimensions], role: .matrix)
            scoreHead = c.scoreCount > 0
                ? Linear(inputSize: c.embeddingDimensions, outputSize: c.scoreCount, bias: false, name: names.score, layout: &layout)
                : nil
            self.configuration = configuration
            self.family = family
            self.layout = layout
            lora = nil
            baseEntryCount = layout.entries.count
        }
    }

    // MARK: - Shared steps of every pass

    /// Writes the embeddings of `rows` tokens (one sequence of `time` per batch entry, positions
    /// from `positionOffset`, or packed `positions [B·T]`) into `x [B·T, C]`, reading `weights`.
    /// Ids (and positions) must already be checked.
    func embed(
        ids: UnsafePointer<Int32>, batch: Int, time: Int, positionOffset: Int, positions: UnsafePointer<Int32>? = nil,
        weights: WeightStore, into x: UnsafeMutablePointer<Float>
    ) throws {
        let a = architecture
        a.tokenEmbedding.forward(ids: ids, rows: batch * time, weights: weights, into: x)
        try ModelError.wrap("positions") {
            try a.positionEmbedding?.forward(x, batch: batch, time: time, positionOffset: positionOffset, positions: positions, weights: weights)
            try a.sinusoidal?.forward(x, batch: batch, time: time, positionOffset: positionOffset, positions: positions)
        }
    }

    /// `logits [rows, V] = x [rows, C] · Wᵀ` with the output projection W `[V, C]`.
    func projectToVocabulary(_ x: UnsafePointer<Float>, rows: Int, weights: WeightStore, into logits: UnsafeMutablePointer<Float>) {
        weights.matrix(architecture.outputWeight).multiply(x, rows: rows, into: logits)
    }

    /// The one check of token ids, which every pass (workspace, cache, session) and the
    /// trainer's datasets go through: each id must be in `0..<V`.
    /// - Throws: `ModelError.tokenOutOfRange` for the first id outside the vocabulary.
    package func checkTokenIDs<ID: BinaryInteger>(_ tokens: some Sequence<ID>) throws {
        let vocabulary = configuration.vocabularySize
        for token in tokens where !(token >= 0 && token < vocabulary) {
            throw ModelError.tokenOutOfRange(token: Int(clamping: token), vocabularySize: vocabulary)
        }
    }

    /// Token ids as `Int32`, checked by `checkTokenIDs`.
    func checkedIDs<ID: BinaryInteger>(_ tokens: [ID], into ids: inout [Int32]) throws {
        try checkTokenIDs(tokens)
        ids.removeAll(keepingCapacity: true)
        for token in tokens { ids.append(Int32(token)) }
    }
}
