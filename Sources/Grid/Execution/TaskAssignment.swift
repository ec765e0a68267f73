/// Everything a node needs to run one execution of a task instance, with variables already substituted.
public struct TaskAssignment: Sendable {
    /// The job.
    public var job: JobID
    /// The job's name.
    public var jobName: String
    /// The user who submitted the job (empty for an embedded grid's single user): self-healing records are theirs
    /// alone, and an isolating node runs the execution under their account.
    public var owner: String = ""
    /// The instance's index in the job.
    public var index: Int
    /// The node the scheduler gave it to (another node may steal it; the report names both).
    public var assignedNode: NodeID
    /// Which execution this is (1 for the first); reports carry it back so late ones can be told apart.
    public var attempt: Int
    /// `T#iteration*replication`.
    public var name: TaskInstanceName
    /// What runs, with `${NAME}` references substituted.
    public var executable: Executable
    /// The task's variables (job variables, propagated ones, its own), without the system ones.
    public var variables: [String: String]
    /// The parents' results, in dependency order.
    public var parentResults: [(name: TaskInstanceName, value: Value)]
    /// The longest the execution may run.
    public var walltime: Duration?
    /// Output paths or globs, substituted; non-empty enables self-healing.
    public var outputs: [String]
    /// The fingerprint of the inputs (definition, variables, parents' results), when `outputs` is set.
    public var fingerprint: UInt64?
    /// Which nodes may run it.
    public var selection: Selection
    /// Nodes it must avoid.
    public var excludedNodes: Set<NodeID>
    /// The working directory for subprocesses; `nil` uses the grid's.
    public var workingDirectory: String?

    /// The system variables of this execution.
    var system: SystemValues { SystemValues(jobID: job, jobName: jobName, task: name) }
}
