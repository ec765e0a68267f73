import Logging
import Synchronization

/// Pinned worker threads laid out by a ``PlacementPlan``, with a ``PinnedExecutor`` per NUMA node.
///
/// ```swift
/// let machine = try MachineTopology.load()
/// let plan = try PlacementPlan.make(for: machine.topology, request: .init(reserved: .first(1)))
/// let pool = try WorkerPool(plan: plan)
/// let sums = try await pool.executor.parallelFor(0..<1_000_000, grain: 4096) { range in … }
/// try pool.shutdown()
/// ```
///
/// Every worker thread is bound to its slot's PUs when the plan was made for this machine, runs its
/// own queue oldest-first, steals from workers of its NUMA node before the others, and parks when idle.
/// ``shutdown()`` drains the queues and joins every thread; a pool dropped without it stops its
/// threads anyway.
public final class WorkerPool: Sendable {
    /// The plan the workers follow.
    public let plan: PlacementPlan
    /// An executor over every worker.
    public let executor: PinnedExecutor
    /// One executor per NUMA node in use, ascending by node.
    public let numaExecutors: [PinnedExecutor]
    let pool: StealingPool

    /// Starts one bound thread per plan slot and returns once all of them run.
    ///
    /// - Parameters:
    ///   - plan: where each worker goes.
    ///   - name: names the threads (`NAME-3`), metrics (`pool` dimension) and executors.
    ///   - settings: spinning, stealing, binding and logging.
    /// - Throws: `ExecutorError.threadCreationFailed` when a thread cannot be created.
    public init(plan: PlacementPlan, name: String = "tessera", settings: Settings = .init()) throws(ExecutorError) {
        let pool = StealingPool(plan: plan, name: name, settings: settings)
        self.pool = pool
        self.plan = plan
        self.executor = PinnedExecutor(pool: pool, name: name, workers: plan.slots.map(\.worker))
        self.numaExecutors = plan.numaNodesInUse.map { node in
            PinnedExecutor(pool: pool, name: "\(name)/numa\(node)", workers: plan.workers(onNUMANode: node))
        }
        do {
            try pool.start()
        } catch {
            pool.stopAccepting()
            throw error
        }
        for binding in bindings.enumerated() {
            settings.logger.trace(
                "worker binding",
                metadata: ["actors.pool": "\(name)", "actors.worker": "\(binding.offset)", "actors.binding": "\(binding.element)"])
        }
    }

    deinit {
        // Dropped without shutdown(): the threads still hold the engine, so tell them to finish
        // their queues and exit. Joining here could deadlock if the last reference died on a worker.
        pool.stopAccepting()
    }

    /// The pool's name.
    public var name: String { pool.name }

    /// The executor of NUMA node `node`, or `nil` when no worker sits on it.
    public func executor(forNUMANode node: Int) -> PinnedExecutor? {
        plan.numaNodesInUse.firstIndex(of: node).map { numaExecutors[$0] }
    }

    /// How each worker thread is bound, in worker order, as the thread itself observed it.
    public var bindings: [ThreadBinding] {
        pool.workers.map { $0.binding.withLock { $0 } ?? .disabled }
    }

    /// Jobs, steals and parks per worker so far.
    public func statistics() -> [WorkerStatistics] {
        pool.workers.map {
            WorkerStatistics(
                worker: $0.index, jobs: $0.jobsRun.load(ordering: .relaxed),
                steals: $0.steals.load(ordering: .relaxed), parks: $0.parks.load(ordering: .relaxed))
        }
    }

    /// The index of the calling thread's worker in this pool, or `nil` when called elsewhere.
    public var currentWorker: Int? { pool.currentWorker }

    /// Stops taking new closures, lets the workers finish every queued job, and joins all threads.
    ///
    /// Idempotent. Swift jobs enqueued afterwards run on the enqueuing thread.
    /// - Throws: `ExecutorError.shutdownFromWorker` when called from one of this pool's workers.
    public func shutdown() throws(ExecutorError) {
        try pool.shutdown()
    }
}
