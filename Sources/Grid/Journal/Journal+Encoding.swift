import Crypto
import Cluster
import Foundation
import GRDB
import GRDBSQLite
import Synchronization

/// How records, outcomes and reports are encoded into rows and decoded back.
extension Journal {
    // MARK: - Encoding

    enum Kind: Int {
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
    struct Outcome: Codable {
        var outcome: TaskOutcome
        var resultFile: String?
        /// How long the execution ran, in nanoseconds (schema v4; absent when not measured).
        var ran: Int64?
    }

    /// A report with its large results moved to files (task index → file). Since schema v3 its tasks are in
    /// `tasks` (``StoredTask``) with each node's host once in `hosts`, and `report.tasks` is empty; a report
    /// written before holds them in `report.tasks` as ``TaskReport``s.
    struct StoredReport: Decodable {
        var report: JobResult
        var resultFiles: [Int: String]?
        var tasks: [StoredTask]?
        var hosts: [Int: String]?
    }

    /// A task of a stored report under short keys, written by ``JournalJSON/storedReport(_:resultFiles:)``.
    struct StoredTask: Decodable {
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
    static let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)

    /// A record ready to insert.
    struct PendingRecord {
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

    func encode(_ record: JournalRecord, files: inout [(path: String, data: Data)]) throws(GridError) -> PendingRecord {
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
            throw .journal("cannot encode \(record)", cause: .init(error))
        }
    }

    /// Appends `row`, folding a null-result end into the run of such ends of the same job that the last row
    /// holds (or starts one with it). Only neighbours are folded, so the records keep their order.
    static func add(_ row: PendingRecord, to rows: inout [PendingRecord]) {
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

    func decode(_ row: Row, decoder: JSONDecoder, into records: inout [JournalRecord]) throws {
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

    func decode(_ row: Row, decoder: JSONDecoder) throws -> JournalRecord {
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
    static func storable(_ ran: Duration?) -> Int64? {
        guard let ran, ran > .zero, ran <= JobCore.longestRun else { return nil }
        return ran.nanoseconds
    }

    /// A stored run time: none when absent or 0 (not measured), an error when negative or longer than
    /// ``JobCore/longestRun``.
    static func ran(_ nanoseconds: Int64?, job: JobID) throws(GridError) -> Duration? {
        guard let nanoseconds, nanoseconds != 0 else { return nil }
        guard nanoseconds > 0, nanoseconds <= JobCore.longestRunNanoseconds else {
            throw .journal("an end of job \(job) holds an impossible run time (\(nanoseconds) ns)")
        }
        return .nanoseconds(nanoseconds)
    }

    func encode(_ report: JobResult, files: inout [(path: String, data: Data)]) throws(GridError) -> Data {
        var stored = report
        var resultFiles: [(index: Int, file: String)] = []
        do {
            for index in report.tasks.indices {
                guard let result = report.tasks[index].result, let file = try large(result, job: report.job, files: &files) else { continue }
                stored.tasks[index].result = .null
                resultFiles.append((index, file))
            }
        } catch {
            throw .journal("cannot encode the report of job \(report.job)", cause: .init(error))
        }
        var json = JournalJSON(capacity: 256 + 64 * report.tasks.count)
        json.storedReport(stored, resultFiles: resultFiles)
        return json.data
    }

    func decodeReport(_ data: Data) throws -> JobResult {
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
    func large(_ result: Value, job: JobID, files: inout [(path: String, data: Data)]) throws -> String? {
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

    func loadResult(_ name: String, job: JobID) throws -> Value {
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
    func writeFiles(_ files: [(path: String, data: Data)]) throws(GridError) {
        for (path, data) in files where !FileManager.default.fileExists(atPath: path) {
            do {
                let folder = (path as NSString).deletingLastPathComponent
                try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
                try data.write(to: URL(fileURLWithPath: path), options: .atomic)
            } catch {
                throw .journal("cannot write \(path)", cause: .init(error))
            }
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
