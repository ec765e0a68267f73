import Foundation
import Grid

/// A job as the REST API and `tessera job --json` show it.
public struct JobView: Codable, Sendable {
    public var id: UInt64
    public var name: String
    public var owner: String
    public var state: String
    public var priority: String
    public var progress: JobProgress
    /// Instances with their states (in a job's detail only).
    public var tasks: [TaskView]?
    /// Where the task logs are on the server (in a job's detail only).
    public var logs: String?
    /// When it was submitted, first had a task running, and ended (ISO 8601), when known.
    public var submitted: String?
    public var started: String?
    public var ended: String?

    public init(_ summary: JobSummary) {
        id = summary.job.rawValue
        name = summary.name
        owner = summary.owner
        state = summary.status.rawValue
        priority = summary.priority.description
        progress = summary.progress
        submitted = summary.submitted.map(Self.iso)
        started = summary.started.map(Self.iso)
        ended = summary.ended.map(Self.iso)
    }

    public static func iso(_ date: Date) -> String {
        date.formatted(.iso8601.year().month().day().time(includingFractionalSeconds: true).timeZone(separator: .omitted))
    }

    public init(_ report: JobResult, withTasks: Bool = true) {
        self.init(JobSummary(
            job: report.job, name: report.name, owner: report.owner, status: report.status, priority: report.priority,
            progress: report.progress))
        if withTasks {
            tasks = report.tasks.map { TaskView($0, withResult: false) }
            logs = report.logDirectory
        }
    }

    public init(_ row: Journal.JobRow) {
        id = row.id.rawValue
        name = row.name
        owner = row.owner
        state = row.status.rawValue
        priority = row.priority.description
        progress = row.progress ?? JobProgress(done: 0, total: 0, running: 0, failed: 0)
        submitted = Self.iso(row.submitted)
        ended = row.ended.map(Self.iso)
    }
}

/// A task instance as the REST API shows it.
public struct TaskView: Codable, Sendable {
    public var name: String
    public var state: String
    public var executions: Int
    public var node: Int?
    /// The host of its last execution.
    public var host: String?
    /// Seconds its last execution ran, once it ended.
    public var duration: Double?
    public var message: String?
    public var alreadyDone: Bool
    /// Its result (in a task's detail and the job's results only).
    public var result: Value?

    public init(_ report: TaskReport, withResult: Bool) {
        name = report.name.description
        state = report.status.rawValue
        executions = report.executions
        node = report.node?.rawValue
        host = report.host
        duration = report.duration
        message = report.message
        alreadyDone = report.alreadyDone
        if withResult { result = report.result }
    }
}

/// `GET /api/v1/jobs`: a page of jobs, newest first; `next` is the `before` of the following page.
public struct JobPage: Codable, Sendable {
    public var jobs: [JobView]
    public var next: UInt64?

    public init(jobs: [JobView], next: UInt64? = nil) {
        self.jobs = jobs
        self.next = next
    }
}

/// `POST /api/v1/jobs` as JSON: the workflow's YAML text and variables.
public struct SubmitBody: Codable, Sendable {
    public var workflow: String
    public var variables: [String: String]?

    public init(workflow: String, variables: [String: String]? = nil) {
        self.workflow = workflow
        self.variables = variables
    }
}

/// `POST /api/v1/jobs` answers with the new job's identifier.
public struct SubmitAnswer: Codable, Sendable {
    public var id: UInt64

    public init(id: UInt64) {
        self.id = id
    }
}

/// `PUT /api/v1/jobs/{id}/priority`.
public struct PriorityBody: Codable, Sendable {
    public var priority: String

    public init(priority: String) {
        self.priority = priority
    }
}

/// `GET /api/v1/jobs/{id}/result`: each instance's result.
public struct ResultView: Codable, Sendable {
    public var id: UInt64
    public var state: String
    public var results: [String: Value]
}

/// A node as the REST API shows it.
public struct NodeView: Codable, Sendable, Equatable {
    public var id: Int
    /// `node-ID`.
    public var node: String
    /// The grid's host name for local nodes, the agent's cluster address for agents' nodes.
    public var host: String
    public var source: String
    public var state: String
    public var locked: Bool
    public var labels: [String]
    public var running: Int
    public var capacity: Int

    public init(_ entry: ResourceLedger.Entry) {
        id = entry.id.rawValue
        node = entry.id.description
        host = entry.host
        source = entry.source
        state = entry.state.rawValue
        locked = entry.locked
        labels = entry.labels.sorted()
        running = entry.assigned
        capacity = entry.capacity
    }
}

/// A node source as the REST API shows it.
public struct NodeSourceView: Codable, Sendable {
    public var name: String
    public var infrastructure: String
    public var policy: String
    public var nodes: [NodeView]
}

/// A job in quarantine, as the API shows it.
public struct QuarantineView: Codable {
    public var id: UInt64
    public var name: String
    public var owner: String
    public var reason: String
    public var at: String
    public var records: Int

    public init(_ quarantined: Journal.Quarantined) {
        id = quarantined.job.rawValue
        name = quarantined.name
        owner = quarantined.owner
        reason = quarantined.reason
        at = ISO8601DateFormatter().string(from: quarantined.at)
        records = quarantined.records
    }
}
