import Foundation
import GRDB

/// Jobs put aside because their rows do not read back: the grid starts without them, each is FAILED with the
/// reason, and its raw rows wait in the quarantine tables until an administrator drops them (issue 27, item 3).
extension Journal {
    /// A job in quarantine.
    public struct Quarantined: Sendable, Hashable, Codable {
        /// The job.
        public var job: JobID
        /// Its name, as its row has it.
        public var name: String
        /// Who submitted it.
        public var owner: String
        /// Why it was put aside.
        public var reason: String
        /// When.
        public var at: Date
        /// Its records kept raw.
        public var records: Int
    }

    /// Puts `job` in quarantine: FAILED (ended now), its records and stored report moved to the quarantine tables as
    /// they are (its workflow stays in its job row until it is dropped).
    ///
    /// - Returns: what was put aside, or `nil` when there is no such job.
    @discardableResult
    public func quarantine(_ job: JobID, reason: String, at wall: Date) throws(GridError) -> Quarantined? {
        guard let id = Int64(exactly: job.rawValue) else { return nil }
        return try write { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT name, owner FROM job WHERE id = ?", arguments: [id]) else { return nil }
            try db.execute(
                sql: "INSERT OR REPLACE INTO quarantine (job, reason, at, report) SELECT ?, ?, ?, report FROM job WHERE id = ?",
                arguments: [id, reason, wall.timeIntervalSince1970, id])
            try db.execute(sql: "INSERT OR IGNORE INTO quarantine_record SELECT * FROM record WHERE job = ?", arguments: [id])
            let moved = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM quarantine_record WHERE job = ?", arguments: [id]) ?? 0
            try db.execute(sql: "DELETE FROM record WHERE job = ?", arguments: [id])
            try db.execute(
                sql: "UPDATE job SET status = ?, ended_wall = ?, report = NULL, done = NULL, total = NULL, failed = NULL WHERE id = ?",
                arguments: [JobStatus.failed.rawValue, wall.timeIntervalSince1970, id])
            return Quarantined(job: job, name: row["name"], owner: row["owner"], reason: reason, at: wall, records: moved)
        }
    }

    /// The jobs in quarantine, oldest first.
    public func quarantined() throws(GridError) -> [Quarantined] {
        try read { db in
            try Row.fetchAll(db, sql: """
                SELECT q.job, q.reason, q.at, j.name, j.owner,
                       (SELECT COUNT(*) FROM quarantine_record r WHERE r.job = q.job) AS records
                FROM quarantine q LEFT JOIN job j ON j.id = q.job ORDER BY q.job
                """).map { row in
                Quarantined(
                    job: JobID(UInt64(row["job"] as Int64)), name: row["name"] ?? "", owner: row["owner"] ?? "", reason: row["reason"],
                    at: Date(timeIntervalSince1970: row["at"]), records: row["records"])
            }
        }
    }

    /// Drops a quarantined job for good: its quarantine rows and its job row.
    ///
    /// - Returns: whether the job was in quarantine.
    @discardableResult
    public func dropQuarantined(_ job: JobID) throws(GridError) -> Bool {
        guard let id = Int64(exactly: job.rawValue) else { return false }
        return try write { db in
            try db.execute(sql: "DELETE FROM quarantine WHERE job = ?", arguments: [id])
            guard db.changesCount > 0 else { return false }
            try db.execute(sql: "DELETE FROM quarantine_record WHERE job = ?", arguments: [id])
            try db.execute(sql: "DELETE FROM job WHERE id = ?", arguments: [id])
            return true
        }
    }

    /// A decoding error in a sentence (Foundation's own descriptions run to hundreds of characters of coding path).
    static func reason(_ error: any Error) -> String {
        switch error {
        case DecodingError.dataCorrupted(let context): return context.debugDescription
        case DecodingError.typeMismatch(_, let context), DecodingError.valueNotFound(_, let context), DecodingError.keyNotFound(_, let context):
            return context.debugDescription
        default: return String("\(error)".prefix(300))
        }
    }
}
