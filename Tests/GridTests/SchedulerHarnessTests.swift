import Foundation
import Testing

@testable import Grid

/// Scheduler scenarios through ``GridHarness``: fake nodes, the manual clock, assertions on directives.
@Suite struct SchedulerHarnessTests {
    static let success = TaskOutcome.success(result: .null, variables: nil)

    @Test func aLostHost_queuesAgainWhatWaitedThere_andRunsWhatRanThereOnceMoreElsewhere() throws {
        var grid = GridHarness(localNodes: 1)
        let remote = try #require(grid.join(session: 1, workers: 1, capacity: 2).first)
        let job = try grid.submit(Workflow(name: "loss", tasks: [fn("a"), fn("b"), fn("c")]))
        #expect(grid.names == [NodeID(0): ["1/a"], remote: ["1/b", "1/c"]], "the least loaded node, the lowest on ties")
        grid.start(on: remote)
        let mark = grid.log.count
        grid.lose(session: 1)

        #expect(grid.states[remote] == .lost)
        let closed = grid.directives(since: mark).contains {
            if case .closeHost(1, [remote], requeued: 1, rerun: 1) = $0 { true } else { false }
        }
        #expect(closed, "one queued execution placed again, one running execution run again")
        #expect(grid.records.contains(.lost(job: job, index: 1, attempt: 1, node: remote, at: .zero)), "only the running one is journaled")
        #expect(grid.status(job, "b") == .pending && grid.status(job, "c") == .pending)
        grid.runAll()
        let report = try #require(grid.core.job(job))
        #expect(report.status == .finished)
        #expect(report.instances.map(\.executions) == [1, 2, 1], "b ran twice (the lost run counts), c once")
        #expect(report.instances[1].node == NodeID(0) && report.instances[1].excludedNodes == [remote])
    }

    @Test func aRunLostTwice_failsTheTaskAndTheJob() throws {
        var grid = GridHarness(localNodes: 0)
        let first = try #require(grid.join(session: 1, workers: 1).first)
        let job = try grid.submit(Workflow(name: "twice", tasks: [fn("a")]))
        grid.start(on: first)
        grid.lose(session: 1)
        #expect(grid.status(job, "a") == .pending)
        let second = try #require(grid.join(session: 2, workers: 1).first)
        #expect(grid.names[second] == ["1/a"])
        grid.start(on: second)
        grid.lose(session: 2)
        #expect(grid.status(job, "a") == .failed)
        #expect(grid.core.job(job)?.status == .failed)
        #expect(grid.log.contains { if case .jobEnded(job) = $0 { true } else { false } })
    }

    @Test func aLateResultFromALostSession_isDropped() throws {
        var grid = GridHarness(localNodes: 0)
        let node = try #require(grid.join(session: 1, workers: 1).first)
        let job = try grid.submit(Workflow(name: "zombie", tasks: [fn("a")]))
        let started = grid.start(on: node)
        let running = try #require(started)
        grid.lose(session: 1)
        let directives = grid.core.onReports(
            [.finished(
                job: job, index: running.index, attempt: running.attempt, node: node, assignedNode: node,
                outcome: .success(result: .string("zombie"), variables: nil), ran: 1)],
            session: 1, now: grid.now)
        #expect(directives.isEmpty, "the report of a session that is over changes nothing")
        #expect(grid.status(job, "a") == .pending)
        let other = try #require(grid.join(session: 2, workers: 1).first)
        grid.start(on: other)
        grid.finish(on: other, .success(result: .string("alive"), variables: nil))
        let done = try #require(grid.core.job(job))
        #expect(done.status == .finished && done.instances[0].executions == 2)
        #expect(JobResult(done, logDirectory: "", hosts: [:]).tasks.first?.result == .string("alive"))
    }

    @Test func anIdleHost_takesHalfOfTheLocalBacklog() throws {
        var grid = GridHarness(localNodes: 1, capacity: 8)
        try grid.submit(Workflow(name: "skew", tasks: (0..<8).map { fn("t\($0)") }))
        grid.start(on: NodeID(0))
        let remote = try #require(grid.join(session: 1, workers: 1, capacity: 4).first)
        // Local: 8 held on 1 node, a backlog of 7; half of it (3) goes back and is placed on the idle host.
        #expect(grid.log.contains { if case .reclaimLocal(max: 3) = $0 { true } else { false } })
        #expect(grid.names[remote]?.sorted() == ["1/t5", "1/t6", "1/t7"], "the newest")
        #expect(grid.names[NodeID(0)]?.count == 5)
        #expect(grid.core.ledger.entry(NodeID(0))?.assigned == 5 && grid.core.ledger.entry(remote)?.assigned == 3)
    }

