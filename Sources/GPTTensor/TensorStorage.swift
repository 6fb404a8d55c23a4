import GPTKernelCore

// The memory behind tensors: one 64-byte aligned block of floats, owned by a final class so
// that `Tensor` can share it between views and copy it on write.

/// An aligned, fixed-size block of `Float`s. Tensors share one storage between views and copy it
/// before writing when it is shared (copy-on-write).
public final class TensorStorage: @unchecked Sendable {
    /// The first element. Aligned to 64 bytes (2 MiB, on huge pages, when large: see
    /// `AlignedMemory`).
    public let base: UnsafeMutablePointer<Float>
    /// The number of elements.
    public let count: Int

    /// Allocates `count` elements set to zero.
    public init(zeros count: Int) {
        precondition(count >= 0, "TensorStorage: negative count")
        self.count = count
        base = AlignedMemory.allocateFloats(count: count)
        base.initialize(repeating: 0, count: count)
    }

    /// Allocates `count` elements without setting them; the caller writes every one.
    init(uninitializedCount count: Int) {
        self.count = count
        base = AlignedMemory.allocateFloats(count: count)
    }

    /// A new storage holding a copy of `count` elements starting at `source`.
    convenience init(copying source: UnsafePointer<Float>, count: Int) {
        self.init(uninitializedCount: count)
        base.initialize(from: source, count: count)
    }

    deinit { AlignedMemory.deallocate(base) }
}
