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
        /// Done, total and failed instances as the job ended (none run); `nil` while it runs, or when its report
        /// is not readable.
        public var progress: JobProgress?

        /// Makes a row.
        public init(
            id: JobID, name: String, owner: String, status: JobStatus, priority: JobPriority, submitted: Date, ended: Date?,
            progress: JobProgress? = nil
        ) {
            self.id = id
            self.name = name
            self.owner = owner
            self.status = status
            self.priority = priority
            self.submitted = submitted
            self.ended = ended
            self.progress = progress
        }
    }

    /// Results whose JSON is larger than this are kept in files.
    public static let inlineLimit = 64 * 1024
    /// The schema version this code writes.
    public static let schemaVersion = "v4"

    /// The data directory.
    public let directory: String
    let wallClock: @Sendable () -> Date
    let pool: DatabasePool
    /// Final reports are encoded and written here, off the scheduler: a job's end is acknowledged once its
    /// records are committed (a crash before its report is written replays the records and writes it then).
    let reportQueue = DispatchQueue(label: "tessera.journal.reports")
    /// Reports queued and not written yet, so that reading one never misses it.
    let pendingReports = Mutex<[JobID: JobResult]>([:])
    /// The last record sequence number given.
    let lastSequence = Mutex<Int64>(0)
    /// The first sequence number of each job with records: where dropping them starts.
    let firstSequence = Mutex<[Int64: Int64]>([:])

    /// Opens (or creates) the journal in `directory` and brings its schema up to date.
    ///
    /// - Throws: `GridError.journal` when the directory or the database cannot be opened, or the database was
    ///   written by a newer Tessera.
    /// - Parameters:
    ///   - directory: the data directory.
    ///   - durability: how hard each commit is pushed to the disk.
    ///   - wallClock: the dates it writes where no caller gives one (when it puts a job in quarantine).
    public init(
        directory: String, durability: Durability = .normal, wallClock: @escaping @Sendable () -> Date = systemWallClock
    ) throws(GridError) {
        self.directory = directory
        self.wallClock = wallClock
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
            throw .journal("cannot open \(directory)/journal.sqlite", cause: .init(error))
        }
    }

    func write<T>(_ body: (Database) throws -> T) throws(GridError) -> T {
        do {
            return try pool.write(body)
        } catch let error as GridError {
            throw error
        } catch {
            throw .journal("write failed in \(directory)/journal.sqlite", cause: .init(error))
        }
    }

    func read<T>(_ body: (Database) throws -> T) throws(GridError) -> T {
        do {
            return try pool.read(body)
        } catch let error as GridError {
            throw error
        } catch {
            throw .journal("read failed in \(directory)/journal.sqlite", cause: .init(error))
        }
    }
}
