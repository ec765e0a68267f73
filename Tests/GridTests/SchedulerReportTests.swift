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
        let node = LocalNode(id: NodeID(0), runner: runner, control: ExecutionControl(), settings: settings)
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
            outcome: .success(result: .int(7), variables: nil))])
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
        _ = await scheduler.shutdown()
    }
}
