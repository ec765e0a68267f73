import Synchronization

/// A node of the local infrastructure: one core's worth of work, a local queue, stealing from siblings.
///
/// The scheduler pushes assignments in batches (``enqueue(_:)``); the node's loop runs them oldest
/// first on the grid's pinned executor, steals half of a sibling's queue when its own is empty, and
/// reports starts and ends to the scheduler in batches. The queue sits behind a lock rather than in
/// actor state so that siblings can steal without a hop; the actor owns the executions in flight.
actor LocalNode {
    /// The node's identifier.
    nonisolated let id: NodeID
    nonisolated let queue: NodeQueue
    private nonisolated let runner: TaskRunner
    private nonisolated let settings: GridSettings
    /// Sibling queues to steal from, in steal order (this node excluded).
    private nonisolated let siblings: Mutex<[NodeQueue]> = Mutex([])
    /// Subprocess groups in flight, by (job, index, attempt).
    private nonisolated let processes = Mutex<[ExecutionKey: Int32]>([:])

    struct ExecutionKey: Hashable, Sendable {
        var job: JobID
        var index: Int
        var attempt: Int
    }

    init(id: NodeID, runner: TaskRunner, settings: GridSettings) {
        self.id = id
        self.queue = NodeQueue(node: id)
        self.runner = runner
        self.settings = settings
    }

    /// Sets the queues this node may steal from.
    nonisolated func setSiblings(_ queues: [NodeQueue]) {
        siblings.withLock { $0 = queues.filter { $0.node != id } }
    }

    /// Queues a batch; when this node already has work, a parked sibling is woken to steal.
    nonisolated func enqueue(_ batch: [TaskAssignment]) {
        queue.push(batch)
        if queue.count > 1, let idle = siblings.withLock({ $0.first(where: \.isParked) }) { idle.nudge() }
    }

    /// Stops execution `attempt` of instance `index`: drops it from the queue, or kills its subprocess group.
    /// - Returns: `true` when it was still queued (the caller reports it dropped).
    nonisolated func abort(job: JobID, index: Int, attempt: Int) -> Bool {
        if queue.remove(job: job, index: index, attempt: attempt) { return true }
        if let pid = processes.withLock({ $0[ExecutionKey(job: job, index: index, attempt: attempt)] }) {
            ProcessLauncher.kill(group: pid)
        }
        return false
    }

    /// Stops the loop and kills every subprocess group in flight; returns what was still queued.
    nonisolated func stop() -> [TaskAssignment] {
        let left = queue.stop()
        for pid in processes.withLock({ Array($0.values) }) { ProcessLauncher.kill(group: pid) }
        return left
    }

    /// The node's loop: run, steal, report, park. Returns when the node stops.
    nonisolated func run(report: @escaping @Sendable ([NodeReport]) async -> Void) async {
        var reports: [NodeReport] = []
        reports.reserveCapacity(settings.reportBatch)
        var lastFlush = ContinuousClock.now
        while true {
            guard let assignment = queue.pop() ?? steal() else {
                if !reports.isEmpty {
                    await report(reports)
                    reports.removeAll(keepingCapacity: true)
                    lastFlush = ContinuousClock.now
                    continue
                }
                if await queue.park() { continue }
                return
            }
            if queue.isStopping {
                reports.append(.dropped(job: assignment.job, index: assignment.index, attempt: assignment.attempt, assignedNode: assignment.assignedNode))
                continue
            }
            reports.append(.started(job: assignment.job, index: assignment.index, attempt: assignment.attempt, node: id))
            if case .function = assignment.executable {
            } else {
                // A subprocess may run for long: say it started now.
                await report(reports)
                reports.removeAll(keepingCapacity: true)
                lastFlush = ContinuousClock.now
            }
            let key = ExecutionKey(job: assignment.job, index: assignment.index, attempt: assignment.attempt)
            let outcome = await runner.run(assignment, on: id) { pid in processes.withLock { $0[key] = pid } }
            processes.withLock { _ = $0.removeValue(forKey: key) }
            reports.append(.finished(
                job: assignment.job, index: assignment.index, attempt: assignment.attempt, node: id,
                assignedNode: assignment.assignedNode, outcome: outcome))
            if reports.count >= settings.reportBatch || ContinuousClock.now - lastFlush > settings.reportInterval {
                await report(reports)
                reports.removeAll(keepingCapacity: true)
                lastFlush = ContinuousClock.now
            }
        }
    }

    /// Takes half of the longest sibling queue (what this node may run).
    private nonisolated func steal() -> TaskAssignment? {
        let victims = siblings.withLock { $0 }.sorted { $0.count > $1.count }
        for victim in victims {
            let stolen = victim.steal(for: id, max: settings.maxStealBatch)
            guard let first = stolen.first else { continue }
            if stolen.count > 1 { queue.push(Array(stolen.dropFirst())) }
            return first
        }
        return nil
    }
}
