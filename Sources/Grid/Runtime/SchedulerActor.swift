import Cluster
import Foundation
import Logging
import Metrics

/// The scheduler's shell: owns the ``SchedulerCore``, feeds it submissions, node reports, timers and
/// user actions, and performs what it decides (dispatch batches to nodes, aborts, events, timers).
actor SchedulerActor {
    private var core = SchedulerCore()
    private var nodes: [NodeID: any GridNode] = [:]
    /// The host of every node the grid has had (reports name the host a task ran on, even after it left).
    private var hostNames: [NodeID: String] = [:]
    /// Agents' sessions: their nodes, and whether a release (cross-host steal) is awaited.
    private var sessions: [Int: (host: RemoteHost, nodes: [NodeID], releasing: Bool)] = [:]
    /// The local nodes (one group for cross-host stealing).
    private var localNodes: [NodeID] = []
    /// The next identifier of a remote node (local nodes take the first ones).
    private var nextRemoteNode = 1000
    /// When each LOST node was lost (it leaves the node list after ``GridSettings/keepLostNodes``).
    private var lostAt: [(node: NodeID, at: Duration)] = []
    private let keepLostNodes: Duration
    /// The bounds submissions and their flow controls are held to.
    let limits: InputLimits
    /// The accounts and limits agents must run subprocess tasks under, on a multi-user grid.
    let isolation: TaskIsolation?
    private var nextJob: UInt64 = 0
    private var waiters: [JobID: [CheckedContinuation<JobResult, Never>]] = [:]
    private var timer: (deadline: Duration, task: Task<Void, Never>)?
    /// Ended jobs to forget, with when (``GridSettings/removeEndedJobsAfter``), oldest first.
    private var removals: [(at: Duration, job: JobID)] = []
    private let removeEndedJobsAfter: Duration?
    private var isShutDown = false
    private let hub: EventHub
    private let clock: any GridClock
    /// Where every state change that must survive a crash goes before it is acknowledged; `nil` keeps the grid
    /// in memory only.
    private let journal: Journal?
    /// Records of the current turn, written in one transaction before its effects are performed.
    private var unwritten: [JournalRecord] = []
    /// Reused by ``onReports(_:)`` for the effects of each run of reports.
    private var effectBuffer: [JobCore.Effect] = []
    /// Reports of jobs that ended in the current turn.
    private var endedReports: [JobResult] = []
    /// Events and results of the current turn, delivered once the journal holds what they tell.
    private var outbox: [GridEvent] = []
    private var resumptions: [(waiters: [CheckedContinuation<JobResult, Never>], result: JobResult)] = []
    /// Added to the clock so that grid time goes on across restarts (the journal's times stay ordered).
    private var timeOffset: Duration = .zero
    /// From a task becoming PENDING to its execution starting on a node.
    private let dispatchLatency = Metrics.Timer(label: "tessera_dispatch_latency")
    private let wallClock: @Sendable () -> Date
    private let logDirectory: @Sendable (JobID) -> String
    private var logger: Logger

    init(hub: EventHub, settings: GridSettings, journal: Journal?, logDirectory: @escaping @Sendable (JobID) -> String) {
        self.hub = hub
        self.journal = journal
        self.clock = settings.clock
        self.wallClock = settings.wallClock
        self.logDirectory = logDirectory
        self.logger = settings.logger
        self.removeEndedJobsAfter = settings.removeEndedJobsAfter
        self.keepLostNodes = settings.keepLostNodes
        self.limits = settings.limits
        self.isolation = settings.isolation
        logger[metadataKey: "grid.component"] = "scheduler"
    }

    /// The grid's time.
    private var now: Duration { clock.now + timeOffset }

    // MARK: - Nodes

    /// Adds local nodes (FREE) to the resource manager.
    func addNodes(_ added: [(node: LocalNode, entry: ResourceLedger.Entry)]) {
        for (node, entry) in added {
            nodes[node.id] = node
            hostNames[node.id] = entry.host
            localNodes.append(node.id)
            core.updateLedger { $0.add(entry) }
        }
        dispatch()
    }

    /// Adds an agent's nodes (FREE, one per worker) and tells the agent their identifiers.
    func addHost(_ host: RemoteHost, source: String, capacity: Int) -> [NodeID] {
        guard !isShutDown else { return [] }
        pruneLostNodes()
        let resources = host.resources
        let ids = (0..<resources.workers).map { NodeID(nextRemoteNode + $0) }
        nextRemoteNode += resources.workers
        host.post(.configure(nodes: ids, isolation: isolation.map { AgentIsolation(accounts: $0.accounts, resources: $0.resources) }))
        for id in ids {
            nodes[id] = RemoteNode(id: id, host: host)
            hostNames[id] = resources.address
            core.updateLedger {
                $0.add(ResourceLedger.Entry(
                    id: id, source: source, state: .free, locked: false, labels: resources.labels, token: resources.token,
                    capacity: capacity, assigned: 0, host: resources.address))
            }
        }
        sessions[host.session] = (host, ids, false)
        logger.info("host joined", metadata: [
            "grid.host": "\(resources.address)", "grid.hostname": "\(resources.hostname)", "grid.nodes": "\(ids.count)",
            "grid.session": "\(host.session)",
        ])
        dispatch()
        return ids
    }

    /// An agent is suspected (`down`: no new work, running work kept) or answers again.
    func setHostDown(_ session: Int, _ down: Bool) {
        guard let entry = sessions[session] else { return }
        core.updateLedger { ledger in
            for id in entry.nodes {
                guard let state = ledger.entry(id)?.state, state != .lost else { continue }
                let assigned = ledger.entry(id)?.assigned ?? 0
                ledger.setState(id, down ? .down : (assigned > 0 ? .busy : .free))
            }
        }
        logger.notice(down ? "host down" : "host up", metadata: ["grid.host": "\(entry.host.resources.address)"])
        if !down { dispatch() }
    }

    /// An agent's session is over (its member died or left, or its link closed): its nodes are LOST, what was
    /// queued there is queued again, and what was running there runs again elsewhere under ProActive's
    /// node-failure rule (journaled). Reports that still arrive from it are dropped (fencing).
    func hostLost(_ session: Int, reason: String) {
        guard let entry = sessions.removeValue(forKey: session) else { return }
        entry.host.close()
        let lost = Set(entry.nodes)
        for id in entry.nodes {
            nodes[id] = nil
            core.updateLedger { ledger in
                ledger.setState(id, .lost)
                ledger.setLocked(id, false)
                ledger.clearAssigned(id)
            }
        }
        let now = self.now
        pruneLostNodes()
        lostAt += entry.nodes.map { ($0, now) }
        var requeued = 0
        var rerun = 0
        for id in core.aliveJobs {
            let affected = core.job(id)?.instances.indices.filter { index in
                guard let instance = core.job(id)?.instances[index], instance.dispatched, let node = instance.node else { return false }
                return lost.contains(node)
            } ?? []
            for index in affected {
                guard let instance = core.job(id)?.instances[index] else { continue }
                let attempt = instance.executions
                let effects: [JobCore.Effect]
                if instance.status == .pending {
                    effects = (try? core.update(id) { $0.undispatch(index, attempt: attempt) }) ?? []
                    requeued += 1
                } else {
                    let node = instance.node ?? entry.nodes[0]
                    effects = (try? core.update(id) { $0.onExecutionLost(index, attempt: attempt, node: node, now: now) }) ?? []
                    if !effects.isEmpty, journal != nil { unwritten.append(.lost(job: id, index: index, attempt: attempt, node: node, at: now)) }
                    rerun += 1
                }
                perform(effects, job: id, now: now)
            }
        }
        logger.warning("host lost", metadata: [
            "grid.host": "\(entry.host.resources.address)", "grid.reason": "\(reason)", "grid.requeued": "\(requeued)",
            "grid.rerun": "\(rerun)",
        ])
        finishTurn()
        dispatch()
    }

    /// Forgets the nodes lost longer ago than ``GridSettings/keepLostNodes``.
    private func pruneLostNodes() {
        let now = self.now
        while let first = lostAt.first, now - first.at > keepLostNodes {
            lostAt.removeFirst()
            core.updateLedger { $0.remove(first.node) }
            hostNames[first.node] = nil
        }
    }

    /// Reports from an agent's session; dropped once the session is over (a zombie's late results are fenced).
    func onReports(_ reports: [NodeReport], session: Int) {
        guard sessions[session] != nil else { return }
        sessions[session]?.releasing = false
        onReports(reports)
    }

    /// The hosts with nodes and what they hold (for balancing and the API).
    private func hostLoad(_ ids: [NodeID]) -> (assigned: Int, capacity: Int, accepting: Bool) {
        var assigned = 0
        var accepting = false
        for id in ids {
            guard let entry = core.ledger.entry(id) else { continue }
            assigned += entry.assigned
            if entry.state.acceptsWork && !entry.locked { accepting = true }
        }
        return (assigned, ids.count, accepting)
    }

    /// Cross-host stealing: when a host (the local nodes, or an agent) holds nothing while another holds more
    /// than it runs, the loaded host gives back half of its backlog, which the next dispatch places on the idle
    /// one. Local queues are taken at once; an agent is asked to release (it reports the executions dropped).
    private func balanceHosts() {
        guard !sessions.isEmpty else { return }
        var groups: [(session: Int?, nodes: [NodeID])] = sessions.map { ($0.key, $0.value.nodes) }
        if !localNodes.isEmpty { groups.append((nil, localNodes)) }
        let loads = groups.map { hostLoad($0.nodes) }
        guard loads.contains(where: { $0.assigned == 0 && $0.accepting }) else { return }
        var best: (group: Int, backlog: Int)?
        for (position, load) in loads.enumerated() {
            let backlog = load.assigned - load.capacity
            if backlog >= 2, best.map({ backlog > $0.backlog }) ?? true {
                if let session = groups[position].session, sessions[session]?.releasing == true { continue }
                best = (position, backlog)
            }
        }
        guard let best else { return }
        let amount = best.backlog / 2
        if let session = groups[best.group].session {
            sessions[session]?.releasing = true
            sessions[session]?.host.post(.release(max: amount))
        } else {
            var taken: [NodeReport] = []
            for id in localNodes {
                guard let node = nodes[id] as? LocalNode, taken.count < amount else { continue }
                let stolen = node.queue.steal(for: NodeID(-1), max: amount - taken.count) { _ in true }
                taken += stolen.map { .dropped(job: $0.job, index: $0.index, attempt: $0.attempt, assignedNode: $0.assignedNode) }
            }
            if !taken.isEmpty { onReports(taken) }
        }
    }

    /// The resource manager's view of the nodes.
    func nodeEntries() -> [ResourceLedger.Entry] {
        core.ledger.all
    }

    /// Locks or unlocks a node (a locked node gets no new tasks).
    func setLocked(_ node: NodeID, _ locked: Bool) throws(GridError) {
        try journal?.setLocked(node, locked)
        core.updateLedger { $0.setLocked(node, locked) }
        nodes[node]?.setMaySteal(!locked)
        if !locked {
            dispatch()
            // An unlocked node with an empty queue looks for work to steal.
            nodes[node]?.nudge()
        }
    }

    // MARK: - Jobs

    /// Starts a job from a workflow that passed validation (``Grid/submit(_:variables:admin:)`` checks
    /// it before the hop, so a large workflow is not checked on the scheduler's time).
    func submit(
        _ workflow: Workflow, variables: [String: String], admin: Bool, owner: String, plan: FlowPlan? = nil,
        encoded: Journal.EncodedWorkflow? = nil
    ) throws(GridError) -> JobID {
        guard !isShutDown else { throw .shutDown }
        let id = JobID(nextJob + 1)
        let now = self.now
        let wall = wallClock()
        var job = try JobCore(
            id: id, workflow: workflow, variables: variables, isAdmin: admin, owner: owner, now: now, wallNow: wall, plan: plan,
            limits: limits)
        try journal?.submitted(
            .init(id: id, workflow: workflow, variables: variables, admin: admin, owner: owner, at: now, wall: wall), encoded: encoded)
        nextJob += 1
        logger.debug("job submitted", metadata: ["grid.job.id": "\(id)", "grid.job.name": "\(workflow.name)"])
        let effects = job.start(now: now)
        core.add(consume job)  // the job's arrays must stay uniquely referenced, or the first dispatch copies them
        perform(effects, job: id, now: now)
        finishTurn()
        dispatch()
        return id
    }

    /// The job's current report; an ended job that left memory is read from the journal.
    func report(_ id: JobID) throws(GridError) -> JobResult {
        guard let job = core.job(id) else {
            if let stored = try journal?.report(id) { return stored }
            throw .jobNotFound(id)
        }
        return JobResult(job, logDirectory: logDirectory(id), hosts: hostNames)
    }

    /// The job's owner, from memory or the journal.
    func owner(of id: JobID) throws(GridError) -> String {
        if let job = core.job(id) { return job.owner }
        if let owner = try journal?.owner(of: id) { return owner }
        throw .jobNotFound(id)
    }

    /// Every job in memory, oldest first.
    func reports() -> [JobResult] {
        core.jobs.sorted { $0.id < $1.id }.map { JobResult($0, logDirectory: logDirectory($0.id), hosts: hostNames) }
    }

    /// Every job in memory in a few fields, oldest first.
    func summaries() -> [JobSummary] {
        // Grid time to wall-clock time: now on the wall clock, minus how long ago in grid time.
        let now = self.now
        let wall = wallClock()
        func date(_ time: Duration?) -> Date? { time.map { wall.addingTimeInterval(-Double((now - $0).nanoseconds) / 1e9) } }
        return core.jobs.sorted { $0.id < $1.id }.map {
            JobSummary(
                job: $0.id, name: $0.workflow.name, owner: $0.owner, status: $0.status, priority: $0.priority, progress: $0.progress,
                submitted: date($0.submittedAt), started: date($0.startedAt), ended: date($0.finishedAt))
        }
    }

    /// A job's workflow, from memory or the journal.
    func workflow(_ id: JobID) throws(GridError) -> Workflow {
        if let job = core.job(id) { return job.workflow }
        if let workflow = try journal?.workflow(of: id) { return workflow }
        throw .jobNotFound(id)
    }

    /// Forgets a job that ended (its report, its events); its logs stay on disk.
    func remove(_ id: JobID) throws(GridError) {
        guard let job = core.job(id) else { throw .jobNotFound(id) }
        guard !job.status.isAlive else {
            throw .actionNotAllowed(action: "remove", target: "job \(id)", state: job.status.rawValue)
        }
        forget(id, now: now)
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
        if let ended = try resultIfEnded(id) { return ended }
        return await withCheckedContinuation { waiters[id, default: []].append($0) }
    }

    /// The job's report if it ended, `nil` while it runs. Not inlined into ``result(_:)``: a copy of the job held
    /// across the wait would share its arrays, and the job's next update would copy every instance.
    private func resultIfEnded(_ id: JobID) throws(GridError) -> JobResult? {
        guard let job = core.job(id) else { return try report(id) }
        return job.status.isAlive ? nil : JobResult(job, logDirectory: logDirectory(id), hosts: hostNames)
    }

    /// The job's events, starting with its current state: one event per task instance that has left
    /// PENDING (so a late subscriber misses no transition that already happened), then the job's state.
    func events(_ id: JobID) throws(GridError) -> AsyncStream<GridEvent> {
        guard let job = core.job(id) else {
            // An ended job that left memory: its final state only.
            let stored = try report(id)
            return hub.subscribe(
                job: id, initial: [GridEvent(job: id, change: .job(stored.status), progress: stored.progress, time: now)],
                finished: true)
        }
        let now = self.now
        var snapshot: [GridEvent] = []
        for instance in job.instances where instance.status != .pending && instance.status != .submitted {
            snapshot.append(GridEvent(
                job: id, change: .task(instance.name, instance.status, node: instance.node, executions: instance.executions, message: instance.message),
                progress: job.progress, time: now))
        }
        snapshot.append(GridEvent(job: id, change: .job(job.status), progress: job.progress, time: now))
        return hub.subscribe(job: id, initial: snapshot, finished: !job.status.isAlive)
    }

    /// Runs a user's action on a job, journals it and performs its effects.
    func act(_ id: JobID, _ action: JobAction) throws(GridError) {
        let now = self.now
        guard core.job(id) != nil else {
            if try journal?.report(id) != nil {
                throw .actionNotAllowed(action: action.name, target: "job \(id)", state: "ended")
            }
            throw .jobNotFound(id)
        }
        let effects = try core.update(id) { (job: inout JobCore) throws(GridError) in try job.apply(action, now: now) }
        if journal != nil { unwritten.append(.action(job: id, action, at: now)) }
        perform(effects, job: id, now: now)
        finishTurn()
        dispatch()
    }

    // MARK: - Reports from nodes

    func onReports(_ reports: [NodeReport]) {
        // After shutdown the executions stopped by it report failures that must not reach the journal: a
        // restarted grid re-queues them instead.
        guard !isShutDown else { return }
        let now = self.now
        // A node's batch holds runs of reports about the same job: each run is one update of that job.
        var start = reports.startIndex
        while start < reports.endIndex {
            let job = reports[start].job
            var end = start + 1
            while end < reports.endIndex, reports[end].job == job { end += 1 }
            apply(reports[start..<end], job: job, now: now)
            start = end
        }
        finishTurn()
        // A batch that ends with an end comes from a node between tasks, awake and about to look at its queue: it
        // gets ties (a parked node would need waking). One that ends with a start comes from a node inside a
        // task (sent by the pump, or before a subprocess): no preference.
        let reporter: NodeID? = if case .finished(_, _, _, let node, _, _, _)? = reports.last { node } else { nil }
        dispatch(preferring: reporter)
    }

    /// Applies a run of reports about one job in one update of it. Events are read from the job right after
    /// the report that caused them (a start and an end in the same batch show RUNNING, then FINISHED); the
    /// other effects are performed once the job is updated, in order.
    private func apply(_ reports: ArraySlice<NodeReport>, job id: JobID, now: Duration) {
        // What ended or was dropped frees its room on the node, whether or not the job still knows it.
        for report in reports {
            switch report {
            case .finished(_, _, _, _, let assignedNode, _, _), .dropped(_, _, _, let assignedNode):
                core.updateLedger { $0.release(from: assignedNode) }
            case .started:
                break
            }
        }
        var effects = takeEffectBuffer()
        var events: [GridEvent] = []
        var records: [JournalRecord] = []
        let listening = hub.isListening
        let journaling = journal != nil
        let latency = dispatchLatency
        _ = try? core.update(id) { job in
            for report in reports {
                var before = effects.count
                switch report {
                case .started(_, let index, let attempt, let node):
                    if job.instances.indices.contains(index) {
                        latency.recordNanoseconds((now - job.instances[index].since).nanoseconds)
                    }
                    job.onStarted(index, attempt: attempt, node: node, now: now, &effects)
                case .finished(_, let index, let attempt, let node, _, let outcome, let ran):
                    // An end without its start report implies the start: the task shows RUNNING, then its end. A node
                    // sends a short task's end in place of its start (ReportBuffer); a start the pump took while the
                    // node sent the end first arrives late and is ignored.
                    if job.instances.indices.contains(index), job.instances[index].status == .pending {
                        latency.recordNanoseconds((now - job.instances[index].since).nanoseconds)
                        job.onStarted(index, attempt: attempt, node: node, now: now, &effects)
                        if listening, effects.count > before {
                            SchedulerActor.collectEvents(effects[before...], of: job, now: now, into: &events)
                        }
                    }
                    before = effects.count
                    let measured: Duration? = ran > 0 ? .nanoseconds(ran) : nil
                    job.onFinished(index, attempt: attempt, node: node, outcome: outcome, now: now, ran: measured, &effects)
                    // A late or unknown report changes nothing and leaves no record.
                    if journaling, effects.count > before {
                        records.append(.finished(job: id, index: index, attempt: attempt, node: node, outcome: outcome, at: now, ran: measured))
                    }
                case .dropped(_, let index, let attempt, _):
                    job.undispatch(index, attempt: attempt, &effects)
                }
                if listening, effects.count > before {
                    SchedulerActor.collectEvents(effects[before...], of: job, now: now, into: &events)
                }
            }
        }
        unwritten.append(contentsOf: records)
        outbox.append(contentsOf: events)
        performActions(effects, job: id, now: now)
        effectBuffer = effects
    }

    // MARK: - Journal

    /// Ends a turn: writes its records and the final reports of the jobs that ended (whose records go) in one
    /// transaction, then publishes its events and answers the callers waiting for results.
    private func finishTurn() {
        if let journal, !unwritten.isEmpty || !endedReports.isEmpty {
            do {
                try journal.append(unwritten)
            } catch {
                logger.error("journal write failed", metadata: ["grid.error": "\(error)", "grid.records": "\(unwritten.count)"])
            }
            let logger = self.logger
            journal.appendLater(ended: endedReports, at: wallClock()) { error in
                logger.error("journal report write failed", metadata: ["grid.error": "\(error)"])
            }
            unwritten.removeAll(keepingCapacity: true)
            endedReports.removeAll()
        }
        if !outbox.isEmpty {
            hub.publish(outbox)
            outbox.removeAll(keepingCapacity: true)
        }
        for (list, result) in resumptions {
            for waiter in list { waiter.resume(returning: result) }
        }
        resumptions.removeAll()
    }

    /// Rebuilds the unfinished jobs of a journal after a restart: each job's workflow replayed through its
    /// records, then what was running queued again. Returns how many jobs came back.
    func recover(_ recovery: Journal.Recovery) -> Int {
        timeOffset = max(.zero, recovery.lastTime - clock.now + .milliseconds(1))
        nextJob = max(nextJob, recovery.lastJob)
        let now = self.now
        var recovered = 0
        for quarantined in recovery.quarantined {
            logger.error("job put in quarantine: its rows do not read back", metadata: [
                "grid.job.id": "\(quarantined.job)", "grid.job.owner": "\(quarantined.owner)", "grid.reason": "\(quarantined.reason)",
            ])
        }
        for (submission, records) in recovery.jobs {
            var job: JobCore
            do {
                job = try JobCore(
                    id: submission.id, workflow: submission.workflow, variables: submission.variables, isAdmin: submission.admin,
                    owner: submission.owner, now: submission.at, wallNow: submission.wall, plan: nil, limits: limits)
            } catch {
                // Not again at every start: it is put aside with the reason, for an administrator to look at.
                let reason = "it cannot be rebuilt: \(error)"
                _ = try? journal?.quarantine(submission.id, reason: reason)
                logger.error("job put in quarantine", metadata: ["grid.job.id": "\(submission.id)", "grid.reason": "\(reason)"])
                continue
            }
            _ = job.start(now: submission.at)
            for record in records { job.replay(record) }
            let effects = job.status.isAlive ? job.requeueInterrupted(now: now) : []
            let id = job.id
            core.add(consume job)
            recovered += 1
            if let job = core.job(id), !job.status.isAlive {
                // It ended before the crash, but its report was not stored yet.
                perform([.jobChanged(job.status)], job: id, now: now)
            } else {
                perform(effects.filter { if case .wake = $0 { true } else { false } }, job: id, now: now)
            }
        }
        for node in recovery.lockedNodes { core.updateLedger { $0.setLocked(node, true) } }
        // Agents' nodes get identifiers no journaled record or lock used: a node of the last run is never mistaken
        // for a new one (exclusions, locks).
        var highest = recovery.lockedNodes.map(\.rawValue).max() ?? 0
        for (_, records) in recovery.jobs {
            for record in records {
                switch record {
                case .finished(_, _, _, let node, _, _, _), .lost(_, _, _, let node, _): highest = max(highest, node.rawValue)
                case .tick, .action: break
                }
            }
        }
        nextRemoteNode = max(nextRemoteNode, highest + 1)
        finishTurn()
        dispatch()
        logger.info("journal recovered", metadata: ["grid.jobs": "\(recovered)", "grid.time": "\(now)"])
        return recovered
    }

    // MARK: - Effects

    private func perform(_ effects: [JobCore.Effect], job id: JobID, now: Duration) {
        guard !effects.isEmpty else { return }
        if hub.isListening, let job = core.job(id) {
            SchedulerActor.collectEvents(effects[...], of: job, now: now, into: &outbox)
        }
        performActions(effects, job: id, now: now)
    }

    /// The events of `effects`, read from `job` as it is now: call it right after the change that made them.
    private static func collectEvents(
        _ effects: ArraySlice<JobCore.Effect>, of job: borrowing JobCore, now: Duration, into events: inout [GridEvent]
    ) {
        for effect in effects {
            switch effect {
            case .taskChanged(let index):
                let instance = job.instances[index]
                events.append(GridEvent(
                    job: job.id, change: .task(instance.name, instance.status, node: instance.node, executions: instance.executions, message: instance.message),
                    progress: job.progress, time: now))
            case .jobChanged(let status):
                events.append(GridEvent(job: job.id, change: .job(status), progress: job.progress, time: now))
            case .abort, .wake, .ready:
                break
            }
        }
    }

    /// The effects other than events: aborts, timers, and what follows when the job ended.
    private func performActions(_ effects: [JobCore.Effect], job id: JobID, now: Duration) {
        var finished = false
        for effect in effects {
            switch effect {
            case .taskChanged, .ready:
                break
            case .jobChanged(let status):
                if !status.isAlive { finished = true }
                logger.debug("job state", metadata: ["grid.job.id": "\(id)", "grid.job.state": "\(status)"])
            case .abort(let index, let node, let attempt):
                if nodes[node]?.abort(job: id, index: index, attempt: attempt) == true {
                    core.updateLedger { $0.release(from: node) }
                }
            case .wake(let deadline):
                arm(deadline)
            }
        }
        if finished, let job = core.job(id) {
            let result = JobResult(job, logDirectory: logDirectory(id), hosts: hostNames)
            if journal != nil { endedReports.append(result) }
            if let list = waiters.removeValue(forKey: id) { resumptions.append((list, result)) }
            if let delay = removeEndedJobsAfter {
                removals.append((now + delay, id))
                arm(now + delay)
            }
        }
    }

    /// The effects buffer, emptied (one array serves every report of a turn).
    private func takeEffectBuffer() -> [JobCore.Effect] {
        var buffer: [JobCore.Effect] = []
        swap(&buffer, &effectBuffer)
        buffer.removeAll(keepingCapacity: true)
        return buffer
    }

    private func dispatch(preferring reporter: NodeID? = nil) {
        guard !isShutDown else { return }
        let now = self.now
        // A first pass of a few assignments per node, sent at once: the other nodes start on them while this
        // thread builds the rest (hundreds of assignments when a wide level of a DAG becomes ready).
        // The second pass always runs: a first pass that placed nothing may have looked only at tasks no node
        // takes now, and the tasks behind them still get their chance.
        for (node, batch) in core.schedule(now: now, limit: 8 * max(1, nodes.count), preferring: reporter) { nodes[node]?.enqueue(batch) }
        for (node, batch) in core.schedule(now: now, limit: .max, preferring: reporter) { nodes[node]?.enqueue(batch) }
        balanceHosts()
    }

    /// The host of a node (reports show where each task ran).
    func hosts() -> [NodeID: String] { hostNames }

    // MARK: - Timers

    private func arm(_ deadline: Duration) {
        if let timer, timer.deadline <= deadline { return }
        timer?.task.cancel()
        let clock = self.clock
        let local = deadline - timeOffset
        timer = (deadline, Task { [weak self] in
            do {
                try await clock.sleep(until: local)
            } catch {
                return
            }
            await self?.onTimer()
        })
    }

    private func onTimer() {
        timer = nil
        let now = self.now
        // Identifiers first: holding copies of the jobs while updating them would copy their instances.
        let due = core.jobs.filter { $0.status.isAlive && ($0.nextWake.map { $0 <= now } ?? false) }.map(\.id)
        for id in due {
            let effects = (try? core.update(id) { $0.onTick(now: now) }) ?? []
            if journal != nil { unwritten.append(.tick(job: id, at: now)) }
            perform(effects, job: id, now: now)
        }
        finishTurn()
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
    func shutdown() -> [any GridNode] {
        isShutDown = true
        timer?.task.cancel()
        timer = nil
        for node in nodes.values { _ = node.stop() }
        for entry in sessions.values { entry.host.close() }
        sessions = [:]
        for (id, list) in waiters {
            guard let job = core.job(id) else { continue }
            let result = JobResult(job, logDirectory: logDirectory(id), hosts: hostNames)
            for waiter in list { waiter.resume(returning: result) }
        }
        waiters = [:]
        hub.finishAll()
        return Array(nodes.values)
    }
}
