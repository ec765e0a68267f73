import Foundation

/// The scheduling policy and the jobs it orders: priority first, then submission order (ProActive's
/// `FIFO_BY_PRIORITY`), START_AT, label and token selection, node exclusions.
///
/// A pure value: ``schedule(now:)`` returns which assignments go to which node; the shell sends them.
public struct SchedulerCore: Sendable {
    /// Every job still in memory (a job's slot moves only when another one is forgotten).
    ///
    /// An array rather than a dictionary so that events mutate a job in place: copying a
    /// `JobCore` out and back would copy its instance array on every event.
    private(set) var jobList: [JobCore] = []
    /// The slot of each job in `jobList`.
    private var slots: [JobID: Int] = [:]
    /// The nodes and their load.
    public private(set) var ledger = ResourceLedger()
    /// Alive jobs, highest priority first, then oldest first.
    private(set) var order: [JobID] = []

    /// Makes an empty scheduler.
    public init() {}

    /// Adds a job (already started) to the schedule.
    public mutating func add(_ job: JobCore) {
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
    public mutating func update<T>(_ id: JobID, _ body: (inout JobCore) throws(GridError) -> T) throws(GridError) -> T {
        guard let slot = slots[id] else { throw .jobNotFound(id) }
        let priority = jobList[slot].priority
        let wasAlive = jobList[slot].status.isAlive
        let result = try body(&jobList[slot])
        if wasAlive && !jobList[slot].status.isAlive {
            order.removeAll { $0 == id }
        } else if jobList[slot].priority != priority {
            reorder()
        }
        return result
    }

    /// The job with this identifier.
    public func job(_ id: JobID) -> JobCore? {
        slots[id].map { jobList[$0] }
    }

    /// Every job in memory.
    public var jobs: [JobCore] { jobList }

    /// The jobs still alive, in policy order.
    public var aliveJobs: [JobID] { order }

    /// Places ready tasks on nodes with room, in policy order, and returns the assignments per node.
    ///
    /// A task that no node accepts right now stays at the head of its job's queue; the tasks behind it
    /// in the same job and the next jobs still get their chance (ProActive's non-strict FIFO).
    public mutating func schedule(now: Duration) -> [NodeID: [TaskAssignment]] {
        schedule(now: now, limit: .max)
    }

    /// ``schedule(now:)`` placing at most `limit` assignments in this pass; between nodes that hold as few tasks,
    /// `preferring` gets the task.
    public mutating func schedule(now: Duration, limit: Int, preferring: NodeID? = nil) -> [NodeID: [TaskAssignment]] {
        var slots = min(ledger.freeSlots, limit)
        guard slots > 0 else { return [:] }
        // One batch per position of the ledger's table: no hashing per assignment.
        var batches = [[TaskAssignment]](repeating: [], count: ledger.count)
        let preferred = preferring.flatMap { ledger.position(of: $0) }
        for id in order {
            guard slots > 0 else { break }
            guard let slot = self.slots[id], jobList[slot].hasReady, jobList[slot].status.isAlive else { continue }
            slots -= jobList[slot].place(limit: slots, on: &ledger, into: &batches, preferred: preferred)
        }
        var out: [NodeID: [TaskAssignment]] = [:]
        for position in batches.indices where !batches[position].isEmpty {
            out[ledger.node(at: position)] = batches[position]
        }
        return out
    }

    /// Drops a finished job from memory.
    public mutating func forget(_ id: JobID) {
        guard let slot = slots[id], !jobList[slot].status.isAlive else { return }
        let last = jobList.count - 1
        if slot != last {
            jobList.swapAt(slot, last)
            slots[jobList[slot].id] = slot
        }
        jobList.removeLast()
        slots[id] = nil
    }

    /// Mutable access to the ledger (node life-cycle events).
    public mutating func updateLedger(_ body: (inout ResourceLedger) -> Void) {
        body(&ledger)
    }

    /// The earliest timer of any job.
    public var nextWake: Duration? { order.compactMap { job($0)?.nextWake }.min() }
}
