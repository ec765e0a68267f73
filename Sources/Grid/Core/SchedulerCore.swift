import DequeModule
import Foundation
import Metrics

/// The scheduler's decisions: the jobs in memory and their policy order (priority first, then submission order,
/// ProActive's `FIFO_BY_PRIORITY`), placement with START_AT, labels, tokens and exclusions, the node
/// life cycle through ``ResourceCore``, timers, removals and what goes to the journal.
///
/// A pure value. Every input is an `on…(…, now:)` handler that returns the ``SchedulerDirective``s the shell
/// performs, in order; it never reads a clock, sleeps or touches a node, a file or the network.
public struct SchedulerCore: Sendable {
    /// What the core is told once, when it is made.
    public struct Settings: Sendable {
        /// How long an ended job stays in memory before it is forgotten; `nil` keeps it until it is removed.
        public var removeEndedJobsAfter: Duration?
        /// How long a LOST node stays in the node list.
        public var keepLostNodes: Duration = .seconds(3600)
        /// Whether the grid has a journal: the core then returns the records of each turn in its
        /// ``SchedulerDirective/commit(records:events:)``.
        public var journals = false

        /// The defaults: ended jobs kept, LOST nodes listed for an hour, no journal.
        public init(removeEndedJobsAfter: Duration? = nil, keepLostNodes: Duration = .seconds(3600), journals: Bool = false) {
            self.removeEndedJobsAfter = removeEndedJobsAfter
            self.keepLostNodes = keepLostNodes
            self.journals = journals
        }
    }

    /// Assignments per node in the first placement pass of a turn (see ``SchedulerDirective/placeMore(preferring:)``).
    static let firstPassPerNode = 8

    /// Every job still in memory (a job's slot moves only when another one is forgotten).
    ///
    /// An array rather than a dictionary so that events mutate a job in place: copying a
    /// `JobCore` out and back would copy its instance array on every event.
    private(set) var jobList: [JobCore] = []
    /// The slot of each job in `jobList`.
    var slots: [JobID: Int] = [:]
    /// Alive jobs, highest priority first, then oldest first.
    private(set) var order: [JobID] = []
    /// The nodes, their states, the agents' sessions.
    public internal(set) var resources: ResourceCore
    let settings: Settings
    /// Whether changes become events: the shell sets it before each input when anyone listens (building an
    /// event per change costs time nobody needs otherwise).
    public var publishesEvents = false
    /// The largest job identifier given.
    var lastJob: UInt64 = 0
    /// Ended jobs to forget, with when, oldest first (all are appended with the same delay).
    var removals: Deque<(at: Duration, job: JobID)> = []
    /// The soonest wake the shell was asked for and has not delivered yet.
    var armed: Duration?
    /// The runs the replicates of ended jobs decided, and how many decisions (``demand(source:now:)``'s look-ahead).
    var endedReplicates: (runs: Int, decisions: Int) = (0, 0)

    // The current turn.
    var out: [SchedulerDirective] = []
    var records: [JournalRecord] = []
    var events: [GridEvent] = []
    var endedInTurn = false
    /// Reused by every run of reports for their effects.
    var effectBuffer: [JobCore.Effect] = []

    /// From a task becoming PENDING to its execution starting on a node.
    let dispatchLatency = Metrics.Timer(label: "tessera_dispatch_latency")

    /// Makes an empty scheduler.
    public init(settings: Settings = Settings()) {
        self.settings = settings
        self.resources = ResourceCore(keepLostNodes: settings.keepLostNodes)
    }

    /// The nodes and their load.
    public var ledger: ResourceLedger { resources.ledger }

    /// The identifier the next submitted job gets.
    public var nextJobID: JobID { JobID(lastJob + 1) }

    /// The job with this identifier.
    public func job(_ id: JobID) -> JobCore? {
        slots[id].map { jobList[$0] }
    }

    /// Every job in memory.
    public var jobs: [JobCore] { jobList }

    /// The jobs still alive, in policy order.
    public var aliveJobs: [JobID] { order }

    /// The earliest timer of any job.
    public var nextWake: Duration? { order.compactMap { job($0)?.nextWake }.min() }

    // MARK: - Jobs in memory

