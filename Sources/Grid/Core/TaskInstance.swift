/// One instance of a task definition in a job (`T`, `T#1`, `T*2`): its state and its place in the DAG.
public struct TaskInstance: Sendable {
    /// `T#iteration*replication`.
    public let name: TaskInstanceName
    /// The index of its definition in the workflow.
    let definition: Int
    /// Its state.
    public internal(set) var status: TaskStatus = .submitted
    /// Executions started so far (retries, restarts and re-runs after a lost node included).
    public internal(set) var executions: Int = 0
    /// Executions after errors still allowed before the error policy applies.
    var executionsLeft: Int
    /// Re-runs after a lost node still allowed.
    var failureRunsLeft: Int
    /// The node of the last execution.
    public internal(set) var node: NodeID?
    /// Its result, once it ran.
    public internal(set) var result: Value?
    /// The last error, when it failed.
    public internal(set) var message: String?
    /// Whether self-healing found it already done (its outputs and fingerprint matched), so it did not run.
    public internal(set) var alreadyDone: Bool = false
    /// When the instance entered its current state.
    public internal(set) var since: Duration = .zero
    /// When its current (or last) execution started: when the scheduler read its start report, then, once it ended,
    /// its end less the time the node measured it running.
    public internal(set) var startedAt: Duration?
    /// Parent instances (indexes into the job's instances).
    var parents: [Int]
    /// Child instances.
    var children: [Int] = []
    /// Parents not resolved yet.
    var waitingOn: Int = 0
    /// Variables after it ran, which its children inherit.
    var outputVariables: [String: String]?
    /// Nodes it must not run on again (`restartTaskOnError: elsewhere`).
    var excludedNodes: Set<NodeID> = []
    /// Not eligible before this time (START_AT or a retry delay).
    var notBefore: Duration?
    /// Whether its current execution was handed to a node (from dispatch until the node reports its end).
    var dispatched = false
    /// Whether its index is in the job's ready queue (so that it is never queued twice, for example
    /// when a job is paused and resumed while the instance waits there).
    var queued = false
    /// For a copy made by a replicate: the replicating instance. A loop that runs a block again copies
    /// the replicating instance and the original replica only; the new iteration replicates anew.
    var replicatedBy: Int?
    /// Whether its children were told it ended (so copies made later do not wait for it).
    var released = false
    /// The variables its current execution started with.
    var inputVariables: [String: String] = [:]

    init(
        name: TaskInstanceName, definition: Int, parents: [Int], executions: Int, failureRuns: Int, children: [Int] = [],
        waitingOn: Int = 0, since: Duration = .zero, notBefore: Duration? = nil
    ) {
        self.name = name
        self.definition = definition
        self.parents = parents
        self.executionsLeft = executions
        self.failureRunsLeft = failureRuns
        self.children = children
        self.waitingOn = waitingOn
        self.since = since
        self.notBefore = notBefore
    }

    /// Whether its children may go on: it ended in a way that lets successors run.
    var isResolved: Bool {
        switch status {
        case .finished, .faulty, .skipped: true
        default: false
        }
    }
}

/// How an execution ended, as the node reports it.
public enum TaskOutcome: Sendable, Hashable, Codable {
    /// It ran to the end.
    case success(result: Value, variables: [String: String]?)
    /// It failed: a non-zero exit, a thrown error, a walltime kill.
    case failure(message: String)
    /// Self-healing found its outputs present and unchanged for the same inputs; it did not run.
    case alreadyDone(result: Value, variables: [String: String]?, reason: String)
}

/// A snapshot of a job's progress.
public struct JobProgress: Sendable, Hashable, Codable {
    /// Instances in a terminal state.
    public var done: Int
    /// All instances so far (replication and loops add some).
    public var total: Int
    /// Instances running now.
    public var running: Int
    /// Instances that ended in a failure state or wait In-Error.
    public var failed: Int

    /// Makes a progress snapshot.
    public init(done: Int, total: Int, running: Int, failed: Int) {
        self.done = done
        self.total = total
        self.running = running
        self.failed = failed
    }
}
