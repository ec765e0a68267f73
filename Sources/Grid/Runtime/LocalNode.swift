import Cluster
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
    /// Reports not sent yet: the node sends them when they fill a batch, when the oldest waited the report
    /// interval, and when it runs out of work; the pump sends those a node busy in a long task leaves longer.
    nonisolated let reports = ReportBuffer()
    /// Whether this node may take queued work from siblings (not while locked, down or leaving).
    private nonisolated let maySteal = Atomic<Bool>(true)
    /// The executions in flight on every node of the grid, and the aborts that must reach them.
    private nonisolated let control: ExecutionControl
    /// The longest this node holds reports back while busy.
    nonisolated let reportInterval: Duration

    init(id: NodeID, runner: TaskRunner, control: ExecutionControl, settings: GridSettings, reportInterval: Duration) {
        self.id = id
        self.reportInterval = reportInterval
        self.queue = NodeQueue(node: id)
        self.runner = runner
        self.control = control
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
    ///
    /// An execution that is neither queued here nor running a subprocess (taken by this node or a
    /// sibling and about to start) is marked aborted: it never starts, and its node reports it dropped.
    nonisolated func abort(job: JobID, index: Int, attempt: Int) -> Bool {
        if queue.remove(job: job, index: index, attempt: attempt) { return true }
        if let pid = control.abort(ExecutionControl.Key(job: job, index: index, attempt: attempt)) {
            ProcessLauncher.kill(group: pid)
        }
        return false
    }

    /// Stops the loop and kills every subprocess group in flight (on every node: the control is the
    /// grid's); returns what was still queued.
    nonisolated func stop() -> [TaskAssignment] {
        // The control first: an assignment taken from a queue just before it stops never begins.
        let groups = control.stop()
        let left = queue.stop()
        for pid in groups { ProcessLauncher.kill(group: pid) }
        return left
    }

    /// The node's loop: run, steal, report, park. Returns when the node stops.
    ///
    /// - Parameters:
    ///   - report: sends a batch to the scheduler.
    ///   - pump: told when the buffer gets its first report, so a long task's start is sent in time; every batch goes through
    ///     it, so that a node sees another batch being handed over.
    nonisolated func run(pump: ReportPump, report: @escaping @Sendable ([NodeReport]) async -> Void) async {
        // The last function looked up: a node runs the same function many times in a row, and the registry's
        // lookup (a lock and a hash of the name) cost more than a short task's own work.
        var lastFunction: (name: String, generation: UInt64, function: FunctionRegistry.Function)?
        // When the last task ended: the time of the next start report (one clock read per task).
        let clock = settings.clock
        var lastEnd = clock.nanoseconds()
        let interval = reportInterval.nanoseconds
        while true {
            guard let assignment = queue.pop() ?? steal() else {
                let batch = reports.take()
                if !batch.isEmpty {
                    await pump.send(batch, via: report)
                    lastEnd = clock.nanoseconds()
                    continue
                }
                if await queue.park() {
                    lastEnd = clock.nanoseconds()
                    continue
                }
                return
            }
            let key = ExecutionControl.Key(job: assignment.job, index: assignment.index, attempt: assignment.attempt)
            let inProcess = if case .function = assignment.executable { true } else { false }
            // After ``stop()`` the control refuses every execution (it is stopped before the queue).
            guard inProcess ? control.beginInProcess(key) : control.begin(key) else {
                // Aborted while on its way here, or the grid stops: it never starts.
                let waiting = reports.append(
                    .dropped(job: assignment.job, index: assignment.index, attempt: assignment.attempt, assignedNode: assignment.assignedNode),
                    at: lastEnd
                ).count
                // The pump must know of the buffer's first report, whatever it is: a long task may come next.
                if waiting == 1 { pump.signal() }
                continue
            }
            let waiting = reports.append(.started(job: assignment.job, index: assignment.index, attempt: assignment.attempt, node: id), at: lastEnd).count
            // When the execution began, by this node's clock: its end report says how long it ran. An in-process task
            // begins where the last one ended (no clock read); a subprocess after its start report is sent.
            var began = lastEnd
            if inProcess {
                if waiting == 1 { pump.signal() }
            } else {
                // A subprocess may run for long: say it started now.
                await pump.send(reports.take(), via: report)
                began = clock.nanoseconds()
            }
            var function: FunctionRegistry.Function?
            if case .function(let name, _) = assignment.executable {
                function = lookUp(name, cache: &lastFunction)
            }
            let outcome = await runner.run(assignment, on: id, function: function) { pid in
                // Aborted between the start report and the spawn: the group dies at once.
                if !control.attach(key, pid: pid) { ProcessLauncher.kill(group: pid) }
            }
            if inProcess { control.endInProcess(key) } else { control.end(key) }
            let now = clock.nanoseconds()
            lastEnd = now
            let (count, since, replaced) = reports.append(.finished(
                job: assignment.job, index: assignment.index, attempt: assignment.attempt, node: id,
                assignedNode: assignment.assignedNode, outcome: outcome, ran: max(1, now - began)), at: now)
            // A batch due by age waits for the next task while another batch is being handed over (unless this node
            // has nothing left to run: then it reports below, as it runs out of work), for at most another interval.
            let age = now - since
            if count >= settings.reportBatch
                || (age >= interval && (!pump.isSending || age >= interval * 2))
            {
                await pump.send(reports.take(), via: report)
                lastEnd = clock.nanoseconds()
            } else if count == 1 && !replaced {
                // (An end that replaced its start: the start told the pump already.)
                pump.signal()
            }
        }
    }

    /// The function registered as `name`, from `cache` while no registration happened since it was filled.
    private nonisolated func lookUp(
        _ name: String, cache: inout (name: String, generation: UInt64, function: FunctionRegistry.Function)?
    ) -> FunctionRegistry.Function? {
        let generation = runner.functions.generation
        if let cached = cache, cached.generation == generation, cached.name == name { return cached.function }
        guard let found = runner.functions.function(named: name) else { return nil }
        cache = (name, generation, found)
        return found
    }

    /// Allows or forbids stealing (the resource manager's lock and state decide).
    nonisolated func setMaySteal(_ allowed: Bool) {
        maySteal.store(allowed, ordering: .relaxed)
    }

    /// Takes half of the longest sibling queue (what this node may run).
    private nonisolated func steal() -> TaskAssignment? {
        guard maySteal.load(ordering: .relaxed) else { return nil }
        let victims = siblings.withLock { $0 }.sorted { $0.count > $1.count }
        for victim in victims {
            let stolen = victim.steal(for: id, max: settings.maxStealBatch) { [settings] assignment in
                // The resource manager's rule (ResourceLedger.accepts) for this node's labels and token.
                assignment.selection.token == settings.token && assignment.selection.labels.isSubset(of: settings.labels)
            }
            guard let first = stolen.first else { continue }
            if stolen.count > 1 { queue.push(Array(stolen.dropFirst())) }
            return first
        }
        return nil
    }
}
