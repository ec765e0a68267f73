import Foundation
import Logging

/// The scheduler's shell: owns the ``SchedulerCore``, feeds it submissions, node reports, timers and
/// user actions, and performs what it decides (dispatch batches to nodes, aborts, events, timers).
actor SchedulerActor {
    private var core = SchedulerCore()
    private var nodes: [NodeID: LocalNode] = [:]
    private var nextJob: UInt64 = 0
    private var waiters: [JobID: [CheckedContinuation<JobResult, Never>]] = [:]
    private var timer: (deadline: Duration, task: Task<Void, Never>)?
    /// Ended jobs to forget, with when (``GridSettings/removeEndedJobsAfter``), oldest first.
    private var removals: [(at: Duration, job: JobID)] = []
    private let removeEndedJobsAfter: Duration?
    private var isShutDown = false
    private let hub: EventHub
    private let clock: any GridClock
    private let wallClock: @Sendable () -> Date
    private let logDirectory: @Sendable (JobID) -> String
    private var logger: Logger

    init(hub: EventHub, settings: GridSettings, logDirectory: @escaping @Sendable (JobID) -> String) {
        self.hub = hub
        self.clock = settings.clock
        self.wallClock = settings.wallClock
        self.logDirectory = logDirectory
        self.logger = settings.logger
        self.removeEndedJobsAfter = settings.removeEndedJobsAfter
        logger[metadataKey: "grid.component"] = "scheduler"
    }

    // MARK: - Nodes

    /// Adds nodes (FREE) to the resource manager.
    func addNodes(_ added: [(node: LocalNode, entry: ResourceLedger.Entry)]) {
        for (node, entry) in added {
            nodes[node.id] = node
            core.updateLedger { $0.add(entry) }
        }
        dispatch()
    }

    /// The resource manager's view of the nodes.
    func nodeEntries() -> [ResourceLedger.Entry] {
        core.ledger.entries.values.sorted { $0.id < $1.id }
    }

    /// Locks or unlocks a node (a locked node gets no new tasks).
    func setLocked(_ node: NodeID, _ locked: Bool) {
        core.updateLedger { $0.setLocked(node, locked) }
        nodes[node]?.setMaySteal(!locked)
        if !locked {
            dispatch()
            // An unlocked node with an empty queue looks for work to steal.
            nodes[node]?.queue.nudge()
        }
    }

    // MARK: - Jobs

    /// Starts a job from a workflow that passed validation (``Grid/submit(_:variables:admin:)`` checks
    /// it before the hop, so a large workflow is not checked on the scheduler's time).
    func submit(_ workflow: Workflow, variables: [String: String], admin: Bool) throws(GridError) -> JobID {
        guard !isShutDown else { throw .shutDown }
        nextJob += 1
        let id = JobID(nextJob)
        let now = clock.now
        var job = try JobCore(id: id, workflow: workflow, variables: variables, isAdmin: admin, now: now, wallNow: wallClock())
        logger.debug("job submitted", metadata: ["grid.job.id": "\(id)", "grid.job.name": "\(workflow.name)"])
        let effects = job.start(now: now)
        core.add(consume job)  // the job's arrays must stay uniquely referenced, or the first dispatch copies them
        perform(effects, job: id, now: now)
        dispatch()
        return id
    }

    /// The job's current report.
    func report(_ id: JobID) throws(GridError) -> JobResult {
        guard let job = core.job(id) else { throw .jobNotFound(id) }
        return JobResult(job, logDirectory: logDirectory(id))
    }

    /// Every job in memory, oldest first.
    func reports() -> [JobResult] {
        core.jobs.sorted { $0.id < $1.id }.map { JobResult($0, logDirectory: logDirectory($0.id)) }
    }

    /// Forgets a job that ended (its report, its events); its logs stay on disk.
    func remove(_ id: JobID) throws(GridError) {
        guard let job = core.job(id) else { throw .jobNotFound(id) }
        guard !job.status.isAlive else {
            throw .actionNotAllowed(action: "remove", target: "job \(id)", state: job.status.rawValue)
        }
        forget(id, now: clock.now)
    }

    /// Drops an ended job and tells the grid-wide subscribers.
    private func forget(_ id: JobID, now: Duration) {
        guard let job = core.job(id) else { return }
        core.forget(id)
        removals.removeAll { $0.job == id }
        hub.publish([GridEvent(job: id, change: .removed, progress: job.progress, time: now)])
        logger.debug("job removed", metadata: ["grid.job.id": "\(id)"])
    }

    /// Waits for the job's final state.
    func result(_ id: JobID) async throws(GridError) -> JobResult {
        guard let job = core.job(id) else { throw .jobNotFound(id) }
        if !job.status.isAlive { return JobResult(job, logDirectory: logDirectory(id)) }
        return await withCheckedContinuation { waiters[id, default: []].append($0) }
    }

    /// The job's events, starting with its current state: one event per task instance that has left
    /// PENDING (so a late subscriber misses no transition that already happened), then the job's state.
    func events(_ id: JobID) throws(GridError) -> AsyncStream<GridEvent> {
        guard let job = core.job(id) else { throw .jobNotFound(id) }
        let now = clock.now
        var snapshot: [GridEvent] = []
        for instance in job.instances where instance.status != .pending && instance.status != .submitted {
            snapshot.append(GridEvent(
                job: id, change: .task(instance.name, instance.status, node: instance.node, executions: instance.executions, message: instance.message),
                progress: job.progress, time: now))
        }
        snapshot.append(GridEvent(job: id, change: .job(job.status), progress: job.progress, time: now))
        return hub.subscribe(job: id, initial: snapshot, finished: !job.status.isAlive)
    }

    /// Runs a user action on a job and performs its effects.
    func act(_ id: JobID, _ action: (inout JobCore, Duration) throws(GridError) -> [JobCore.Effect]) throws(GridError) {
        let now = clock.now
        let effects = try core.update(id) { (job: inout JobCore) throws(GridError) in try action(&job, now) }
        perform(effects, job: id, now: now)
        dispatch()
    }

    // MARK: - Reports from nodes

    func onReports(_ reports: [NodeReport]) {
        let now = clock.now
        for report in reports {
            switch report {
            case .started(let job, let index, let attempt, let node):
                let effects = (try? core.update(job) { $0.onStarted(index, attempt: attempt, node: node, now: now) }) ?? []
                perform(effects, job: job, now: now)
            case .finished(let job, let index, let attempt, let node, let assignedNode, let outcome):
                core.updateLedger { $0.release(from: assignedNode) }
                let effects = (try? core.update(job) { $0.onFinished(index, attempt: attempt, node: node, outcome: outcome, now: now) }) ?? []
                perform(effects, job: job, now: now)
            case .dropped(let job, let index, let attempt, let assignedNode):
                core.updateLedger { $0.release(from: assignedNode) }
                let effects = (try? core.update(job) { $0.undispatch(index, attempt: attempt) }) ?? []
                perform(effects, job: job, now: now)
            }
        }
        dispatch()
    }

    // MARK: - Effects

    private func perform(_ effects: [JobCore.Effect], job id: JobID, now: Duration) {
        guard !effects.isEmpty else { return }
        let listening = hub.isListening
        var events: [GridEvent] = []
        var finished = false
        for effect in effects {
            switch effect {
            case .taskChanged(let index):
                guard listening, let job = core.job(id) else { continue }
                let instance = job.instances[index]
                events.append(GridEvent(
                    job: id, change: .task(instance.name, instance.status, node: instance.node, executions: instance.executions, message: instance.message),
                    progress: job.progress, time: now))
            case .jobChanged(let status):
                if listening, let job = core.job(id) {
                    events.append(GridEvent(job: id, change: .job(status), progress: job.progress, time: now))
                }
                if !status.isAlive { finished = true }
                logger.debug("job state", metadata: ["grid.job.id": "\(id)", "grid.job.state": "\(status)"])
            case .abort(let index, let node, let attempt):
                if nodes[node]?.abort(job: id, index: index, attempt: attempt) == true {
                    core.updateLedger { $0.release(from: node) }
                }
            case .wake(let deadline):
                arm(deadline)
            case .ready:
                break
            }
        }
        hub.publish(events)
        if finished, let job = core.job(id) {
            let result = JobResult(job, logDirectory: logDirectory(id))
            for waiter in waiters.removeValue(forKey: id) ?? [] { waiter.resume(returning: result) }
            if let delay = removeEndedJobsAfter {
                removals.append((now + delay, id))
                arm(now + delay)
            }
        }
    }

    private func dispatch() {
        guard !isShutDown else { return }
        for (node, batch) in core.schedule(now: clock.now) {
            nodes[node]?.enqueue(batch)
        }
    }

    // MARK: - Timers

    private func arm(_ deadline: Duration) {
        if let timer, timer.deadline <= deadline { return }
        timer?.task.cancel()
        let clock = self.clock
        timer = (deadline, Task { [weak self] in
            do {
                try await clock.sleep(until: deadline)
            } catch {
                return
            }
            await self?.onTimer()
        })
    }

    private func onTimer() {
        timer = nil
        let now = clock.now
        // Identifiers first: holding copies of the jobs while updating them would copy their instances.
        let due = core.jobs.filter { $0.status.isAlive && ($0.nextWake.map { $0 <= now } ?? false) }.map(\.id)
        for id in due {
            let effects = (try? core.update(id) { $0.onTick(now: now) }) ?? []
            perform(effects, job: id, now: now)
        }
        // Removals are appended with the same delay, so they are in deadline order.
        while let first = removals.first, first.at <= now {
            removals.removeFirst()
            forget(first.job, now: now)
        }
        let next = [core.nextWake, removals.first?.at].compactMap { $0 }.min()
        if let next { arm(next) }
        dispatch()
    }

    // MARK: - Shutdown

    /// Stops scheduling, kills what runs, ends every stream and releases waiters with the jobs' states.
    func shutdown() -> [LocalNode] {
        isShutDown = true
        timer?.task.cancel()
        timer = nil
        for node in nodes.values { _ = node.stop() }
        for (id, list) in waiters {
            guard let job = core.job(id) else { continue }
            let result = JobResult(job, logDirectory: logDirectory(id))
            for waiter in list { waiter.resume(returning: result) }
        }
        waiters = [:]
        hub.finishAll()
        return Array(nodes.values)
    }
}
