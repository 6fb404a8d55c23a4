// Mutable training state in the flat layout: parameter values (the trainer's master copy) and
// gradients. Neither is Sendable: each belongs to one trainer or workspace, on one task.
import GPTKernelCore
import GPTTensor
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The mutable FP32 values of every parameter of a layout, in one 64-byte aligned flat buffer:
/// the master weights a `Trainer` updates. Inference never reads it directly: it reads an
/// immutable `WeightStore` snapshot (`WeightStore(copying:)`).
///
/// ```swift
/// let parameters = ParameterBuffer(layout: layout)
/// try parameters.setValue(Tensor(zeros: [4, 8]), of: linear.weight)
/// let snapshot = WeightStore(copying: parameters)
/// ```
public final class ParameterBuffer {
    /// The layout the buffer follows.
    public let layout: ParameterLayout
    /// All parameter values (`layout.count` floats, zero padding between entries).
    public let values: UnsafeMutablePointer<Float>

    /// Zero-filled values for `layout`.
    public init(layout: ParameterLayout) {
        self.layout = layout
        let n = max(1, layout.count)
        values = AlignedMemory.allocateFloats(count: n)
        values.initialize(repeating: 0, count: n)
    }

    /// A mutable copy of the float32 weights in `store` (the layouts must be equal).
    /// - Throws: `LayerError.invalidConfiguration` if a stored tensor is not float32.
    public convenience init(copying store: WeightStore) throws {
        self.init(layout: store.layout)
        for entry in layout.entries {
            try store.copyValue(of: entry.slot, into: values + entry.slot.offset)
        }
    }

    deinit { AlignedMemory.deallocate(values) }

    /// The value of a parameter as a tensor (a copy).
    public func value(of slot: ParameterSlot) -> Tensor { Tensor(copying: values + slot.offset, shape: slot.shape) }

    /// Overwrites a parameter's value.
    /// - Throws: `LayerError.shapeMismatch` if the tensor's element count differs from the slot's.
    public func setValue(_ tensor: Tensor, of slot: ParameterSlot) throws {
        guard tensor.count == slot.count else {
            throw LayerError.shapeMismatch("tensor \(tensor.shape) for parameter of shape \(slot.shape)")
        }
        tensor.withUnsafeBufferPointer { (values + slot.offset).update(from: $0.baseAddress!, count: slot.count) }
    }
}

/// The gradients of a layout's parameters — all of them, or only the trainable ones when the
/// rest are frozen (adapters over a frozen base: no memory for the base's gradients, and no
/// work computing them). One per workspace, so several workspaces on one model compute
/// gradients at once without sharing memory. Layers add into it (skipping what it does not
/// `track`); `zero()` clears it between steps.
///
/// The tracked parameters lie in `values` in layout order, each at a multiple of 16 floats, as
/// a `ParameterLayout` of just those entries places them: an optimizer over such a layout
/// steps `values` directly.
///
/// The floats come from `calloc`, which for large blocks maps fresh zero pages without writing
/// them: a workspace that never runs backward keeps no resident memory for its gradients.
public final class GradientBuffer {
    /// The layout the buffer follows.
    public let layout: ParameterLayout
    /// The tracked gradients (`count` floats).
    public let values: UnsafeMutablePointer<Float>
    /// Per layout entry: where its gradient starts in `values`, or -1 when frozen.
    private let offsets: [Int]
    /// The floats of `values` (at least 1).
    public let count: Int
    private let block: UnsafeMutableRawPointer

    /// Zero gradients for every parameter of `layout`.
    public convenience init(layout: ParameterLayout) {
        self.init(layout: layout, tracking: nil)
    }

    /// Zero gradients for the parameters at `trackedIndices` (entry indices) only; the others
    /// are frozen. Nil tracks every parameter.
    public init(layout: ParameterLayout, tracking trackedIndices: Set<Int>?) {
        self.layout = layout
        var offsets = [Int](repeating: -1, count: layout.entries.count), total = 0
        for entry in layout.entries where trackedIndices?.contains(entry.slot.index) ?? true {
            let offset = trackedIndices == nil ? entry.slot.offset : (total + 15) / 16 * 16
            offsets[entry.slot.index] = offset
            total = offset + entry.slot.count
        }
        self.offsets = offsets
        let n = max(1, trackedIndices == nil ? layout.count : total)
        count = n
        guard let block = calloc(n * 4 + 64, 1) else { preconditionFailure("GradientBuffer: cannot allocate \(n) gradients") }
        self.block = block
        values = (block + (64 - Int(bitPattern: block) % 64) % 64).bindMemory(to: Float.self, capacity: n)
    }

    deinit { free(block) }

    /// Whether the buffer holds the gradient of `slot` (false: the parameter is frozen).
    public func tracks(_ slot: ParameterSlot) -> Bool { offsets[slot.index] >= 0 }

    /// Whether every parameter is tracked.
    public var tracksEverything: Bool { !offsets.contains(-1) }

    /// Sets every gradient to zero.
    public func zero() { values.update(repeating: 0, count: count) }

    /// The gradient of a parameter as a tensor (a copy; zeros for a frozen parameter).
    public func gradient(of slot: ParameterSlot) -> Tensor {
        tracks(slot) ? Tensor(copying: values + offsets[slot.index], shape: slot.shape) : Tensor(zeros: slot.shape)
    }

    /// Where a tracked parameter's gradient starts.
    public subscript(slot: ParameterSlot) -> UnsafeMutablePointer<Float> {
        precondition(tracks(slot), "GradientBuffer: the parameter \(layout.entries[slot.index].name) is frozen")
        return values + offsets[slot.index]
    }

    /// `‖g‖₂` over every tracked gradient (summed in a fixed order).
    public var norm: Float { Float(Kernels.squaredNorm(values, count: count).squareRoot()) }

    /// Scales the gradients so their norm is at most `maximumNorm` (as
    /// `torch.nn.utils.clip_grad_norm_`: factor `max / (norm + 1e-6)`), returning the norm before.
    @discardableResult
    public func clip(maximumNorm: Float) -> Float {
        let norm = self.norm
        if maximumNorm > 0 && norm > maximumNorm {
            Kernels.scale(values, by: maximumNorm / (norm + 1e-6), count: count)
        }
        return norm
    }

    /// Multiplies every gradient by `factor`.
    public func scale(by factor: Float) { Kernels.scale(values, by: factor, count: count) }

    /// Adds `other`'s gradients into these (the layouts and tracked parameters must be equal).
    public func add(_ other: GradientBuffer) {
        precondition(other.count == count && other.offsets == offsets, "GradientBuffer: adding gradients of another layout")
        Kernels.add(values, other.values, into: values, count: count)
    }
}