    @Test func aLoadedAgent_isAskedOnceToRelease_andWhatItDropsGoesToTheIdleOne() throws {
        var grid = GridHarness(localNodes: 0)
        let loaded = try #require(grid.join(session: 1, workers: 1, capacity: 8).first)
        try grid.submit(Workflow(name: "skew", tasks: (0..<8).map { fn("t\($0)") }))
        grid.start(on: loaded)
        let idle = try #require(grid.join(session: 2, workers: 1, capacity: 8).first)
        #expect(grid.releases.map(\.session) == [1] && grid.releases.map(\.max) == [3])
        // While the answer is awaited, no second release.
        grid.perform(grid.core.onPlaceMore(preferring: nil, now: grid.now))
        #expect(grid.releases.count == 1)
        // The agent drops its three newest queued executions.
        let dropped = (grid.held[loaded] ?? []).suffix(3).map(\.assignment)
        grid.held[loaded]?.removeLast(3)
        grid.report(dropped.map { .dropped(job: $0.job, index: $0.index, attempt: $0.attempt, assignedNode: loaded) }, from: loaded)
        #expect(grid.names[idle]?.sorted() == ["1/t5", "1/t6", "1/t7"])
        #expect(grid.releases.count == 1, "the idle host holds work now")
    }

    @Test func aDownHost_getsNoNewWork_keepsWhatRuns_andTakesWorkWhenUp() throws {
        var grid = GridHarness(localNodes: 0)
        let nodes = grid.join(session: 1, workers: 2)
        let first = try grid.submit(Workflow(name: "first", tasks: [fn("a")]))
        grid.start(on: nodes[0])
        grid.setDown(session: 1, true)
        #expect(nodes.map { grid.states[$0] } == [.down, .down])
        let second = try grid.submit(Workflow(name: "second", tasks: [fn("b")]))
        #expect(grid.names[nodes[1]] == [], "a DOWN node gets no new work")
        #expect(grid.status(second, "b") == .pending)
        grid.setDown(session: 1, false)
        #expect(grid.states[nodes[0]] == .busy, "it still runs its task")
        #expect(grid.names[nodes[1]] == ["2/b"] && grid.states[nodes[1]] == .busy)
        grid.finish(on: nodes[0])
        #expect(grid.core.job(first)?.status == .finished)
        #expect(grid.states[nodes[0]] == .free)
    }

    @Test func aRetryDelay_holdsTheTaskUntilItsWake() throws {
        var grid = GridHarness(localNodes: 1)
        let job = try grid.submit(Workflow(name: "retry", maxNumberOfExecution: 2, tasks: [fn("a")]))
        grid.start(on: NodeID(0))
        grid.finish(on: NodeID(0), .failure(message: "exit code 1"))
        #expect(grid.status(job, "a") == .waitingOnError)
        #expect(grid.wakes == [.seconds(2)], "ProActive's delay after one execution: 1 s + 1 s")
        grid.advance(to: .milliseconds(1999))
        #expect(grid.names[NodeID(0)] == [])
        grid.advance(to: .seconds(2))
        #expect(grid.names[NodeID(0)] == ["1/a"])
        #expect(grid.records.contains(.tick(job: job, at: .seconds(2))))
        grid.runAll()
        #expect(grid.core.job(job)?.status == .finished)
        #expect(grid.wakes.isEmpty)
    }

    @Test func startAt_holdsTheJobUntilItsTime() throws {
        var grid = GridHarness(localNodes: 1)
        let wallNow = Date(timeIntervalSince1970: 1_800_000_000)
        let startAt = ISO8601DateFormatter().string(from: wallNow.addingTimeInterval(60))
        let job = try grid.submit(Workflow(name: "later", genericInfo: ["START_AT": startAt], tasks: [fn("a")]), wallNow: wallNow)
        #expect(grid.names[NodeID(0)] == [])
        #expect(grid.wakes == [.seconds(60)])
        grid.advance(to: .seconds(59))
        #expect(grid.names[NodeID(0)] == [])
        grid.advance(to: .seconds(60))
        #expect(grid.names[NodeID(0)] == ["1/a"])
        #expect(grid.status(job, "a") == .pending)
    }

    @Test func anEndedJob_isForgottenAfterRemoveEndedJobsAfter() throws {
        var grid = GridHarness(localNodes: 1, settings: .init(removeEndedJobsAfter: .seconds(60), journals: true))
        let job = try grid.submit(Workflow(name: "short", tasks: [fn("a")]))
        grid.advance(to: .seconds(5))
        grid.runAll()
        #expect(grid.core.job(job)?.status == .finished)
        #expect(grid.wakes == [.seconds(65)])
        grid.advance(to: .seconds(64))
        #expect(grid.core.job(job) != nil)
        grid.advance(to: .seconds(65))
        #expect(grid.core.job(job) == nil)
        #expect(grid.events.last == GridEvent(job: job, change: .removed, progress: JobProgress(done: 1, total: 1, running: 0, failed: 0), time: .seconds(65)))
    }

