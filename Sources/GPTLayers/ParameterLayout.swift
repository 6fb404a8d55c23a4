// Every parameter of a model, named and shaped, laid out in one flat buffer (as llm.c does).
// Training values, gradients, the optimizer's moments and the weight-decay mask use the same
// layout, so the optimizer is one loop, clipping is one norm and a checkpoint is one write.
import GPTTensor

/// Where one parameter lives in the flat buffer.
public struct ParameterSlot: Sendable, Hashable, Codable {
    /// The parameter's position in its layout's `entries` (how a `WeightStore` finds it).
    public var index: Int
    /// Index of the first element in the flat buffer.
    public var offset: Int
    /// The parameter's shape (for a matrix `[out, in]`, like `nn.Linear`).
    public var shape: [Int]
    /// The number of elements.
    public var count: Int { shape.reduce(1, *) }
}

/// The names, shapes and offsets of all parameters of a model, in registration order.
///
/// ```swift
/// var layout = ParameterLayout()
/// let linear = Linear(inputSize: 8, outputSize: 4, name: "proj", layout: &layout)
/// let parameters = ParameterBuffer(layout: layout)   // mutable values, for training
/// let weights = WeightStore(copying: parameters)      // an immutable snapshot, for inference
/// ```
public struct ParameterLayout: Sendable, Hashable, Codable {
    /// One named parameter.
    public struct Entry: Sendable, Hashable, Codable {
        /// The parameter's name (Hugging Face GPT-2 style, e.g. `h.3.attn.c_attn.weight`).
        public var name: String
        /// Its place in the flat buffer.
        public var slot: ParameterSlot
        /// Whether AdamW applies weight decay to it (matrices yes; biases and norms no).
        public var decays: Bool
        /// What kind of parameter it is, so policies (e.g. decay of embeddings) can be chosen.
        public var role: Role
    }

    /// What a parameter does in the network.
    public enum Role: String, Sendable, Hashable, Codable {
        /// A projection matrix.
        case matrix
        /// A token or position embedding table.
        case embedding
        /// A bias vector.
        case bias
        /// A normalization gain (or bias).
        case norm
    }

    /// All parameters in registration order.
    public private(set) var entries: [Entry] = []
    private var index: [String: Int] = [:]
    /// The total number of floats.
    public private(set) var count = 0

    /// An empty layout.
    public init() {}

    /// Registers a parameter and returns its slot. Slots start at multiples of 16 floats (64
    /// bytes) so every parameter is aligned for vector loads.
    public mutating func add(_ name: String, shape: [Int], role: Role) -> ParameterSlot {
        precondition(index[name] == nil, "ParameterLayout: duplicate parameter name \(name)")
        precondition(shape.allSatisfy { $0 > 0 }, "ParameterLayout: empty shape \(shape) for \(name)")
        let offset = (count + 15) / 16 * 16
        let slot = ParameterSlot(index: entries.count, offset: offset, shape: shape)
        index[name] = entries.count
        entries.append(Entry(name: name, slot: slot, decays: role == .matrix || role == .embedding, role: role))
        count = offset + slot.count
        return slot
    }

    /// The entry named `name`, if any.
    public func entry(named name: String) -> Entry? { index[name].map { entries[$0] } }

    /// The number of trainable parameters (excluding alignment padding).
    public var parameterCount: Int { entries.reduce(0) { $0 + $1.slot.count } }
}

