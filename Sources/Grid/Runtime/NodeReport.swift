/// What a node tells the scheduler, in batches.
enum NodeReport: Sendable {
    /// Execution `attempt` of instance `index` started on `node`.
    case started(job: JobID, index: Int, attempt: Int, node: NodeID)
    /// It ended on `node` (which may have stolen it from `assignedNode`) after running for `ran` nanoseconds by the
    /// node's clock (0: not measured, as for an execution that never started).
    case finished(job: JobID, index: Int, attempt: Int, node: NodeID, assignedNode: NodeID, outcome: TaskOutcome, ran: Int64)
    /// It left a queue without running (aborted or the node stopped).
    case dropped(job: JobID, index: Int, attempt: Int, assignedNode: NodeID)
}

extension NodeReport {
    /// The job the report is about.
    var job: JobID {
        switch self {
        case .started(let job, _, _, _), .finished(let job, _, _, _, _, _, _), .dropped(let job, _, _, _): job
        }
    }
}
