// A value behind a pthread mutex. The standard library's `Synchronization.Mutex` is as correct,
// but on Linux its futex-based lock is invisible to ThreadSanitizer (which then reports every
// access it guards as a race: checked with a 20-line program on Swift 6.3.1), so GPTKit's own
// shared state uses this lock to keep `swift test --sanitize=thread` meaningful.
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A `Sendable` value that is only ever read or written while its mutex is held.
///
/// ```swift
/// let counts = Locked([String: Int]())
/// counts.withLock { $0["a", default: 0] += 1 }
/// ```
public final class Locked<Value: Sendable>: @unchecked Sendable {
    // @unchecked: `value` is touched only inside `withLock`, under `mutex`.
    private var value: Value
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>

    /// A lock around `value`.
    public init(_ value: Value) {
        self.value = value
        mutex = .allocate(capacity: 1)
        pthread_mutex_init(mutex, nil)
    }

    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
    }

    /// Runs `body` with exclusive access to the value.
    public func withLock<R>(_ body: (inout Value) throws -> R) rethrows -> R {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body(&value)
    }
}
