import Cluster
import Foundation
import Synchronization
import Testing

@testable import Grid

/// The agents' node source, driven by membership events it is handed one by one, with an in-process agent on a
/// real loopback link and a manual clock: reference/gossip.md's table, step by step.
@Suite("Agent node source", .serialized, .timeLimit(.minutes(3)))
struct AgentNodeSourceTests {
    /// Waits for the node list to satisfy `condition`: checked on the list now and on each change the grid sends
    /// (no polling, no deadline: the suite's time limit ends a wait that never comes).
    static func until(_ grid: Grid, _ what: String, _ condition: ([ResourceLedger.Entry]) -> Bool) async throws {
        for await nodes in await grid.nodeChanges where condition(nodes) { return }
        Issue.record("\(what): the grid stopped first, its nodes were \(await grid.nodes().map { "\($0.id) \($0.state)" })")
    }

    /// Waits for the job's report to satisfy `condition`: read now, then after each of the job's events.
    static func job(_ handle: JobHandle, _ what: String, _ condition: (JobResult) -> Bool) async throws -> JobResult {
        let events = try await handle.events
        var report = try await handle.report()
        if condition(report) { return report }
        for await _ in events {
            report = try await handle.report()
            if condition(report) { return report }
        }
        report = try await handle.report()
        if !condition(report) { Issue.record("\(what): \(report.tasks.map { "\($0.name) \($0.status) \($0.executions)" })") }
        return report
    }

    @Test func membershipEvents_driveTheNodes_andLostNodesLeaveAfterTheirTime() async throws {
        let ring = try KeyRing([(id: 1, secret: Array(repeating: UInt8(5), count: 32))])
        let gate = Gate()
        let functions = FunctionRegistry()
        functions.register("held") { (_: inout TaskContext) in
            await gate.wait()
            return .string("done")
        }
        // The agent: a member that accepts links, and the workers behind them.
        let agentID = Cluster.NodeID(high: 40, low: 1)
        let links = LinkAcceptor(identity: agentID, clusterID: 9, keyRing: ring)
        var agentConfiguration = ClusterMember.Configuration(
            id: agentID, bind: MemberAddress("127.0.1.40:0") ?? .unknown, seeds: [], clusterID: 9, keyRing: ring, seed: 1)
        agentConfiguration.links = links
        let agentMember = ClusterMember(configuration: agentConfiguration)
        let memberTask = Task { try await agentMember.run() }
        defer { memberTask.cancel() }
        let address = await agentMember.listening()
        var agentSettings = AgentSettings()
        agentSettings.workers = 2
        agentSettings.bindThreads = false
        agentSettings.address = address.description
        agentSettings.dataDirectory = try makeTemporaryDirectory("agent-source-agent")
        let agent = try GridAgent(settings: agentSettings, functions: functions)
        let serving = Task { await agent.serve(links.links) }
        defer {
            agent.shutdown()
            links.finish()
            serving.cancel()
        }

        // The scheduler: no local nodes, a manual clock; its member is only an identity here (the test hands the events).
        let clock = ManualClock()
        var settings = GridSettings()
        settings.localNodes = false
        settings.nodes = 1
        settings.oversubscribe = true
        settings.bindThreads = false
        settings.clock = clock
        settings.keepLostNodes = .seconds(600)
        settings.dataDirectory = try makeTemporaryDirectory("agent-source-grid")
        let grid = try await Grid.start(settings: settings, functions: functions)
        defer { Task { await grid.shutdown() } }
        let schedulerMember = ClusterMember(configuration: .init(
            id: Cluster.NodeID(high: 41, low: 1), bind: MemberAddress("127.0.1.41:0") ?? .unknown, seeds: [], clusterID: 9, keyRing: ring, seed: 2))
        let source = grid.agentNodeSource(member: schedulerMember, capacity: 4)
        let (events, membership) = AsyncStream<MembershipEvent>.makeStream()
        let running = Task { await source.run(events: events) }
        defer {
            membership.finish()
            running.cancel()
        }
        let alive = Member(id: agentID, epoch: 0, incarnation: 0, address: address, status: .alive)

        // joined + link + resources → FREE, one node per worker.
        membership.yield(.joined(alive))
        try await Self.until(grid, "two FREE nodes") { $0.count == 2 && $0.allSatisfy { $0.state == .free && $0.host == address.description } }
        let first = Set(await grid.nodes().map(\.id))
        let handle = try await grid.submit(Workflow(name: "held", tasks: [
            TaskDefinition("a", .function("held")), TaskDefinition("b", .function("held")),
        ]))
        _ = try await Self.job(handle, "both running") { $0.progress.running == 2 }

        // suspect → DOWN: no new work, running work kept.
        membership.yield(.suspect(alive, by: Cluster.NodeID(high: 41, low: 1)))
        try await Self.until(grid, "DOWN") { $0.allSatisfy { $0.state == .down } }
        let later = try await grid.submit(Workflow(name: "later", tasks: [TaskDefinition("c", .function("held"))]))
        #expect(try await later.report().tasks.first?.executions == 0, "a DOWN node gets no new work")
        #expect(try await handle.report().progress.running == 2)

        // alive again (refuted) → BUSY (they hold work).
        var refuted = alive
        refuted.incarnation = 1
        membership.yield(.alive(refuted))
        try await Self.until(grid, "BUSY again") { $0.allSatisfy { $0.state == .busy } }

        // dead → LOST: the running executions wait for another node (WAITING_ON_FAILURE, then PENDING).
        membership.yield(.dead(refuted, by: Cluster.NodeID(high: 41, low: 1)))
        try await Self.until(grid, "LOST") { $0.allSatisfy { $0.state == .lost } }
        let requeued = try await Self.job(handle, "re-queued") { report in report.tasks.allSatisfy { $0.status == .pending && $0.executions == 1 } }
        #expect(requeued.tasks.allSatisfy { $0.message?.hasSuffix("was lost") == true })

        // Back in a later epoch: a new session with new nodes, which run the work again; the old nodes stay LOST.
        let reborn = Member(id: agentID, epoch: 1, incarnation: 0, address: address, status: .alive)
        membership.yield(.joined(reborn))
        try await Self.until(grid, "new nodes") { nodes in nodes.filter { $0.state != .lost }.count == 2 }
        let second = Set(await grid.nodes().filter { $0.state != .lost }.map(\.id))
        #expect(first.isDisjoint(with: second))
        try await Self.until(grid, "the new nodes busy") { nodes in nodes.filter { $0.state == .busy }.count == 2 }
        gate.open()
        let done = try await handle.result()
        #expect(done.status == .finished && done.tasks.allSatisfy { $0.executions == 2 && $0.result == .string("done") })
        #expect(done.tasks.allSatisfy { $0.host == address.description })
        #expect(try await later.result().status == .finished)

        // LOST nodes leave the list once they were lost longer than keepLostNodes (checked when hosts come and go).
        clock.advance(by: .seconds(601))
        membership.yield(.dead(reborn, by: Cluster.NodeID(high: 41, low: 1)))
        try await Self.until(grid, "the first nodes forgotten") { nodes in
            Set(nodes.map(\.id)) == second && nodes.allSatisfy { $0.state == .lost }
        }
    }
}
