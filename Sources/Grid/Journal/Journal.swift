import Crypto
import Cluster
import Foundation
import GRDB
import GRDBSQLite
import Synchronization

/// The grid's journal: an SQLite database in WAL mode (GRDB) that keeps everything a restarted grid needs to
/// finish every unfinished job — submitted jobs (workflow, variables, owner), the inputs of their state
/// machines (task outcomes with results and retry counts, timer ticks, users' actions), the final reports of
/// ended jobs, self-healing records and node locks.
///
/// Writes happen before the grid acknowledges what they record, in one transaction per batch. SQLite's WAL
/// makes every transaction atomic: a process killed in the middle of a write leaves the store as it was
/// before that transaction. With ``Durability/normal`` a committed transaction survives the process being
/// killed; ``Durability/full`` also survives the machine losing power (one fsync per commit).
///
/// Results larger than ``inlineLimit`` bytes of JSON are kept as files under `results/JOB/`, named by their
/// SHA-256 and referenced from the database.
public final class Journal: Sendable {
    /// How hard a commit is pushed to the disk.
    public enum Durability: String, Sendable, CaseIterable {
        /// Survives the process being killed (SQLite `synchronous=NORMAL` in WAL mode).
        case normal
        /// Also survives a power loss (`synchronous=FULL`: an fsync per commit).
        case full
    }

    /// A job as submitted.
    public struct Submission: Sendable {
        public var id: JobID
        public var workflow: Workflow
        public var variables: [String: String]
        public var admin: Bool
        public var owner: String
        /// Grid time of the submission.
        public var at: Duration
        /// Wall-clock time of the submission (START_AT is relative to it).
        public var wall: Date

        /// Describes a submission.
        public init(
            id: JobID, workflow: Workflow, variables: [String: String], admin: Bool, owner: String, at: Duration, wall: Date
        ) {
            self.id = id
            self.workflow = workflow
            self.variables = variables
            self.admin = admin
            self.owner = owner
            self.at = at
            self.wall = wall
        }
    }

    /// What a restarted grid rebuilds from.
    public struct Recovery: Sendable {
        /// Jobs that had not ended, oldest first, with their records in order.
        public var jobs: [(submission: Submission, records: [JournalRecord])]
        /// The latest grid time the journal saw (the restarted grid's clock goes on from there).
        public var lastTime: Duration
        /// The largest job identifier ever given.
        public var lastJob: UInt64
        /// Locked nodes.
        public var lockedNodes: Set<NodeID>
        /// Jobs whose rows could not be read: each is FAILED and in quarantine now (``Journal/quarantined()``).
        public var quarantined: [Quarantined] = []
    }

    /// One job as listed from the store.
    public struct JobRow: Sendable, Hashable, Codable {
        public var id: JobID
        public var name: String
        public var owner: String
        public var status: JobStatus
        public var priority: JobPriority
        public var submitted: Date
        public var ended: Date?

        /// Makes a row.
        public init(id: JobID, name: String, owner: String, status: JobStatus, priority: JobPriority, submitted: Date, ended: Date?) {
            self.id = id
            self.name = name
            self.owner = owner
            self.status = status
            self.priority = priority
            self.submitted = submitted
            self.ended = ended
        }
    }

    /// Results whose JSON is larger than this are kept in files.
    public static let inlineLimit = 64 * 1024
    /// The schema version this code writes.
    public static let schemaVersion = "v4"

    /// The data directory.
    public let directory: String
    private let pool: DatabasePool
    /// Final reports are encoded and written here, off the scheduler: a job's end is acknowledged once its
    /// records are committed (a crash before its report is written replays the records and writes it then).
    private let reportQueue = DispatchQueue(label: "tessera.journal.reports")
    /// Reports queued and not written yet, so that reading one never misses it.
    private let pendingReports = Mutex<[JobID: JobResult]>([:])
    /// The last record sequence number given.
    private let lastSequence = Mutex<Int64>(0)
    /// The first sequence number of each job with records: where dropping them starts.
    private let firstSequence = Mutex<[Int64: Int64]>([:])

