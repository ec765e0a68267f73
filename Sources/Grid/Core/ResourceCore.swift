import DequeModule

/// The resource manager's decisions: the ledger of nodes, their states (FREE, BUSY, DOWN, LOST), the agents'
/// sessions, node identifiers, how long LOST nodes stay listed, and when a loaded host gives work back.
///
/// A pure value inside ``SchedulerCore``: placement reads and updates the same ledger, so feasibility and load
/// have one rule. It never reads a clock; times come in as `now`.
public struct ResourceCore: Sendable {
    /// An agent's session as the resource manager sees it.
    struct Session: Sendable {
        /// Its nodes, one per worker.
        var nodes: [NodeID]
        /// A release (cross-host balancing) was asked and its answer has not come yet.
        var releasing = false
    }

    /// An agent that announced itself, as the resource manager needs it to add its nodes.
    public struct HostOffer: Sendable {
        /// The session's number (a re-linked or restarted agent gets a new one).
        public var session: Int
        /// Its cluster address (each node's `host`).
        public var address: String
        /// Its workers: one node each.
        public var workers: Int
        /// Labels its nodes offer.
        public var labels: Set<String>
        /// When set, only tasks with this token run on its nodes.
        public var token: String?
        /// The node source it joined through.
        public var source: String
        /// Executions each node may hold (running plus queued).
        public var capacity: Int
        /// The source's rank (lower ones are filled first).
        public var rank: Int = 0
        /// When set, only these users' jobs run on its nodes.
        public var users: Set<String>?

        /// Describes an agent's offer.
        public init(
            session: Int, address: String, workers: Int, labels: Set<String>, token: String?, source: String, capacity: Int, rank: Int = 0,
            users: Set<String>? = nil
        ) {
            self.rank = rank
            self.users = users
            self.session = session
            self.address = address
            self.workers = workers
            self.labels = labels
            self.token = token
            self.source = source
            self.capacity = capacity
        }
    }

    /// Remote nodes are numbered from here; local nodes take the identifiers below.
    static let firstRemoteNode = 1000

    /// The nodes and their load.
    public internal(set) var ledger = ResourceLedger()
    /// The host of every node the grid has had and still lists (reports name the host a task ran on, even
    /// after its node was lost).
    public private(set) var hostNames: [NodeID: String] = [:]
    private(set) var sessions: [Int: Session] = [:]
    /// The local nodes, one group for cross-host balancing.
    private(set) var localNodes: [NodeID] = []
    /// The next identifier of a remote node.
    private(set) var nextRemoteNode = firstRemoteNode
    /// When each LOST node was lost, oldest first.
    private var lostAt: Deque<(node: NodeID, at: Duration)> = []
    /// How long a LOST node stays listed.
    let keepLostNodes: Duration

    /// An empty resource manager.
    ///
    /// - Parameter keepLostNodes: how long a LOST node stays in the node list.
    public init(keepLostNodes: Duration = .seconds(3600)) {
        precondition(keepLostNodes >= .zero, "keepLostNodes must not be negative")
        self.keepLostNodes = keepLostNodes
    }

    /// Whether `session` is a live agent session (reports from any other are fenced).
    func knows(session: Int) -> Bool { sessions[session] != nil }

    /// The nodes of a live session.
    func nodes(ofSession session: Int) -> [NodeID]? { sessions[session]?.nodes }

    /// When the oldest LOST node is due to leave the list.
    var nextPrune: Duration? { lostAt.first.map { $0.at + keepLostNodes } }

    // MARK: - Node life cycle

    /// Adds local nodes (FREE).
    mutating func addLocal(_ entries: [ResourceLedger.Entry]) {
        for entry in entries {
            ledger.add(entry)
            hostNames[entry.id] = entry.host
            localNodes.append(entry.id)
        }
    }

    /// Adds an agent's nodes (FREE), with identifiers never given before, and returns them.
    mutating func addHost(_ offer: HostOffer) -> [NodeID] {
        let ids = (0..<max(0, offer.workers)).map { NodeID(nextRemoteNode + $0) }
        nextRemoteNode += ids.count
        for id in ids {
            var entry = ResourceLedger.Entry(
                id: id, source: offer.source, state: .free, locked: false, labels: offer.labels, token: offer.token,
                capacity: offer.capacity, assigned: 0, host: offer.address)
            entry.rank = offer.rank
            entry.users = offer.users
            ledger.add(entry)
            hostNames[id] = offer.address
        }
        sessions[offer.session] = Session(nodes: ids)
        return ids
    }

    /// Sets a session's nodes DOWN (no new work; running work is kept), or back to BUSY or FREE by what they
    /// hold. LOST nodes stay LOST. Returns `false` for an unknown session.
    mutating func setDown(session: Int, _ down: Bool) -> Bool {
        guard let nodes = sessions[session]?.nodes else { return false }
        for id in nodes {
            guard let entry = ledger.entry(id), entry.state != .lost else { continue }
            ledger.setState(id, down ? .down : (entry.assigned > 0 ? .busy : .free))
        }
        return true
    }

