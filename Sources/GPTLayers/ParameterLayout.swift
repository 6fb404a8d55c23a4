// Every parameter of a model, named and shaped, laid out in one flat buffer (as llm.c does).
// Gradients, the optimizer's moments and the weight-decay mask use the same layout, so the
// optimizer is one loop, clipping is one norm and a checkpoint is one write.
import GPTKernelCore
import GPTTensor
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Where one parameter lives in the flat buffer.
public struct ParameterSlot: Sendable, Hashable, Codable {
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
/// let parameters = ParameterBuffer(layout: layout)
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
        let slot = ParameterSlot(offset: offset, shape: shape)
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

/// The values and gradients of every parameter in a layout, each one flat, 64-byte aligned
/// buffer. Layers read `values` and add into `gradients` through their slots.
public final class ParameterBuffer: @unchecked Sendable {
    /// The layout the buffers follow.
    public let layout: ParameterLayout
    /// All parameter values.
    public let values: UnsafeMutablePointer<Float>
    /// All gradients, the same layout as `values`.
    public let gradients: UnsafeMutablePointer<Float>
    /// The `calloc` block holding `gradients`.
    private let gradientBlock: UnsafeMutableRawPointer

    /// Zero-filled values and gradients for `layout`.
    ///
    /// The gradients come from `calloc`, which for large blocks maps fresh zero pages without
    /// writing them: a model that is never trained keeps no resident memory for its gradients.
    public init(layout: ParameterLayout) {
        self.layout = layout
        let n = max(1, layout.count)
        values = AlignedMemory.allocateFloats(count: n)
        values.initialize(repeating: 0, count: n)
        guard let block = calloc(n * 4 + 64, 1) else { preconditionFailure("ParameterBuffer: cannot allocate \(n) gradients") }
        gradientBlock = block
        gradients = (block + (64 - Int(bitPattern: block) % 64) % 64).bindMemory(to: Float.self, capacity: n)
    }

    deinit {
        AlignedMemory.deallocate(values)
        free(gradientBlock)
    }

    /// Sets every gradient to zero.
    public func zeroGradients() { gradients.update(repeating: 0, count: max(1, layout.count)) }

    /// The value of a parameter as a tensor (a copy).
    public func value(of slot: ParameterSlot) -> Tensor { copy(values + slot.offset, slot) }

    /// The gradient of a parameter as a tensor (a copy).
    public func gradient(of slot: ParameterSlot) -> Tensor { copy(gradients + slot.offset, slot) }

    /// Overwrites a parameter's value.
    /// - Throws: `LayerError.shapeMismatch` if the tensor's element count differs from the slot's.
    public func setValue(_ tensor: Tensor, of slot: ParameterSlot) throws {
        guard tensor.count == slot.count else {
            throw LayerError.shapeMismatch("tensor \(tensor.shape) for parameter of shape \(slot.shape)")
        }
        tensor.withUnsafeBufferPointer { (values + slot.offset).update(from: $0.baseAddress!, count: slot.count) }
    }

    private func copy(_ source: UnsafePointer<Float>, _ slot: ParameterSlot) -> Tensor {
        var tensor = Tensor(zeros: slot.shape)
        tensor.withUnsafeMutableBufferPointer { $0.baseAddress!.update(from: source, count: slot.count) }
        return tensor
    }
}
