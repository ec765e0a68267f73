import Synchronization

/// A Swift `TaskExecutor` whose jobs run on a set of pinned workers of a ``WorkerPool``.
///
/// A pool has one executor over all its workers and one per NUMA node. Use it as a task executor
/// preference (`Task(executorPreference:)`, `withTaskExecutorPreference`, `addTask(executorPreference:)`):
/// child tasks inherit it, unstructured `Task {}` does not. For CPU-heavy loops, prefer the batched
/// ``parallelFor(_:grain:_:)`` path, which queues plain closures instead of one Swift task per item.
public final class PinnedExecutor: TaskExecutor, CustomStringConvertible {
    /// The name used in logs and metrics, such as `tessera/numa1`.
    public let name: String
    /// The pool workers this executor runs on, by worker index.
    public let workers: [Int]
    let pool: StealingPool
    let isTarget: [Bool]
    let cursor = Atomic<Int>(0)

    init(pool: StealingPool, name: String, workers: [Int]) {
        self.pool = pool
        self.name = name
        self.workers = workers
        var isTarget = [Bool](repeating: false, count: pool.workers.count)
        for worker in workers { isTarget[worker] = true }
        self.isTarget = isTarget
    }

    /// Queues a Swift job on one of this executor's workers.
    ///
    /// After the pool has shut down, the job runs on the calling thread instead, with this executor as
    /// its task executor, so a task that still prefers it completes rather than being lost.
    public func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        let me = asUnownedTaskExecutor()
        if !pool.submit(.job(job, me), targets: workers, isTarget: isTarget, cursor: cursor) {
            job.runSynchronously(on: me)
        }
    }

    /// Runs `body` on one of this executor's workers.
    ///
    /// - Throws: `ExecutorError.shutDown` once the pool is shut down.
    public func execute(_ body: @escaping @Sendable () -> Void) throws(ExecutorError) {
        guard pool.submit(.closure(PoolJob(body)), targets: workers, isTarget: isTarget, cursor: cursor) else {
            throw .shutDown(pool: pool.name)
        }
    }

    /// Queues many jobs with one lock per worker: the cheap path for fine-grained work.
    ///
    /// - Throws: `ExecutorError.shutDown` once the pool is shut down.
    public func execute(batch: [PoolJob]) throws(ExecutorError) {
        guard pool.submit(batch: batch, targets: workers) else { throw .shutDown(pool: pool.name) }
    }

    public var description: String { "PinnedExecutor(\(name), workers \(workers))" }
}

/// A closure queued on a ``WorkerPool``: the unit of ``PinnedExecutor/execute(batch:)``.
///
/// Batches are arrays of this struct rather than arrays of closures on purpose: taking a closure out
/// of an `Array<() -> Void>` converts it from the array's generic representation and allocates a
/// thunk per element, which would cost more than a tiny job. A closure stored in a struct field keeps
/// its concrete representation.
public struct PoolJob: Sendable {
    /// The work to run on a worker thread.
    public let body: @Sendable () -> Void

    /// Wraps `body` as a job.
    public init(_ body: @escaping @Sendable () -> Void) {
        self.body = body
    }
}
