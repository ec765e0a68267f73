/// The state of a node, with ProActive's names.
public enum NodeState: String, Sendable, Hashable, Codable, CaseIterable {
    /// Ready for work.
    case free = "FREE"
    /// Running or holding tasks.
    case busy = "BUSY"
    /// Not answering; gets no new work.
    case down = "DOWN"
    /// Gone for good; its tasks run elsewhere.
    case lost = "LOST"
    /// Being started by its node source.
    case deploying = "DEPLOYING"
    /// Started, being configured.
    case configuring = "CONFIGURING"
    /// Busy, and removed once its work is done.
    case toBeRemoved = "TO_BE_REMOVED"

    /// Whether the scheduler may give it new tasks.
    var acceptsWork: Bool { self == .free || self == .busy }
}

/// The resource manager's book of nodes: states, locks, labels and how many tasks each one holds.
///
/// A pure value shared by the scheduler's placement (``bestNode(for:excluded:)``) and the node
/// life-cycle, so both use the same feasibility rule.
public struct ResourceLedger: Sendable {
    /// One node's entry.
    public struct Entry: Sendable, Hashable {
        /// The node.
        public var id: NodeID
        /// Its node source.
        public var source: String
        /// Its state.
        public var state: NodeState
        /// Locked nodes get no new tasks.
        public var locked: Bool
        /// Labels tasks may select.
        public var labels: Set<String>
        /// When set, only tasks with this token run here.
        public var token: String?
        /// Tasks it may hold (running plus queued).
        public var capacity: Int
        /// Tasks it holds now.
        public var assigned: Int
        /// The host it runs on: the grid's host name for local nodes, the agent's cluster address for others.
        public var host: String = ""
        /// Its node source's rank: placement fills lower ranks first (on premises, then burst).
        public var rank: Int = 0
        /// When set, only jobs of these users run here (ProActive's `userAccessType`).
        public var users: Set<String>?

        /// Describes a node.
        public init(
            id: NodeID, source: String, state: NodeState, locked: Bool = false, labels: Set<String> = [], token: String? = nil,
            capacity: Int, assigned: Int = 0, host: String = ""
        ) {
            self.id = id
            self.source = source
            self.state = state
            self.locked = locked
            self.labels = labels
            self.token = token
            self.capacity = capacity
            self.assigned = assigned
            self.host = host
        }
    }

    /// Every node, in ascending identifier order (placement ties go to the lowest).
    ///
    /// An array, not a dictionary: placement reads the load of every node for every task, and array
    /// elements are read in place where dictionary values are copied out.
    private var table: [Entry] = []
    /// The position of each node in `table`.
    private var positions: [NodeID: Int] = [:]
    /// Executions held beyond one per node, summed over the nodes: below 2, no host has a backlog to give back
    /// (``ResourceCore/rebalance()`` answers at once, without reading every node).
    private(set) var queuedBeyondOne = 0

    /// Makes an empty ledger.
    public init() {}

    /// Every node, by identifier.
    public var entries: [NodeID: Entry] {
        Dictionary(uniqueKeysWithValues: table.map { ($0.id, $0) })
    }

    /// Every node, in ascending identifier order.
    public var all: [Entry] { table }

    /// One node's entry.
    public func entry(_ node: NodeID) -> Entry? {
        position(of: node).map { table[$0] }
    }

    /// Adds a node (DEPLOYING until ``setState(_:_:)``), or replaces one with the same identifier.
    public mutating func add(_ entry: Entry) {
        if let position = positions[entry.id] {
            queuedBeyondOne += max(0, entry.assigned - 1) - max(0, table[position].assigned - 1)
            table[position] = entry
            return
        }
        let position = table.firstIndex { $0.id > entry.id } ?? table.count
        queuedBeyondOne += max(0, entry.assigned - 1)
        table.insert(entry, at: position)
        reindex()
    }

    /// Removes a node.
    public mutating func remove(_ node: NodeID) {
        guard let position = position(of: node) else { return }
        queuedBeyondOne -= max(0, table[position].assigned - 1)
        table.remove(at: position)
        reindex()
    }

    /// The position of `node` in `table`. Local nodes are numbered from 0 and come first, so their
    /// identifier is their position: the lookup that placement and every report make skips the hash.
    @inline(__always)
    func position(of node: NodeID) -> Int? {
        let raw = node.rawValue
        if raw >= 0, raw < table.count, table[raw].id == node { return raw }
        return positions[node]
    }

    private mutating func reindex() {
        positions = Dictionary(uniqueKeysWithValues: table.indices.map { (table[$0].id, $0) })
    }

    /// Sets a node's state.
    public mutating func setState(_ node: NodeID, _ state: NodeState) {
        guard let position = position(of: node) else { return }
        table[position].state = state
    }

    /// Locks or unlocks a node.
    public mutating func setLocked(_ node: NodeID, _ locked: Bool) {
        guard let position = position(of: node) else { return }
        table[position].locked = locked
    }

    /// Room left on nodes that accept work.
    public var freeSlots: Int {
        var room = 0
        for position in table.indices where table[position].state.acceptsWork && !table[position].locked {
            room += max(0, table[position].capacity - table[position].assigned)
        }
        return room
    }