    /// Opens (or creates) the journal in `directory` and brings its schema up to date.
    ///
    /// - Throws: `GridError.journal` when the directory or the database cannot be opened, or the database was
    ///   written by a newer Tessera.
    public init(directory: String, durability: Durability = .normal) throws(GridError) {
        self.directory = directory
        do {
            try FileManager.default.createDirectory(atPath: directory + "/results", withIntermediateDirectories: true)
            var configuration = Configuration()
            configuration.label = "tessera.journal"
            configuration.busyMode = .timeout(10)
            let synchronous = durability == .full ? "FULL" : "NORMAL"
            configuration.prepareDatabase { db in
                try db.execute(sql: "PRAGMA synchronous = \(synchronous)")
            }
            pool = try DatabasePool(path: directory + "/journal.sqlite", configuration: configuration)
            var migrator = DatabaseMigrator()
            Journal.registerMigrations(&migrator)
            if try pool.read({ try migrator.hasBeenSuperseded($0) }) {
                throw GridError.journal("\(directory)/journal.sqlite was written by a newer Tessera")
            }
            try migrator.migrate(pool)
            let (last, firsts) = try pool.read { db in
                let last = try Int64.fetchOne(db, sql: "SELECT max(seq) FROM record") ?? 0
                var firsts: [Int64: Int64] = [:]
                for row in try Row.fetchAll(db, sql: "SELECT job, min(seq) AS first FROM record GROUP BY job") {
                    firsts[row["job"]] = row["first"]
                }
                return (last, firsts)
            }
            lastSequence.withLock { $0 = last }
            firstSequence.withLock { $0 = firsts }
        } catch let error as GridError {
            throw error
        } catch {
            throw .journal("cannot open \(directory)/journal.sqlite: \(error)")
        }
    }

    private static func registerMigrations(_ migrator: inout DatabaseMigrator) {
        migrator.registerMigration("v1") { db in
            try db.execute(sql: """
                CREATE TABLE job (
                    id INTEGER PRIMARY KEY,
                    name TEXT NOT NULL,
                    owner TEXT NOT NULL,
                    admin INTEGER NOT NULL,
                    workflow BLOB NOT NULL,
                    variables BLOB NOT NULL,
                    submitted_at INTEGER NOT NULL,
                    submitted_wall REAL NOT NULL,
                    status TEXT NOT NULL,
                    priority INTEGER NOT NULL,
                    ended_wall REAL,
                    report BLOB
                );
                CREATE INDEX job_ended ON job(ended_wall);
                CREATE TABLE record (
                    seq INTEGER PRIMARY KEY,
                    job INTEGER NOT NULL,
                    kind INTEGER NOT NULL,
                    task INTEGER NOT NULL,
                    attempt INTEGER NOT NULL,
                    node INTEGER NOT NULL,
                    at INTEGER NOT NULL,
                    payload BLOB
                );
                CREATE INDEX record_job ON record(job, seq);
                CREATE TABLE healing (key TEXT PRIMARY KEY, record BLOB NOT NULL);
                CREATE TABLE node_lock (node INTEGER PRIMARY KEY);
                CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
                """)
        }
        // No index on (job, seq): it wrote every record twice (the journaled no-op job ran about 20 % faster
        // without it on the 2-vCPU VM). A job's records are found from its first sequence number, kept in memory.
        migrator.registerMigration("v2") { db in
            try db.execute(sql: "DROP INDEX record_job")
        }
        // No table changes: from v3 on, a row of the record table may hold a run of one job's null-result ends
        // (kind 7), and a final report keeps its tasks in a compact form (``StoredTask``). A Tessera that knows
        // only v2 would fail on the first and read the second as a report without tasks; the migration marks
        // the store so that one refuses it.
        migrator.registerMigration("v3") { _ in }
        // No table changes: from v4 on an end keeps how long its execution ran by its node's clock, so that a job
        // rebuilt after a restart shows the durations it showed before. A null-result end with a row of its own holds
        // it in its payload (a varint), a run of ends is kind 8 (each end with its run time), and an end with a
        // result has `ran` in its JSON. v3's rows (kind 7 runs, kind 5 without a payload) still read back, without
        // durations; a Tessera that knows only v3 would fail on kind 8, so the migration marks the store for it to
        // refuse.
        migrator.registerMigration("v4") { _ in }
        // A job whose rows cannot be read (damaged, or written past what this build decodes) is put aside instead of
        // stopping the grid from starting: its raw rows are kept for an administrator to look at and drop.
        migrator.registerMigration("v5") { db in
            try db.execute(sql: """
                CREATE TABLE quarantine (job INTEGER PRIMARY KEY, reason TEXT NOT NULL, at REAL NOT NULL, report BLOB);
                CREATE TABLE quarantine_record (
                    seq INTEGER PRIMARY KEY,
                    job INTEGER NOT NULL,
                    kind INTEGER NOT NULL,
                    task INTEGER NOT NULL,
                    attempt INTEGER NOT NULL,
                    node INTEGER NOT NULL,
                    at INTEGER NOT NULL,
                    payload BLOB
                );
                """)
        }
    }

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