    /// Adds a job (already started) to the schedule.
    mutating func add(_ job: JobCore) {
        lastJob = max(lastJob, job.id.rawValue)
        slots[job.id] = jobList.count
        jobList.append(job)
        if job.status.isAlive {
            order.append(job.id)
            reorder()
        }
    }

    /// Re-sorts after a priority change.
    mutating func reorder() {
        let priorities = Dictionary(uniqueKeysWithValues: order.map { ($0, job($0)?.priority ?? .idle) })
        order.sort { lhs, rhs in
            let left = priorities[lhs] ?? .idle
            let right = priorities[rhs] ?? .idle
            return left != right ? left > right : lhs < rhs
        }
    }

    /// Applies `body` to job `id` and keeps the order in step with its priority and liveness.
    mutating func update<T>(_ id: JobID, _ body: (inout JobCore) throws(GridError) -> T) throws(GridError) -> T {
        guard let slot = slots[id] else { throw .jobNotFound(id) }
        let priority = jobList[slot].priority
        let wasAlive = jobList[slot].status.isAlive
        let result = try body(&jobList[slot])
        if wasAlive && !jobList[slot].status.isAlive {
            order.removeAll { $0 == id }
            endedReplicates.runs += jobList[slot].replicateRuns.runs
            endedReplicates.decisions += jobList[slot].replicateRuns.decisions
        } else if jobList[slot].priority != priority {
            reorder()
        }
        return result
    }

    /// Drops a finished job from memory.
    mutating func forget(_ id: JobID) {
        guard let slot = slots[id], !jobList[slot].status.isAlive else { return }
        let last = jobList.count - 1
        if slot != last {
            jobList.swapAt(slot, last)
            slots[jobList[slot].id] = slot
        }
        jobList.removeLast()
        slots[id] = nil
    }

    /// Mutable access to the ledger, for tests that set up nodes directly.
    mutating func updateLedger(_ body: (inout ResourceLedger) -> Void) {
        body(&resources.ledger)
    }

    // MARK: - Placement

    /// Places ready tasks on nodes with room, in policy order, and returns the assignments per node.
    ///
    /// A task that no node accepts right now stays at the head of its job's queue; the tasks behind it
    /// in the same job and the next jobs still get their chance (ProActive's non-strict FIFO).
    mutating func schedule(now: Duration) -> [NodeID: [TaskAssignment]] {
        schedule(now: now, limit: .max)
    }

    /// ``schedule(now:)`` placing at most `limit` assignments in this pass; between nodes that hold as few tasks,
    /// `preferring` gets the task.
    mutating func schedule(now: Duration, limit: Int, preferring: NodeID? = nil) -> [NodeID: [TaskAssignment]] {
        Dictionary(uniqueKeysWithValues: placeBatches(limit: limit, preferring: preferring).map { ($0.node, $0.batch) })
    }

    /// The placement pass: at most `limit` assignments, per node in ledger order.
    private mutating func placeBatches(limit: Int, preferring: NodeID?) -> [(node: NodeID, batch: [TaskAssignment])] {
        var room = min(resources.ledger.freeSlots, limit)
        guard room > 0 else { return [] }
        // One batch per position of the ledger's table: no hashing per assignment.
        var batches = [[TaskAssignment]](repeating: [], count: resources.ledger.count)
        let preferred = preferring.flatMap { resources.ledger.position(of: $0) }
        for id in order {
            guard room > 0 else { break }
            guard let slot = slots[id], jobList[slot].hasReady, jobList[slot].status.isAlive else { continue }
            room -= jobList[slot].place(limit: room, on: &resources.ledger, into: &batches, preferred: preferred)
        }
        var out: [(node: NodeID, batch: [TaskAssignment])] = []
        for position in batches.indices where !batches[position].isEmpty {
            out.append((resources.ledger.node(at: position), batches[position]))
        }
        return out
    }

    /// The second placement pass of a turn (after ``SchedulerDirective/placeMore(preferring:)``): everything that
    /// fits, then cross-host balancing.
    public mutating func onPlaceMore(preferring: NodeID?, now: Duration) -> [SchedulerDirective] {
        placeAll(preferring: preferring)
        return takeDirectives()
    }

