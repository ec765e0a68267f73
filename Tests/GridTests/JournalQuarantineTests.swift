import Foundation
import GRDB
import Grid
import Testing

/// A journal with a job whose rows do not read back: the grid still starts, that job is FAILED and in quarantine
/// with the reason and its raw rows, the others recover, and the quarantine can be listed and dropped.
@Suite("Journal: quarantine", .timeLimit(.minutes(1))) struct JournalQuarantineTests {
    static func waiting(_ name: String) -> Workflow {
        Workflow(name: name, tasks: [TaskDefinition("wait", .bash("sleep 60"))])
    }

    @Test func aJobThatDoesNotReadBack_isQuarantined_andTheGridStarts() async throws {
        let root = try makeTemporaryDirectory("quarantine")
        let grid = try await startGrid(nodes: 3, clock: ManualClock(), directory: root) { $0.journal = true }
        var ids: [JobID] = []
        for name in ["fine", "broken-workflow", "broken-record"] {
            let job = try await grid.submit(Self.waiting(name))
            for await event in try await job.events where event.taskStatus("wait") == .running { break }
            ids.append(job.id)
        }
        await grid.shutdown()
        let (broken, damaged) = (Int64(ids[1].rawValue), Int64(ids[2].rawValue))
        // Damage two of them behind the grid's back, as a disk or another build might.
        let database = try DatabaseQueue(path: root + "/data/journal.sqlite")
        try await database.write { db in
            try db.execute(sql: "UPDATE job SET workflow = ? WHERE id = ?", arguments: [Data("{\"name\": [[[".utf8), broken])
            try db.execute(
                sql: "INSERT INTO record (job, kind, task, attempt, node, at, payload) VALUES (?, 99, 0, 1, 0, 0, NULL)",
                arguments: [damaged])
        }
        try await database.close()

        let restarted = try await startGrid(clock: ManualClock(), directory: root) { $0.journal = true }
        let journal = try #require(restarted.journal)
        let quarantined = try journal.quarantined()
        #expect(quarantined.map(\.job) == [ids[1], ids[2]])
        #expect(quarantined.first?.reason.contains("workflow does not read back") == true, "\(quarantined)")
        #expect(quarantined.last?.reason.contains("record") == true, "\(quarantined)")
        #expect(quarantined.last?.records == 1, "the damaged record is kept raw")
        #expect(quarantined.map(\.name) == ["broken-workflow", "broken-record"])
        let rows = try journal.jobs()
        #expect(rows.first { $0.id == ids[1] }?.status == .failed)
        #expect(rows.first { $0.id == ids[2] }?.status == .failed)
        // The sound job came back and runs again.
        let summaries = await restarted.jobSummaries()
        #expect(summaries.map(\.job) == [ids[0]])
        #expect(try journal.dropQuarantined(ids[1]))
        #expect(try !journal.dropQuarantined(ids[1]))
        #expect(try journal.quarantined().map(\.job) == [ids[2]])
        #expect(try journal.jobs().contains { $0.id == ids[1] } == false)
        await restarted.shutdown()

        // A third start finds nothing new to put aside.
        let third = try await startGrid(clock: ManualClock(), directory: root) { $0.journal = true }
        #expect(try third.journal?.quarantined().map(\.job) == [ids[2]])
        await third.shutdown()
    }

    @Test func aStoredReportThatDoesNotReadBack_isQuarantinedOnce() async throws {
        let root = try makeTemporaryDirectory("quarantine-report")
        let grid = try await startGrid(directory: root) { $0.journal = true }
        let job = try await grid.submit(Workflow(name: "ends", tasks: [TaskDefinition("a", .bash("true"))]))
        _ = try await job.result()
        await grid.shutdown()
        let database = try DatabaseQueue(path: root + "/data/journal.sqlite")
        try await database.write { db in
            try db.execute(sql: "UPDATE job SET report = ? WHERE id = ?", arguments: [Data("not a report".utf8), Int64(job.id.rawValue)])
        }
        try await database.close()
        let restarted = try await startGrid(directory: root) { $0.journal = true }
        let journal = try #require(restarted.journal)
        #expect(try journal.report(job.id) == nil)
        #expect(try journal.quarantined().map(\.job) == [job.id])
        #expect(try journal.quarantined().first?.reason.contains("report does not read back") == true)
        await restarted.shutdown()
    }
}
