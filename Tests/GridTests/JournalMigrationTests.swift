import Foundation
import GRDB
import Grid
import Testing

/// A journal written by an earlier Tessera opens, migrates and recovers.
@Suite("Journal: schema migrations", .timeLimit(.minutes(1)))
struct JournalMigrationTests {
    /// Turns a current journal back into schema v1 (v1's index on records, none of v2 – v4 applied). The
    /// test's records alternate between two jobs, so none of them share a row (v3's runs) and v1 can hold them.
    static func downgradeToV1(_ directory: String) throws {
        let database = try DatabaseQueue(path: directory + "/journal.sqlite")
        try database.write { db in
            try db.execute(sql: """
                CREATE INDEX record_job ON record(job, seq);
                DELETE FROM grdb_migrations WHERE identifier IN ('v2', 'v3', 'v4');
                """)
        }
        try database.close()
    }

    @Test func aReportStoredBeforeVersion3_readsBack() throws {
        let root = try makeTemporaryDirectory("journal-v2-report")
        let report = JobResult(
            job: JobID(1), name: "old", owner: "alice", status: .finished, priority: .normal,
            progress: JobProgress(done: 2, total: 2, running: 0, failed: 0),
            tasks: [
                // (The old form wrote a null result as `"result": null`, which read back as none: not tested here.)
                TaskReport(name: TaskInstanceName(task: "a"), status: .finished, executions: 1, result: "ok", node: NodeID(0),
                           message: nil, alreadyDone: false, host: "vm", duration: 0.5),
                TaskReport(name: TaskInstanceName(task: "b", iteration: 1, replication: 0), status: .faulty, executions: 2, result: nil,
                           node: NodeID(1), message: "exit 1", alreadyDone: false),
            ],
            logDirectory: "/logs/1")
        do {
            let journal = try Journal(directory: root)
            try journal.submitted(.init(
                id: JobID(1), workflow: Workflow(name: "old", tasks: [TaskDefinition("a", .command(["true"]))]),
                variables: [:], admin: false, owner: "alice", at: .seconds(1), wall: Date()))
        }
        // Before v3 a stored report was `{"report": JobResult}` in the types' own Codable form.
        struct Old: Encodable { var report: JobResult }
        let database = try DatabaseQueue(path: root + "/journal.sqlite")
        try database.write { db in
            try db.execute(
                sql: "UPDATE job SET status = 'FINISHED', ended_wall = 2, report = ? WHERE id = 1",
                arguments: [try JSONEncoder().encode(Old(report: report))])
        }
        try database.close()
        #expect(try Journal(directory: root).report(JobID(1)) == report)
    }

