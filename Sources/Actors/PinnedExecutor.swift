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
        guard pool.submit(.closure(body), targets: workers, isTarget: isTarget, cursor: cursor) else {
            throw .shutDown(pool: pool.name)
        }
    }

    /// Queues many closures with one lock per worker: the cheap path for fine-grained work.
    ///
    /// - Throws: `ExecutorError.shutDown` once the pool is shut down.
    public func execute(batch: [@Sendable () -> Void]) throws(ExecutorError) {
        guard pool.submit(batch: batch, targets: workers) else { throw .shutDown(pool: pool.name) }
    }

    public var description: String { "PinnedExecutor(\(name), workers \(workers))" }
}
