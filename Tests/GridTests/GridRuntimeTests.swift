import Actors
import Synchronization
import Foundation
@testable import Grid
import Testing

@Suite(.timeLimit(.minutes(1))) struct GridRuntimeTests {
    @Test func functions_runInProcessWithParentResultsAndTypedIO() async throws {
        let grid = try await startGrid()
        grid.functions.register("double") { (x: Int, _: inout TaskContext) in x * 2 }
        grid.functions.register("sum") { (context: inout TaskContext) in
            .int(context.parentValues.reduce(0) { total, value in if case .int(let n) = value { total + n } else { total } })
        }
        let workflow = Workflow(name: "math", tasks: [
            TaskDefinition("a", .function("double", input: 21)),
            TaskDefinition("b", .function("double", input: 4)),
            TaskDefinition("sum", .function("sum"), depends: ["a", "b"]),
        ])
        let result = try await grid.submit(workflow).result()
        #expect(result.status == .finished)
        #expect(result.result(of: "a") == 42)
        #expect(result.result(of: "sum") == 50)
        #expect(result.tasks.allSatisfy { $0.executions == 1 })
        await grid.shutdown()
    }

    @Test func taskDurations_areTheNodesMeasure_evenForTasksShorterThanTheReportInterval() async throws {
        let grid = try await startGrid()
        // Works (does not sleep) for 30 ms: shorter than the 30 ms report batching plus the pump's look, so its start
        // and end reach the scheduler in one batch.
        grid.functions.register("busy") { (_: inout TaskContext) in
            let clock = ContinuousClock()
            let end = clock.now + .milliseconds(30)
            var spins = 0
            while clock.now < end { spins &+= 1 }
            return .int(spins)
        }
        let result = try await grid.submit(Workflow(name: "timed", tasks: [
            TaskDefinition("busy", .function("busy")), TaskDefinition("quick", .function("noop"), depends: ["busy"]),
        ])).result()
        #expect(result.status == .finished)
        let busy = try #require(result.tasks.first { $0.name.description == "busy" }?.duration)
        #expect(busy >= 0.03 && busy < 10, "\(busy) s")
        let quick = try #require(result.tasks.first { $0.name.description == "quick" }?.duration)
        #expect(quick > 0 && quick < 10, "\(quick) s")
        await grid.shutdown()
    }

    @Test func theReportInterval_followsTheCores_unlessItIsSet() async throws {
        #expect(GridSettings.reportInterval(forCores: 0) == .milliseconds(30))
        #expect(GridSettings.reportInterval(forCores: 1) == .milliseconds(30))
        #expect(GridSettings.reportInterval(forCores: 2) == .milliseconds(30))
        #expect(GridSettings.reportInterval(forCores: 3) == .milliseconds(20))
        #expect(GridSettings.reportInterval(forCores: 8) == .microseconds(7_500))
        #expect(GridSettings.reportInterval(forCores: 16) == .microseconds(3_750))
        #expect(GridSettings.reportInterval(forCores: 32) == .milliseconds(2))
        #expect(GridSettings.reportInterval(forCores: 1_000) == .milliseconds(2))

        // The cores the nodes run on count, not the nodes: oversubscribed nodes share them.
        let chosen = try await startGrid(nodes: 4)
        let shared = Set(chosen.plan.slots.map(\.core)).count
        #expect(chosen.settings.reportInterval == GridSettings.reportInterval(forCores: shared))
        #expect(chosen.pump.interval == chosen.settings.reportInterval, "the pump uses the grid's choice")
        await chosen.shutdown()

        let set = try await startGrid(nodes: 4) { $0.reportInterval = .milliseconds(1) }
        #expect(set.settings.reportInterval == .milliseconds(1))
        #expect(set.pump.interval == .milliseconds(1))
        // A job runs to its end with reports sent every millisecond.
        let result = try await set.submit(Workflow(name: "fast-reports", tasks: (0..<200).map {
            TaskDefinition("t\($0)", .function("noop"))
        })).result()
        #expect(result.status == .finished)
        await set.shutdown()
    }

    @Test func manyNoOpTasks_allFinishAndEventsEndWithTheJob() async throws {
        let grid = try await startGrid()
        let tasks = (0..<2000).map { TaskDefinition("t\($0)", .function("noop")) }
        // Subscribed before submitting, so that no event is missed.
        let all = grid.events
        let job = try await grid.submit(Workflow(name: "wide", tasks: tasks))
        var seen: [GridEvent] = []
        for await event in all where event.job == job.id {
            seen.append(event)
            if event.isFinal { break }
        }
        let result = try await job.result()
        #expect(result.status == .finished)
        #expect(result.progress == JobProgress(done: 2000, total: 2000, running: 0, failed: 0))
        #expect(seen.last?.change == .job(.finished))
        #expect(seen.filter { if case .task(_, .finished, _, _, _) = $0.change { true } else { false } }.count == 2000)
        // Every task shows each of its states in order, though nodes send a start and an end in one batch and
        // the scheduler applies a batch's reports about one job in one update.
        var states: [String: [TaskStatus]] = [:]
        for event in seen {
            if case .task(let name, let status, _, _, _) = event.change { states[name.description, default: []].append(status) }
        }
        #expect(states.count == 2000)
        #expect(states.values.allSatisfy { $0 == [.pending, .running, .finished] }, "\(states.first { $0.value != [.pending, .running, .finished] } as Any)")
        #expect(Set(result.tasks.compactMap(\.node)).count == 2, "both nodes ran tasks")
        await grid.shutdown()
    }

    @Test func tasksNoNodeTakes_doNotHoldBackTheTasksBehindThem() async throws {
        // More tasks than one placement pass looks at select a label no node has; the plain tasks queued
        // behind them in the same job must still run (ProActive's non-strict FIFO).
        let grid = try await startGrid()
        let blocked = (0..<40).map { TaskDefinition("gpu\($0)", .function("noop"), selection: Selection(labels: ["gpu"])) }
        let plain = (0..<10).map { TaskDefinition("cpu\($0)", .function("noop")) }
        let job = try await grid.submit(Workflow(name: "mixed", tasks: blocked + plain))
        _ = try await events(of: job) { $0.progress.done == 10 }
        let report = try await job.report()
        #expect(report.tasks.filter { $0.name.task.hasPrefix("cpu") }.allSatisfy { $0.status == .finished })
        #expect(report.tasks.filter { $0.name.task.hasPrefix("gpu") }.allSatisfy { $0.status == .pending })
        try await job.kill()
        await grid.shutdown()
    }

    @Test func aFunctionRegisteredAgain_replacesTheOneNodesRanBefore() async throws {
        // Nodes keep the last function they looked up; a new registration under the same name must reach them.
        let grid = try await startGrid(nodes: 1)
        grid.functions.register("answer") { (_: inout TaskContext) in .int(1) }
        let tasks = (0..<50).map { TaskDefinition("t\($0)", .function("answer")) }
        let first = try await grid.submit(Workflow(name: "first", tasks: tasks)).result()
        #expect(first.tasks.allSatisfy { $0.result == .int(1) })
        grid.functions.register("answer") { (_: inout TaskContext) in .int(2) }
        let second = try await grid.submit(Workflow(name: "second", tasks: tasks)).result()
        #expect(second.tasks.allSatisfy { $0.result == .int(2) }, "\(second.tasks.map(\.result))")
        await grid.shutdown()
    }

    @Test func jobEvents_subscribedLate_startWithEveryTaskStateThenTheJob() async throws {
        let grid = try await startGrid()
        let job = try await grid.submit(Workflow(name: "late", tasks: [
            TaskDefinition("a", .function("noop")),
            TaskDefinition("b", .function("noop"), depends: ["a"]),
        ]))
        _ = try await job.result()
        var seen: [GridEvent.Change] = []
        for await event in try await job.events { seen.append(event.change) }
        #expect(seen.count == 3)
        #expect(seen.contains { if case .task(let name, .finished, _, 1, _) = $0 { name.description == "a" } else { false } })
        #expect(seen.contains { if case .task(let name, .finished, _, 1, _) = $0 { name.description == "b" } else { false } })
        #expect(seen.last == .job(.finished))
        await grid.shutdown()
    }

    @Test func refusals_carryTheAction_theTarget_theState_andTheWorkflowsProblems() async throws {
        let grid = try await startGrid()
        let job = try await grid.submit(Workflow(name: "done", tasks: [TaskDefinition("a", .function("noop"))]))
        #expect(try await job.result().status == .finished)
        await #expect(throws: GridError.actionNotAllowed(.pause, target: .job(job.id), state: .job(.finished))) { try await job.pause() }
        await #expect(throws: GridError.actionNotAllowed(.killTask, target: .task(TaskInstanceName(task: "a")), state: .taskInJob(.finished))) {
            try await job.killTask("a")
        }
        #expect(GridError.actionNotAllowed(.changePriority, target: .job(job.id), state: .job(.finished)).description
            == "cannot change the priority of job \(job.id) while it is FINISHED")
        // The workflow's problems stay values: a tool matches on their codes, not on the message.
        do {
            _ = try await grid.submit(Workflow(name: "bad", tasks: [TaskDefinition("a", .function("noop"), depends: ["nowhere"])]))
            Issue.record("a workflow with an unknown dependency was accepted")
        } catch {
            guard case .invalidWorkflow(let problems) = error else { Issue.record("unexpected error \(error)"); return }
            #expect(problems.map(\.code) == [.unknownDependency])
        }
        // An underlying error is kept, and told after the reason.
        struct Disk: Error, CustomStringConvertible { var description: String { "no space left" } }
        let failed = GridError.journal("write failed in x/journal.sqlite", cause: .init(Disk()))
        #expect(failed.description == "journal: write failed in x/journal.sqlite: no space left")
        if case .journal(_, let cause) = failed { #expect(cause?.error is Disk) } else { Issue.record("not a journal error") }
        await grid.shutdown()
    }

    @Test func nodeChanges_sendTheListNow_thenEachChange_andEndWithTheGrid() async throws {
        let grid = try await startGrid()
        let changes = await grid.nodeChanges
        var iterator = changes.makeAsyncIterator()
        let first = try #require(await iterator.next())
        #expect(first.count == 2 && first.allSatisfy { $0.state == .free && !$0.locked })
        try await grid.setNode(first[0].id, locked: true)
        let locked = try #require(await iterator.next())
        #expect(locked.first { $0.id == first[0].id }?.locked == true)
        await grid.shutdown()
        #expect(await iterator.next() == nil, "the stream ends with the grid")
    }

    @Test func remove_forgetsAnEndedJob_andRefusesAliveOnes() async throws {
        let grid = try await startGrid()
        let gate = grid.registerGated()
        let job = try await grid.submit(Workflow(name: "keep", tasks: [TaskDefinition("a", .function("gated"))]))
        do {
            try await job.remove()
            Issue.record("an alive job was removed")
        } catch {
            // PENDING or RUNNING, depending on whether the start report arrived yet.
            guard case .actionNotAllowed(.remove, target: .job(job.id), _) = error else {
                Issue.record("unexpected error \(error)")
                return
            }
        }
        gate.open()
        #expect(try await job.result().status == .finished)
        try await job.remove()
        await #expect(throws: GridError.jobNotFound(job.id)) { try await job.report() }
        #expect(await grid.jobs().isEmpty)
        await grid.shutdown()
    }

    @Test func nodeSources_reportTheLocalInfrastructureWithItsNodeStatesAndLocks() async throws {
        let grid = try await startGrid { $0.labels = ["ssd"] }
        let gate = grid.registerGated()
        var sources = await grid.nodeSources()
        #expect(sources.count == 1)
        #expect(sources.first?.name == "local")
        #expect(sources.first?.infrastructure == .local(nodes: 2))
        #expect(sources.first?.policy == .static)
        #expect(sources.first?.count(.free) == 2)
        #expect(sources.first?.nodes.allSatisfy { $0.labels == ["ssd"] && $0.capacity == 256 } == true)

        try await grid.setNode(NodeID(1), locked: true)
        var stream = grid.events.makeAsyncIterator()
        let job = try await grid.submit(Workflow(name: "busy", tasks: [TaskDefinition("a", .function("gated"))]))
        while let event = await stream.next(), event.taskStatus("a") != .running {}
        sources = await grid.nodeSources()
        // The only unlocked node holds the task.
        #expect(sources.first?.nodes.map(\.state) == [.busy, .free])
        #expect(sources.first?.nodes.map(\.locked) == [false, true])
        gate.open()
        _ = try await job.result()
        #expect(await grid.nodeSources().first?.count(.free) == 2)
        await grid.shutdown()
    }

    @Test func endedJobs_areForgottenAfterTheRemovalDelay_onTheManualClock() async throws {
        let clock = ManualClock()
        let grid = try await startGrid(clock: clock) { $0.removeEndedJobsAfter = .seconds(60) }
        var stream = grid.events.makeAsyncIterator()
        let job = try await grid.submit(Workflow(name: "short", tasks: [TaskDefinition("a", .function("noop"))]))
        #expect(try await job.result().status == .finished)
        await clock.waitForSleepers()
        clock.advance(by: .seconds(59))
        #expect(try await job.report().status == .finished, "kept until the delay is over")
        clock.advance(by: .seconds(1))
        while let event = await stream.next(), !(event.job == job.id && event.change == .removed) {}
        await #expect(throws: GridError.jobNotFound(job.id)) { try await job.report() }
        #expect(await grid.jobs().isEmpty)
        await grid.shutdown()
    }

    @Test func functionWalltime_cancelsTheFunctionAndFailsTheTask_onTheManualClock() async throws {
        let clock = ManualClock()
        let grid = try await startGrid(clock: clock)
        let gate = Gate()
        let sawCancel = Atomic<Bool>(false)
        grid.functions.register("slow") { (_: inout TaskContext) in
            await withTaskCancellationHandler {
                await gate.wait()
            } onCancel: {
                sawCancel.store(true, ordering: .relaxed)
                gate.open()
            }
            return "done"
        }
        var task = TaskDefinition("slow", .function("slow"))
        task.walltime = .seconds(5)
        var stream = grid.events.makeAsyncIterator()
        let job = try await grid.submit(Workflow(name: "fn-walltime", tasks: [task]))
        // Two sleepers on the manual clock, both from time zero: the walltime's watchdog, and the report pump that
        // holds the start report for its interval.
        await clock.waitForSleepers(2)
        clock.advance(to: try #require(grid.settings.reportInterval))
        while let event = await stream.next(), event.taskStatus("slow") != .running {}
        clock.advance(to: .seconds(5))
        let result = try await job.result()
        #expect(result.task("slow")?.status == .faulty)
        #expect(result.task("slow")?.message == "walltime 5.0 seconds exceeded: the function was cancelled")
        let cancelled = sawCancel.load(ordering: .relaxed)
        #expect(cancelled)
        await grid.shutdown()
    }

    @Test func jobHandleActions_pauseResumeAndPriority_andAdminOnlyPriorities() async throws {
        let grid = try await startGrid()
        let gate = grid.registerGated()
        await #expect(throws: GridError.priorityNeedsAdmin(.high)) {
            try await grid.submit(Workflow(name: "vip", priority: .high, tasks: [fn("a")]))
        }
        var stream = grid.events.makeAsyncIterator()
        let job = try await grid.submit(Workflow(name: "control", tasks: [TaskDefinition("first", .function("gated")), fn("second", depends: ["first"])]))
        while let event = await stream.next(), event.taskStatus("first") != .running {}
        try await job.pause()
        var report = try await job.report()
        #expect(report.task("second")?.status == .paused)
        #expect(report.task("first")?.status == .running, "a running task goes on")
        try await job.setPriority(.low)
        await #expect(throws: GridError.priorityNeedsAdmin(.highest)) { try await job.setPriority(.highest) }
        report = try await job.report()
        #expect(report.priority == .low)
        try await job.resume()
        gate.open()
        let result = try await job.result()
        #expect(result.status == .finished)
        #expect(result.tasks.map(\.executions) == [1, 1])
        await #expect(throws: GridError.self) { try await job.resume() }
        await grid.shutdown()
    }

    @Test func unknownFunction_failsTheSubmission() async throws {
        let grid = try await startGrid()
        await #expect(throws: GridError.functionNotRegistered("nope")) {
            try await grid.submit(Workflow(name: "missing", tasks: [fn("a"), TaskDefinition("b", .function("nope"))]))
        }
        #expect(await grid.jobs().isEmpty)
        await grid.shutdown()
    }

    @Test func functionFailure_retriesAfterTheDelayOnTheManualClock() async throws {
        let clock = ManualClock()
        let grid = try await startGrid(clock: clock)
        let calls = CallCounter()
        grid.functions.register("flaky") { (_: inout TaskContext) in
            if calls.increment() == 1 { throw FlakyError() }
            return "ok"
        }
        let job = try await grid.submit(Workflow(name: "retry", maxNumberOfExecution: 2, tasks: [TaskDefinition("a", .function("flaky"))]))
        _ = try await events(of: job) { $0.taskStatus("a") == .waitingOnError }
        await clock.waitForSleeper(until: .seconds(2))
        clock.advance(by: .milliseconds(1999))
        #expect(try await job.report().task("a")?.status == .waitingOnError)
        clock.advance(by: .milliseconds(1))
        let result = try await job.result()
        #expect(result.task("a")?.status == .finished)
        #expect(result.task("a")?.executions == 2)
        #expect(result.result(of: "a") == "ok")
        await grid.shutdown()
    }

    @Test func stealing_anIdleNodeTakesQueuedWorkFromABusyOne() async throws {
        let grid = try await startGrid()
        let gate = Gate()
        grid.functions.register("gated") { (context: inout TaskContext) in
            if context.task.task == "t0" { await gate.wait() }
            return .int(context.node.rawValue)
        }
        try await grid.setNode(NodeID(1), locked: true)
        let tasks = (0..<20).map { TaskDefinition("t\($0)", .function("gated")) }
        var stream = grid.events.makeAsyncIterator()
        let job = try await grid.submit(Workflow(name: "steal", tasks: tasks))
        while let event = await stream.next(), event.taskStatus("t0") != .running {}
        // Every task sits on node 0, whose loop is stuck in t0; node 1 wakes up and steals.
        try await grid.setNode(NodeID(1), locked: false)
        while let event = await stream.next() {
            if case .task(_, .finished, NodeID(1)?, _, _) = event.change { break }
        }
        gate.open()
        let result = try await job.result()
        #expect(result.status == .finished)
        let ranOnNode1 = result.tasks.filter { $0.result == .int(1) }.count
        #expect(ranOnNode1 > 0)
        #expect(result.tasks.filter { $0.result == .int(0) }.count > 0)
        await grid.shutdown()
    }
}

struct FlakyError: Error {}

/// Counts calls from any thread.
final class CallCounter: Sendable {
    private let count = Mutex(0)
    func increment() -> Int { count.withLock { $0 += 1; return $0 } }
}

/// A one-shot gate tasks wait on until the test opens it.
extension Grid {
    /// Registers `gated`, a function that waits for the returned gate to open.
    func registerGated() -> Gate {
        let gate = Gate()
        functions.register("gated") { (_: inout TaskContext) in
            await gate.wait()
            return .null
        }
        return gate
    }
}

final class Gate: Sendable {
    private let state = Mutex<(open: Bool, waiters: [CheckedContinuation<Void, Never>])>((false, []))
    func wait() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let open = state.withLock { state in
                if !state.open { state.waiters.append(continuation) }
                return state.open
            }
            if open { continuation.resume() }
        }
    }
    func open() {
        let waiters = state.withLock { state in
            state.open = true
            defer { state.waiters = [] }
            return state.waiters
        }
        for waiter in waiters { waiter.resume() }
    }
}
