/// The state of a job, with ProActive's names and meanings.
public enum JobStatus: String, Sendable, Hashable, Codable, CaseIterable, CustomStringConvertible {
    /// Submitted; no task has started yet.
    case pending = "PENDING"
    /// At least one task is running.
    case running = "RUNNING"
    /// Launched, but no task is running right now.
    case stalled = "STALLED"
    /// Every task ended.
    case finished = "FINISHED"
    /// Paused by the user or by a `pauseJob` error policy; running tasks go on, the rest wait.
    case paused = "PAUSED"
    /// A task failed with `cancelJob` as its error policy.
    case canceled = "CANCELED"
    /// A task lost its node and had no execution on failure left.
    case failed = "FAILED"
    /// Killed by the user.
    case killed = "KILLED"
    /// Has In-Error tasks waiting for the user.
    case inError = "IN_ERROR"

    /// Whether the job can still change (PENDING, RUNNING, STALLED, PAUSED, IN_ERROR).
    public var isAlive: Bool {
        switch self {
        case .pending, .running, .stalled, .paused, .inError: true
        case .finished, .canceled, .failed, .killed: false
        }
    }

    /// The ProActive name, such as `IN_ERROR`.
    public var description: String { rawValue }
}

/// The state of a task instance, with ProActive's names and meanings.
public enum TaskStatus: String, Sendable, Hashable, Codable, CaseIterable, CustomStringConvertible {
    /// Waiting for its dependencies.
    case submitted = "SUBMITTED"
    /// Eligible: waiting for a node (or for its START_AT time).
    case pending = "PENDING"
    /// Held because its job is paused.
    case paused = "PAUSED"
    /// Running on a node.
    case running = "RUNNING"
    /// Failed, and waits for its retry delay before running again.
    case waitingOnError = "WAITING_ON_ERROR"
    /// Lost its node, and waits to run again elsewhere.
    case waitingOnFailure = "WAITING_ON_FAILURE"
    /// Lost its node with no execution on failure left ("Resource down").
    case failed = "FAILED"
    /// Could not start: its job ended first or a dependency failed.
    case notStarted = "NOT_STARTED"
    /// Was waiting to run again when its job ended.
    case notRestarted = "NOT_RESTARTED"
    /// Was running when its job was killed or canceled.
    case aborted = "ABORTED"
    /// Ended with an error (exit code ≠ 0, a thrown error, walltime) and no execution left.
    case faulty = "FAULTY"
    /// Ended successfully, or was found already done.
    case finished = "FINISHED"
    /// On the branch of an `if` that was not taken.
    case skipped = "SKIPPED"
    /// Suspended after an error; waits for the user to restart it or mark it finished.
    case inError = "IN_ERROR"

    /// Whether the task can no longer change by itself (restart actions aside).
    public var isTerminal: Bool {
        switch self {
        case .failed, .notStarted, .notRestarted, .aborted, .faulty, .finished, .skipped: true
        case .submitted, .pending, .paused, .running, .waitingOnError, .waitingOnFailure, .inError: false
        }
    }

    /// Whether this ended state counts as "done" for progress (every terminal state does).
    public var isDone: Bool { isTerminal }

    /// Whether the task ended in a failure of some kind.
    public var isFailure: Bool {
        switch self {
        case .failed, .faulty, .aborted, .notStarted, .notRestarted, .inError: true
        default: false
        }
    }

    /// The ProActive name, such as `WAITING_ON_ERROR`.
    public var description: String { rawValue }
}

/// A job's priority: IDLE (0) … HIGHEST (5). HIGH and HIGHEST need an administrator.
public enum JobPriority: Int, Sendable, Hashable, Codable, CaseIterable, Comparable, CustomStringConvertible {
    /// Runs only when nothing else waits.
    case idle = 0
    /// Below LOW.
    case lowest = 1
    /// Below NORMAL.
    case low = 2
    /// The default.
    case normal = 3
    /// Administrators only.
    case high = 4
    /// Administrators only.
    case highest = 5

    /// Whether only an administrator may set it.
    public var needsAdmin: Bool { self >= .high }

    /// Parses `normal`, `NORMAL` or `3`.
    public init?(name: String) {
        if let value = Int(name), let priority = JobPriority(rawValue: value) {
            self = priority
            return
        }
        guard let priority = JobPriority.allCases.first(where: { $0.description == name.uppercased() }) else {
            return nil
        }
        self = priority
    }

    public static func < (lhs: JobPriority, rhs: JobPriority) -> Bool { lhs.rawValue < rhs.rawValue }

    /// The ProActive name, such as `NORMAL`.
    public var description: String {
        switch self {
        case .idle: "IDLE"
        case .lowest: "LOWEST"
        case .low: "LOW"
        case .normal: "NORMAL"
        case .high: "HIGH"
        case .highest: "HIGHEST"
        }
    }
}
