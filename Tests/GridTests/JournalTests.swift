import Foundation
import GRDB
import Grid
import Synchronization
import Testing

/// Counts how many times each task ran, across grids (a restarted grid must not run finished tasks again).
private final class RunCounter: Sendable {
    private let counts = Mutex<[String: Int]>([:])
    func record(_ name: String) { counts.withLock { $0[name, default: 0] += 1 } }
    subscript(name: String) -> Int { counts.withLock { $0[name] ?? 0 } }
}

private func journaledGrid(_ root: String, clock: ManualClock, counter: RunCounter) async throws -> Grid {
    let grid = try await startGrid(clock: clock, directory: root) { $0.journal = true }
    grid.functions.register("count") { (context: inout TaskContext) in
        counter.record(context.task.description)
        return .string(context.task.description)
    }
    grid.functions.register("fail") { (context: inout TaskContext) in
        counter.record(context.task.description)
        throw TestFailure.expected
    }
    return grid
}

private enum TestFailure: Error { case expected }

@Suite("Journal: SQLite store and recovery after a restart", .timeLimit(.minutes(1))) struct JournalTests {
    @Test func restartedGrid_finishesTheJob_withoutRunningFinishedTasksAgain_andKeepsRetryCounters() async throws {
        let root = try makeTemporaryDirectory("journal")
        let counter = RunCounter()
        let marker = root + "/slow-may-finish"
        let workflow = Workflow(name: "recover", tasks: [
            TaskDefinition("a", .function("count")),
            TaskDefinition("b", .function("count"), depends: ["a"]),
            TaskDefinition("flaky", .function("fail"), maxNumberOfExecution: 3, taskRetryDelay: .seconds(3600)),
            TaskDefinition("slow", .bash("[ -f '\(marker)' ] && exit 0; sleep 60"), depends: ["a"]),
            TaskDefinition("c", .function("count"), depends: ["b", "slow"]),
        ])
        let first = ManualClock()
        let grid = try await journaledGrid(root, clock: first, counter: counter)
        let job = try await grid.submit(workflow)
        var running: Set<String> = []
        var waiting = false
        for await event in try await job.events {
            if event.taskStatus("slow") == .running { running.insert("slow") }
            if event.taskStatus("b") == .finished { running.insert("b") }
            if event.taskStatus("flaky") == .waitingOnError { waiting = true }
            if running == ["slow", "b"] && waiting { break }
        }
        let before = try await grid.job(job.id).report()
        // The process dies here: nothing more is journaled.
        await grid.shutdown()
        #expect(counter["a"] == 1 && counter["b"] == 1 && counter["flaky"] == 1)

        _ = FileManager.default.createFile(atPath: marker, contents: nil)
        let second = ManualClock()
        let restarted = try await journaledGrid(root, clock: second, counter: counter)
        let recovered = try await restarted.job(job.id).report()
        #expect(recovered.status.isAlive)
        #expect(recovered.task("a")?.status == .finished)
        #expect(recovered.task("flaky")?.status == .waitingOnError)
        #expect(recovered.task("flaky")?.executions == 1)
        // The nodes' measures of the finished executions before the restart come back with them.
        for name in ["a", "b"] {
            #expect(before.task(name)?.duration != nil)
            #expect(recovered.task(name)?.duration == before.task(name)?.duration, "\(name)")
        }
        // Two more executions after an hour each: the retry counter was not reset.
        await second.waitForSleepers()
        second.advance(by: .seconds(3601))
        await second.waitForSleepers()
        second.advance(by: .seconds(7300))
        let result = try await restarted.job(job.id).result()
        #expect(result.status == .finished)
        #expect(result.task("flaky")?.status == .faulty)
        #expect(result.task("flaky")?.executions == 3)
        #expect(counter["flaky"] == 3)
        #expect(counter["a"] == 1 && counter["b"] == 1 && counter["c"] == 1)
        #expect(result.result(of: "c") == "c")
        restarted.journal?.waitForPendingWrites()
        #expect(try restarted.journal?.recordCount() == 0, "an ended job's records are dropped")
        await restarted.shutdown()

        // A third start finds nothing to do and still answers for the job from the store.
        let third = try await journaledGrid(root, clock: ManualClock(), counter: counter)
        #expect(await third.jobs().isEmpty)
        let stored = try await third.job(job.id).report()
        #expect(stored.status == .finished)
        #expect(stored.result(of: "b") == "b")
        let next = try await third.submit(Workflow(name: "next", tasks: [TaskDefinition("x", .function("count"))]))
        #expect(next.id.rawValue == job.id.rawValue + 1, "identifiers go on after the journal's last")
        await third.shutdown()
    }

    @Test func fiveHundredUnfinishedJobs_lockedNodes_andActionsSurviveARestart() async throws {
        let root = try makeTemporaryDirectory("journal-many")
        let counter = RunCounter()
        let grid = try await journaledGrid(root, clock: ManualClock(), counter: counter)
        for node in await grid.nodes() { try await grid.setNode(node.id, locked: true) }
        var ids: [JobID] = []
        for index in 0..<500 {
            let job = try await grid.submit(Workflow(name: "job\(index)", tasks: [
                TaskDefinition("a", .function("count")), TaskDefinition("b", .function("count"), depends: ["a"]),
            ]))
            ids.append(job.id)
        }
        try await grid.job(ids[0]).kill()
        try await grid.job(ids[1]).pause()
        await grid.shutdown()

        let restarted = try await journaledGrid(root, clock: ManualClock(), counter: counter)
        #expect(await restarted.nodes().allSatisfy(\.locked), "node locks are journaled")
        #expect(await restarted.jobs().count == 499, "the killed job ended before the restart")
        #expect(try await restarted.job(ids[0]).report().status == .killed)
        #expect(try await restarted.job(ids[1]).report().status == .paused)
        for node in await restarted.nodes() { try await restarted.setNode(node.id, locked: false) }
        try await restarted.job(ids[1]).resume()
        for id in ids.dropFirst() {
            #expect(try await restarted.job(id).result().status == .finished)
        }
        #expect(counter["a"] == 499 && counter["b"] == 499)
        await restarted.shutdown()
    }

    @Test func largeResults_goToChecksummedFiles_andComeBack() async throws {
        let root = try makeTemporaryDirectory("journal-large")
        let big = String(repeating: "x", count: 200_000)
        let grid = try await startGrid(directory: root) { $0.journal = true }
        grid.functions.register("big") { (_: inout TaskContext) in .string(big) }
        let job = try await grid.submit(Workflow(name: "large", tasks: [TaskDefinition("a", .function("big"))]))
        #expect(try await job.result().result(of: "a") == .string(big))
        try await job.remove()
        #expect(try await job.report().result(of: "a") == .string(big), "read back from the store")
        let files = try FileManager.default.subpathsOfDirectory(atPath: root + "/data/results").filter { $0.count > 60 }
        #expect(files.count == 1)
        await grid.shutdown()
    }

    @Test func closureDeciders_areRefusedByAJournaledGrid() async throws {
        let grid = try await startGrid { $0.journal = true }
        let workflow = Workflow(name: "closure", tasks: [
            TaskDefinition("a", .function("noop")).replicate(runs: .closure { _ in .int(2) }),
            TaskDefinition("b", .function("noop"), depends: ["a"]),
        ])
        await #expect {
            try await grid.submit(workflow)
        } throws: { error in
            guard case .notJournalable(let reason) = error as? GridError else { return false }
            return reason.contains("task a")
        }
        // The scheduler's own checks come first, as on a grid without a journal.
        var urgent = workflow
        urgent.priority = .highest
        await #expect(throws: GridError.priorityNeedsAdmin(.highest)) { try await grid.submit(urgent) }
        #expect(await grid.jobs().isEmpty)
        await grid.shutdown()
    }

    @Test func aFileThatIsNotADatabase_isAClearError() throws {
        let root = try makeTemporaryDirectory("journal-bad")
        try Data("not a database, just text that is long enough to be read as a header".utf8)
            .write(to: URL(fileURLWithPath: root + "/journal.sqlite"))
        #expect {
            _ = try Journal(directory: root)
        } throws: { isJournalError($0, containing: "journal.sqlite") }
    }

    @Test func everyWorkflowField_outcomeAndReport_roundTripThroughTheStore() throws {
        let root = try makeTemporaryDirectory("journal-roundtrip")
        let journal = try Journal(directory: root)
        var workflow = Workflow(
            name: "every \"field\"\n", priority: .low, onTaskError: .pauseJob, maxNumberOfExecution: 3,
            taskRetryDelay: .milliseconds(1500), restartTaskOnError: .elsewhere,
            variables: [Variable("A", "1"), Variable("B", "${A}/ü\t\u{01}")], genericInfo: ["START_AT": "2026-01-01T00:00:00Z"],
            workingDirectory: "/tmp/w",
            tasks: [
                TaskDefinition(
                    "split", .function("f", input: ["x": 2.0, "y": [1, "two", nil, true], "z": 0.1]),
                    variables: [Variable("V", "v", inherited: true)], genericInfo: ["WALLTIME": "10"], walltime: .seconds(90),
                    outputs: ["out/*.tif"], selection: Selection(labels: ["gpu", "big"], token: "t"), onTaskError: .suspendTask,
                    maxNumberOfExecution: 2, taskRetryDelay: .seconds(1), restartTaskOnError: .anywhere
                ).replicate(runs: .value("${N}")),
                TaskDefinition("body", .bash("echo \"$1\"", arguments: ["a b"]), depends: ["split"]).block(.start),
                TaskDefinition("end", .script(Script(language: "python3", source: .file("x.py"))), depends: ["body"])
                    .block(.end).loop(target: "body", while: .result),
                TaskDefinition("check", .command(["true"]), depends: ["end"])
                    .branch(if: "yes", else: "no", continuation: "after", decider: .value("if")),
                TaskDefinition("yes", .command(["true"])), TaskDefinition("no", .command(["false"])),
                TaskDefinition("after", .command(["true"])),
            ])
        workflow.locations = ["tasks.split": SourceLocation(line: 3, column: 5)]
        let submitted = Date(timeIntervalSince1970: 1_800_000_000.25)
        try journal.submitted(.init(
            id: JobID(7), workflow: workflow, variables: ["N": "4", "Q": "\"q\""], admin: true, owner: "alice",
            at: .seconds(12), wall: submitted))
        let outcomes: [TaskOutcome] = [
            .success(result: ["k": 1.5, "n": nil], variables: ["A": "2"]), .success(result: .double(3.25), variables: nil),
            .failure(message: "exit 1: \"no\"\n"), .alreadyDone(result: "s", variables: nil, reason: "outputs present"),
        ]
        // Measured run times on all but the first (an agent's failure to start reports none).
        let ran: [Duration?] = [nil, .nanoseconds(1), .milliseconds(1500), JobCore.longestRun]
        try journal.append(outcomes.enumerated().map { index, outcome in
            .finished(job: JobID(7), index: index, attempt: 1, node: NodeID(2), outcome: outcome, at: .seconds(13), ran: ran[index])
        } + [.action(job: JobID(7), .priority(.high, admin: true), at: .seconds(14)), .tick(job: JobID(7), at: .seconds(15))])

        let recovery = try journal.recover()
        let job = try #require(recovery.jobs.first)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        // A set encodes in its own order: compare it apart, then the rest as sorted JSON.
        var restoredWorkflow = job.submission.workflow
        #expect(restoredWorkflow.tasks[0].selection.labels == ["gpu", "big"])
        restoredWorkflow.tasks[0].selection.labels = []
        var originalWorkflow = workflow
        originalWorkflow.tasks[0].selection.labels = []
        let restored = String(decoding: try encoder.encode(restoredWorkflow), as: UTF8.self)
        let original = String(decoding: try encoder.encode(originalWorkflow), as: UTF8.self)
        #expect(restored == original)
        #expect(job.submission.variables == ["N": "4", "Q": "\"q\""])
        #expect(job.submission.owner == "alice" && job.submission.admin && job.submission.at == .seconds(12))
        #expect(job.submission.wall == submitted)
        #expect(job.records.count == 6)
        for (index, outcome) in outcomes.enumerated() {
            guard case .finished(_, index, 1, NodeID(2), let stored, .seconds(13), let storedRan) = job.records[index] else {
                Issue.record("record \(index) is \(job.records[index])")
                continue
            }
            #expect(stored == outcome)
            #expect(storedRan == ran[index])
        }
        #expect(job.records[4] == .action(job: JobID(7), .priority(.high, admin: true), at: .seconds(14)))
        #expect(recovery.lastTime == .seconds(15) && recovery.lastJob == 7)

        let report = JobResult(
            job: JobID(7), name: "every", owner: "alice", status: .finished, priority: .high,
            progress: JobProgress(done: 2, total: 2, running: 0, failed: 1),
            tasks: [
                TaskReport(name: TaskInstanceName(task: "a", iteration: 1, replication: 2), status: .faulty, executions: 3,
                           result: nil, node: NodeID(1), message: "boom \"x\"", alreadyDone: false),
                TaskReport(name: TaskInstanceName(task: "b"), status: .finished, executions: 1, result: ["r": [1.5, 2]],
                           node: nil, message: nil, alreadyDone: true),
                // A null result (not none), a node's host kept once for its tasks, one that differs, none on node 1 above.
                TaskReport(name: TaskInstanceName(task: "c"), status: .finished, executions: 1, result: .null, node: NodeID(1),
                           message: nil, alreadyDone: false, host: "h1", duration: 0.25),
                TaskReport(name: TaskInstanceName(task: "d"), status: .finished, executions: 1, result: .null, node: NodeID(1),
                           message: nil, alreadyDone: false, host: "h1", duration: 1),
                TaskReport(name: TaskInstanceName(task: "e"), status: .finished, executions: 2, result: .int(3), node: NodeID(2),
                           message: nil, alreadyDone: false, host: "elsewhere", duration: 3e-6),
            ],
            logDirectory: "/logs/7")
        journal.appendLater(ended: [report], at: Date()) { Issue.record("\($0)") }
        #expect(try journal.report(JobID(7)) == report, "read while its write is pending")
        journal.waitForPendingWrites()
        #expect(try journal.report(JobID(7)) == report)
        #expect(try journal.recover().jobs.isEmpty)
        #expect(try journal.recordCount() == 0)
    }

    @Test func consecutiveNullEndsOfAJob_shareARow_andComeBackOneByOne_inOrder() throws {
        let root = try makeTemporaryDirectory("journal-runs")
        let journal = try Journal(directory: root)
        let workflow = Workflow(name: "runs", tasks: (0..<6).map { TaskDefinition("t\($0)", .function("f")) })
        for id in [JobID(1), JobID(2)] {
            try journal.submitted(.init(id: id, workflow: workflow, variables: [:], admin: false, owner: "", at: .zero, wall: Date()))
        }
        let null = TaskOutcome.success(result: .null, variables: nil)
        // With their measured run times (none on some: not measured), in runs and in rows of their own.
        let written: [JournalRecord] = [
            .finished(job: JobID(1), index: 0, attempt: 1, node: NodeID(0), outcome: null, at: .seconds(1), ran: .microseconds(250)),
            // A later and an earlier time than the run's first, a large node number, a second attempt.
            .finished(job: JobID(1), index: 3, attempt: 2, node: NodeID(1_000_000), outcome: null, at: .nanoseconds(1_000_000_123)),
            .finished(job: JobID(1), index: 2, attempt: 1, node: NodeID(1), outcome: null, at: .milliseconds(900), ran: .seconds(3600)),
            // Another job's end, then an end with a result: rows of their own, which end the run.
            .finished(job: JobID(2), index: 0, attempt: 1, node: NodeID(0), outcome: null, at: .seconds(1), ran: .nanoseconds(7)),
            .finished(job: JobID(1), index: 4, attempt: 1, node: NodeID(0), outcome: .success(result: .int(4), variables: nil), at: .seconds(1),
                      ran: .milliseconds(2)),
            .finished(job: JobID(1), index: 5, attempt: 1, node: NodeID(0), outcome: null, at: .seconds(2)),
            .finished(job: JobID(2), index: 1, attempt: 1, node: NodeID(0), outcome: null, at: .seconds(2), ran: .microseconds(3)),
            .tick(job: JobID(1), at: .seconds(2)),
        ]
        try journal.append(written)
        #expect(try journal.recordCount() == 6, "rows: job 1's run of three, job 2's end, the result, job 1's and job 2's last ends, the tick")
        let recovery = try journal.recover()
        #expect(recovery.jobs.map(\.submission.id) == [JobID(1), JobID(2)])
        #expect(recovery.jobs.first?.records == written.filter { $0.job == JobID(1) })
        #expect(recovery.jobs.last?.records == [written[3], written[6]])
        #expect(recovery.lastTime == .seconds(2))

        // Ending job 1 drops its rows, runs included.
        let ended = JobResult(
            job: JobID(1), name: "runs", owner: "", status: .finished, priority: .normal,
            progress: JobProgress(done: 6, total: 6, running: 0, failed: 0), tasks: [], logDirectory: "/logs/1")
        try journal.append([], ended: [ended], at: Date())
        #expect(try journal.recordCount() == 2)
    }

    @Test func aDamagedRunOfEnds_isAClearError() throws {
        let root = try makeTemporaryDirectory("journal-damaged-run")
        do {
            let journal = try Journal(directory: root)
            let workflow = Workflow(name: "runs", tasks: [TaskDefinition("a", .function("f")), TaskDefinition("b", .function("f"))])
            try journal.submitted(.init(id: JobID(1), workflow: workflow, variables: [:], admin: false, owner: "", at: .zero, wall: Date()))
            let null = TaskOutcome.success(result: .null, variables: nil)
            try journal.append((0..<2).map { .finished(job: JobID(1), index: $0, attempt: 1, node: NodeID(0), outcome: null, at: .seconds(1)) })
        }
        // The run's payload loses its last byte (a varint cut short).
        let database = try DatabaseQueue(path: root + "/journal.sqlite")
        try database.write { db in try db.execute(sql: "UPDATE record SET payload = substr(payload, 1, length(payload) - 1)") }
        try database.close()
        // The job is put aside with the reason; the grid's recovery goes on.
        let recovery = try Journal(directory: root).recover()
        #expect(recovery.jobs.isEmpty)
        #expect(recovery.quarantined.map(\.job) == [JobID(1)])
        #expect(recovery.quarantined.first?.reason.contains("a run of ends of job 1 is damaged") == true, "\(recovery.quarantined)")
    }

    @Test func damagedRunTimes_areClearErrors() throws {
        let damaged: [(what: String, kind: Int, payload: String)] = [
            ("a lone end's run time followed by garbage", 5, "X'0400'"),
            ("a lone end's run time cut short", 5, "X'80'"),
            ("a negative run time in an outcome", 2, "CAST('{\"outcome\":{\"failure\":{\"message\":\"x\"}},\"ran\":-5}' AS BLOB)"),
            ("a run time of 292 years in an outcome", 2,
             "CAST('{\"outcome\":{\"failure\":{\"message\":\"x\"}},\"ran\":9223372036854775807}' AS BLOB)"),
        ]
        func journal(with kind: Int, _ payload: String) throws -> Journal {
            let root = try makeTemporaryDirectory("journal-damaged-ran")
            do {
                let journal = try Journal(directory: root)
                let workflow = Workflow(name: "ran", tasks: [TaskDefinition("a", .function("f"))])
                try journal.submitted(.init(id: JobID(1), workflow: workflow, variables: [:], admin: false, owner: "", at: .zero, wall: Date()))
            }
            let database = try DatabaseQueue(path: root + "/journal.sqlite")
            try database.write { db in
                try db.execute(sql: "INSERT INTO record (job, seq, kind, task, attempt, node, at, payload) VALUES (1, 1, \(kind), 0, 1, 0, 5, \(payload))")
            }
            try database.close()
            return try Journal(directory: root)
        }
        // The same rows with sound run times read back (so the damaged ones fail on their run times alone).
        let failure = TaskOutcome.failure(message: "x")
        #expect(try journal(with: 5, "X'04'").recover().jobs.first?.records == [
            .finished(job: JobID(1), index: 0, attempt: 1, node: NodeID(0), outcome: .success(result: .null, variables: nil), at: .nanoseconds(5),
                      ran: .nanoseconds(2)),
        ])
        #expect(try journal(with: 2, "CAST('{\"outcome\":{\"failure\":{\"message\":\"x\"}},\"ran\":5}' AS BLOB)").recover().jobs.first?.records == [
            .finished(job: JobID(1), index: 0, attempt: 1, node: NodeID(0), outcome: failure, at: .nanoseconds(5), ran: .nanoseconds(5)),
        ])
        for (what, kind, payload) in damaged {
            let recovery = try journal(with: kind, payload).recover()
            #expect(recovery.jobs.isEmpty, "\(what)")
            #expect(recovery.quarantined.first?.reason.contains("job 1") == true, "\(what): \(recovery.quarantined)")
        }
    }

    @Test func replayedEnds_withoutRunTimes_haveNoDuration_notAnEarlierExecutionsStart() throws {
        let workflow = Workflow(name: "retry", tasks: [TaskDefinition("a", .function("f"), maxNumberOfExecution: 2)])
        let failed = TaskOutcome.failure(message: "boom")
        let records: [JournalRecord] = [
            .finished(job: JobID(1), index: 0, attempt: 1, node: NodeID(0), outcome: failed, at: .seconds(10), ran: .seconds(2)),
            // The second execution's end carries no measure (an agent that could not start it reports none).
            .finished(job: JobID(1), index: 0, attempt: 2, node: NodeID(1), outcome: failed, at: .seconds(70)),
        ]
        var job = try JobCore(id: JobID(1), workflow: workflow, variables: [:], now: .zero, wallNow: Date())
        _ = job.start(now: .zero)
        job.replay(records[0])
        #expect(job.instances[0].status == .waitingOnError)
        #expect(job.instances[0].startedAt == .seconds(8))
        // (The retry delay's tick, as journaled live.)
        job.replay(.tick(job: JobID(1), at: .seconds(69)))
        job.replay(records[1])
        #expect(job.instances[0].status == .faulty && job.instances[0].executions == 2)
        #expect(job.instances[0].startedAt == nil, "unknown, not the first execution's start 62 s before")
        #expect(job.startedAt == .seconds(8))

        // Live, a run time beyond a century is not a measure (it would overflow the grid's time arithmetic).
        var live = try JobCore(id: JobID(2), workflow: Workflow(name: "one", tasks: [TaskDefinition("a", .function("f"))]),
                               variables: [:], now: .zero, wallNow: Date())
        _ = live.start(now: .zero)
        _ = live.dispatch(0, to: NodeID(0))
        _ = live.onStarted(0, attempt: 1, node: NodeID(0), now: .seconds(1))
        _ = live.onFinished(0, attempt: 1, node: NodeID(0), outcome: .success(result: .null, variables: nil), now: .seconds(3),
                            ran: JobCore.longestRun + .seconds(1))
        #expect(live.instances[0].status == .finished)
        #expect(live.instances[0].startedAt == .seconds(1), "the start report's time stays")
    }

    @Test func aLostNode_isJournaled_andReplaysProActivesNodeFailureRule() throws {
        let root = try makeTemporaryDirectory("journal-lost")
        let journal = try Journal(directory: root)
        let workflow = Workflow(name: "lost", tasks: [TaskDefinition("a", .function("f")), TaskDefinition("b", .function("f"))])
        try journal.submitted(.init(id: JobID(1), workflow: workflow, variables: [:], admin: false, owner: "", at: .zero, wall: Date()))
        // `a` ran on a remote node that was lost twice (its second execution too): the job FAILED; `b` finished.
        try journal.append([
            .lost(job: JobID(1), index: 0, attempt: 1, node: NodeID(1000), at: .seconds(1)),
            .finished(job: JobID(1), index: 1, attempt: 1, node: NodeID(1001), outcome: .success(result: .int(2), variables: nil), at: .seconds(2)),
            .lost(job: JobID(1), index: 0, attempt: 2, node: NodeID(1002), at: .seconds(3)),
        ])
        let recovery = try journal.recover()
        let records = try #require(recovery.jobs.first?.records)
        #expect(records.count == 3)
        #expect(records[0] == .lost(job: JobID(1), index: 0, attempt: 1, node: NodeID(1000), at: .seconds(1)))
        var job = try JobCore(id: JobID(1), workflow: workflow, variables: [:], now: .zero, wallNow: Date())
        _ = job.start(now: .zero)
        records.prefix(2).forEach { job.replay($0) }
        #expect(job.instances[0].status == .pending)
        #expect(job.instances[0].message == "node-1000 was lost")
        job.replay(records[2])
        #expect(job.instances[0].status == .failed && job.status == .failed)
        #expect(job.instances[1].status == .finished)
    }

    @Test func endedJobs_arePurgedAfterTheirDelay_unfinishedOnesNever() throws {
        let root = try makeTemporaryDirectory("journal-purge")
        let journal = try Journal(directory: root)
        let workflow = Workflow(name: "purge", tasks: [TaskDefinition("a", .function("noop"))])
        for id in 1...3 {
            try journal.submitted(.init(id: JobID(UInt64(id)), workflow: workflow, variables: [:], admin: false, owner: "u", at: .zero, wall: Date()))
        }
        let report = { (id: UInt64) in
            JobResult(job: JobID(id), name: "purge", owner: "u", status: .finished, priority: .normal,
                      progress: JobProgress(done: 1, total: 1, running: 0, failed: 0), tasks: [], logDirectory: "")
        }
        try journal.append([], ended: [report(1)], at: Date(timeIntervalSinceNow: -10 * 86_400))
        try journal.append([], ended: [report(2)], at: Date(timeIntervalSinceNow: -86_400))
        #expect(try journal.purge(endedBefore: Date(timeIntervalSinceNow: -5 * 86_400)) == 1)
        #expect(try journal.report(JobID(1)) == nil && journal.owner(of: JobID(1)) == nil)
        #expect(try journal.report(JobID(2)) != nil)
        #expect(try journal.purge(endedBefore: Date()) == 1)
        #expect(try journal.recover().jobs.map(\.submission.id) == [JobID(3)], "an unfinished job is never purged")
        #expect(try journal.jobs().map(\.id) == [JobID(3)])
    }
}

