// The immutable weights of a model: every parameter of a layout as a read-only matrix view into
// memory that nothing writes (an allocation filled once, or a file mapped read-only).
import GPTTensor

/// The weights of a model: for every entry of a `ParameterLayout`, a read-only `WeightMatrix`
/// (a vector `[n]` is a `1 × n` matrix) in a storage format, backed by `WeightMemory` that no
/// API writes after creation. Layers ask it for `matrix(_:)` and multiply through that; they
/// never index weight memory themselves.
///
/// A store is genuinely `Sendable`: any number of sessions and workspaces on any tasks read one
/// store at once. Training never writes into a store either: a `Trainer` updates its own
/// `ParameterBuffer` and publishes new stores (snapshots) from it.
///
/// ```swift
/// let store = WeightStore(copying: parameters)        // a snapshot of mutable values
/// let w = store.matrix(linear.weight)                 // [out, in]
/// w.multiply(x, rows: 4, into: y)                     // y [4, out] = x [4, in] · Wᵀ
/// ```
public final class WeightStore: @unchecked Sendable {
    // @unchecked: the stored views hold raw pointers, which Swift cannot prove immutable; they
    // point only into `memory` (never written after its initialiser) or, for the package-only
    // borrowing initialiser, into a trainer's buffer that the trainer alone uses.
    /// The parameters' names, shapes and roles.
    public let layout: ParameterLayout
    private let matrices: [WeightMatrix]
    private let owners: [AnyObject]

    /// A store over `matrices` (one per layout entry, in order) whose bytes live in `memory`.
    /// - Throws: `LayerError.shapeMismatch` if a matrix's size disagrees with its entry.
    public init(layout: ParameterLayout, matrices: [WeightMatrix], memory: [WeightMemory]) throws {
        guard matrices.count == layout.entries.count else {
            throw LayerError.shapeMismatch("\(matrices.count) weight matrices for \(layout.entries.count) parameters")
        }
        for (entry, matrix) in zip(layout.entries, matrices) {
            let (outputs, inputs) = Self.matrixShape(entry.slot.shape)
            guard matrix.outputs == outputs, matrix.inputs == inputs else {
                throw LayerError.shapeMismatch("\(entry.name): a \(matrix.outputs) × \(matrix.inputs) matrix for shape \(entry.slot.shape)")
            }
        }
        self.layout = layout
        self.matrices = matrices
        self.owners = memory
    }

    /// Float32 weights in `layout`'s flat form, written once by `fill` (which receives
    /// `layout.count` zeroed floats) into one aligned allocation.
    public convenience init(layout: ParameterLayout, filling fill: (UnsafeMutablePointer<Float>) throws -> Void) rethrows {
        let count = max(1, layout.count)
        let memory = try WeightMemory(floatCount: count) { values in
            values.initialize(repeating: 0, count: count)
            try fill(values)
        }
        // The views fit their entries by construction.
        try! self.init(layout: layout, matrices: Self.views(layout, base: memory.base.assumingMemoryBound(to: Float.self)),
                       memory: [memory])
    }

    /// An immutable snapshot of `parameters` (one allocation, one copy).
    public convenience init(copying parameters: ParameterBuffer) {
        self.init(layout: parameters.layout) { $0.update(from: parameters.values, count: max(1, parameters.layout.count)) }
    }

    /// A store that reads `parameters` in place, for the trainer that owns them and mutates
    /// them only between its own passes (never while a pass on this store runs).
    package init(borrowing parameters: ParameterBuffer) {
        layout = parameters.layout
        matrices = Self.views(layout, base: UnsafePointer(parameters.values))
        owners = [parameters]
    }

    /// `base`'s weights followed by `extra`'s (float32, copied once) for the entries of `layout`
    /// after `base.layout`'s: a model with adapters over weights in any format.
    /// - Throws: `LayerError.shapeMismatch` unless `layout` begins with `base.layout`'s entries
    ///   and continues with `extra.layout`'s (same names and shapes).
    public convenience init(extending base: WeightStore, layout: ParameterLayout, copying extra: ParameterBuffer) throws {
        let memory = WeightMemory(floatCount: max(1, extra.layout.count)) { $0.update(from: extra.values, count: max(1, extra.layout.count)) }
        try self.init(extending: base, layout: layout, extraLayout: extra.layout, base: memory.base.assumingMemoryBound(to: Float.self),
                      owner: memory)
    }

    /// `init(extending:layout:copying:)` reading `extra` in place: a trainer's live adapters.
    package convenience init(extending base: WeightStore, layout: ParameterLayout, borrowing extra: ParameterBuffer) throws {
        try self.init(extending: base, layout: layout, extraLayout: extra.layout, base: UnsafePointer(extra.values), owner: extra)
    }

