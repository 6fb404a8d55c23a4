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

/// The gradient of every parameter of a layout, in the same flat layout: one per workspace, so
/// several workspaces on one model compute gradients at once without sharing memory. Layers
/// add into it; `zero()` clears it between steps.
///
/// The floats come from `calloc`, which for large blocks maps fresh zero pages without writing
/// them: a workspace that never runs backward keeps no resident memory for its gradients.
public final class GradientBuffer {
    /// The layout the buffer follows.
    public let layout: ParameterLayout
    /// All gradients (`layout.count` floats).
    public let values: UnsafeMutablePointer<Float>
    private let block: UnsafeMutableRawPointer

    /// Zero gradients for `layout`.
    public init(layout: ParameterLayout) {
        self.layout = layout
        let n = max(1, layout.count)
        guard let block = calloc(n * 4 + 64, 1) else { preconditionFailure("GradientBuffer: cannot allocate \(n) gradients") }
        self.block = block
        values = (block + (64 - Int(bitPattern: block) % 64) % 64).bindMemory(to: Float.self, capacity: n)
    }

    deinit { free(block) }

    /// The number of floats (the layout's count, at least 1).
    public var count: Int { max(1, layout.count) }

    /// Sets every gradient to zero.
    public func zero() { values.update(repeating: 0, count: count) }

    /// The gradient of a parameter as a tensor (a copy).
    public func gradient(of slot: ParameterSlot) -> Tensor { Tensor(copying: values + slot.offset, shape: slot.shape) }

    /// Where a parameter's gradient starts.
    public subscript(slot: ParameterSlot) -> UnsafeMutablePointer<Float> { values + slot.offset }

    /// `‖g‖₂` over every gradient (summed in a fixed order).
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

    /// Adds `other`'s gradients into these (the layouts must be equal).
    public func add(_ other: GradientBuffer) {
        precondition(other.count == count, "GradientBuffer: adding gradients of another layout")
        Kernels.add(values, other.values, into: values, count: count)
    }
}
