import Foundation
import Grid

/// A job as the REST API and `tessera job --json` show it.
struct JobView: Codable, Sendable {
    var id: UInt64
    var name: String
    var owner: String
    var state: String
    var priority: String
    var progress: JobProgress
    /// Instances with their states (in a job's detail only).
    var tasks: [TaskView]?
    /// Where the task logs are on the server (in a job's detail only).
    var logs: String?
    /// When it was submitted, first had a task running, and ended (ISO 8601), when known.
    var submitted: String?
    var started: String?
    var ended: String?

    init(_ summary: JobSummary) {
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

    static func iso(_ date: Date) -> String {
        date.formatted(.iso8601.year().month().day().time(includingFractionalSeconds: true).timeZone(separator: .omitted))
    }

    init(_ report: JobResult, withTasks: Bool = true) {
        self.init(JobSummary(
            job: report.job, name: report.name, owner: report.owner, status: report.status, priority: report.priority,
            progress: report.progress))
        if withTasks {
            tasks = report.tasks.map { TaskView($0, withResult: false) }
            logs = report.logDirectory
        }
    }

    init(_ row: Journal.JobRow) {
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
struct TaskView: Codable, Sendable {
    var name: String
    var state: String
    var executions: Int
    var node: Int?
    /// The host of its last execution.
    var host: String?
    /// Seconds its last execution ran, once it ended.
    var duration: Double?
    var message: String?
    var alreadyDone: Bool
    /// Its result (in a task's detail and the job's results only).
    var result: Value?

    init(_ report: TaskReport, withResult: Bool) {
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
struct JobPage: Codable, Sendable {
    var jobs: [JobView]
    var next: UInt64?
}

/// `POST /api/v1/jobs` as JSON: the workflow's YAML text and variables.
struct SubmitBody: Codable, Sendable {
    var workflow: String
    var variables: [String: String]?
}

/// `POST /api/v1/jobs` answers with the new job's identifier.
struct SubmitAnswer: Codable, Sendable {
    var id: UInt64
}

/// `PUT /api/v1/jobs/{id}/priority`.
struct PriorityBody: Codable, Sendable {
    var priority: String
}

/// `GET /api/v1/jobs/{id}/result`: each instance's result.
struct ResultView: Codable, Sendable {
    var id: UInt64
    var state: String
    var results: [String: Value]
}

/// A node as the REST API shows it.
struct NodeView: Codable, Sendable, Equatable {
    var id: Int
    /// `node-ID`.
    var node: String
    /// The grid's host name for local nodes, the agent's cluster address for agents' nodes.
    var host: String
    var source: String
    var state: String
    var locked: Bool
    var labels: [String]
    var running: Int
    var capacity: Int

    init(_ entry: ResourceLedger.Entry) {
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
struct NodeSourceView: Codable, Sendable {
    var name: String
    var infrastructure: String
    var policy: String
    var nodes: [NodeView]
}

/// A job in quarantine, as the API shows it.
struct QuarantineView: Codable {
    var id: UInt64
    var name: String
    var owner: String
    var reason: String
    var at: String
    var records: Int

    init(_ quarantined: Journal.Quarantined) {
        id = quarantined.job.rawValue
        name = quarantined.name
        owner = quarantined.owner
        reason = quarantined.reason
        at = ISO8601DateFormatter().string(from: quarantined.at)
        records = quarantined.records
    }
}
