/// A user's action on a job or one of its tasks: what the REST API, the CLI and ``JobHandle`` ask for, and
/// what the journal records so that a restarted grid replays it.
public enum JobAction: Sendable, Hashable, Codable {
    /// Kill the job.
    case kill
    /// Pause the job.
    case pause
    /// Resume the job.
    case resume
    /// Change the job's priority (`admin` allows HIGH and HIGHEST).
    case priority(JobPriority, admin: Bool)
    /// Kill one task instance.
    case killTask(TaskInstanceName)
    /// Restart a running task instance.
    case restartTask(TaskInstanceName)
    /// Restart an IN_ERROR task instance.
    case restartInErrorTask(TaskInstanceName)
    /// Mark an IN_ERROR task instance finished.
    case finishInErrorTask(TaskInstanceName)

    /// `kill`, `pause`, `restart-in-error-task`… (for logs and errors).
    /// The action's kind, as ``GridError/actionNotAllowed(_:target:state:)`` names it.
    public var kind: GridError.Action {
        switch self {
        case .kill: .kill
        case .pause: .pause
        case .resume: .resume
        case .priority: .changePriority
        case .killTask: .killTask
        case .restartTask: .restartTask
        case .restartInErrorTask: .restartInErrorTask
        case .finishInErrorTask: .finishInErrorTask
        }
    }

    public var name: String {
        switch self {
        case .kill: "kill"
        case .pause: "pause"
        case .resume: "resume"
        case .priority: "priority"
        case .killTask: "kill-task"
        case .restartTask: "restart-task"
        case .restartInErrorTask: "restart-in-error-task"
        case .finishInErrorTask: "finish-in-error-task"
        }
    }
}

extension JobCore {
    /// Applies a user's action.
    ///
    /// - Throws: `GridError.actionNotAllowed` in the wrong state, `.taskNotFound`, `.priorityNeedsAdmin`.
    public mutating func apply(_ action: JobAction, now: Duration) throws(GridError) -> [Effect] {
        switch action {
        case .kill: return try kill(now: now)
        case .pause: return try pause(now: now)
        case .resume: return try resume(now: now)
        case .priority(let priority, let admin):
            try setPriority(priority, admin: admin)
            return []
        case .killTask(let name): return try killTask(name, now: now)
        case .restartTask(let name): return try restartTask(name, now: now)
        case .restartInErrorTask(let name): return try restartInErrorTask(name, now: now)
        case .finishInErrorTask(let name): return try finishInErrorTask(name, now: now)
        }
    }
}
