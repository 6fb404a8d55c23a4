// Tensor: an n-dimensional array of Float32, row-major and contiguous, with value semantics.

/// An n-dimensional array of `Float`, row-major and contiguous, with value semantics.
///
/// A tensor is a shape plus an offset into shared, copy-on-write `TensorStorage`. Views
/// (`slice(_:)`, `reshaped(_:)`, `subscript(row:)`) share storage without copying; writing to a
/// tensor whose storage is shared copies its elements first, so no write is ever seen through
/// another value.
///
/// ```swift
/// var x = Tensor(zeros: [2, 3])
/// x[1, 2] = 5
/// let y = try x.reshaped([3, 2])   // a view: no copy
/// print(y[2, 1])                   // 5.0
/// ```
public struct Tensor: Sendable {
    /// The size of each dimension, outermost first.
    public private(set) var shape: [Int]
    @usableFromInline var storage: TensorStorage
    @usableFromInline var offset: Int

    /// The number of elements (the product of the shape; 1 for a scalar of shape `[]`).
    public var count: Int { shape.reduce(1, *) }
    /// The number of dimensions.
    public var rank: Int { shape.count }

    init(shape: [Int], storage: TensorStorage, offset: Int) {
        self.shape = shape
        self.storage = storage
        self.offset = offset
    }

    // MARK: - Creation

    /// A tensor of the given shape filled with zeros.
    public init(zeros shape: [Int]) {
        precondition(shape.allSatisfy { $0 >= 0 }, "Tensor: negative dimension in \(shape)")
        self.init(shape: shape, storage: TensorStorage(zeros: shape.reduce(1, *)), offset: 0)
    }

    /// A tensor of the given shape with every element equal to `value`.
    public init(shape: [Int], repeating value: Float) {
        self.init(zeros: shape)
        if value != 0 { storage.base.update(repeating: value, count: count) }
    }

    /// A tensor of `shape` holding a copy of the `shape.reduce(1, *)` floats at `source`.
    public init(copying source: UnsafePointer<Float>, shape: [Int]) {
        precondition(shape.allSatisfy { $0 >= 0 }, "Tensor: negative dimension in \(shape)")
        self.init(shape: shape, storage: TensorStorage(copying: source, count: shape.reduce(1, *)), offset: 0)
    }

    /// A tensor holding `scalars` in row-major order.
    /// - Throws: `TensorError.invalidShape` when the shape has a negative dimension or its element
    ///   count differs from `scalars.count`.
    public init(shape: [Int], scalars: [Float]) throws {
        guard shape.allSatisfy({ $0 >= 0 }) else {
            throw TensorError.invalidShape("negative dimension in \(shape)")
        }
        guard shape.reduce(1, *) == scalars.count else {
            throw TensorError.invalidShape("shape \(shape) holds \(shape.reduce(1, *)) elements, got \(scalars.count)")
        }
        let storage = scalars.withUnsafeBufferPointer { buffer in
            TensorStorage(copying: buffer.baseAddress ?? UnsafePointer(bitPattern: 64)!, count: buffer.count)
        }
        self.init(shape: shape, storage: storage, offset: 0)
    }

    /// Samples from a normal distribution, using `generator` (same seed, same tensor).
    public init(randomNormal shape: [Int], mean: Float = 0, standardDeviation: Float = 1,
                generator: inout RandomGenerator) {
        self.init(zeros: shape)
        Kernels.fillNormal(storage.base, count: count, mean: mean, standardDeviation: standardDeviation, generator: &generator)
    }

    /// Samples uniformly from `range` (lower bound included, upper excluded).
    public init(randomUniform shape: [Int], in range: Range<Float> = 0..<1, generator: inout RandomGenerator) {
        self.init(zeros: shape)
        let n = count
        let base = storage.base
        let width = range.upperBound - range.lowerBound
        for i in 0..<n { base[i] = range.lowerBound + width * generator.nextFloat() }
    }

    // MARK: - Elements

    /// The elements in row-major order.
    public var scalars: [Float] { withUnsafeBufferPointer { Array($0) } }

    /// The element at a full index (one coordinate per dimension), for tests and small tools.
    /// Hot code uses `withUnsafeBufferPointer` instead.
    public subscript(_ indices: Int...) -> Float {
        get { storage.base[offset + linearIndex(indices)] }
        set {
            let index = linearIndex(indices)
            makeUnique()
            storage.base[offset + index] = newValue
        }
    }

    private func linearIndex(_ indices: [Int]) -> Int {
        precondition(indices.count == shape.count, "Tensor: \(indices.count) indices for shape \(shape)")
        var index = 0
        for (i, dimension) in zip(indices, shape) {
            precondition(i >= 0 && i < dimension, "Tensor: index \(indices) out of bounds for shape \(shape)")
            index = index * dimension + i
        }
        return index
    }

    // MARK: - Views

