/// Errors of the grid's API: submission, job and task actions, lifecycle.
public enum GridError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The workflow did not pass validation; every problem is listed.
    case invalidWorkflow([String])
    /// HIGH and HIGHEST priorities need an administrator.
    case priorityNeedsAdmin(JobPriority)
    /// A `START_AT` value is not an ISO-8601 date.
    case badStartAt(String)
    /// A value past one of the grid's ``InputLimits`` (the message names the limit).
    case limitExceeded(String)
    /// No job with this identifier.
    case jobNotFound(JobID)
    /// No task instance with this name in the job.
    case taskNotFound(JobID, String)
    /// The action does not apply in the current state.
    case actionNotAllowed(action: String, target: String, state: String)
    /// No function is registered under this name.
    case functionNotRegistered(String)
    /// The grid was shut down.
    case shutDown
    /// The grid could not start (topology, placement, threads, directories).
    case startFailed(String)
    /// The journal could not be read or written (the reason says which file and why).
    case journal(String)
    /// The workflow cannot be journaled (a closure decider); journaled grids take data-only workflows.
    case notJournalable(String)
    /// A remote host could not be reached or broke the protocol.
    case remote(String)

    public var description: String {
        switch self {
        case .invalidWorkflow(let problems): "invalid workflow:\n" + problems.map { "  " + $0 }.joined(separator: "\n")
        case .priorityNeedsAdmin(let priority): "priority \(priority) needs an administrator"
        case .badStartAt(let text): "START_AT '\(text)' is not an ISO-8601 date (such as 2026-11-28T12:00:00Z)"
        case .limitExceeded(let reason): reason
        case .jobNotFound(let job): "no job \(job)"
        case .taskNotFound(let job, let task): "job \(job) has no task '\(task)'"
        case .actionNotAllowed(let action, let target, let state): "cannot \(action) \(target) while it is \(state)"
        case .functionNotRegistered(let name): "no function registered as '\(name)'"
        case .shutDown: "the grid is shut down"
        case .startFailed(let reason): "the grid could not start: \(reason)"
        case .journal(let reason): "journal: \(reason)"
        case .notJournalable(let reason): "the workflow cannot be journaled: \(reason)"
        case .remote(let reason): "remote host: \(reason)"
        }
    }
}
