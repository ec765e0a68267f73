import Foundation
import Testing
@testable import Grid

@Suite struct JobCoreTests {
    @Test func linearJob_runsInOrderAndFinishes() throws {
        var job = try JobHarness(Workflow(name: "line", tasks: [fn("a"), fn("b", depends: ["a"]), fn("c", depends: ["b"])]))
        #expect(job.core.status == .pending)
        #expect(job.states == ["a": .pending, "b": .submitted, "c": .submitted])
        job.run()
        #expect(job.assignments.map(\.name.description) == ["a", "b", "c"])
        #expect(job.core.status == .finished)
        #expect(job.core.progress == JobProgress(done: 3, total: 3, running: 0, failed: 0))
        let jobStates = job.effects.compactMap { effect -> JobStatus? in if case .jobChanged(let s) = effect { s } else { nil } }
        #expect(jobStates == [.running, .stalled, .running, .stalled, .running, .finished])
    }

    @Test func childReceivesParentResultsAndPropagatedVariables() throws {
        let workflow = Workflow(
            name: "vars", variables: [Variable("A", "1"), Variable("B", "${A}2")],
            tasks: [
                fn("p"),
                TaskDefinition("c", .command(["echo", "${A}", "${B}", "${FROM_P}", "${TESSERA_TASK_NAME}", "${TESSERA_JOB_ID}"]), depends: ["p"],
                    variables: [Variable("A", "task", inherited: true), Variable("OWN", "${B}x")]),
            ])
        var job = try JobHarness(workflow)
        job.run { assignment in
            if assignment.name.task == "p" {
                var variables = assignment.variables
                variables["FROM_P"] = "fromP"
                return .success(result: ["tiles": 4], variables: variables)
            }
            return .success(result: .null, variables: nil)
        }
        let child = try #require(job.assignments.last)
        guard case .command(let argv) = child.executable else { Issue.record("not a command"); return }
        #expect(argv == ["echo", "1", "12", "fromP", "c", "1"])
        #expect(child.variables["OWN"] == "12x")
        #expect(child.variables["A"] == "1", "inherited keeps the propagated value")
        #expect(child.parentResults.map(\.name.description) == ["p"])
        #expect(child.parentResults.first?.value == ["tiles": 4])
    }

    @Test func retries_waitProActiveDelaysThenContinuePolicyMakesFaulty() throws {
        var workflow = Workflow(name: "retry", maxNumberOfExecution: 3, tasks: [fn("a"), fn("b", depends: ["a"])])
        workflow.onTaskError = .continueJobExecution
        var job = try JobHarness(workflow)
        job.run(failure)
        #expect(job.status("a") == .waitingOnError)
        #expect(job.effects.contains(.wake(at: .seconds(2))), "after 1 execution ProActive waits 1 s + 1 s")
        job.advance(to: .milliseconds(1999))
        #expect(job.status("a") == .waitingOnError)
        job.advance(to: .seconds(2))
        #expect(job.status("a") == .pending)
        job.run(failure)
        #expect(job.effects.contains(.wake(at: .seconds(2) + .seconds(4))), "after 2 executions: 1 + 1 + 2 s")
        job.advance(to: .seconds(6))
        job.run { $0.name.task == "a" ? .failure(message: "boom") : .success(result: .null, variables: nil) }
        #expect(job.status("a") == .faulty)
        #expect(job.core.instances[0].executions == 3)
        #expect(job.core.instances[0].message == "boom")
        #expect(job.status("b") == .finished, "continueJobExecution lets successors run")
        #expect(job.core.status == .finished)
    }

    @Test func fixedRetryDelay_andElsewhereExcludesTheFailedNode() throws {
        let workflow = Workflow(
            name: "elsewhere", maxNumberOfExecution: 2, taskRetryDelay: .milliseconds(500), restartTaskOnError: .elsewhere,
            tasks: [fn("a")])
        var job = try JobHarness(workflow)
        job.run(on: NodeID(7), failure)
        #expect(job.effects.contains(.wake(at: .milliseconds(500))))
        job.advance(to: .milliseconds(500))
        let retry = try job.begin(on: NodeID(8))
        #expect(retry.excludedNodes == [NodeID(7)])
        #expect(retry.attempt == 2)
    }

    @Test func cancelJob_abortsRunningAndLeavesTheRestNotStarted() throws {
        let workflow = Workflow(
            name: "cancel", onTaskError: .cancelJob,
            tasks: [fn("a"), fn("b"), fn("c", depends: ["a"]), fn("d", depends: ["b"])])
        var job = try JobHarness(workflow)
        let a = try job.begin(on: NodeID(0))
        let b = try job.begin(on: NodeID(1))
        job.finish(a, .failure(message: "bad input"))
        #expect(job.core.status == .canceled)
        #expect(job.states == ["a": .faulty, "b": .aborted, "c": .notStarted, "d": .notStarted])
        #expect(job.effects.contains(.abort(index: b.index, node: NodeID(1), attempt: 1)))
        job.finish(b, .success(result: .null, variables: nil), on: NodeID(1))
        #expect(job.status("b") == .aborted, "a late report of an aborted execution is ignored")
    }

    @Test func suspendTask_putsTaskAndJobInErrorUntilRestartedOrMarkedFinished() throws {
        let workflow = Workflow(name: "suspend", onTaskError: .suspendTask, tasks: [fn("a"), fn("b", depends: ["a"])])
        var job = try JobHarness(workflow)
        job.run(failure)
        #expect(job.status("a") == .inError)
        #expect(job.status("b") == .submitted)
        #expect(job.core.status == .inError)
        job.effects += try job.core.restartInErrorTask(TaskInstanceName(task: "a"), now: job.now)
        #expect(job.status("a") == .pending)
        job.run(failure)
        #expect(job.status("a") == .inError)
        job.effects += try job.core.finishInErrorTask(TaskInstanceName(task: "a"), now: job.now)
        #expect(job.status("a") == .finished)
        job.run()
        #expect(job.status("b") == .finished)
        #expect(job.core.status == .finished)
        #expect(throws: GridError.self) { try job.core.finishInErrorTask(TaskInstanceName(task: "a"), now: job.now) }
    }

