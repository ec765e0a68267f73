import Foundation

@testable import Grid

/// A grid of fake nodes on a manual clock, driven through ``SchedulerCore``'s inputs and asserting on its
/// directives, in the spirit of Nomad's scheduler `Harness`: no actor, no thread, no real time.
///
/// It performs directives as the shell does: dispatched executions wait in each node's queue until the test
/// starts and finishes them; aborts and reclaims take queued ones out; wakes are delivered by ``advance(to:)``.
struct GridHarness {
    /// One execution a fake node holds.
    struct Held {
        var assignment: TaskAssignment
        var started = false
    }

    var core: SchedulerCore
    var now: Duration = .zero
    /// Every directive so far, in order (including those of follow-up inputs such as `placeMore`).
    var log: [SchedulerDirective] = []
    /// What each live node holds, in dispatch order.
    var held: [NodeID: [Held]] = [:]
    /// The session each remote node belongs to.
    var sessionOf: [NodeID: Int] = [:]
    /// The wakes asked for and not delivered yet.
    var wakes: [Duration] = []
    /// Releases asked of agents, by session.
    var releases: [(session: Int, max: Int)] = []
    /// Every journal record committed, in order.
    var records: [JournalRecord] = []
    /// Every event committed, in order.
    var events: [GridEvent] = []

    /// A grid with `localNodes` local nodes holding `capacity` executions each.
    init(localNodes: Int, capacity: Int = 1, settings: SchedulerCore.Settings = .init(journals: true)) {
        core = SchedulerCore(settings: settings)
        core.publishesEvents = true
        let entries = (0..<localNodes).map {
            ResourceLedger.Entry(
                id: NodeID($0), source: "local", state: .free, locked: false, labels: [], token: nil, capacity: capacity, assigned: 0,
                host: "local")
        }
        for entry in entries { held[entry.id] = [] }
        perform(core.onLocalNodesJoined(entries, now: now))
    }

    // MARK: - Inputs

    /// Submits a workflow; returns the job.
    @discardableResult
    mutating func submit(
        _ workflow: Workflow, admin: Bool = true, owner: String = "", wallNow: Date = Date(timeIntervalSince1970: 1_800_000_000)
    ) throws -> JobID {
        let id = core.nextJobID
        let job = try JobCore(id: id, workflow: workflow, isAdmin: admin, owner: owner, now: now, wallNow: wallNow)
        perform(core.onSubmitted(job, now: now))
        return id
    }

    /// An agent joins on `session` with `workers` nodes of `capacity`; returns its nodes.
    @discardableResult
    mutating func join(
        session: Int, workers: Int, capacity: Int = 1, source: String = "agents", rank: Int = 0, users: Set<String>? = nil
    ) -> [NodeID] {
        let before = log.count
        perform(core.onHostJoined(
            .init(
                session: session, address: "agent-\(session)", workers: workers, labels: [], token: nil, source: source, capacity: capacity,
                rank: rank, users: users),
            now: now))
        for directive in log[before...] {
            if case .configureHost(session, let nodes) = directive { return nodes }
        }
        return []
    }

    /// The session's member is suspected, or answers again.
    mutating func setDown(session: Int, _ down: Bool) {
        perform(down ? core.onHostDown(session: session, now: now) : core.onHostUp(session: session, now: now))
    }

    /// The session is over.
    mutating func lose(session: Int) {
        perform(core.onHostLost(session: session, now: now))
    }

    /// Sends reports as node `node` would (on its agent's session for a remote node).
    mutating func report(_ reports: [NodeReport], from node: NodeID) {
        perform(core.onReports(reports, session: sessionOf[node], now: now))
    }

    /// Starts the first queued execution of `node` and reports it; returns it.
    @discardableResult
    mutating func start(on node: NodeID) -> TaskAssignment? {
        guard let position = held[node]?.firstIndex(where: { !$0.started }), let assignment = held[node]?[position].assignment else { return nil }
        held[node]?[position].started = true
        report([.started(job: assignment.job, index: assignment.index, attempt: assignment.attempt, node: node)], from: node)
        return assignment
    }

