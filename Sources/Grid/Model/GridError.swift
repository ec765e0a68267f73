/// Why a grid call failed. Each case carries values, not prose: states as ``JobStatus``/``TaskStatus``, actions as
/// ``GridError/Action``, a workflow's problems as ``WorkflowProblem``s, and the underlying error where there is one.
public enum GridError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The workflow did not pass validation; every problem is listed.
    case invalidWorkflow([WorkflowProblem])
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
    /// The action does not apply to its target in the state the target is in.
    case actionNotAllowed(Action, target: Target, state: TargetState)
    /// No function is registered under this name.
    case functionNotRegistered(String)
    /// The grid was shut down.
    case shutDown
    /// The grid could not start (topology, placement, threads, directories): what failed, and why.
    case startFailed(String, cause: Cause? = nil)
    /// The journal could not be read or written: which file or record, and why.
    case journal(String, cause: Cause? = nil)
    /// The workflow cannot be journaled (a closure decider); journaled grids take data-only workflows.
    case notJournalable(String)
    /// A remote host could not be reached or broke the protocol: what failed, and why.
    case remote(String, cause: Cause? = nil)

    /// A user's action on a job or a task.
    public enum Action: String, Sendable, Hashable, CaseIterable, CustomStringConvertible {
        case kill, pause, resume, changePriority, remove, killTask, restartTask, restartInErrorTask, finishInErrorTask

        /// The verb, as in "cannot pause job 3 while it is FINISHED".
        public var description: String {
            switch self {
            case .kill, .killTask: "kill"
            case .pause: "pause"
            case .resume: "resume"
            case .changePriority: "change the priority of"
            case .remove: "remove"
            case .restartTask, .restartInErrorTask: "restart"
            case .finishInErrorTask: "mark finished"
            }
        }
    }

    /// What an action was aimed at.
    public enum Target: Sendable, Hashable, CustomStringConvertible {
        case job(JobID)
        case task(TaskInstanceName)

        public var description: String {
            switch self {
            case .job(let id): "job \(id)"
            case .task(let name): "task \(name)"
            }
        }
    }

    /// The state that refused the action: the job's, the task's, or (for a task) its job's.
    public enum TargetState: Sendable, Hashable, CustomStringConvertible {
        case job(JobStatus)
        case task(TaskStatus)
        case taskInJob(JobStatus)

        public var description: String {
            switch self {
            case .job(let status): status.rawValue
            case .task(let status): status.rawValue
            case .taskInJob(let status): "in job \(status.rawValue)"
            }
        }
    }

    /// The error underneath: kept as the error itself (for callers that look into it), compared and hashed by its
    /// type and description (so `GridError` stays `Hashable`).
    public struct Cause: Sendable, Hashable, CustomStringConvertible {
        public let error: any Error & Sendable

        public init(_ error: any Error & Sendable) { self.error = error }

        public var description: String { String(describing: error) }

        public static func == (lhs: Cause, rhs: Cause) -> Bool {
            type(of: lhs.error) == type(of: rhs.error) && lhs.description == rhs.description
        }

        public func hash(into hasher: inout Hasher) {
            hasher.combine(String(reflecting: type(of: error)))
            hasher.combine(description)
        }
    }

    public var description: String {
        switch self {
        case .invalidWorkflow(let problems): "invalid workflow:\n" + problems.map { "  \($0)" }.joined(separator: "\n")
        case .priorityNeedsAdmin(let priority): "priority \(priority) needs an administrator"
        case .badStartAt(let text): "START_AT '\(text)' is not an ISO-8601 date (such as 2026-11-28T12:00:00Z)"
        case .limitExceeded(let reason): reason
        case .jobNotFound(let job): "no job \(job)"
        case .taskNotFound(let job, let task): "job \(job) has no task '\(task)'"
        case .actionNotAllowed(let action, let target, let state): "cannot \(action) \(target) while it is \(state)"
        case .functionNotRegistered(let name): "no function registered as '\(name)'"
        case .shutDown: "the grid is shut down"
        case .startFailed(let reason, let cause): "the grid could not start: \(reason)" + Self.because(cause)
        case .journal(let reason, let cause): "journal: \(reason)" + Self.because(cause)
        case .notJournalable(let reason): "the workflow cannot be journaled: \(reason)"
        case .remote(let reason, let cause): "remote host: \(reason)" + Self.because(cause)
        }
    }

    private static func because(_ cause: Cause?) -> String { cause.map { ": \($0)" } ?? "" }
}