    @Test func pauseJobPolicy_pausesTheRestAndResumeLeavesTheJobInError() throws {
        let workflow = Workflow(
            name: "pausejob", tasks: [
                TaskDefinition("a", .function("noop"), onTaskError: .pauseJob), fn("b"), fn("c", depends: ["b"]),
            ])
        var job = try JobHarness(workflow)
        let a = try job.begin()
        let b = try job.begin(on: NodeID(1))
        job.finish(a, .failure(message: "x"))
        #expect(job.core.status == .paused)
        #expect(job.states == ["a": .inError, "b": .running, "c": .paused])
        job.finish(b, .success(result: .null, variables: nil), on: NodeID(1))
        job.effects += try job.core.resume(now: job.now)
        #expect(job.core.status == .inError)
        #expect(job.status("c") == .pending)
    }

    @Test func userPauseResumeKillAndPriority() throws {
        var job = try JobHarness(Workflow(name: "control", tasks: [fn("a"), fn("b"), fn("c", depends: ["a"])]))
        let a = try job.begin()
        job.effects += try job.core.pause(now: job.now)
        #expect(job.core.status == .paused)
        #expect(job.states == ["a": .running, "b": .paused, "c": .paused], "SUBMITTED and PENDING tasks pause")
        #expect(job.core.takeReady(limit: 10).isEmpty)
        job.finish(a, .success(result: .null, variables: nil))
        #expect(job.status("c") == .paused, "its parent ended while paused: it stays PAUSED")
        job.effects += try job.core.resume(now: job.now)
        #expect(job.states == ["a": .finished, "b": .pending, "c": .pending])
        #expect(throws: GridError.priorityNeedsAdmin(.highest)) { try job.core.setPriority(.highest, admin: false) }
        try job.core.setPriority(.low, admin: false)
        #expect(job.core.priority == .low)
        let b = try job.begin(on: NodeID(3))
        job.effects += try job.core.kill(now: job.now)
        #expect(job.core.status == .killed)
        #expect(job.states == ["a": .finished, "b": .aborted, "c": .notStarted])
        #expect(job.effects.contains(.abort(index: b.index, node: NodeID(3), attempt: 1)))
        #expect(throws: GridError.self) { try job.core.kill(now: job.now) }
    }

    @Test func killTaskAndRestartTask() throws {
        var job = try JobHarness(Workflow(name: "tasks", maxNumberOfExecution: 1, tasks: [fn("a"), fn("b", depends: ["a"])]))
        let first = try job.begin(on: NodeID(2))
        job.effects += try job.core.restartTask(TaskInstanceName(task: "a"), now: job.now)
        #expect(job.effects.contains(.abort(index: first.index, node: NodeID(2), attempt: 1)))
        #expect(job.status("a") == .pending)
        let second = try job.begin()
        #expect(second.attempt == 2)
        job.finish(first, .success(result: .null, variables: nil), on: NodeID(2))
        #expect(job.status("a") == .running, "the stopped execution's report is ignored")
        job.effects += try job.core.killTask(TaskInstanceName(task: "a"), now: job.now)
        #expect(job.status("a") == .faulty)
        #expect(job.status("b") == .pending)
        #expect(throws: GridError.taskNotFound(JobID(1), "zz")) { try job.core.killTask(TaskInstanceName(task: "zz"), now: job.now) }
    }

    @Test func nodeLost_rerunsOnceElsewhere_thenFailsTheTaskAndTheJob() throws {
        var job = try JobHarness(Workflow(name: "lost", tasks: [fn("a")]))
        _ = try job.begin(on: NodeID(1))
        job.effects += job.core.onNodeLost(NodeID(1), now: job.now)
        #expect(job.status("a") == .pending)
        let again = try job.begin(on: NodeID(2))
        #expect(again.excludedNodes == [NodeID(1)])
        job.effects += job.core.onNodeLost(NodeID(2), now: job.now)
        #expect(job.status("a") == .failed)
        #expect(job.core.status == .failed)
    }

    @Test func startAt_holdsTasksUntilTheTime() throws {
        let wallNow = Date(timeIntervalSince1970: 1_800_000_000)
        var workflow = Workflow(name: "later", tasks: [fn("a")])
        workflow.genericInfo["START_AT"] = Date(timeIntervalSince1970: 1_800_000_030).ISO8601Format()
        var job = try JobHarness(workflow, wallNow: wallNow)
        #expect(job.status("a") == .pending)
        #expect(job.core.takeReady(limit: 1).isEmpty)
        #expect(job.effects.contains(.wake(at: .seconds(30))))
        job.advance(to: .seconds(30))
        #expect(job.core.takeReady(limit: 1) == [0])
        workflow.genericInfo["START_AT"] = "tomorrow"
        #expect(throws: GridError.badStartAt("tomorrow")) { try JobHarness(workflow) }
        // A task's own bad START_AT, after instances of earlier tasks were built: the same error, nothing leaks.
        var late = Workflow(name: "later", tasks: [fn("a"), fn("b"), fn("c")])
        late.tasks[1].genericInfo["START_AT"] = "soon"
        #expect(throws: GridError.badStartAt("soon")) { try JobHarness(late) }
    }
}