    @Test func lostNodes_leaveTheListAfterKeepLostNodes() throws {
        var grid = GridHarness(localNodes: 1, settings: .init(keepLostNodes: .seconds(600), journals: true))
        let node = try #require(grid.join(session: 1, workers: 1).first)
        grid.advance(to: .seconds(10))
        grid.lose(session: 1)
        #expect(grid.states[node] == .lost)
        #expect(grid.wakes == [.seconds(610)])
        grid.advance(to: .seconds(609))
        #expect(grid.states[node] == .lost)
        grid.advance(to: .seconds(610))
        #expect(grid.states[node] == nil && grid.core.resources.hostNames[node] == nil)
        #expect(grid.states.keys.sorted() == [NodeID(0)])
        // Identifiers are never given again.
        #expect(grid.join(session: 2, workers: 1) == [NodeID(1001)])
    }

    @Test func anEndWithoutItsStart_impliesTheStart() throws {
        var grid = GridHarness(localNodes: 1)
        let job = try grid.submit(Workflow(name: "quick", tasks: [fn("a")]))
        let assignment = try #require(grid.held[NodeID(0)]?.first?.assignment)
        grid.held[NodeID(0)] = []
        grid.report([.finished(
            job: job, index: assignment.index, attempt: assignment.attempt, node: NodeID(0), assignedNode: NodeID(0),
            outcome: Self.success, ran: 5)], from: NodeID(0))
        let states = grid.events.compactMap { event -> TaskStatus? in
            if case .task(_, let status, _, _, _) = event.change { status } else { nil }
        }
        #expect(states == [.pending, .running, .finished])
    }

    /// Random joins, losses, DOWN/UP, starts, ends and failures never put more on a node than it holds, the
    /// ledger's count always matches what the nodes hold, and once every host answers, every job ends.
    @Test func randomLifeCycles_neverOvercommitANode_andEveryJobEnds() throws {
        for seed in [UInt64(1), 7, 42, 2026] {
            var random = SeededRandom(state: seed)
            var grid = GridHarness(localNodes: 2, capacity: 2)
            var sessions: [Int] = []
            var nextSession = 1
            var jobs: [JobID] = []
            for _ in 0..<400 {
                switch random.next() % 10 {
                case 0:
                    var workflow = Workflow(
                        name: "r", maxNumberOfExecution: 2, taskRetryDelay: .seconds(1),
                        tasks: (0..<Int(random.next() % 4 + 1)).map { fn("t\($0)", depends: $0 > 0 && random.next() % 2 == 0 ? ["t0"] : []) })
                    workflow.onTaskError = .continueJobExecution
                    jobs.append(try grid.submit(workflow))
                case 1 where sessions.count < 3:
                    grid.join(session: nextSession, workers: Int(random.next() % 2 + 1), capacity: Int(random.next() % 3 + 1))
                    sessions.append(nextSession)
                    nextSession += 1
                case 2 where !sessions.isEmpty && random.next() % 3 == 0:
                    grid.lose(session: sessions.remove(at: Int(random.next() % UInt64(sessions.count))))
                case 3 where !sessions.isEmpty:
                    grid.setDown(session: sessions[Int(random.next() % UInt64(sessions.count))], random.next() % 2 == 0)
                case 4:
                    grid.advance(to: grid.now + .milliseconds(Int64(random.next() % 1500)))
                default:
                    let busy = grid.held.keys.sorted().filter { !(grid.held[$0]?.isEmpty ?? true) }
                    guard !busy.isEmpty else { continue }
                    let node = busy[Int(random.next() % UInt64(busy.count))]
                    if grid.held[node]?.contains(where: \.started) == true, random.next() % 2 == 0 {
                        grid.finish(on: node, random.next() % 4 == 0 ? .failure(message: "exit code 1") : Self.success)
                    } else {
                        grid.start(on: node)
                    }
                }
                for entry in grid.core.ledger.all where entry.state != .lost {
                    let held = grid.held[entry.id]?.count ?? 0
                    #expect(held <= entry.capacity, "seed \(seed): node \(entry.id) holds \(held) of \(entry.capacity)")
                    #expect(held == entry.assigned, "seed \(seed): node \(entry.id) holds \(held), the ledger says \(entry.assigned)")
                }
            }
            for session in sessions { grid.setDown(session: session, false) }
            for _ in 0..<200 where jobs.contains(where: { grid.core.job($0)?.status.isAlive == true }) {
                grid.runAll()
                grid.advance(to: grid.now + .seconds(120))
            }
            let alive = jobs.filter { grid.core.job($0)?.status.isAlive == true }
            #expect(alive.isEmpty, "seed \(seed): jobs \(alive) never ended")
        }
    }
}
