import Foundation
import Testing

@testable import Grid

/// The scheduler's handling of node reports, driven directly: a node that never runs its queue, and reports
/// written by the test in the orders the nodes and the pump can produce.
@Suite struct SchedulerReportTests {
    @Test func anEndArrivingBeforeItsStart_showsRunningThenFinished_andTheLateStartChangesNothing() async throws {
        var settings = GridSettings()
        settings.dataDirectory = try makeTemporaryDirectory("scheduler-reports")
        let hub = EventHub()
        let directory = settings.dataDirectory
        let scheduler = SchedulerActor(hub: hub, settings: settings, journal: nil) { _ in directory }
        let runner = TaskRunner(
            functions: FunctionRegistry(), healing: HealingStore(path: nil), clock: settings.clock,
            dataDirectory: settings.dataDirectory, workingDirectory: settings.dataDirectory)
        let node = LocalNode(id: NodeID(0), runner: runner, control: ExecutionControl(), settings: settings, reportInterval: .milliseconds(30))
        await scheduler.addNodes([(node, ResourceLedger.Entry(
            id: node.id, source: "local", state: .free, locked: false, labels: [], token: nil, capacity: 8, assigned: 0,
            host: "test"))])
        let events = hub.subscribeAll()
        let job = try await scheduler.submit(
            Workflow(name: "late-start", tasks: [TaskDefinition("a", .function("noop"))]), variables: [:], admin: false, owner: "")
        // The node never runs (its loop is not started): the assignment waits in its queue.
        let assignment = try #require(node.queue.pop())
        // The pump took the start report and was descheduled; the node sent the end first.
        await scheduler.onReports([.finished(
            job: job, index: assignment.index, attempt: assignment.attempt, node: node.id, assignedNode: node.id,
            outcome: .success(result: .int(7), variables: nil), ran: 2_500_000_000)])
        await scheduler.onReports([.started(job: job, index: assignment.index, attempt: assignment.attempt, node: node.id)])
        var states: [TaskStatus] = []
        for await event in events where event.job == job {
            if case .task(_, let status, _, _, _) = event.change { states.append(status) }
            if event.isFinal { break }
        }
        #expect(states == [.pending, .running, .finished])
        let report = try await scheduler.report(job)
        #expect(report.status == .finished)
        #expect(report.tasks.first?.result == .int(7))
        #expect(report.tasks.first?.duration == 2.5, "the node's measure, not the time between the two reports")
        let summary = await scheduler.summaries().first { $0.job == job }
        let started = try #require(summary?.started)
        let ended = try #require(summary?.ended)
        #expect(ended.timeIntervalSince(started) > 2.49, "the job started when its task did")
        _ = await scheduler.shutdown()
    }

    /// Two nodes whose loops never run, and a job `a` → `b`; node 1 stole `a` and reports it with `batch`.
    /// Returns the node `b` was given to.
    private func nodeGivenTheChild(batch: (_ job: JobID, _ a: TaskAssignment) -> [NodeReport]) async throws -> NodeID? {
        var settings = GridSettings()
        settings.dataDirectory = try makeTemporaryDirectory("scheduler-preference")
        let directory = settings.dataDirectory
        let scheduler = SchedulerActor(hub: EventHub(), settings: settings, journal: nil) { _ in directory }
        let runner = TaskRunner(
            functions: FunctionRegistry(), healing: HealingStore(path: nil), clock: settings.clock,
            dataDirectory: settings.dataDirectory, workingDirectory: settings.dataDirectory)
        let nodes = (0..<2).map {
            LocalNode(id: NodeID($0), runner: runner, control: ExecutionControl(), settings: settings, reportInterval: .milliseconds(30))
        }
        await scheduler.addNodes(nodes.map { node in
            (node, ResourceLedger.Entry(
                id: node.id, source: "local", state: .free, locked: false, labels: [], token: nil, capacity: 8, assigned: 0, host: "test"))
        })
        let job = try await scheduler.submit(
            Workflow(name: "tie", tasks: [TaskDefinition("a", .function("noop")), TaskDefinition("b", .function("noop"), depends: ["a"])]),
            variables: [:], admin: false, owner: "")
        let a = try #require(nodes[0].queue.pop(), "both nodes free: the first one gets the root")
        await scheduler.onReports(batch(job, a))
        let given = nodes.first { $0.queue.pop() != nil }?.id
        _ = await scheduler.shutdown()
        return given
    }

    @Test func aBatchEndingWithAnEnd_givesTheReportingNodeTheTie() async throws {
        let node = try await nodeGivenTheChild { job, a in
            [.started(job: job, index: a.index, attempt: a.attempt, node: NodeID(1)),
             .finished(job: job, index: a.index, attempt: a.attempt, node: NodeID(1), assignedNode: NodeID(0),
                       outcome: .success(result: .null, variables: nil), ran: 1)]
        }
        #expect(node == NodeID(1), "node 1 is between tasks: it gets b")
    }

    @Test func aBatchEndingWithAStart_prefersNoNode() async throws {
        // What the pump sends for a node inside a task: the last report is a start (here a late one).
        let node = try await nodeGivenTheChild { job, a in
            [.finished(job: job, index: a.index, attempt: a.attempt, node: NodeID(1), assignedNode: NodeID(0),
                       outcome: .success(result: .null, variables: nil), ran: 1),
             .started(job: job, index: a.index, attempt: a.attempt, node: NodeID(1))]
        }
        #expect(node == NodeID(0), "no preference: the first of the tied nodes")
    }
}
