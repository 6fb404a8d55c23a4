// Work splitting across cores, and reusable scratch memory for kernels.
import Dispatch
import Synchronization

// MARK: - Thread count

/// How many threads the parallel kernels use, and how they run work.
///
/// Every parallel kernel splits its output into disjoint blocks and computes each element with a
/// fixed order of operations, so results are bit-identical for any thread count.
///
/// ```swift
/// Parallel.threadCount = 1   // run every kernel on the calling thread
/// ```
public enum Parallel {
    @usableFromInline
    static let storedThreadCount = Atomic<Int>(0)

    /// The number of threads kernels split their work across (at least 1). Defaults to the
    /// `GPTKIT_THREADS`, else the number of active processors. Setting a value below 1 restores
    /// the default.
    public static var threadCount: Int {
        get {
            let stored = storedThreadCount.load(ordering: .relaxed)
            return stored > 0 ? stored : environmentThreadCount ?? defaultThreadCount
        }
        set { storedThreadCount.store(max(0, newValue), ordering: .relaxed) }
    }

    /// The number of active processors.
    public static let defaultThreadCount: Int = max(1, ProcessInfoLite.activeProcessorCount)

    /// `GPTKIT_THREADS` when it is a whole number from 1 to 1024 (the default of `threadCount`),
    /// else nil.
    public static let environmentThreadCount: Int? = {
        guard let text = getenv("GPTKIT_THREADS").map({ String(cString: $0) }), let value = Int(text), (1...1024).contains(value)
        else { return nil }
        return value
    }()

    /// Runs `body(0) ... body(taskCount - 1)`, in parallel when `taskCount > 1`.
    ///
    /// Tasks must write disjoint memory. With one task the body runs on the calling thread. On
    /// Linux the tasks run on a persistent pool whose idle workers spin for 200 µs before they
    /// park, so back-to-back kernel calls skip the thread wake-up (see WorkerPool.swift for the
    /// measurements); a call made while the pool is busy (from another thread, or nested) uses
    /// `DispatchQueue.concurrentPerform`, as every call does on other systems.
    @inlinable
    public static func forEachTask(_ taskCount: Int, _ body: (Int) -> Void) {
        if taskCount <= 1 {
            if taskCount == 1 { body(0) }
            return
        }
        #if canImport(Glibc)
        if let pool = WorkerPool.shared, pool.run(taskCount, body) { return }
        #endif
        // The tasks finish before this call returns, so the closure never outlives the call; the
        // caller guarantees that tasks touch disjoint memory.
        withoutActuallyEscaping(body) { escapable in
            nonisolated(unsafe) let work = escapable
            DispatchQueue.concurrentPerform(iterations: taskCount) { work($0) }
        }
    }
}

/// The processor count without importing Foundation into the kernel core.
@usableFromInline
enum ProcessInfoLite {
    static var activeProcessorCount: Int {
        #if canImport(Glibc)
        return Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))
        #elseif canImport(Darwin)
        return Int(sysconf(_SC_NPROCESSORS_ONLN))
        #else
        return 1
        #endif
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// MARK: - Scratch memory

/// A 64-byte aligned block of floats that kernels borrow from `ScratchPool`.
public final class ScratchBuffer: @unchecked Sendable {
    /// The first float of the block.
    public let pointer: UnsafeMutablePointer<Float>
    /// How many floats the block holds.
    public let capacity: Int

    init(capacity: Int) {
        self.capacity = capacity
        pointer = AlignedMemory.allocateFloats(count: capacity)
    }

    deinit { AlignedMemory.deallocate(pointer) }
}

/// A process-wide pool of scratch buffers, so that kernels (packing buffers of SGEMM, for
/// example) allocate nothing once warmed up. Safe to use from any number of threads at once.
public final class ScratchPool: Sendable {
    /// The shared pool.
    public static let shared = ScratchPool()

    private let free = Locked<[ScratchBuffer]>([])

    /// Takes a buffer of at least `capacity` floats out of the pool (or makes one).
    public func checkOut(capacity: Int) -> ScratchBuffer {
        let found: ScratchBuffer? = free.withLock { buffers in
            if let index = buffers.firstIndex(where: { $0.capacity >= capacity }) {
                return buffers.remove(at: index)
            }
            return nil
        }
        return found ?? ScratchBuffer(capacity: capacity)
    }

    /// Returns a buffer to the pool. The pool keeps at most 16, the largest ones.
    public func checkIn(_ buffer: ScratchBuffer) {
        free.withLock { buffers in
            buffers.append(buffer)
            if buffers.count > 16 {
                buffers.sort { $0.capacity > $1.capacity }
                buffers.removeLast()
            }
        }
    }

    /// Runs `body` with `count` buffers of at least `capacity` floats each.
    public func withBuffers<R>(
        count: Int, capacity: Int, _ body: ([UnsafeMutablePointer<Float>]) throws -> R
    ) rethrows -> R {
        let buffers = (0..<count).map { _ in checkOut(capacity: capacity) }
        defer { buffers.forEach(checkIn) }
        return try body(buffers.map(\.pointer))
    }
}
