import Crypto
import Cluster
import Foundation
import GRDB
import GRDBSQLite
import Synchronization

/// Writing: submissions, records, final reports, locks and purges.
extension Journal {
    // MARK: - Writing

    /// A workflow as the journal stores it, written ahead of its submission (see ``encode(_:)``).
    public struct EncodedWorkflow: Sendable {
        fileprivate let json: Data
    }

    /// Writes a workflow as the journal stores it. ``Grid/submit(_:variables:admin:owner:)`` does it while it
    /// validates the workflow, on another core: for 100,000 tasks each took about 50 ms on the 2-vCPU VM.
    ///
    /// - Throws: `GridError.notJournalable` for a workflow with a closure decider.
    public static func encode(_ workflow: Workflow) throws(GridError) -> EncodedWorkflow {
        guard workflow.isJournalable else {
            let names = workflow.tasks.filter { task in
                if let flow = task.flow, case .closure = flow.decider { true } else { false }
            }.map(\.name)
            throw .notJournalable("task \(names.joined(separator: ", ")) decides its flow with a Swift closure; use result or a value")
        }
        var json = JournalJSON(capacity: 64 + 160 * workflow.tasks.count)
        json.workflow(workflow)
        return EncodedWorkflow(json: json.data)
    }

    /// Records a submission (before the grid answers with the job's identifier); `encoded` is its workflow
    /// from ``encode(_:)``, or `nil` to write it here.
    ///
    /// - Throws: `GridError.notJournalable` for a workflow with a closure decider, `.journal` when the write fails.
    public func submitted(_ submission: Submission, encoded: EncodedWorkflow? = nil) throws(GridError) {
        let workflow = if let encoded { encoded.json } else { try Journal.encode(submission.workflow).json }
        var variablesJSON = JournalJSON()
        variablesJSON.dictionary(submission.variables)
        let variables = variablesJSON.data
        try write { db in
            try db.execute(
                sql: """
                    INSERT INTO job (id, name, owner, admin, workflow, variables, submitted_at, submitted_wall, status, priority)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [
                    Int64(submission.id.rawValue), submission.workflow.name, submission.owner, submission.admin, workflow,
                    variables, submission.at.nanoseconds, submission.wall.timeIntervalSince1970,
                    JobStatus.pending.rawValue, submission.workflow.priority.rawValue,
                ])
        }
    }

    /// Appends records in one transaction.
    public func append(_ records: [JournalRecord]) throws(GridError) {
        try append(records, ended: [], at: Date(timeIntervalSince1970: 0))
    }

    /// Appends records and the final reports of jobs that ended at `wall`, in one transaction. An ended job's
    /// records are dropped: its report holds everything.
    public func append(_ records: [JournalRecord], ended: [JobResult], at wall: Date) throws(GridError) {
        guard !records.isEmpty || !ended.isEmpty else { return }
        var files: [(path: String, data: Data)] = []
        var rows: [PendingRecord] = []
        rows.reserveCapacity(records.count)
        for record in records { Journal.add(try encode(record, files: &files), to: &rows) }
        var reports: [(JobResult, Data)] = []
        for report in ended { reports.append((report, try encode(report, files: &files))) }
        try writeFiles(files)
        try write { db in
            let insert = try db.cachedStatement(
                sql: "INSERT INTO record (job, seq, kind, task, attempt, node, at, payload) VALUES (?, ?, ?, ?, ?, ?, ?, ?)")
            // Bound through SQLite's C API: GRDB's generic arguments cost more than the insert itself.
            let statement = insert.sqliteStatement
            // Writes are serialized, so the numbers follow the order of the records; a rolled-back write leaves a gap.
            var sequence = lastSequence.withLock { last in
                defer { last += Int64(rows.count) }
                return last
            }
            var firsts: [(job: Int64, sequence: Int64)] = []
            for row in rows {
                sequence += 1
                if firsts.last?.job != row.job { firsts.append((row.job, sequence)) }
                sqlite3_bind_int64(statement, 1, row.job)
                sqlite3_bind_int64(statement, 2, sequence)
                sqlite3_bind_int64(statement, 3, Int64(row.kind.rawValue))
                sqlite3_bind_int64(statement, 4, Int64(row.task))
                sqlite3_bind_int64(statement, 5, Int64(row.attempt))
                sqlite3_bind_int64(statement, 6, Int64(row.node))
                sqlite3_bind_int64(statement, 7, row.at)
                let code: Int32
                // A null-result end in a row of its own holds its run time alone (runs hold theirs in their payload).
                if let payload = row.payload ?? (row.kind == .finishedNull && row.ran > 0 ? RunCodec.single(row.ran) : nil) {
                    code = payload.withUnsafeBytes { bytes in
                        sqlite3_bind_blob(statement, 8, bytes.baseAddress, Int32(bytes.count), Journal.transient)
                        return sqlite3_step(statement)
                    }
                } else {
                    sqlite3_bind_null(statement, 8)
                    code = sqlite3_step(statement)
                }
                sqlite3_reset(statement)
                guard code == SQLITE_DONE else {
                    throw DatabaseError(resultCode: ResultCode(rawValue: code), message: String(cString: sqlite3_errmsg(db.sqliteConnection)))
                }
            }
            // A lower bound is enough (a rolled-back write leaves one that is lower still).
            if !firsts.isEmpty {
                firstSequence.withLock { known in
                    for first in firsts where known[first.job] == nil { known[first.job] = first.sequence }
                }
            }
            for (report, data) in reports {
                try db.execute(
                    sql: "UPDATE job SET status = ?, priority = ?, ended_wall = ?, report = ?, done = ?, total = ?, failed = ? WHERE id = ?",
                    arguments: [report.status.rawValue, report.priority.rawValue, wall.timeIntervalSince1970, data,
                                report.progress.done, report.progress.total, report.progress.failed, Int64(report.job.rawValue)])
            }
        }
        // The ended jobs' records go in small transactions, so that a job of many tasks never holds the
        // writer (and the scheduler waiting on it) for long; until then recovery skips them.
        for report in ended { try dropRecords(of: report.job) }
    }

    /// Deletes a job's records a few thousand at a time.
    func dropRecords(of job: JobID) throws(GridError) {
        guard let id = Int64(exactly: job.rawValue) else { return }
        // From the job's first record on, along the table's key: no index needed, and a job with no records
        // left from this process (or none at all) costs nothing.
        guard let first = firstSequence.withLock({ $0[id] }) else { return }
        while true {
            let deleted = try write { db in
                try db.execute(
                    sql: "DELETE FROM record WHERE seq IN (SELECT seq FROM record WHERE seq >= ?1 AND job = ?2 LIMIT 4096)",
                    arguments: [first, id])
                return db.changesCount
            }
            if deleted < 4096 { break }
        }
        _ = firstSequence.withLock { $0.removeValue(forKey: id) }
    }

    /// Stores final reports in the background (see ``append(_:ended:at:)``); `failed` hears of a failed write.
    public func appendLater(ended reports: [JobResult], at wall: Date, failed: @escaping @Sendable (GridError) -> Void) {
        guard !reports.isEmpty else { return }
        pendingReports.withLock { pending in
            for report in reports { pending[report.job] = report }
        }
        reportQueue.async {
            do {
                try self.append([], ended: reports, at: wall)
            } catch {
                failed(error as? GridError ?? .journal("a write failed", cause: .init(error)))
            }
            self.pendingReports.withLock { pending in
                for report in reports { pending[report.job] = nil }
            }
        }
    }

    /// Waits until every report queued by ``appendLater(ended:at:failed:)`` is written.
    public func waitForPendingWrites() {
        reportQueue.sync {}
    }

    /// Records that a node is locked (no new tasks) or unlocked.
    public func setLocked(_ node: NodeID, _ locked: Bool) throws(GridError) {
        try write { db in
            if locked {
                try db.execute(sql: "INSERT OR IGNORE INTO node_lock (node) VALUES (?)", arguments: [node.rawValue])
            } else {
                try db.execute(sql: "DELETE FROM node_lock WHERE node = ?", arguments: [node.rawValue])
            }
        }
    }

    /// Deletes ended jobs (their reports and result files) that ended before `date`; returns how many.
    @discardableResult
    public func purge(endedBefore date: Date) throws(GridError) -> Int {
        let ids: [Int64] = try read { db in
            try Int64.fetchAll(db, sql: "SELECT id FROM job WHERE ended_wall IS NOT NULL AND ended_wall < ?",
                               arguments: [date.timeIntervalSince1970])
        }
        guard !ids.isEmpty else { return 0 }
        try write { db in
            for id in ids { try db.execute(sql: "DELETE FROM job WHERE id = ?", arguments: [id]) }
        }
        for id in ids { try? FileManager.default.removeItem(atPath: "\(directory)/results/\(id)") }
        return ids.count
    }
}