    /// What `source`'s nodes hold, and the room left on the other sources' nodes that accept work (field reads in
    /// place: no entry is copied).
    func load(of source: String) -> (held: Int, roomElsewhere: Int, backlogElsewhere: Int) {
        var held = 0
        var room = 0
        var backlog = 0
        for position in table.indices {
            if table[position].source == source {
                held += table[position].assigned
            } else {
                // A node runs one execution at a time: the rest of what it holds waits in its queue, and the
                // scheduler moves it to a host that is idle.
                backlog += max(0, table[position].assigned - 1)
                if table[position].state.acceptsWork && !table[position].locked {
                    room += max(0, table[position].capacity - table[position].assigned)
                }
            }
        }
        return (held, room, backlog)
    }

    /// Whether an idle node (holding nothing, taking work) would take a task with `selection` of `user`'s job: what a
    /// rebalance may hand over.
    public func idleNodeAccepts(_ selection: Selection, user: String) -> Bool {
        table.contains { $0.assigned == 0 && Self.accepts($0, selection, excluded: [], user: user) }
    }

    /// Whether `node` may run a task with `selection`, ignoring its load.
    public func accepts(_ node: NodeID, _ selection: Selection, excluded: Set<NodeID>, user: String = "") -> Bool {
        guard let position = position(of: node) else { return false }
        return Self.accepts(table[position], selection, excluded: excluded, user: user)
    }

    /// The feasibility rule on an entry already at hand (one rule for placement and the node life-cycle).
    static func accepts(_ entry: borrowing Entry, _ selection: Selection, excluded: Set<NodeID>, user: String) -> Bool {
        guard entry.state.acceptsWork, !entry.locked, excluded.isEmpty || !excluded.contains(entry.id) else { return false }
        guard entry.token == selection.token else { return false }
        if let source = selection.source, source != entry.source { return false }
        if let users = entry.users, !users.contains(user) { return false }
        return selection.labels.isEmpty || selection.labels.isSubset(of: entry.labels)
    }

    /// The least-loaded node with room that accepts the selection, lowest identifier on ties.
    public func bestNode(for selection: Selection, excluded: Set<NodeID>, user: String = "") -> NodeID? {
        bestPosition(for: selection, excluded: excluded, user: user).map { table[$0].id }
    }

    /// Nodes in the table (positions are `0..<count`).
    var count: Int { table.count }

    /// The node at a position of the table.
    func node(at position: Int) -> NodeID { table[position].id }

    /// ``bestNode(for:excluded:)`` as a position in the table; among nodes that hold as few tasks, `preferred`
    /// when it is one of them (the scheduler names a node that just reported a task's end: it is awake and about
    /// to look at its queue, where another node may be parked and take a wake-up to start).
    func bestPosition(for selection: Selection, excluded: Set<NodeID>, preferred: Int? = nil, user: String = "") -> Int? {
        var best: Int?
        for position in table.indices {
            guard table[position].assigned < table[position].capacity, Self.accepts(table[position], selection, excluded: excluded, user: user) else {
                continue
            }
            guard let current = best else {
                best = position
                continue
            }
            // An idle node before a busy one (work never waits in a queue while a node idles); among idle nodes the
            // lower-ranked source first (on premises, then burst); among busy ones the least loaded, then the lower
            // rank. With one rank this is the least loaded node, `preferred` on a tie.
            let assigned = table[position].assigned
            let currentAssigned = table[current].assigned
            if (assigned == 0) != (currentAssigned == 0) {
                if assigned == 0 { best = position }
                continue
            }
            if assigned != currentAssigned {
                if assigned < currentAssigned { best = position }
                continue
            }
            let rank = table[position].rank
            if rank < table[current].rank || (rank == table[current].rank && position == preferred) { best = position }
        }
        return best
    }

    /// Counts a task onto `node`; the node becomes BUSY.
    public mutating func assign(to node: NodeID) {
        guard let position = position(of: node) else { return }
        assign(at: position)
    }

    /// ``assign(to:)`` for the node at a position of the table.
    mutating func assign(at position: Int) {
        if table[position].assigned >= 1 { queuedBeyondOne += 1 }
        table[position].assigned += 1
        if table[position].state == .free { table[position].state = .busy }
    }

    /// Forgets what a node held (it was lost; its executions are queued again elsewhere).
    public mutating func clearAssigned(_ node: NodeID) {
        guard let position = position(of: node) else { return }
        queuedBeyondOne -= max(0, table[position].assigned - 1)
        table[position].assigned = 0
    }

    /// Counts a task off `node`; a node that holds nothing becomes FREE (or leaves, when TO_BE_REMOVED).
    public mutating func release(from node: NodeID) {
        guard let position = position(of: node) else { return }
        if table[position].assigned > 1 { queuedBeyondOne -= 1 }
        table[position].assigned = max(0, table[position].assigned - 1)
        if table[position].assigned == 0 && table[position].state == .busy { table[position].state = .free }
    }
}
