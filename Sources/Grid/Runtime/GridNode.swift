/// A node the scheduler dispatches to: a local node on a pinned core, or a node of a remote agent.
protocol GridNode: Sendable {
    /// The node's identifier.
    var id: NodeID { get }
    /// Queues a batch of executions.
    func enqueue(_ batch: [TaskAssignment])
    /// Stops one execution; `true` when it was still queued here and is gone without a report (a remote node
    /// always answers `false` and reports the drop).
    func abort(job: JobID, index: Int, attempt: Int) -> Bool
    /// Allows or forbids taking queued work from sibling nodes.
    func setMaySteal(_ allowed: Bool)
    /// Wakes an idle node so it looks for work to steal.
    func nudge()
    /// Stops the node and returns what it still queued.
    func stop() -> [TaskAssignment]
}

extension LocalNode: GridNode {
    nonisolated func nudge() { queue.nudge() }
}
