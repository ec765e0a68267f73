import Cluster
import Foundation
import Logging

/// The scheduler's shell: owns the ``SchedulerCore``, feeds it submissions, node reports, node life-cycle
/// events, timers and user actions, and performs the ``SchedulerDirective``s it returns (dispatch to nodes and
/// agents, aborts, the journal, events, the timer). It decides nothing itself.
actor SchedulerActor {
    var core: SchedulerCore
    var nodes: [NodeID: any GridNode] = [:]
    /// The local nodes, whose queues a reclaim takes back from.
    private var localNodes: [LocalNode] = []
    /// The agents' live sessions.
    private var remoteHosts: [Int: RemoteHost] = [:]
    /// The bounds submissions and their flow controls are held to.
    let limits: InputLimits
    /// The accounts and limits agents must run subprocess tasks under, on a multi-user grid.
    let isolation: TaskIsolation?
    var waiters: [JobID: [CheckedContinuation<JobResult, Never>]] = [:]
    private var timer = WakeTimer()
    private var isShutDown = false
    /// Who follows the node list (``watchNodes()``).
    private var followers = NodeListFollowers()
    let hub: EventHub
    let clock: any GridClock
    /// Where every state change that must survive a crash goes before it is acknowledged; `nil` keeps the grid
    /// in memory only.
    let journal: Journal?
    /// Reports of jobs that ended in the current turn, written with its commit.
    private var endedReports: [JobResult] = []
    /// Callers waiting for jobs that ended in the current turn, answered after its commit.
    private var resumptions: [(waiters: [CheckedContinuation<JobResult, Never>], result: JobResult)] = []
    /// Added to the clock so that grid time goes on across restarts (the journal's times stay ordered).
    private var timeOffset: Duration = .zero
    let wallClock: @Sendable () -> Date
    let logDirectory: @Sendable (JobID) -> String
    private var logger: Logger

    init(hub: EventHub, settings: GridSettings, journal: Journal?, logDirectory: @escaping @Sendable (JobID) -> String) {
        self.hub = hub
        self.journal = journal
        self.clock = settings.clock
        self.wallClock = settings.wallClock
        self.logDirectory = logDirectory
        self.logger = settings.logger
        self.limits = settings.limits
        self.isolation = settings.isolation
        self.core = SchedulerCore(settings: .init(
            removeEndedJobsAfter: settings.removeEndedJobsAfter, keepLostNodes: settings.keepLostNodes, journals: journal != nil))
        logger[metadataKey: "grid.component"] = "scheduler"
    }

    /// The grid's time.
    var now: Duration { clock.now + timeOffset }

    // MARK: - Inputs

    /// Adds local nodes (FREE) to the resource manager.
    func addNodes(_ added: [(node: LocalNode, entry: ResourceLedger.Entry)]) {
        for (node, _) in added {
            nodes[node.id] = node
            localNodes.append(node)
        }
        feed { $0.onLocalNodesJoined(added.map(\.entry), now: $1) }
    }

    /// Adds an agent's nodes (FREE, one per worker) and tells the agent their identifiers.
    func addHost(_ host: RemoteHost, source: String, capacity: Int, rank: Int = 0, users: Set<String>? = nil) {
        guard !isShutDown else { return }
        let resources = host.resources
        remoteHosts[host.session] = host
        feed { $0.onHostJoined(
            .init(
                session: host.session, address: resources.address, workers: resources.workers, labels: resources.labels,
                token: resources.token, source: source, capacity: capacity, rank: rank, users: users),
            now: $1) }
        logger.info("host joined", metadata: [
            "grid.host": "\(resources.address)", "grid.hostname": "\(resources.hostname)",
            "grid.nodes": "\(core.resources.nodes(ofSession: host.session)?.count ?? 0)", "grid.session": "\(host.session)",
        ])
    }

    /// An agent is suspected (`down`: no new work, running work kept) or answers again.
    func setHostDown(_ session: Int, _ down: Bool) {
        guard let host = remoteHosts[session] else { return }
        logger.notice(down ? "host down" : "host up", metadata: ["grid.host": "\(host.resources.address)"])
        feed { down ? $0.onHostDown(session: session, now: $1) : $0.onHostUp(session: session, now: $1) }
    }

    /// An agent's session is over (its member died or left, or its link closed).
    func hostLost(_ session: Int, reason: String) {
        guard let host = remoteHosts[session] else { return }
        logger.warning("host lost", metadata: ["grid.host": "\(host.resources.address)", "grid.reason": "\(reason)"])
        feed { $0.onHostLost(session: session, now: $1) }
    }

    /// A managed source drains its host (TO_BE_REMOVED: no new work) or keeps it after all.
    func setHostDraining(_ session: Int, _ draining: Bool) {
        guard remoteHosts[session] != nil else { return }
        feed { $0.onHostDraining(session: session, draining, now: $1) }
    }

    /// A managed source released its host: its nodes leave; their work is queued again (a node failure only when
    /// `countsAsFailure`).
    func hostReleased(_ session: Int, countsAsFailure: Bool) {
        guard let host = remoteHosts[session] else { return }
        logger.notice("host released", metadata: ["grid.host": "\(host.resources.address)"])
        feed { $0.onHostReleased(session: session, countsAsFailure: countsAsFailure, now: $1) }
    }

    /// What a managed source's policy reads: the demand it may take and the busy nodes of each of its sessions.
    func elasticInputs(source: String, users: Set<String>?, targetedOnly: Bool) -> (demand: ElasticDemand, busy: [Int: Int], meanTaskSeconds: Double?) {
        (core.demand(source: source, users: users, targetedOnly: targetedOnly, now: now), busyBySession(source: source), nil)
    }

    /// The nodes holding work on each session of `source`.
    func busyBySession(source: String) -> [Int: Int] {
        var busy: [Int: Int] = [:]
        for session in remoteHosts.keys {
            guard let ids = core.resources.nodes(ofSession: session), let first = ids.first, core.ledger.entry(first)?.source == source else { continue }
            busy[session] = ids.reduce(0) { $0 + ((core.ledger.entry($1)?.assigned ?? 0) > 0 ? 1 : 0) }
        }
        return busy
    }

    /// Reports from an agent's session; the core drops them once the session is over.
    func onReports(_ reports: [NodeReport], session: Int) {
        guard !isShutDown else { return }
        feed { $0.onReports(reports, session: session, now: $1) }
    }

    /// Reports from local nodes.
    func onReports(_ reports: [NodeReport]) {
        // After shutdown the executions stopped by it report failures that must not reach the journal: a
        // restarted grid re-queues them instead.
        guard !isShutDown else { return }
        feed { $0.onReports(reports, session: nil, now: $1) }
    }

    /// Locks or unlocks a node (a locked node gets no new tasks).
    func setLocked(_ node: NodeID, _ locked: Bool) throws(GridError) {
        try journal?.setLocked(node, locked)
        feed { $0.onLockChanged(node, locked: locked, now: $1) }
    }

    /// Starts a job from a workflow that passed validation (``Grid/submit(_:variables:admin:)`` checks
    /// it before the hop, so a large workflow is not checked on the scheduler's time).
    func submit(
        _ workflow: Workflow, variables: [String: String], admin: Bool, owner: String, plan: FlowPlan? = nil,
        encoded: Journal.EncodedWorkflow? = nil
    ) throws(GridError) -> JobID {
        guard !isShutDown else { throw .shutDown }
        let id = core.nextJobID
        let now = self.now
        let wall = wallClock()
        let job = try JobCore(
            id: id, workflow: workflow, variables: variables, isAdmin: admin, owner: owner, now: now, wallNow: wall, plan: plan,
            limits: limits)
        try journal?.submitted(
            .init(id: id, workflow: workflow, variables: variables, admin: admin, owner: owner, at: now, wall: wall), encoded: encoded)
        logger.debug("job submitted", metadata: ["grid.job.id": "\(id)", "grid.job.name": "\(workflow.name)"])
        // Not through `feed`: a closure would hold a second reference to the job's arrays, and its first placement
        // would copy every instance.
        core.publishesEvents = hub.isListening
        perform(core.onSubmitted(consume job, now: now))
        return id
    }

    /// Runs a user's action on a job, journals it and performs its effects.
    func act(_ id: JobID, _ action: JobAction) throws(GridError) {
        guard core.job(id) != nil else {
            if let ended = try journal?.report(id) {
                throw .actionNotAllowed(action.kind, target: .job(id), state: .job(ended.status))
            }
            throw .jobNotFound(id)
        }
        try feed { (core: inout SchedulerCore, now: Duration) throws(GridError) in try core.onAction(action, job: id, now: now) }
    }

    /// Forgets a job that ended (its report, its events); its logs stay on disk.
    func remove(_ id: JobID) throws(GridError) {
        try feed { (core: inout SchedulerCore, now: Duration) throws(GridError) in try core.onRemove(id, now: now) }
        logger.debug("job removed", metadata: ["grid.job.id": "\(id)"])
    }

    /// Rebuilds the unfinished jobs of a journal after a restart. Returns how many jobs came back.
    func recover(_ recovery: Journal.Recovery) -> Int {
        timeOffset = max(.zero, recovery.lastTime - clock.now + .milliseconds(1))
        for quarantined in recovery.quarantined {
            logger.error("job put in quarantine: its rows do not read back", metadata: [
                "grid.job.id": "\(quarantined.job)", "grid.job.owner": "\(quarantined.owner)", "grid.reason": "\(quarantined.reason)",
            ])
        }
        let now = self.now
        core.publishesEvents = hub.isListening
        let recovered = core.onRecovered(recovery, limits: limits, now: now)
        perform(recovered.directives)
        logger.info("journal recovered", metadata: ["grid.jobs": "\(recovered.jobs)", "grid.time": "\(now)"])
        return recovered.jobs
    }

    /// Gives an input to the core, with a fresh reading of whether anyone listens to events, and performs the
    /// directives it returns.
    private func feed<E: Error>(_ input: (inout SchedulerCore, Duration) throws(E) -> [SchedulerDirective]) throws(E) {
        core.publishesEvents = hub.isListening
        perform(try input(&core, now))
    }

    // MARK: - Directives

    private func perform(_ directives: [SchedulerDirective]) {
        defer { followers.publish { core.ledger.all } }
        var abortedInQueue: [NodeID] = []
        for directive in directives {
            switch directive {
            case .dispatch(let node, let batch):
                if !isShutDown { nodes[node]?.enqueue(batch) }
            case .placeMore(let preferring):
                if !isShutDown { perform(core.onPlaceMore(preferring: preferring, now: now)) }
            case .abort(let job, let index, let attempt, let node):
                if nodes[node]?.abort(job: job, index: index, attempt: attempt) == true { abortedInQueue.append(node) }
            case .configureHost(let session, let ids):
                guard let host = remoteHosts[session] else { continue }
                host.post(.configure(nodes: ids, isolation: isolation.map { AgentIsolation(accounts: $0.accounts, resources: $0.resources) }))
                for id in ids { nodes[id] = RemoteNode(id: id, host: host) }
            case .releaseFromHost(let session, let max):
                remoteHosts[session]?.post(.release(max: max))
            case .reclaimLocal(let max):
                reclaimLocal(max: max)
            case .closeHost(let session, let ids, let requeued, let rerun):
                let host = remoteHosts.removeValue(forKey: session)
                host?.close()
                for id in ids { nodes[id] = nil }
                logger.notice("host's work placed again", metadata: [
                    "grid.host": "\(host?.resources.address.description ?? "")", "grid.requeued": "\(requeued)", "grid.rerun": "\(rerun)",
                ])
            case .setMaySteal(let node, let allowed):
                nodes[node]?.setMaySteal(allowed)
            case .nudge(let node):
                nodes[node]?.nudge()
            case .jobEnded(let id):
                jobEnded(id)
            case .commit(let records, let events):
                commit(records, events)
            case .quarantine(let id, let reason):
                _ = try? journal?.quarantine(id, reason: reason, at: wallClock())
                logger.error("job put in quarantine", metadata: ["grid.job.id": "\(id)", "grid.reason": "\(reason)"])
            case .wake(let deadline):
                timer.arm(deadline, offset: timeOffset, clock: clock) { [weak self] in await self?.onTimer() }
            }
        }
        if !abortedInQueue.isEmpty { perform(core.onAbortedInQueue(abortedInQueue, now: now)) }
    }

    /// Takes up to `max` queued executions back from the local nodes and gives them to the core as dropped: only
    /// those an idle node would take (its source's users, its token, its labels), so that what is taken is placed
    /// there and not back where it was.
    private func reclaimLocal(max: Int) {
        // Placing what is reclaimed may ask for a rebalance again: not within this one.
        guard !reclaiming else { return }
        reclaiming = true
        defer { reclaiming = false }
        let ledger = core.ledger
        var taken: [NodeReport] = []
        for node in localNodes where taken.count < max {
            let stolen = node.queue.steal(for: NodeID(-1), max: max - taken.count) { ledger.idleNodeAccepts($0.selection, user: $0.owner) }
            taken += stolen.map { .dropped(job: $0.job, index: $0.index, attempt: $0.attempt, assignedNode: $0.assignedNode) }
        }
        if !taken.isEmpty { perform(core.onReports(taken, session: nil, now: now)) }
    }

    /// Whether a reclaim of local work is under way.
    private var reclaiming = false

    private func jobEnded(_ id: JobID) {
        guard let job = core.job(id) else { return }
        logger.debug("job ended", metadata: ["grid.job.id": "\(id)", "grid.job.state": "\(job.status)"])
        let result = JobResult(job, logDirectory: logDirectory(id), hosts: core.resources.hostNames)
        if journal != nil { endedReports.append(result) }
        if let list = waiters.removeValue(forKey: id) { resumptions.append((list, result)) }
    }

    /// Writes a turn's records and the final reports of the jobs that ended (whose records go) in one
    /// transaction, then publishes its events and answers the callers waiting for results.
    private func commit(_ records: [JournalRecord], _ events: [GridEvent]) {
        if let journal, !records.isEmpty || !endedReports.isEmpty {
            do {
                try journal.append(records)
            } catch {
                logger.error("journal write failed", metadata: ["grid.error": "\(error)", "grid.records": "\(records.count)"])
            }
            let logger = self.logger
            journal.appendLater(ended: endedReports, at: wallClock()) { error in
                logger.error("journal report write failed", metadata: ["grid.error": "\(error)"])
            }
            endedReports.removeAll()
        }
        if !events.isEmpty { hub.publish(events) }
        let answered = resumptions
        resumptions.removeAll()
        for (list, result) in answered {
            for waiter in list { waiter.resume(returning: result) }
        }
    }

    private func onTimer() {
        timer.fired()
        guard !isShutDown else { return }
        feed { $0.onTick(now: $1) }
    }

    // MARK: - The node list, followed

    /// The node list now, then each time it changed after an input (a state, a lock, a node's running count):
    /// the newest list only, for a slow reader. The stream ends when the grid shuts down.
    func watchNodes() -> AsyncStream<[ResourceLedger.Entry]> {
        followers.follow(core.ledger.all) { [weak self] id in Task { await self?.unfollow(id) } }
    }

    private func unfollow(_ id: UInt64) { followers.remove(id) }

    // MARK: - Shutdown

    /// Stops scheduling, kills what runs, ends every stream and releases waiters with the jobs' states.
    func shutdown() -> [any GridNode] {
        isShutDown = true
        timer.cancel()
        for node in nodes.values { _ = node.stop() }
        for host in remoteHosts.values { host.close() }
        remoteHosts = [:]
        for (id, list) in waiters {
            guard let job = core.job(id) else { continue }
            let result = JobResult(job, logDirectory: logDirectory(id), hosts: core.resources.hostNames)
            for waiter in list { waiter.resume(returning: result) }
        }
        waiters = [:]
        hub.finishAll()
        followers.finish()
        return Array(nodes.values)
    }
}
