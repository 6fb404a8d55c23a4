// Model families: each architecture in one file (its configuration keys, parameter names and
// the maps to Hugging Face and GGUF names, its initialisation), found through one registry.
import GPTLayers
import GPTKernelCore

/// One architecture of decoder-only Transformer, as its own type.
///
/// A family says how a `GPTConfiguration` reads and writes its Hugging Face `config.json`, what
/// its parameters are called (GPTKit uses the Hugging Face names of the family, without the
/// `transformer.`/`model.` wrapper where the family's files differ), how each maps to the names
/// and layouts of Hugging Face safetensors and GGUF files, and which projections are residual
/// outputs (initialised with the smaller standard deviation). See the DocC article "Adding a
/// model family".
///
/// ```swift
/// let family = ModelFamilies.family(named: "qwen2")!        // Qwen2Family.self
/// let configuration = try family.configuration(huggingFace: json, file: "config.json")
/// ```
public protocol ModelFamily: Sendable {
    /// The Hugging Face `model_type` (the registry key), e.g. "llama".
    static var modelType: String { get }
    /// The Hugging Face class that runs it, written into `config.json`'s `architectures`.
    static var huggingFaceClass: String { get }

    /// Reads a Hugging Face `config.json` object (already parsed).
    /// - Throws: `ModelError.invalidConfiguration` naming the key and the problem, including
    ///   settings GPTKit does not implement (for example an unsupported `rope_scaling`).
    static func configuration(huggingFace json: [String: JSONConfigValue], file: String) throws -> GPTConfiguration
    /// The `config.json` object of a configuration, which `configuration(huggingFace:file:)`
    /// reads back (and Hugging Face's `from_pretrained` reads where the family is plain).
    static func huggingFaceConfig(_ configuration: GPTConfiguration) -> [String: JSONConfigValue]

    /// The names of the layer-independent parameters.
    static func names(_ configuration: GPTConfiguration) -> ModelParameterNames
    /// The parameter names of block `index`.
    static func blockNames(_ index: Int, configuration: GPTConfiguration) -> TransformerBlockNames

    /// How a parameter is stored in the family's Hugging Face safetensors files: the accepted
    /// tensor names (the first is written) and whether the matrix is stored transposed.
    static func huggingFaceTensor(for name: String) -> StoredTensorName
    /// Whether a tensor in a Hugging Face file is a buffer that is not a parameter (skipped).
    static func isIgnoredBuffer(_ name: String) -> Bool
    /// The GGUF (llama.cpp) tensor name of a parameter, or nil if the family has no GGUF form.
    static func ggufName(for name: String) -> String?
    /// Whether a matrix is a residual output projection (initialised with `0.02 / √(2·L)`).
    static func isResidualProjection(_ name: String) -> Bool
}

/// The names of a model's layer-independent parameters.
public struct ModelParameterNames: Sendable, Hashable {
    /// The token embedding table.
    public var tokenEmbedding: String
    /// The learned position table (learned positions only).
    public var positionEmbedding: String
    /// The final norm's prefix.
    public var finalNorm: String
    /// The untied output projection.
    public var outputProjection: String
    /// The scalar head (`score`, as Hugging Face's `*ForSequenceClassification`).
    public var score: String

    /// Names from their parts.
    public init(tokenEmbedding: String, positionEmbedding: String, finalNorm: String, outputProjection: String,
                score: String = "score") {
        self.tokenEmbedding = tokenEmbedding
        self.positionEmbedding = positionEmbedding
        self.finalNorm = finalNorm
        self.outputProjection = outputProjection
        self.score = score
    }
}

/// Where a parameter lies in a file: the names it may have (the first is the one written) and
/// whether its matrix is stored transposed (`[in, out]`, GPT-2's `Conv1D`).
public struct StoredTensorName: Sendable, Hashable {
    /// Accepted names, the canonical one first.
    public var names: [String]
    /// Whether the file holds the matrix transposed.
    public var isTransposed: Bool

    /// A stored name.
    public init(names: [String], isTransposed: Bool = false) {
        self.names = names
        self.isTransposed = isTransposed
    }
}

/// The registry of model families, by Hugging Face `model_type`.
public enum ModelFamilies {
    /// The families GPTKit ships. Adding a family to GPTKit is one file and one line here.
    public static let builtIn: [any ModelFamily.Type] = [
        GPT2Family.self,
        LlamaFamily.self,
        Qwen2Family.self,
    ]

    /// Families registered by the program (`register(_:)`).
    private static let registered = Locked<[any ModelFamily.Type]>([])

    /// Every family: the built-in ones, then the registered ones.
    public static var all: [any ModelFamily.Type] { builtIn + registered.withLock { $0 } }

    /// Adds a family defined outside GPTKit (a package that depends on it). A later
    /// registration of the same `model_type` replaces the earlier one; built-in families
    /// cannot be replaced.
    /// - Throws: `ModelError.invalidConfiguration` if `family.modelType` is a built-in one.
    public static func register(_ family: any ModelFamily.Type) throws {
        guard !builtIn.contains(where: { $0.modelType == family.modelType }) else {
            throw ModelError.invalidConfiguration("model_type '\(family.modelType)' is built in and cannot be replaced")
        }
        registered.withLock { list in
            list.removeAll { $0.modelType == family.modelType }
            list.append(family)
        }
    }

    /// The family with `model_type` `name`, if any (aliases such as "mistral" map to Llama).
    public static func family(named name: String) -> (any ModelFamily.Type)? {
        let key = aliases[name] ?? name
        return all.first { $0.modelType == key }
    }

    /// `model_type`s read as another family (same architecture, other name).
    public static let aliases: [String: String] = ["mistral": "llama", "smollm": "llama"]

    /// The registered `model_type`s.
    public static var names: [String] { all.map { $0.modelType } }
}

// MARK: - The maps in the other direction

extension ModelFamily {
    /// GGUF tensor name → parameter name, for every parameter of `layout` that has a GGUF form
    /// (the inverse of `ggufName(for:)`).
    public static func parameterNamesByGGUFName(in layout: ParameterLayout) -> [String: String] {
        var names: [String: String] = [:]
        for entry in layout.entries {
            if let gguf = ggufName(for: entry.name) { names[gguf] = entry.name }
        }
        return names
    }

    /// Hugging Face tensor name (every accepted alias) → parameter name, for every parameter of
    /// `layout` (the inverse of `huggingFaceTensor(for:)`).
    public static func parameterNamesByHuggingFaceName(in layout: ParameterLayout) -> [String: String] {
        var names: [String: String] = [:]
        for entry in layout.entries {
            for stored in huggingFaceTensor(for: entry.name).names { names[stored] = entry.name }
        }
        return names
    }
}