    private init(extending store: WeightStore, layout: ParameterLayout, extraLayout: ParameterLayout, base: UnsafePointer<Float>,
                 owner: AnyObject) throws {
        let baseCount = store.layout.entries.count
        guard layout.entries.count == baseCount + extraLayout.entries.count,
              zip(layout.entries, store.layout.entries).allSatisfy({ $0.name == $1.name && $0.slot.shape == $1.slot.shape }),
              zip(layout.entries.dropFirst(baseCount), extraLayout.entries).allSatisfy({ $0.name == $1.name && $0.slot.shape == $1.slot.shape })
        else {
            throw LayerError.shapeMismatch("the extended layout is not the base layout followed by the extra one")
        }
        self.layout = layout
        matrices = store.matrices + Self.views(extraLayout, base: base)
        owners = store.owners + [owner]
    }

    /// The store of the first `count` entries of `layout` (`prefix`): the base under adapters.
    public func prefix(_ layout: ParameterLayout) -> WeightStore {
        WeightStore(layout: layout, matrices: Array(matrices.prefix(layout.entries.count)), owners: owners)
    }

    private init(layout: ParameterLayout, matrices: [WeightMatrix], owners: [AnyObject]) {
        self.layout = layout
        self.matrices = matrices
        self.owners = owners
    }

    /// Float32 views of a flat buffer in `layout` (the layout GPTKit allocates), one per entry.
    public static func views(_ layout: ParameterLayout, base: UnsafePointer<Float>) -> [WeightMatrix] {
        layout.entries.map { entry in
            let (outputs, inputs) = matrixShape(entry.slot.shape)
            return WeightMatrix(base: UnsafeRawPointer(base + entry.slot.offset), format: .float32, outputs: outputs, inputs: inputs)
        }
    }

    /// `[out, in]` for a matrix, `(1, n)` for a vector, `(first, rest)` for higher ranks.
    public static func matrixShape(_ shape: [Int]) -> (outputs: Int, inputs: Int) {
        shape.count == 1 ? (1, shape[0]) : (shape[0], shape.dropFirst().reduce(1, *))
    }

    // MARK: - Access

    /// The matrix of a parameter.
    public func matrix(_ slot: ParameterSlot) -> WeightMatrix { matrices[slot.index] }

    /// The float32 elements of a parameter stored untransposed (norm gains, biases, position
    /// tables: always float32, checked by every loader).
    public func vector(_ slot: ParameterSlot) -> UnsafePointer<Float> {
        let matrix = matrices[slot.index]
        precondition(!matrix.isTransposed || matrix.outputs == 1, "WeightStore: a transposed tensor read as a vector")
        return matrix.floats
    }

    /// Whether a parameter is read in place from a memory-mapped file (no copy was made).
    public func isMapped(_ slot: ParameterSlot) -> Bool {
        let base = matrices[slot.index].base
        return owners.contains { ($0 as? WeightMemory).map { $0.isMapped && $0.contains(base) } ?? false }
    }

    /// The storage format of each parameter, in layout order.
    public var formats: [WeightFormat] { matrices.map(\.format) }

    /// The parameters holding NaN or ±infinity, in layout order, with the number of such
    /// elements in each; empty for a healthy model. Reads every float32 parameter once (a
    /// linear scan, ~50 ms per GB); parameters in block formats are skipped.
    ///
    /// ```swift
    /// for bad in model.weights.nonFiniteParameters() { print("\(bad.name): \(bad.count) non-finite") }
    /// ```
    public func nonFiniteParameters() -> [(name: String, count: Int)] {
        zip(layout.entries, matrices).compactMap { entry, matrix in
            guard matrix.format == .float32 else { return nil }
            let count = Kernels.nonFiniteCount(matrix.floats, count: matrix.outputs * matrix.inputs)
            return count > 0 ? (entry.name, count) : nil
        }
    }

    /// Writes a parameter's value in the layout's orientation (`[out, in]`) into `target`, as
    /// float32 (a half-precision or block-quantized weight dequantized exactly).
    /// - Throws: `LayerError.invalidConfiguration` for a transposed weight not in float32.
    public func copyValue(of slot: ParameterSlot, into target: UnsafeMutablePointer<Float>) throws {
        let matrix = matrices[slot.index]
        guard matrix.format == .float32 else {
            guard !matrix.isTransposed else {
                throw LayerError.invalidConfiguration("\(layout.entries[slot.index].name) is stored transposed as \(matrix.format.rawValue)")
            }
            Kernels.dequantize(matrix.format, matrix.base, count: slot.count, into: target)
            return
        }
        if matrix.isTransposed {
            Kernels.transpose(matrix.floats, rows: matrix.inputs, columns: matrix.outputs, into: target)
        } else {
            target.update(from: matrix.floats, count: slot.count)
        }
    }

    /// A copy of a parameter's value (shape as in the layout).
    /// - Throws: `LayerError.invalidConfiguration` for a format without kernels.
    public func value(of slot: ParameterSlot) throws -> Tensor {
        var tensor = Tensor(zeros: slot.shape)
        try tensor.withUnsafeMutableBufferPointer { try copyValue(of: slot, into: $0.baseAddress!) }
        return tensor
    }
}
