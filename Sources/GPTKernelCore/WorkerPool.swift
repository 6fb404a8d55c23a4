// A persistent pool of worker threads that spin briefly between kernel calls, then park.
//
// Why: a kernel call of ~100 µs (a GEMV over a GPT-2 weight, a small SGEMM) split over two
// threads with `DispatchQueue.concurrentPerform` loses a large share of its time waiting for the
// Dispatch worker to wake and to finish: measured on this project's 2-core Zen 3, a 2304 × 768
// GEMV ran at 58–83 GB/s through Dispatch and at 114–119 GB/s with a spinning worker in the same
// process (numpy, whose OpenBLAS threads also spin: 85–102). So idle workers here spin for
// `spinNanoseconds` after their last task, which keeps back-to-back calls (a decoding step, a
// training step's products) off the wake-up path, and then park on a condition variable, so an
// idle process costs no CPU.
//
// Protocol: the submitter publishes (generation, body, count) under the mutex and resets the claim
// word to generation << 32. Every thread, the submitter included, claims task indices by a
// compare-and-swap on that word, which succeeds only while its generation field is the job's;
// a worker that wakes late for an old job therefore can never claim a task of a newer one. The
// submitter returns once `finished` reaches the count, so the body outlives every call of it.
#if canImport(Glibc)
import Glibc
import Synchronization

/// The process-wide pool behind `Parallel.forEachTask` on Linux.
@usableFromInline
final class WorkerPool: @unchecked Sendable {
    /// One worker per active processor beyond the calling thread; nil on a single processor.
    @usableFromInline
    static let shared: WorkerPool? = Parallel.defaultThreadCount > 1
        ? WorkerPool(workers: Parallel.defaultThreadCount - 1) : nil

    /// How long an idle worker spins before it parks.
    static let spinNanoseconds: UInt64 = 200_000

    let workerCount: Int
    private let busy = Atomic<Bool>(false)
    private let claim = Atomic<Int>(0)
    private let finished = Atomic<Int>(0)
    private let generation = Atomic<Int>(0)
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    private let condition: UnsafeMutablePointer<pthread_cond_t>
    // Guarded by `mutex`.
    private var jobGeneration = 0
    private var jobBody: UnsafeRawPointer?
    private var jobCount = 0
    private var sleepers = 0

    private init?(workers: Int) {
        workerCount = workers
        mutex = .allocate(capacity: 1)
        condition = .allocate(capacity: 1)
        pthread_mutex_init(mutex, nil)
        pthread_cond_init(condition, nil)
        for _ in 0..<workers {
            var thread = pthread_t()
            // The pool lives for the whole process; each worker holds a reference to it.
            let context = Unmanaged.passRetained(self).toOpaque()
            let started = pthread_create(&thread, nil, { raw in
                Unmanaged<WorkerPool>.fromOpaque(raw!).takeUnretainedValue().workerLoop()
                return nil
            }, context)
            guard started == 0 else {
                Unmanaged<WorkerPool>.fromOpaque(context).release()
                return nil
            }
            pthread_detach(thread)
        }
    }

    /// Runs `body(0) ... body(count - 1)` on the calling thread and the workers. Returns false,
    /// having run nothing, when the pool is already running another call (a concurrent or a
    /// nested one): the caller then uses Dispatch.
    @usableFromInline
    func run(_ count: Int, _ body: (Int) -> Void) -> Bool {
        precondition(count < 1 << 32, "WorkerPool: too many tasks")
        guard busy.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged else {
            return false
        }
        defer { busy.store(false, ordering: .releasing) }
        withoutActuallyEscaping(body) { escapable in
            var function = escapable
            withUnsafePointer(to: &function) { pointer in
                pthread_mutex_lock(mutex)
                let job = jobGeneration &+ 1
                jobGeneration = job
                jobBody = UnsafeRawPointer(pointer)
                jobCount = count
                finished.store(0, ordering: .relaxed)
                claim.store((job & 0x7FFF_FFFF) << 32, ordering: .relaxed)
                generation.store(job, ordering: .releasing)
                if sleepers > 0 { pthread_cond_broadcast(condition) }
                pthread_mutex_unlock(mutex)
                work(generation: job, body: UnsafeRawPointer(pointer), count: count)
                // A worker descheduled mid-task (a loaded host) would otherwise cost a whole
                // time slice of spinning here.
                var spins = 0
                while finished.load(ordering: .acquiring) < count {
                    spins &+= 1
                    if spins > 4096 { sched_yield() }
                }
            }
        }
        return true
    }

    /// Claims and runs tasks of job `generation` until none is left.
    private func work(generation job: Int, body: UnsafeRawPointer?, count: Int) {
        guard let body else { return }
        let function = body.assumingMemoryBound(to: ((Int) -> Void).self)
        let tag = job & 0x7FFF_FFFF
        var word = claim.load(ordering: .acquiring)
        while true {
            guard word >> 32 == tag, word & 0xFFFF_FFFF < count else { return }
            let (exchanged, original) = claim.compareExchange(
                expected: word, desired: word &+ 1, ordering: .acquiringAndReleasing)
            if !exchanged {
                word = original
                continue
            }
            Self.invoke(function, word & 0xFFFF_FFFF)
            finished.add(1, ordering: .releasing)
            word = claim.load(ordering: .acquiring)
        }
    }

    /// Calls the task body. Out of line, so that the copy of the closure it retains is released
    /// before the task is counted as finished: `withoutActuallyEscaping` traps if the submitter
    /// returns while any copy is alive.
    @inline(never)
    private static func invoke(_ function: UnsafePointer<(Int) -> Void>, _ index: Int) {
        function.pointee(index)
    }

    private func workerLoop() {
        var seen = 0
        while true {
            // Spin for new work, then park.
            var spins = 0
            var deadline: UInt64 = 0
            while generation.load(ordering: .acquiring) == seen {
                spins &+= 1
                if spins & 255 == 0 {
                    let now = Self.monotonicNanoseconds()
                    if deadline == 0 {
                        deadline = now &+ Self.spinNanoseconds
                    } else if now > deadline {
                        pthread_mutex_lock(mutex)
                        sleepers += 1
                        while jobGeneration == seen { pthread_cond_wait(condition, mutex) }
                        sleepers -= 1
                        pthread_mutex_unlock(mutex)
                        break
                    }
                }
            }
            pthread_mutex_lock(mutex)
            let job = jobGeneration, body = jobBody, count = jobCount
            pthread_mutex_unlock(mutex)
            seen = job
            work(generation: job, body: body, count: count)
        }
    }

    private static func monotonicNanoseconds() -> UInt64 {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return UInt64(time.tv_sec) &* 1_000_000_000 &+ UInt64(time.tv_nsec)
    }
}
#endif