    @Test func anEndedJobsRow_carriesItsProgress_andRowsEndedBeforeVersion6_takeItFromTheirReports() throws {
        let root = try makeTemporaryDirectory("journal-v6-progress")
        func end(_ journal: Journal, _ id: UInt64, done: Int, failed: Int) throws {
            try journal.submitted(.init(
                id: JobID(id), workflow: Workflow(name: "job\(id)", tasks: [TaskDefinition("a", .command(["true"]))]),
                variables: [:], admin: false, owner: "alice", at: .seconds(1), wall: Date()))
            try journal.append([], ended: [JobResult(
                job: JobID(id), name: "job\(id)", owner: "alice", status: failed > 0 ? .failed : .finished, priority: .normal,
                progress: JobProgress(done: done, total: 5, running: 0, failed: failed), tasks: [], logDirectory: "/logs")], at: Date())
        }
        do {
            let journal = try Journal(directory: root)
            try end(journal, 1, done: 5, failed: 0)
            try end(journal, 2, done: 4, failed: 2)
        }
        // Back to v5: no progress columns.
        let database = try DatabaseQueue(path: root + "/journal.sqlite")
        try database.write { db in
            try db.execute(sql: """
                ALTER TABLE job DROP COLUMN done;
                ALTER TABLE job DROP COLUMN total;
                ALTER TABLE job DROP COLUMN failed;
                DELETE FROM grdb_migrations WHERE identifier = 'v6';
                """)
        }
        try database.close()
        let journal = try Journal(directory: root)
        try end(journal, 3, done: 1, failed: 1)
        #expect(try journal.jobs().map(\.progress) == [
            JobProgress(done: 1, total: 5, running: 0, failed: 1),
            JobProgress(done: 4, total: 5, running: 0, failed: 2),
            JobProgress(done: 5, total: 5, running: 0, failed: 0),
        ])
    }

    @Test func aJournalOfANewerTessera_isRefused() throws {
        let root = try makeTemporaryDirectory("journal-newer")
        _ = try Journal(directory: root)
        let database = try DatabaseQueue(path: root + "/journal.sqlite")
        try database.write { db in try db.execute(sql: "INSERT INTO grdb_migrations (identifier) VALUES ('v99')") }
        try database.close()
        #expect {
            _ = try Journal(directory: root)
        } throws: { isJournalError($0, containing: "written by a newer Tessera") }
    }

    @Test func endsWrittenBeforeVersion4_readBack_withoutRunTimes() throws {
        let root = try makeTemporaryDirectory("journal-v3-ends")
        do {
            let journal = try Journal(directory: root)
            try journal.submitted(.init(
                id: JobID(1), workflow: Workflow(name: "old", tasks: (0..<3).map { TaskDefinition("t\($0)", .command(["true"])) }),
                variables: [:], admin: false, owner: "alice", at: .seconds(1), wall: Date()))
        }
        // v3's rows: a run of two null-result ends (kind 7: task, attempt, node and time as zigzag varints, no run
        // time) and a null-result end of its own without a payload (kind 5).
        let database = try DatabaseQueue(path: root + "/journal.sqlite")
        try database.write { db in
            try db.execute(sql: """
                INSERT INTO record (job, seq, kind, task, attempt, node, at, payload) VALUES
                    (1, 1, 7, 0, 1, 0, 100, X'0002000002020214'),
                    (1, 2, 5, 2, 1, 0, 200, NULL);
                DELETE FROM grdb_migrations WHERE identifier = 'v4';
                """)
        }
        try database.close()
        let null = TaskOutcome.success(result: .null, variables: nil)
        let records = try Journal(directory: root).recover().jobs.first?.records
        #expect(records == [
            .finished(job: JobID(1), index: 0, attempt: 1, node: NodeID(0), outcome: null, at: .nanoseconds(100)),
            .finished(job: JobID(1), index: 1, attempt: 1, node: NodeID(1), outcome: null, at: .nanoseconds(110)),
            .finished(job: JobID(1), index: 2, attempt: 1, node: NodeID(0), outcome: null, at: .nanoseconds(200)),
        ])
    }

    @Test func aVersion1Journal_isMigrated_recoversItsJobs_andDropsAnEndedJobsRecords() throws {
        let root = try makeTemporaryDirectory("journal-v1")
        do {
            let journal = try Journal(directory: root)
            for id in [JobID(1), JobID(2)] {
                try journal.submitted(.init(
                    id: id, workflow: Workflow(name: "job\(id)", tasks: [TaskDefinition("a", .command(["true"]))]),
                    variables: [:], admin: false, owner: "alice", at: .seconds(1), wall: Date()))
            }
            // Interleaved records of two jobs, as a grid running both writes them.
            try journal.append((0..<10).map { index in
                .finished(job: JobID(UInt64(1 + index % 2)), index: index, attempt: 1, node: NodeID(0), outcome: .success(result: .null, variables: nil), at: .seconds(2))
            })
        }
        try Self.downgradeToV1(root)

        let journal = try Journal(directory: root)
        let inspector = try DatabaseQueue(path: root + "/journal.sqlite")
        #expect(try inspector.read { try Int.fetchOne($0, sql: "SELECT count(*) FROM sqlite_master WHERE name = 'record_job'") } == 0,
                "v2 drops v1's index")
        try inspector.close()
        let recovery = try journal.recover()
        #expect(recovery.jobs.map(\.submission.id) == [JobID(1), JobID(2)])
        #expect(recovery.jobs.map(\.records.count) == [5, 5])
        #expect(recovery.jobs.first?.records.compactMap { record in
            if case .finished(_, let index, _, _, _, _, _) = record { index } else { nil }
        } == [0, 2, 4, 6, 8], "each job's records in the order they were written")

        // New records continue the sequence; ending job 1 drops its records only.
        try journal.append([.tick(job: JobID(1), at: .seconds(3)), .tick(job: JobID(2), at: .seconds(3))])
        let ended = JobResult(
            job: JobID(1), name: "job1", owner: "alice", status: .finished, priority: .normal,
            progress: JobProgress(done: 1, total: 1, running: 0, failed: 0), tasks: [], logDirectory: "/logs/1")
        try journal.append([], ended: [ended], at: Date())
        #expect(try journal.recordCount() == 6, "job 2's five records and its tick stay")
        let after = try journal.recover()
        #expect(after.jobs.map(\.submission.id) == [JobID(2)])
        #expect(after.jobs.first?.records.count == 6)
        #expect(after.lastTime == .seconds(3))

        // Reopened: nothing left to migrate, the same jobs; the store is marked with every migration.
        let reopened = try Journal(directory: root)
        let marks = try DatabaseQueue(path: root + "/journal.sqlite")
        #expect(try marks.read { try String.fetchAll($0, sql: "SELECT identifier FROM grdb_migrations ORDER BY identifier") } == ["v1", "v2", "v3", "v4", "v5", "v6", "v7"])
        try marks.close()
        #expect(try reopened.recover().jobs.map(\.submission.id) == [JobID(2)])
    }
}