    /// Sets a session's nodes TO_BE_REMOVED (draining: no new work, what runs there finishes), or back to BUSY or
    /// FREE by what they hold. DOWN and LOST nodes keep their state. Returns `false` for an unknown session.
    mutating func setDraining(session: Int, _ draining: Bool) -> Bool {
        guard let nodes = sessions[session]?.nodes else { return false }
        for id in nodes {
            guard let entry = ledger.entry(id), entry.state != .lost, entry.state != .down else { continue }
            ledger.setState(id, draining ? .toBeRemoved : (entry.assigned > 0 ? .busy : .free))
        }
        return true
    }

    /// Ends a session whose host its node source released: its nodes leave the list (they are not LOST).
    /// Returns them, or `nil` for an unknown session.
    mutating func releaseSession(_ session: Int) -> [NodeID]? {
        guard let nodes = sessions.removeValue(forKey: session)?.nodes else { return nil }
        for id in nodes { ledger.remove(id) }
        return nodes
    }

    /// Ends a session: its nodes are LOST, unlocked and hold nothing. Returns them, or `nil` for an unknown
    /// session.
    mutating func endSession(_ session: Int, now: Duration) -> [NodeID]? {
        guard let nodes = sessions.removeValue(forKey: session)?.nodes else { return nil }
        for id in nodes {
            ledger.setState(id, .lost)
            ledger.setLocked(id, false)
            ledger.clearAssigned(id)
            lostAt.append((id, now))
        }
        return nodes
    }

    /// Forgets the nodes lost at least ``keepLostNodes`` ago.
    mutating func pruneLost(now: Duration) {
        while let first = lostAt.first, now - first.at >= keepLostNodes {
            lostAt.removeFirst()
            ledger.remove(first.node)
            hostNames[first.node] = nil
        }
    }

    /// A session answered a release, or sent anything: another release may be asked.
    mutating func heard(from session: Int) {
        sessions[session]?.releasing = false
    }

    /// Node identifiers up to `highest` were used by an earlier run (journaled records, locks): new remote nodes
    /// take higher ones, so a node of the last run is never mistaken for a new one.
    mutating func reserveIdentifiers(through highest: Int) {
        nextRemoteNode = max(nextRemoteNode, highest + 1)
    }

    // MARK: - Balancing

    /// What to do so that no host sits idle while another holds more than it runs.
    enum Rebalance: Equatable {
        /// Ask the agent of `session` to give back up to `max` queued executions.
        case release(session: Int, max: Int)
        /// Take up to `max` queued executions back from the local nodes' queues.
        case reclaimLocal(max: Int)
    }

    /// Cross-host balancing: when a host (the local nodes, or an agent) holds nothing and accepts work while
    /// another holds at least 2 more than it runs, the most loaded one gives back half of that backlog, which the
    /// next placement puts on the idle one. One release per agent is outstanding at a time.
    mutating func rebalance() -> Rebalance? {
        // A backlog of 2 needs 2 executions queued beyond one per node somewhere.
        guard !sessions.isEmpty, ledger.queuedBeyondOne >= 2 else { return nil }
        var groups: [(session: Int?, nodes: [NodeID])] = sessions.sorted { $0.key < $1.key }.map { ($0.key, $0.value.nodes) }
        if !localNodes.isEmpty { groups.append((nil, localNodes)) }
        let loads = groups.map { load(of: $0.nodes) }
        guard loads.contains(where: { $0.assigned == 0 && $0.accepting }) else { return nil }
        var best: (group: Int, backlog: Int)?
        for (position, load) in loads.enumerated() {
            let backlog = load.assigned - load.capacity
            guard backlog >= 2, best.map({ backlog > $0.backlog }) ?? true else { continue }
            if let session = groups[position].session, sessions[session]?.releasing == true { continue }
            best = (position, backlog)
        }
        guard let best else { return nil }
        let amount = best.backlog / 2
        guard let session = groups[best.group].session else { return .reclaimLocal(max: amount) }
        sessions[session]?.releasing = true
        return .release(session: session, max: amount)
    }

    /// What a group of nodes holds, how many run at once, and whether any of them takes new work.
    private func load(of nodes: [NodeID]) -> (assigned: Int, capacity: Int, accepting: Bool) {
        var assigned = 0
        var accepting = false
        for id in nodes {
            guard let entry = ledger.entry(id) else { continue }
            assigned += entry.assigned
            if entry.state.acceptsWork && !entry.locked { accepting = true }
        }
        return (assigned, nodes.count, accepting)
    }
}
