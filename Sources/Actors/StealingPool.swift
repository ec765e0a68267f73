import Logging
import CShims
import DequeModule
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// One unit of work in a worker queue: a Swift task job or a plain closure.
enum WorkItem: Sendable {
    /// A partial task from the Swift runtime, run on behalf of the executor that received it.
    case job(UnownedJob, UnownedTaskExecutor)
    /// A closure from the batched path (parallel loops, tiles).
    case closure(PoolJob)
}

/// The engine under ``WorkerPool``: per-worker FIFO queues, NUMA-ordered stealing, parking.
///
/// Each worker owns a queue that it runs oldest-first (the Swift runtime's task-group bookkeeping
/// degrades badly under LIFO, see reference/swift-runtime.md §4). Idle workers steal the oldest half
/// of a sibling's queue, trying workers of their own NUMA node before the others, then park on a
/// semaphore. A submitter that finds a parked worker wakes exactly one.
final class StealingPool: Sendable {
    /// One worker's shared state; the loop itself runs in `runWorker`.
    final class Worker: Sendable {
        let index: Int
        let slot: PlacementPlan.Slot
        let queue = Mutex(Deque<WorkItem>())
        let parked = Atomic<Bool>(false)
        let wake = Semaphore()
        /// Victims in the order this worker tries them: same NUMA node first, then the others.
        let stealOrder: [Int]
        // Written only by the worker's own thread; read by anyone for statistics.
        let jobsRun = Atomic<Int>(0)
        let steals = Atomic<Int>(0)
        let parks = Atomic<Int>(0)
        let binding = Mutex<ThreadBinding?>(nil)

        init(slot: PlacementPlan.Slot, stealOrder: [Int]) {
            self.index = slot.worker
            self.slot = slot
            self.stealOrder = stealOrder
        }
    }

    private enum Lifecycle: Int {
        case running = 0
        case stopping = 1
    }

    let name: String
    let plan: PlacementPlan
    let workers: [Worker]
    let settings: Settings
    let metrics: ExecutorMetrics
    private let lifecycle = Atomic<Int>(Lifecycle.running.rawValue)
    /// Submitters from outside the pool currently between their lifecycle check and their push.
    private let submitters = Atomic<Int>(0)
    /// Workers parked or about to park; lets submitters skip the wake-up scan when it is 0.
    let sleepers = Atomic<Int>(0)
    private let threads = Mutex<[PosixThread]>([])
    let started = Semaphore()

    init(plan: PlacementPlan, name: String, settings: Settings) {
        self.name = name
        self.plan = plan
        self.settings = settings
        self.metrics = ExecutorMetrics(pool: name)
        self.workers = plan.slots.map { slot in
            let near = plan.slots.filter { $0.worker != slot.worker && $0.numaNode == slot.numaNode }
            let far = plan.slots.filter { $0.numaNode != slot.numaNode }
            // Rotate so that workers do not all hit worker 0 first.
            func rotated(_ peers: [PlacementPlan.Slot]) -> [Int] {
                let ids = peers.map(\.worker)
                guard let pivot = ids.firstIndex(where: { $0 > slot.worker }) else { return ids }
                return Array(ids[pivot...] + ids[..<pivot])
            }
            return Worker(slot: slot, stealOrder: rotated(near) + rotated(far))
        }
    }

    /// The address that marks this pool's threads in thread-local storage.
    var identity: UnsafeRawPointer { UnsafeRawPointer(Unmanaged.passUnretained(self).toOpaque()) }

    /// The index of the calling thread's worker in this pool, or `nil` on any other thread.
    var currentWorker: Int? {
        tessera_current_pool() == identity ? Int(tessera_current_worker()) : nil
    }

    /// Starts one thread per worker and returns once all are running (and bound, where planned).
    func start() throws(ExecutorError) {
        for worker in workers {
            let thread = try PosixThread { [self] in self.runWorker(worker) }
            threads.withLock { $0.append(thread) }
        }
        for _ in workers { started.wait() }
        settings.logger.debug(
            "worker pool started",
            metadata: ["actors.pool": "\(name)", "actors.workers": "\(workers.count)"])
    }

    // MARK: Submission

