import Crypto
import Cluster
import Foundation
import GRDB
import GRDBSQLite
import Synchronization

/// Reading: recovery after a restart, reports, job lists, workflows and self-healing records.
extension Journal {
    // MARK: - Reading

    /// Everything a restarted grid needs: the unfinished jobs with their records, the clock, the next identifier.
    public func recover() throws(GridError) -> Recovery {
        struct Raw {
            var submission: Journal.Submission
            var records: [JournalRecord] = []
        }
        var broken: [(job: Int64, reason: String)] = []
        var recovery = try read { db in
            let lastJob = try Int64.fetchOne(db, sql: "SELECT MAX(id) FROM job") ?? 0
            var lastTime = Duration.nanoseconds(try Int64.fetchOne(db, sql: "SELECT MAX(submitted_at) FROM job") ?? 0)
            var jobs: [Int64: Raw] = [:]
            var order: [Int64] = []
            let decoder = JSONDecoder()
            // Many jobs run the same workflow with other variables: decode each distinct one once.
            var workflows: [Data: Workflow] = [:]
            let rows = try Row.fetchCursor(db, sql: """
                SELECT id, owner, admin, workflow, variables, submitted_at, submitted_wall FROM job
                WHERE ended_wall IS NULL ORDER BY id
                """)
            while let row = try rows.next() {
                let id: Int64 = row["id"]
                // One job that does not read back is put aside; the others recover.
                do {
                    let workflowData: Data = row["workflow"]
                    let variablesData: Data = row["variables"]
                    let workflow: Workflow
                    if let known = workflows[workflowData] {
                        workflow = known
                    } else {
                        workflow = try decoder.decode(Workflow.self, from: workflowData)
                        workflows[workflowData] = workflow
                    }
                    let submission = Submission(
                        id: JobID(UInt64(id)), workflow: workflow,
                        variables: try decoder.decode([String: String].self, from: variablesData), admin: row["admin"],
                        owner: row["owner"], at: .nanoseconds(row["submitted_at"] as Int64),
                        wall: Date(timeIntervalSince1970: row["submitted_wall"]))
                    jobs[id] = Raw(submission: submission)
                    order.append(id)
                } catch {
                    broken.append((id, "its workflow does not read back: \(Journal.reason(error))"))
                }
            }
            let records = try Row.fetchCursor(
                db, sql: """
                    SELECT seq, job, kind, task, attempt, node, at, payload FROM record
                    WHERE job IN (SELECT id FROM job WHERE ended_wall IS NULL) ORDER BY seq
                    """)
            var decoded: [JournalRecord] = []
            while let row = try records.next() {
                let job: Int64 = row["job"]
                guard jobs[job] != nil else { continue }
                decoded.removeAll(keepingCapacity: true)
                do {
                    try self.decode(row, decoder: decoder, into: &decoded)
                } catch {
                    broken.append((job, "its record \(row["seq"] as Int64) does not read back: \(Journal.reason(error))"))
                    jobs[job] = nil
                    continue
                }
                for record in decoded { lastTime = max(lastTime, record.at) }
                jobs[job]?.records.append(contentsOf: decoded)
            }
            let locked = try Int.fetchAll(db, sql: "SELECT node FROM node_lock").map { NodeID($0) }
            return Recovery(
                jobs: order.compactMap { jobs[$0].map { ($0.submission, $0.records) } }, lastTime: lastTime,
                lastJob: UInt64(max(0, lastJob)), lockedNodes: Set(locked))
        }
        for (job, reason) in broken {
            if let quarantined = try quarantine(JobID(UInt64(job)), reason: reason, at: wallClock()) { recovery.quarantined.append(quarantined) }
        }
        return recovery
    }

