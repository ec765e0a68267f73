/// A change in a job: its state, or one task instance's state, with the job's progress after it.
public struct GridEvent: Sendable, Hashable {
    /// What changed.
    public enum Change: Sendable, Hashable {
        /// The job entered this state.
        case job(JobStatus)
        /// A task instance entered this state.
        case task(TaskInstanceName, TaskStatus, node: NodeID?, executions: Int, message: String?)
        /// The ended job left the grid's memory (``JobHandle/remove()`` or
        /// ``GridSettings/removeEndedJobsAfter``); only the grid-wide stream sees it.
        case removed
    }
    /// The job.
    public var job: JobID
    /// What changed.
    public var change: Change
    /// Done/total/running/failed after the change.
    public var progress: JobProgress
    /// The grid's time of the change.
    public var time: Duration

    /// Whether this event ends the job's stream (a final job state).
    public var isFinal: Bool {
        if case .job(let status) = change { return !status.isAlive }
        return false
    }
}