    /// Queues `item` on a worker of `targets`.
    ///
    /// A worker of `targets` that submits keeps the item on its own queue (locality, no contention);
    /// anyone else spreads items round-robin through `cursor`.
    /// - Returns: `false` when the pool is stopping and the item was not queued.
    func submit(_ item: WorkItem, targets: [Int], isTarget: [Bool], cursor: borrowing Atomic<Int>) -> Bool {
        if let current = currentWorker, isTarget[current] {
            workers[current].queue.withLock { $0.append(item) }
            notify(near: current)
            return true
        }
        submitters.add(1, ordering: .sequentiallyConsistent)
        defer { submitters.subtract(1, ordering: .sequentiallyConsistent) }
        guard lifecycle.load(ordering: .sequentiallyConsistent) == Lifecycle.running.rawValue else { return false }
        let target = targets[cursor.wrappingAdd(1, ordering: .relaxed).oldValue % targets.count]
        workers[target].queue.withLock { $0.append(item) }
        notify(near: target)
        return true
    }

    /// Queues many closures at once: one lock per target worker, at most one wake-up per worker.
    ///
    /// - Returns: `false` when the pool is stopping and nothing was queued.
    func submit(batch: [PoolJob], targets: [Int]) -> Bool {
        guard !batch.isEmpty else { return true }
        let inside = currentWorker != nil
        if !inside { submitters.add(1, ordering: .sequentiallyConsistent) }
        defer { if !inside { submitters.subtract(1, ordering: .sequentiallyConsistent) } }
        if !inside, lifecycle.load(ordering: .sequentiallyConsistent) != Lifecycle.running.rawValue { return false }
        let share = (batch.count + targets.count - 1) / targets.count
        var start = 0
        for target in targets where start < batch.count {
            let end = min(start + share, batch.count)
            workers[target].queue.withLock { queue in
                for job in batch[start..<end] { queue.append(.closure(job)) }
            }
            start = end
        }
        for target in targets.prefix((batch.count + share - 1) / share) { notify(near: target) }
        return true
    }

    /// Wakes one parked worker, preferring `target` and then its steal order.
    func notify(near target: Int) {
        // Pairs with the fence in `park`: either the parker sees the pushed item, or we see it parked.
        atomicMemoryFence(ordering: .sequentiallyConsistent)
        guard sleepers.load(ordering: .relaxed) > 0 else { return }
        if wake(target) { return }
        for other in workers[target].stealOrder where wake(other) { return }
    }

    private func wake(_ index: Int) -> Bool {
        let worker = workers[index]
        guard worker.parked.load(ordering: .relaxed),
            worker.parked.compareExchange(expected: true, desired: false, ordering: .sequentiallyConsistent).exchanged
        else { return false }
        sleepers.subtract(1, ordering: .sequentiallyConsistent)
        worker.wake.signal()
        return true
    }

    // MARK: Shutdown

    /// Stops taking work from outside, lets the workers drain their queues, and joins every thread.
    ///
    /// Idempotent. Must not be called from a worker of this pool.
    func shutdown() throws(ExecutorError) {
        guard currentWorker == nil else { throw .shutdownFromWorker(pool: name) }
        stopAccepting()
        let joining = threads.withLock { threads in
            defer { threads.removeAll() }
            return threads
        }
        for thread in joining { thread.join() }
        if !joining.isEmpty {
            settings.logger.debug("worker pool stopped", metadata: ["actors.pool": "\(name)"])
        }
    }

    /// Flags the pool as stopping, waits out in-flight submitters and wakes every parked worker.
    func stopAccepting() {
        lifecycle.store(Lifecycle.stopping.rawValue, ordering: .sequentiallyConsistent)
        // Submitters hold the counter only across a lock-protected append: a short, bounded wait.
        while submitters.load(ordering: .sequentiallyConsistent) > 0 { sched_yield() }
        for index in workers.indices { _ = wake(index) }
    }

    var isStopping: Bool {
        lifecycle.load(ordering: .sequentiallyConsistent) != Lifecycle.running.rawValue
    }

    /// Whether a worker may end its loop: the pool stops, no submitter is between its lifecycle check
    /// and its push (that push would land after the worker's last look), and every queue is empty.
    ///
    /// A submitter counts itself before it checks the lifecycle; a worker reads the lifecycle before
    /// the counter. So either the worker sees the submitter, or the submitter sees the pool stopping
    /// and queues nothing.
    func workerMayExit() -> Bool {
        isStopping && submitters.load(ordering: .sequentiallyConsistent) == 0 && !hasQueuedWork()
    }
}