    /// A first pass of a few assignments per node, sent at once: the nodes start on them while the shell comes
    /// back for the rest (hundreds of assignments when a wide level of a DAG becomes ready). When it places
    /// nothing, the full pass runs at once: the first may have looked only at tasks no node takes now, and the
    /// tasks behind them still get their chance.
    mutating func placeFirst(preferring: NodeID?) {
        let first = placeBatches(limit: Self.firstPassPerNode * max(1, resources.ledger.count), preferring: preferring)
        guard !first.isEmpty else {
            placeAll(preferring: preferring)
            return
        }
        for (node, batch) in first { out.append(.dispatch(node, batch)) }
        out.append(.placeMore(preferring: preferring))
    }

    private mutating func placeAll(preferring: NodeID?) {
        for (node, batch) in placeBatches(limit: .max, preferring: preferring) { out.append(.dispatch(node, batch)) }
        switch resources.rebalance() {
        case .release(let session, let max)?: out.append(.releaseFromHost(session: session, max: max))
        case .reclaimLocal(let max)?: out.append(.reclaimLocal(max: max))
        case nil: break
        }
    }

    // MARK: - Turns

    /// Ends a turn: its records, events and ended jobs go out in one commit, then (when `placing`) the first
    /// placement pass. Returns the turn's directives.
    mutating func finishTurn(placing: Bool, preferring: NodeID? = nil) -> [SchedulerDirective] {
        if endedInTurn || !records.isEmpty || !events.isEmpty {
            out.append(.commit(records: records, events: events))
            records = []
            events = []
            endedInTurn = false
        }
        if placing { placeFirst(preferring: preferring) }
        return takeDirectives()
    }

    mutating func takeDirectives() -> [SchedulerDirective] {
        var taken: [SchedulerDirective] = []
        swap(&taken, &out)
        return taken
    }

    /// Asks the shell for a wake at `deadline`, unless one at or before it is pending.
    mutating func wake(at deadline: Duration) {
        if let armed, armed <= deadline { return }
        armed = deadline
        out.append(.wake(at: deadline))
    }

    /// The events and actions of `effects` of job `id`, as the job is now: call it right after the change that
    /// made them.
    mutating func perform(_ effects: [JobCore.Effect], job id: JobID, now: Duration) {
        guard !effects.isEmpty else { return }
        if publishesEvents, let slot = slots[id] {
            Self.collectEvents(effects[...], of: jobList[slot], now: now, into: &events)
        }
        performActions(effects, job: id, now: now)
    }

    /// The events of `effects`, read from `job` as it is now.
    static func collectEvents(
        _ effects: ArraySlice<JobCore.Effect>, of job: borrowing JobCore, now: Duration, into events: inout [GridEvent]
    ) {
        for effect in effects {
            switch effect {
            case .taskChanged(let index):
                let instance = job.instances[index]
                events.append(GridEvent(
                    job: job.id,
                    change: .task(instance.name, instance.status, node: instance.node, executions: instance.executions, message: instance.message),
                    progress: job.progress, time: now))
            case .jobChanged(let status):
                events.append(GridEvent(job: job.id, change: .job(status), progress: job.progress, time: now))
            case .abort, .wake, .ready:
                break
            }
        }
    }

    /// The effects other than events: aborts, timers, and what follows when the job ended.
    mutating func performActions(_ effects: [JobCore.Effect], job id: JobID, now: Duration) {
        var ended = false
        for effect in effects {
            switch effect {
            case .taskChanged, .ready:
                break
            case .jobChanged(let status):
                if !status.isAlive { ended = true }
            case .abort(let index, let node, let attempt):
                out.append(.abort(job: id, index: index, attempt: attempt, node: node))
            case .wake(let deadline):
                wake(at: deadline)
            }
        }
        guard ended else { return }
        out.append(.jobEnded(id))
        endedInTurn = true
        if let delay = settings.removeEndedJobsAfter {
            removals.append((now + delay, id))
            wake(at: now + delay)
        }
    }

    /// Forgets an ended job and tells the grid-wide subscribers.
    mutating func forgetEnded(_ id: JobID, now: Duration) {
        guard let job = job(id), !job.status.isAlive else { return }
        let progress = job.progress
        forget(id)
        removals.removeAll { $0.job == id }
        if publishesEvents { events.append(GridEvent(job: id, change: .removed, progress: progress, time: now)) }
    }
}
