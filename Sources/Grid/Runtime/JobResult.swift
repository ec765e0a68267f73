import Cluster
import Foundation

/// One task instance as a report shows it.
public struct TaskReport: Sendable, Hashable, Codable {
    /// `T#iteration*replication`.
    public var name: TaskInstanceName
    /// Its state.
    public var status: TaskStatus
    /// Executions started.
    public var executions: Int
    /// Its result, once it ran.
    public var result: Value?
    /// The node of its last execution.
    public var node: NodeID?
    /// The last error, or why it was found already done.
    public var message: String?
    /// Self-healing found its outputs present for the same inputs, so it did not run.
    public var alreadyDone: Bool
    /// The host of its last execution's node (the grid's host, or an agent's cluster address).
    public var host: String?
    /// How long its last execution ran, in seconds, once it ended, as the node that ran it measured it. Where the node
    /// did not measure it (an agent that could not start it), the time between the scheduler's reading of its start and
    /// its end; `nil` for such an execution replayed from the journal after a restart, and for any replayed from a
    /// journal written before schema v4.
    public var duration: Double?

    /// Makes a task report.
    public init(
        name: TaskInstanceName, status: TaskStatus, executions: Int, result: Value?, node: NodeID?, message: String?,
        alreadyDone: Bool, host: String? = nil, duration: Double? = nil
    ) {
        self.host = host
        self.duration = duration
        self.name = name
        self.status = status
        self.executions = executions
        self.result = result
        self.node = node
        self.message = message
        self.alreadyDone = alreadyDone
    }
}

/// A job as it stands (or as it ended): its state, progress and every task instance.
public struct JobResult: Sendable, Hashable, Codable {
    /// The job.
    public var job: JobID
    /// The workflow's name.
    public var name: String
    /// Who submitted it (empty for the embedded API).
    public var owner: String
    /// Its state.
    public var status: JobStatus
    /// Its priority.
    public var priority: JobPriority
    /// Done/total/running/failed.
    public var progress: JobProgress
    /// Every instance, in creation order.
    public var tasks: [TaskReport]
    /// Where its logs are.
    public var logDirectory: String

    /// The report of one instance (`"tile*3"`).
    public func task(_ name: String) -> TaskReport? {
        tasks.first { $0.name.description == name }
    }

    /// The result of one instance.
    public func result(of name: String) -> Value? {
        task(name)?.result
    }

    /// Makes a report.
    public init(
        job: JobID, name: String, owner: String, status: JobStatus, priority: JobPriority, progress: JobProgress,
        tasks: [TaskReport], logDirectory: String
    ) {
        self.job = job
        self.name = name
        self.owner = owner
        self.status = status
        self.priority = priority
        self.progress = progress
        self.tasks = tasks
        self.logDirectory = logDirectory
    }

    init(_ job: JobCore, logDirectory: String, hosts: [NodeID: String] = [:]) {
        self.job = job.id
        self.name = job.workflow.name
        self.owner = job.owner
        self.status = job.status
        self.priority = job.priority
        self.progress = job.progress
        // Field reads by index: a copy of each instance would retain (and release) its arrays, sets and names. A job's
        // tasks ran on few nodes, many in a row on the same one: the last host lookup is kept.
        let instances = job.instances
        var tasks: [TaskReport] = []
        tasks.reserveCapacity(instances.count)
        var lastHost: (node: NodeID, host: String?)?
        for index in instances.indices {
            let status = instances[index].status
            let node = instances[index].node
            var host: String?
            if let node {
                if let lastHost, lastHost.node == node {
                    host = lastHost.host
                } else {
                    host = hosts[node]
                    lastHost = (node, host)
                }
            }
            let startedAt = instances[index].startedAt
            tasks.append(TaskReport(
                name: instances[index].name, status: status, executions: instances[index].executions, result: instances[index].result,
                node: node, message: instances[index].message, alreadyDone: instances[index].alreadyDone, host: host,
                duration: status.isTerminal ? startedAt.map { Double((instances[index].since - $0).nanoseconds) / 1e9 } : nil))
        }
        self.tasks = tasks
        self.logDirectory = logDirectory
    }
}

/// A job in a few fields (what a listing shows), cheap to make for a job of many tasks.
public struct JobSummary: Sendable, Hashable, Codable {
    public var job: JobID
    public var name: String
    public var owner: String
    public var status: JobStatus
    public var priority: JobPriority
    public var progress: JobProgress
    /// When it was submitted, first had a task started, and ended (wall-clock time), when known.
    public var submitted: Date?
    public var started: Date?
    public var ended: Date?

    /// Makes a summary.
    public init(
        job: JobID, name: String, owner: String, status: JobStatus, priority: JobPriority, progress: JobProgress,
        submitted: Date? = nil, started: Date? = nil, ended: Date? = nil
    ) {
        self.submitted = submitted
        self.started = started
        self.ended = ended
        self.job = job
        self.name = name
        self.owner = owner
        self.status = status
        self.priority = priority
        self.progress = progress
    }
}