    /// The final report of an ended job, or `nil` when the job is unknown or still alive.
    public func report(_ job: JobID) throws(GridError) -> JobResult? {
        if let pending = pendingReports.withLock({ $0[job] }) { return pending }
        guard let id = Int64(exactly: job.rawValue) else { return nil }  // never given: SQLite's integers are signed
        let data = try read { db in
            try Data.fetchOne(db, sql: "SELECT report FROM job WHERE id = ? AND report IS NOT NULL", arguments: [id])
        }
        guard let data else { return nil }
        do {
            return try decodeReport(data)
        } catch {
            // A report that does not read back is put aside once, not a failed request each time it is asked for.
            try quarantine(job, reason: "its report does not read back: \(Journal.reason(error))", at: wallClock())
            return nil
        }
    }

    /// Jobs in the store, newest first: `ended` restricts to ended (true) or alive (false) ones.
    public func jobs(ended: Bool? = nil, owner: String? = nil, limit: Int = 100, before: JobID? = nil) throws(GridError) -> [JobRow] {
        try read { db in
            var conditions: [String] = []
            var arguments: StatementArguments = []
            if let ended { conditions.append(ended ? "ended_wall IS NOT NULL" : "ended_wall IS NULL") }
            if let owner {
                conditions.append("owner = ?")
                _ = arguments.append(contentsOf: [owner])
            }
            if let before {
                conditions.append("id < ?")
                _ = arguments.append(contentsOf: [Int64(clamping: before.rawValue)])
            }
            let filter = conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")
            _ = arguments.append(contentsOf: [limit])
            return try Row.fetchAll(db, sql: """
                SELECT id, name, owner, status, priority, submitted_wall, ended_wall, done, total, failed FROM job \(filter)
                ORDER BY id DESC LIMIT ?
                """, arguments: arguments).map { row in
                let ended: Double? = row["ended_wall"]
                let done: Int? = row["done"]
                let total: Int? = row["total"]
                let failed: Int? = row["failed"]
                let progress = done.flatMap { done in
                    total.map { JobProgress(done: done, total: $0, running: 0, failed: failed ?? 0) }
                }
                return JobRow(
                    id: JobID(UInt64(row["id"] as Int64)), name: row["name"], owner: row["owner"],
                    status: JobStatus(rawValue: row["status"]) ?? .pending,
                    priority: JobPriority(rawValue: row["priority"]) ?? .normal,
                    submitted: Date(timeIntervalSince1970: row["submitted_wall"]),
                    ended: ended.map(Date.init(timeIntervalSince1970:)), progress: progress)
            }
        }
    }

    /// The owner of a job in the store.
    public func owner(of job: JobID) throws(GridError) -> String? {
        guard let id = Int64(exactly: job.rawValue) else { return nil }
        return try read { db in try String.fetchOne(db, sql: "SELECT owner FROM job WHERE id = ?", arguments: [id]) }
    }

    /// The workflow a job was submitted with, or `nil` when the journal does not have the job.
    public func workflow(of job: JobID) throws(GridError) -> Workflow? {
        guard let id = Int64(exactly: job.rawValue) else { return nil }
        let data = try read { db in try Data.fetchOne(db, sql: "SELECT workflow FROM job WHERE id = ?", arguments: [id]) }
        guard let data else { return nil }
        do {
            return try JSONDecoder().decode(Workflow.self, from: data)
        } catch {
            throw .journal("the workflow of job \(job) does not decode", cause: .init(error))
        }
    }

    /// Rows in the record table (for tests and metrics: ended jobs leave none). A row holds one record, or a run
    /// of one job's null-result ends.
    public func recordCount() throws(GridError) -> Int {
        try read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM record") ?? 0 }
    }

    // MARK: - Self-healing

    /// Every self-healing record, by key.
    func healingRecords() throws(GridError) -> [String: Data] {
        try read { db in
            var all: [String: Data] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT key, record FROM healing") { all[row["key"]] = row["record"] }
            return all
        }
    }

    /// Keeps a self-healing record.
    func saveHealing(key: String, record: Data) throws(GridError) {
        try write { db in
            try db.execute(sql: "INSERT OR REPLACE INTO healing (key, record) VALUES (?, ?)", arguments: [key, record])
        }
    }
}