    /// Appends records and the final reports of jobs that ended, in one transaction. An ended job's records are
    /// dropped: its report holds everything.
    public func append(_ records: [JournalRecord], ended: [JobResult] = [], at wall: Date = Date()) throws(GridError) {
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
                    sql: "UPDATE job SET status = ?, priority = ?, ended_wall = ?, report = ? WHERE id = ?",
                    arguments: [report.status.rawValue, report.priority.rawValue, wall.timeIntervalSince1970, data,
                                Int64(report.job.rawValue)])
            }
        }
        // The ended jobs' records go in small transactions, so that a job of many tasks never holds the
        // writer (and the scheduler waiting on it) for long; until then recovery skips them.
        for report in ended { try dropRecords(of: report.job) }
    }

    /// Deletes a job's records a few thousand at a time.
    private func dropRecords(of job: JobID) throws(GridError) {
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
                failed(error as? GridError ?? .journal("\(error)"))
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
            if let quarantined = try quarantine(JobID(UInt64(job)), reason: reason) { recovery.quarantined.append(quarantined) }
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
            try quarantine(job, reason: "its report does not read back: \(Journal.reason(error))")
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
                SELECT id, name, owner, status, priority, submitted_wall, ended_wall FROM job \(filter)
                ORDER BY id DESC LIMIT ?
                """, arguments: arguments).map { row in
                let ended: Double? = row["ended_wall"]
                return JobRow(
                    id: JobID(UInt64(row["id"] as Int64)), name: row["name"], owner: row["owner"],
                    status: JobStatus(rawValue: row["status"]) ?? .pending,
                    priority: JobPriority(rawValue: row["priority"]) ?? .normal,
                    submitted: Date(timeIntervalSince1970: row["submitted_wall"]),
                    ended: ended.map(Date.init(timeIntervalSince1970:)))
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
            throw .journal("the workflow of job \(job) does not decode: \(error)")
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

    // MARK: - Encoding

    private enum Kind: Int {
        case finished = 2
        case tick = 3
        case action = 4
        /// Finished with a null result and unchanged variables (most tasks): the payload, when there is one
        /// (schema v4), is only the run time (see ``RunCodec/single(_:)``).
        case finishedNull = 5
        /// The execution's node was lost (a remote host died).
        case lost = 6
        /// Consecutive null-result ends of one job, written in one row (schema v3): one insert and one delete
        /// instead of one per task. The payload holds each end's task, attempt, node and time (see ``RunCodec``).
        /// Read only: v4 writes ``finishedNullTimedRun``.
        case finishedNullRun = 7
        /// A run of null-result ends whose payload also holds each end's run time (schema v4).
        case finishedNullTimedRun = 8
    }

    /// A finished record's payload: the outcome, with a large result moved to a file.
    private struct Outcome: Codable {
        var outcome: TaskOutcome
        var resultFile: String?
        /// How long the execution ran, in nanoseconds (schema v4; absent when not measured).
        var ran: Int64?
    }

    /// A report with its large results moved to files (task index → file). Since schema v3 its tasks are in
    /// `tasks` (``StoredTask``) with each node's host once in `hosts`, and `report.tasks` is empty; a report
    /// written before holds them in `report.tasks` as ``TaskReport``s.
    private struct StoredReport: Decodable {
        var report: JobResult
        var resultFiles: [Int: String]?
        var tasks: [StoredTask]?
        var hosts: [Int: String]?
    }

    /// A task of a stored report under short keys, written by ``JournalJSON/storedReport(_:resultFiles:)``.
    private struct StoredTask: Decodable {
        var task: TaskReport
        /// Whether `h` was written (a host that differs from its node's, or none where the node has one).
        var hasHost: Bool

        private enum Key: String, CodingKey { case n, s, e, r, o, h, m, a, d }

        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: Key.self)
            // A present `r` is a result, `null` included; an absent one is none (`Value` takes `nil` literals as
            // `.null`, hence `.none`).
            var result: Value? = .none
            if container.contains(.r) { result = try container.decode(Value.self, forKey: .r) }
            hasHost = container.contains(.h)
            task = TaskReport(
                name: try container.decode(TaskInstanceName.self, forKey: .n), status: try container.decode(TaskStatus.self, forKey: .s),
                executions: try container.decode(Int.self, forKey: .e), result: result,
                node: try container.decodeIfPresent(NodeID.self, forKey: .o), message: try container.decodeIfPresent(String.self, forKey: .m),
                alreadyDone: try container.decodeIfPresent(Bool.self, forKey: .a) ?? false,
                host: try container.decodeIfPresent(String.self, forKey: .h), duration: try container.decodeIfPresent(Double.self, forKey: .d))
        }
    }

    /// `SQLITE_TRANSIENT`: SQLite copies the bound bytes.
    private static let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)

    /// A record ready to insert.
    private struct PendingRecord {
        var job: Int64
        var kind: Kind
        var task: Int
        var attempt: Int
        var node: Int
        var at: Int64
        var payload: [UInt8]? = nil
        /// A null-result end's run time in nanoseconds, 0 when not measured: written as its payload when it keeps a row of
        /// its own, or as its part of a run.
        var ran: Int64 = 0
    }

    private func encode(_ record: JournalRecord, files: inout [(path: String, data: Data)]) throws(GridError) -> PendingRecord {
        do {
            switch record {
            case .finished(let job, let index, let attempt, let node, .success(.null, nil), let at, let ran):
                // Its payload (the run time alone) is made only if it keeps a row of its own (see ``add(_:to:)``).
                return PendingRecord(
                    job: Int64(job.rawValue), kind: .finishedNull, task: index, attempt: attempt, node: node.rawValue, at: at.nanoseconds,
                    ran: Journal.storable(ran) ?? 0)
            case .finished(let job, let index, let attempt, let node, let outcome, let at, let ran):
                var json = JournalJSON()
                let nanoseconds = Journal.storable(ran)
                if let result = outcome.result, let file = try large(result, job: job, files: &files) {
                    json.outcome(outcome.replacingResult(.null), resultFile: file, ran: nanoseconds)
                } else {
                    json.outcome(outcome, resultFile: nil, ran: nanoseconds)
                }
                return PendingRecord(
                    job: Int64(job.rawValue), kind: .finished, task: index, attempt: attempt, node: node.rawValue, at: at.nanoseconds,
                    payload: json.bytes)
            case .tick(let job, let at):
                return PendingRecord(job: Int64(job.rawValue), kind: .tick, task: -1, attempt: 0, node: 0, at: at.nanoseconds)
            case .lost(let job, let index, let attempt, let node, let at):
                return PendingRecord(job: Int64(job.rawValue), kind: .lost, task: index, attempt: attempt, node: node.rawValue, at: at.nanoseconds)
            case .action(let job, let action, let at):
                return PendingRecord(
                    job: Int64(job.rawValue), kind: .action, task: -1, attempt: 0, node: 0, at: at.nanoseconds,
                    payload: Array(try JSONEncoder().encode(action)))
            }
        } catch let error as GridError {
            throw error
        } catch {
            throw .journal("cannot encode \(record): \(error)")
        }
    }

    /// Appends `row`, folding a null-result end into the run of such ends of the same job that the last row
    /// holds (or starts one with it). Only neighbours are folded, so the records keep their order.
    private static func add(_ row: PendingRecord, to rows: inout [PendingRecord]) {
        guard row.kind == .finishedNull, let last = rows.indices.last, rows[last].job == row.job,
            rows[last].kind == .finishedNull || rows[last].kind == .finishedNullTimedRun
        else {
            rows.append(row)
            return
        }
        // Taken out while it grows, so that it is not copied.
        var payload = rows[last].payload ?? []
        rows[last].payload = nil
        if rows[last].kind == .finishedNull {
            rows[last].kind = .finishedNullTimedRun
            RunCodec.append(
                task: rows[last].task, attempt: rows[last].attempt, node: rows[last].node, at: rows[last].at, ran: rows[last].ran,
                after: rows[last].at, to: &payload)
        }
        RunCodec.append(task: row.task, attempt: row.attempt, node: row.node, at: row.at, ran: row.ran, after: rows[last].at, to: &payload)
        rows[last].payload = payload
    }

    private func decode(_ row: Row, decoder: JSONDecoder, into records: inout [JournalRecord]) throws {
        let job = JobID(UInt64(row["job"] as Int64))
        let kind = Kind(rawValue: row["kind"])
        if kind == .finishedNullRun || kind == .finishedNullTimedRun {
            let at: Int64 = row["at"]
            guard let payload: Data = row["payload"] else { throw GridError.journal("a run of ends of job \(job) has no payload") }
            try RunCodec.decode([UInt8](payload), job: job, after: at, timed: kind == .finishedNullTimedRun, into: &records)
            return
        }
        records.append(try decode(row, decoder: decoder))
    }

    private func decode(_ row: Row, decoder: JSONDecoder) throws -> JournalRecord {
        let job = JobID(UInt64(row["job"] as Int64))
        let at = Duration.nanoseconds(row["at"] as Int64)
        let payload: Data? = row["payload"]
        switch Kind(rawValue: row["kind"]) {
        case .finished:
            guard let payload else { throw GridError.journal("a finished record of job \(job) has no outcome") }
            let stored = try decoder.decode(Outcome.self, from: payload)
            var outcome = stored.outcome
            if let file = stored.resultFile { outcome = outcome.replacingResult(try loadResult(file, job: job)) }
            return .finished(
                job: job, index: row["task"], attempt: row["attempt"], node: NodeID(row["node"]), outcome: outcome, at: at,
                ran: try Journal.ran(stored.ran, job: job))
        case .finishedNull:
            // A v4 row holds the run time in its payload; a v3 row has none.
            var ran: Int64?
            if let payload {
                guard let value = RunCodec.single([UInt8](payload)) else {
                    throw GridError.journal("an end of job \(job) holds a damaged run time")
                }
                ran = value
            }
            return .finished(
                job: job, index: row["task"], attempt: row["attempt"], node: NodeID(row["node"]),
                outcome: .success(result: .null, variables: nil), at: at, ran: try Journal.ran(ran, job: job))
        case .tick:
            return .tick(job: job, at: at)
        case .lost:
            return .lost(job: job, index: row["task"], attempt: row["attempt"], node: NodeID(row["node"]), at: at)
        case .action:
            guard let payload else { throw GridError.journal("an action record of job \(job) has no action") }
            return .action(job: job, try decoder.decode(JobAction.self, from: payload), at: at)
        case .finishedNullRun, .finishedNullTimedRun:
            throw GridError.journal("a run of ends of job \(job) read as one record")
        case nil:
            throw GridError.journal("job \(job) has a record of unknown kind \(row["kind"] as Int)")
        }
    }

    /// A run time as the journal stores it, in nanoseconds: none for what ``JobCore/onFinished(_:attempt:node:outcome:now:ran:)``
    /// takes as not measured (negative or too long) and for zero (stored as 0, which reads back as none).
    private static func storable(_ ran: Duration?) -> Int64? {
        guard let ran, ran > .zero, ran <= JobCore.longestRun else { return nil }
        return ran.nanoseconds
    }

    /// A stored run time: none when absent or 0 (not measured), an error when negative or longer than
    /// ``JobCore/longestRun``.
    private static func ran(_ nanoseconds: Int64?, job: JobID) throws(GridError) -> Duration? {
        guard let nanoseconds, nanoseconds != 0 else { return nil }
        guard nanoseconds > 0, nanoseconds <= JobCore.longestRunNanoseconds else {
            throw .journal("an end of job \(job) holds an impossible run time (\(nanoseconds) ns)")
        }
        return .nanoseconds(nanoseconds)
    }

    private func encode(_ report: JobResult, files: inout [(path: String, data: Data)]) throws(GridError) -> Data {
        var stored = report
        var resultFiles: [(index: Int, file: String)] = []
        do {
            for index in report.tasks.indices {
                guard let result = report.tasks[index].result, let file = try large(result, job: report.job, files: &files) else { continue }
                stored.tasks[index].result = .null
                resultFiles.append((index, file))
            }
        } catch {
            throw .journal("cannot encode the report of job \(report.job): \(error)")
        }
        var json = JournalJSON(capacity: 256 + 64 * report.tasks.count)
        json.storedReport(stored, resultFiles: resultFiles)
        return json.data
    }

    private func decodeReport(_ data: Data) throws -> JobResult {
        let stored = try JSONDecoder().decode(StoredReport.self, from: data)
        var report = stored.report
        if let tasks = stored.tasks {
            let hosts = stored.hosts ?? [:]
            report.tasks = tasks.map { stored in
                var task = stored.task
                if !stored.hasHost, let node = task.node { task.host = hosts[node.rawValue] }
                return task
            }
        }
        for (index, file) in stored.resultFiles ?? [:] where report.tasks.indices.contains(index) {
            report.tasks[index].result = try loadResult(file, job: report.job)
        }
        return report
    }

    /// The file name for a result too large to inline (its SHA-256), queuing the file; `nil` when it is small.
    private func large(_ result: Value, job: JobID, files: inout [(path: String, data: Data)]) throws -> String? {
        if case .string(let text) = result, text.utf8.count < Self.inlineLimit / 2 { return nil }
        switch result {
        case .null, .bool, .int, .double: return nil
        default: break
        }
        let data = try JSONEncoder().encode(result)
        guard data.count > Self.inlineLimit else { return nil }
        let name = SHA256.hash(data: data).map { String(format: "%02x", $0) }.joined()
        files.append(("\(directory)/results/\(job)/\(name)", data))
        return name
    }

    private func loadResult(_ name: String, job: JobID) throws -> Value {
        let path = "\(directory)/results/\(job)/\(name)"
        guard let data = FileManager.default.contents(atPath: path) else {
            throw GridError.journal("the result file \(path) is missing")
        }
        guard SHA256.hash(data: data).map({ String(format: "%02x", $0) }).joined() == name else {
            throw GridError.journal("the result file \(path) does not match its checksum")
        }
        return try JSONDecoder().decode(Value.self, from: data)
    }

    /// Writes result files before the transaction that refers to them (write to a temporary name, fsync, rename).
    private func writeFiles(_ files: [(path: String, data: Data)]) throws(GridError) {
        for (path, data) in files where !FileManager.default.fileExists(atPath: path) {
            do {
                let folder = (path as NSString).deletingLastPathComponent
                try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
                try data.write(to: URL(fileURLWithPath: path), options: .atomic)
            } catch {
                throw .journal("cannot write \(path): \(error)")
            }
        }
    }

    func write<T>(_ body: (Database) throws -> T) throws(GridError) -> T {
        do {
            return try pool.write(body)
        } catch let error as GridError {
            throw error
        } catch {
            throw .journal("write failed in \(directory)/journal.sqlite: \(error)")
        }
    }

    func read<T>(_ body: (Database) throws -> T) throws(GridError) -> T {
        do {
            return try pool.read(body)
        } catch let error as GridError {
            throw error
        } catch {
            throw .journal("read failed in \(directory)/journal.sqlite: \(error)")
        }
    }
}

extension TaskOutcome {
    /// The result it carries, if any.
    var result: Value? {
        switch self {
        case .success(let result, _), .alreadyDone(let result, _, _): result
        case .failure: nil
        }
    }

    func replacingResult(_ value: Value) -> TaskOutcome {
        switch self {
        case .success(_, let variables): .success(result: value, variables: variables)
        case .alreadyDone(_, let variables, let reason): .alreadyDone(result: value, variables: variables, reason: reason)
        case .failure: self
        }
    }
}

