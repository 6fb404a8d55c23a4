// Aligned memory for kernel operands, backed by transparent huge pages when large.
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Allocation of the float blocks that kernels stream through: tensors, parameters, activations
/// and packing buffers.
///
/// Every block is aligned to 64 bytes (a cache line, and a whole AVX-512 vector). On Linux, a
/// block of at least ``hugePageThreshold`` bytes is aligned to 2 MiB and marked
/// `MADV_HUGEPAGE`, so the kernel backs it with 2 MiB pages where transparent huge pages are
/// enabled in `madvise` mode (the default of most distributions). With 4 KiB pages, a 256 ×
/// 50257 output (the GPT-2 logits) spans 12,500 pages and an SGEMM that walks its rows misses
/// the TLB constantly; numpy marks its large arrays the same way.
///
/// ```swift
/// let block = AlignedMemory.allocateFloats(count: 1 << 20)
/// defer { AlignedMemory.deallocate(block) }
/// ```
public enum AlignedMemory {
    /// Blocks of at least this many bytes are aligned to 2 MiB and marked for huge pages.
    public static let hugePageThreshold = 4 << 20

    /// Allocates `count` uninitialised floats (at least one), aligned as described above.
    @inlinable
    public static func allocateFloats(count: Int) -> UnsafeMutablePointer<Float> {
        let bytes = max(1, count) &* 4
        #if os(Linux)
        if bytes >= hugePageThreshold {
            let huge = 2 << 20
            let raw = UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: huge)
            // Advice only: a kernel without transparent huge pages ignores or refuses it.
            _ = madvise(raw, bytes, Int32(MADV_HUGEPAGE))
            return raw.bindMemory(to: Float.self, capacity: max(1, count))
        }
        #endif
        return UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: 64)
            .bindMemory(to: Float.self, capacity: max(1, count))
    }

    /// Frees a block from ``allocateFloats(count:)``.
    @inlinable
    public static func deallocate(_ block: UnsafeMutablePointer<Float>) {
        UnsafeMutableRawPointer(block).deallocate()
    }
}
