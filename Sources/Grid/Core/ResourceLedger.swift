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
    }

    /// Every node, by identifier.
    public private(set) var entries: [NodeID: Entry] = [:]
    /// Node identifiers in ascending order (placement ties go to the lowest).
    private var order: [NodeID] = []

    /// Makes an empty ledger.
    public init() {}

    /// Adds a node (DEPLOYING until ``setState(_:_:)``), or replaces one with the same identifier.
    public mutating func add(_ entry: Entry) {
        if entries.updateValue(entry, forKey: entry.id) == nil {
            order.append(entry.id)
            order.sort()
        }
    }

    /// Removes a node.
    public mutating func remove(_ node: NodeID) {
        entries[node] = nil
        order.removeAll { $0 == node }
    }

    /// Sets a node's state.
    public mutating func setState(_ node: NodeID, _ state: NodeState) {
        entries[node]?.state = state
    }

    /// Locks or unlocks a node.
    public mutating func setLocked(_ node: NodeID, _ locked: Bool) {
        entries[node]?.locked = locked
    }

    /// Room left on nodes that accept work.
    public var freeSlots: Int {
        entries.values.reduce(0) { $0 + (($1.state.acceptsWork && !$1.locked) ? max(0, $1.capacity - $1.assigned) : 0) }
    }

    /// Whether `node` may run a task with `selection`, ignoring its load.
    public func accepts(_ node: NodeID, _ selection: Selection, excluded: Set<NodeID>) -> Bool {
        guard let entry = entries[node] else { return false }
        return Self.accepts(entry, selection, excluded: excluded)
    }

    /// The feasibility rule on an entry already at hand (one rule for placement and the node life-cycle).
    static func accepts(_ entry: Entry, _ selection: Selection, excluded: Set<NodeID>) -> Bool {
        guard entry.state.acceptsWork, !entry.locked, excluded.isEmpty || !excluded.contains(entry.id) else { return false }
        guard entry.token == selection.token else { return false }
        return selection.labels.isEmpty || selection.labels.isSubset(of: entry.labels)
    }

    /// The least-loaded node with room that accepts the selection, lowest identifier on ties.
    public func bestNode(for selection: Selection, excluded: Set<NodeID>) -> NodeID? {
        var best: Entry?
        for id in order {
            // One lookup per node: the rule runs on the entry fetched here.
            guard let entry = entries[id], entry.assigned < entry.capacity, Self.accepts(entry, selection, excluded: excluded) else { continue }
            if best.map({ entry.assigned < $0.assigned }) ?? true { best = entry }
        }
        return best?.id
    }

    /// Counts a task onto `node`; the node becomes BUSY.
    public mutating func assign(to node: NodeID) {
        guard var entry = entries[node] else { return }
        entry.assigned += 1
        if entry.state == .free { entry.state = .busy }
        entries[node] = entry
    }

    /// Forgets what a node held (it was lost; its executions are queued again elsewhere).
    public mutating func clearAssigned(_ node: NodeID) {
        entries[node]?.assigned = 0
    }

    /// Counts a task off `node`; a node that holds nothing becomes FREE (or leaves, when TO_BE_REMOVED).
    public mutating func release(from node: NodeID) {
        guard var entry = entries[node] else { return }
        entry.assigned = max(0, entry.assigned - 1)
        if entry.assigned == 0 && entry.state == .busy { entry.state = .free }
        entries[node] = entry
    }
}