    /// Rows `range` of the first dimension, as a view sharing storage.
    public func slice(_ range: Range<Int>) -> Tensor {
        precondition(!shape.isEmpty, "Tensor: cannot slice a scalar")
        precondition(range.lowerBound >= 0 && range.upperBound <= shape[0], "Tensor: slice \(range) out of 0..<\(shape[0])")
        let rowSize = shape.dropFirst().reduce(1, *)
        var newShape = shape
        newShape[0] = range.count
        return Tensor(shape: newShape, storage: storage, offset: offset + range.lowerBound * rowSize)
    }

    /// Entry `index` of the first dimension (shape without the first dimension), as a view.
    public subscript(row index: Int) -> Tensor {
        var view = slice(index..<(index + 1))
        view.shape.removeFirst()
        return view
    }

    /// The same elements with another shape, as a view sharing storage. One dimension may be -1
    /// and is then inferred.
    /// - Throws: `TensorError.invalidShape` if the element counts differ.
    public func reshaped(_ newShape: [Int]) throws -> Tensor {
        var resolved = newShape
        if let inferred = newShape.firstIndex(of: -1) {
            let known = newShape.enumerated().filter { $0.offset != inferred }.map(\.element).reduce(1, *)
            guard known > 0, count % known == 0 else {
                throw TensorError.invalidShape("cannot reshape \(shape) to \(newShape)")
            }
            resolved[inferred] = count / known
        }
        guard resolved.allSatisfy({ $0 >= 0 }), resolved.reduce(1, *) == count else {
            throw TensorError.invalidShape("cannot reshape \(shape) (\(count) elements) to \(newShape)")
        }
        return Tensor(shape: resolved, storage: storage, offset: offset)
    }

    // MARK: - Raw access

    /// Calls `body` with the elements, read-only, in row-major order.
    @inlinable
    public func withUnsafeBufferPointer<R>(_ body: (UnsafeBufferPointer<Float>) throws -> R) rethrows -> R {
        try body(UnsafeBufferPointer(start: storage.base + offset, count: shapeCount))
    }

    /// Calls `body` with the elements, writable; copies them first if the storage is shared.
    @inlinable
    public mutating func withUnsafeMutableBufferPointer<R>(
        _ body: (UnsafeMutableBufferPointer<Float>) throws -> R
    ) rethrows -> R {
        makeUnique()
        return try body(UnsafeMutableBufferPointer(start: storage.base + offset, count: shapeCount))
    }

    @usableFromInline var shapeCount: Int { shape.reduce(1, *) }

    /// Gives this tensor storage of its own if the current one is shared.
    @usableFromInline
    mutating func makeUnique() {
        if !isKnownUniquelyReferenced(&storage) {
            storage = TensorStorage(copying: storage.base + offset, count: shapeCount)
            offset = 0
        }
    }

    /// Whether two tensors share storage (for tests of view and copy-on-write semantics).
    public func sharesStorage(with other: Tensor) -> Bool { storage === other.storage }
}

// MARK: - Comparison

extension Tensor: Equatable {
    /// Same shape and exactly equal elements.
    public static func == (lhs: Tensor, rhs: Tensor) -> Bool {
        lhs.shape == rhs.shape && lhs.withUnsafeBufferPointer { l in
            rhs.withUnsafeBufferPointer { r in l.elementsEqual(r) }
        }
    }
}

extension Tensor {
    /// Whether both tensors have the same shape and every pair of elements satisfies
    /// `|a - b| <= absoluteTolerance + relativeTolerance * |b|` (numpy's `allclose`, `other` as
    /// the reference). NaNs are never close.
    public func isApproximatelyEqual(
        to other: Tensor, relativeTolerance: Float = 1e-5, absoluteTolerance: Float = 1e-6
    ) -> Bool {
        guard shape == other.shape else { return false }
        return withUnsafeBufferPointer { a in
            other.withUnsafeBufferPointer { b in
                zip(a, b).allSatisfy { abs($0 - $1) <= absoluteTolerance + relativeTolerance * abs($1) }
            }
        }
    }

    /// The largest `|a - b|` over all elements (shapes must hold the same count).
    public func maximumAbsoluteDifference(to other: Tensor) -> Float {
        precondition(count == other.count, "Tensor: comparing \(shape) with \(other.shape)")
        return withUnsafeBufferPointer { a in
            other.withUnsafeBufferPointer { b in
                zip(a, b).reduce(0) { max($0, abs($1.0 - $1.1)) }
            }
        }
    }
}

extension Tensor: CustomStringConvertible {
    /// The shape and the first few elements.
    public var description: String {
        let preview = withUnsafeBufferPointer { $0.prefix(8).map { "\($0)" }.joined(separator: ", ") }
        return "Tensor(shape: \(shape), [\(preview)\(count > 8 ? ", …" : "")])"
    }
}
