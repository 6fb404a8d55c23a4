// The bytes behind immutable weights: an aligned allocation written once, or a read-only
// memory map of a file. Either way nothing writes to them after initialisation.
import Foundation
import GPTFiles
import GPTKernelCore
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An immutable block of weight bytes: allocated and filled once by its initialiser, or mapped
/// read-only from a file (`PROT_READ`, `MAP_PRIVATE`), so loading costs no copy and no extra
/// resident memory until pages are touched.
///
/// It is `Sendable` because no API writes to it after `init` returns: any number of tasks may
/// read it at once.
///
/// ```swift
/// let memory = try WeightMemory(mapping: URL(fileURLWithPath: "model.safetensors"))
/// let owned = WeightMemory(floatCount: 1024) { $0.initialize(repeating: 0, count: 1024) }
/// ```
public final class WeightMemory: @unchecked Sendable {
    /// The first byte (64-byte aligned for allocations; page-aligned for maps).
    public let base: UnsafeRawPointer
    /// The number of bytes.
    public let byteCount: Int
    /// Whether the bytes are a read-only map of a file (rather than an allocation).
    public let isMapped: Bool

    /// Allocates `floatCount` 64-byte aligned floats and lets `initialize` write them (every
    /// one); the memory is read-only afterwards.
    public init(floatCount: Int, initialize: (UnsafeMutablePointer<Float>) throws -> Void) rethrows {
        let pointer = AlignedMemory.allocateFloats(count: max(1, floatCount))
        do { try initialize(pointer) } catch {
            AlignedMemory.deallocate(pointer)
            throw error
        }
        base = UnsafeRawPointer(pointer)
        byteCount = floatCount * 4
        isMapped = false
    }

    /// Maps `url` read-only.
    /// - Throws: `TensorError.io` naming the file if it cannot be opened or mapped.
    public init(mapping url: URL) throws {
        let path = url.path
        let descriptor = open(path, O_RDONLY)
        guard descriptor >= 0 else { throw TensorError.io("cannot open \(path): \(Files.reason(errno: errno))") }
        defer { close(descriptor) }
        var status = stat()
        guard fstat(descriptor, &status) == 0 else { throw TensorError.io("cannot read \(path): \(Files.reason(errno: errno))") }
        guard (status.st_mode & S_IFMT) == S_IFREG else {
            throw TensorError.io("cannot map \(path): " + (Files.problemReading(url) ?? "is not a regular file"))
        }
        let size = Int(status.st_size)
        guard size > 0 else { throw TensorError.malformedFile("\(url.lastPathComponent) is empty") }
        guard let mapped = mmap(nil, size, PROT_READ, MAP_PRIVATE, descriptor, 0), mapped != MAP_FAILED else {
            throw TensorError.io("cannot map \(path): \(Files.reason(errno: errno))")
        }
        base = UnsafeRawPointer(mapped)
        byteCount = size
        isMapped = true
    }

    deinit {
        if isMapped {
            munmap(UnsafeMutableRawPointer(mutating: base), byteCount)
        } else {
            AlignedMemory.deallocate(UnsafeMutablePointer(mutating: base.assumingMemoryBound(to: Float.self)))
        }
    }

    /// Whether `pointer` lies inside these bytes.
    public func contains(_ pointer: UnsafeRawPointer) -> Bool { pointer >= base && pointer < base + byteCount }

    /// The bytes as a buffer.
    public var bytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: base, count: byteCount) }
}