    /// Ends the first started execution of `node` with `outcome`; returns it.
    @discardableResult
    mutating func finish(on node: NodeID, _ outcome: TaskOutcome = .success(result: .null, variables: nil)) -> TaskAssignment? {
        guard let position = held[node]?.firstIndex(where: \.started), let assignment = held[node]?.remove(at: position).assignment else { return nil }
        report([.finished(
            job: assignment.job, index: assignment.index, attempt: assignment.attempt, node: node, assignedNode: assignment.assignedNode,
            outcome: outcome, ran: 1_000_000)], from: node)
        return assignment
    }

    /// Starts and ends everything nodes hold, until nothing is left to run.
    mutating func runAll(_ outcome: (TaskAssignment) -> TaskOutcome = { _ in .success(result: .null, variables: nil) }) {
        while let node = held.keys.sorted().first(where: { !(held[$0]?.isEmpty ?? true) }) {
            guard let assignment = start(on: node) ?? held[node]?.first(where: \.started)?.assignment else { return }
            finish(on: node, outcome(assignment))
        }
    }

    /// Moves time to `time`, delivering every wake due by then, in order.
    mutating func advance(to time: Duration) {
        while let next = wakes.min(), next <= time {
            wakes.removeAll { $0 <= next }
            now = next
            perform(core.onTick(now: next))
        }
        now = time
    }

    // MARK: - Directives

    /// Performs directives as the scheduler's shell does.
    mutating func perform(_ directives: [SchedulerDirective]) {
        var abortedInQueue: [NodeID] = []
        for directive in directives {
            log.append(directive)
            switch directive {
            case .dispatch(let node, let batch):
                held[node, default: []] += batch.map { Held(assignment: $0) }
            case .placeMore(let preferring):
                perform(core.onPlaceMore(preferring: preferring, now: now))
            case .abort(let job, let index, let attempt, let node):
                let position = held[node]?.firstIndex { $0.assignment.job == job && $0.assignment.index == index && $0.assignment.attempt == attempt }
                if let position, held[node]?[position].started == false {
                    held[node]?.remove(at: position)
                    abortedInQueue.append(node)
                } else if let position, let assignment = held[node]?.remove(at: position).assignment {
                    // A killed process reports its end.
                    perform(core.onReports([.finished(
                        job: job, index: index, attempt: attempt, node: node, assignedNode: assignment.assignedNode,
                        outcome: .failure(message: "killed"), ran: 0)], session: sessionOf[node], now: now))
                }
            case .configureHost(let session, let nodes):
                for node in nodes {
                    held[node] = []
                    sessionOf[node] = session
                }
            case .releaseFromHost(let session, let max):
                releases.append((session, max))
            case .reclaimLocal(let max):
                var taken: [NodeReport] = []
                for node in held.keys.sorted() where sessionOf[node] == nil {
                    while taken.count < max, let position = held[node]?.lastIndex(where: { !$0.started }),
                        let assignment = held[node]?.remove(at: position).assignment
                    {
                        taken.append(.dropped(job: assignment.job, index: assignment.index, attempt: assignment.attempt, assignedNode: node))
                    }
                }
                if !taken.isEmpty { perform(core.onReports(taken, session: nil, now: now)) }
            case .closeHost(_, let nodes, _, _):
                for node in nodes { held[node] = nil }
            case .setMaySteal, .nudge, .jobEnded, .quarantine:
                break
            case .commit(let records, let events):
                self.records += records
                self.events += events
            case .wake(let deadline):
                wakes.append(deadline)
            }
        }
        if !abortedInQueue.isEmpty { perform(core.onAbortedInQueue(abortedInQueue, now: now)) }
    }

    // MARK: - Reading

    /// The state of task `name` of `job`.
    func status(_ job: JobID, _ name: String) -> TaskStatus? {
        guard let core = core.job(job), let index = TaskInstanceName(parsing: name).flatMap({ core.index(of: $0) }) else { return nil }
        return core.instances[index].status
    }

    /// The node states, by node.
    var states: [NodeID: NodeState] {
        Dictionary(uniqueKeysWithValues: core.ledger.all.map { ($0.id, $0.state) })
    }

    /// `job/task` names each node holds, in order.
    var names: [NodeID: [String]] {
        held.mapValues { $0.map { "\($0.assignment.job.rawValue)/\($0.assignment.name)" } }
    }

    /// The directives logged since `mark` (a `log.count` taken earlier).
    func directives(since mark: Int) -> ArraySlice<SchedulerDirective> { log[mark...] }
}
