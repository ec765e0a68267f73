import Foundation
import Testing

@testable import Grid

/// The scheduler's inputs for elastic sources (draining, release, eviction) through ``GridHarness``, and the
/// simulated day of `tessera bench elastic`.
@Suite struct ElasticCoreTests {
    @Test func aDrainingHost_getsNoNewWork_andTakesWorkAgainWhenKept() throws {
        var grid = GridHarness(localNodes: 0)
        let nodes = grid.join(session: 1, workers: 2)
        let job = try grid.submit(Workflow(name: "drain", tasks: [fn("a")]))
        grid.perform(grid.core.onHostDraining(session: 1, true, now: grid.now))
        #expect(nodes.allSatisfy { grid.states[$0] == .toBeRemoved })
        try grid.submit(Workflow(name: "later", tasks: [fn("b")]))
        #expect(grid.names.values.flatMap { $0 } == ["1/a"], "b waits: the only host is draining")
        grid.runAll()
        #expect(grid.core.job(job)?.status == .finished, "what ran there finishes")
        #expect(nodes.allSatisfy { grid.states[$0] == .toBeRemoved }, "an ended task leaves its node TO_BE_REMOVED, not FREE")
        grid.perform(grid.core.onHostDraining(session: 1, false, now: grid.now))
        grid.runAll()
        #expect(grid.core.job(JobID(2))?.status == .finished)
    }

    @Test func aReleasedHost_leavesTheList_andItsRunningWorkRunsAgainWithoutCountingAsAFailure() throws {
        var grid = GridHarness(localNodes: 0)
        let first = try #require(grid.join(session: 1, workers: 1, capacity: 2).first)
        let job = try grid.submit(Workflow(name: "evicted", tasks: [fn("a"), fn("b")]))
        grid.start(on: first)
        let mark = grid.log.count
        grid.perform(grid.core.onHostReleased(session: 1, now: grid.now))
        #expect(grid.states[first] == nil, "released, not LOST")
        #expect(grid.directives(since: mark).contains { if case .closeHost(1, [first], requeued: 1, rerun: 1) = $0 { true } else { false } })
        #expect(grid.status(job, "a") == .pending && grid.status(job, "b") == .pending)
        // A late result from the released session is dropped.
        grid.perform(grid.core.onReports(
            [.finished(job: job, index: 0, attempt: 1, node: first, assignedNode: first, outcome: .success(result: .null, variables: nil), ran: 0)],
            session: 1, now: grid.now))
        #expect(grid.status(job, "a") == .pending)
        let second = try #require(grid.join(session: 2, workers: 1, capacity: 2).first)
        grid.runAll()
        let report = try #require(grid.core.job(job))
        #expect(report.status == .finished)
        #expect(report.instances[0].executions == 2, "a new attempt number, so no late report is taken for it")
        #expect(report.instances[0].excludedNodes.isEmpty && report.instances[0].node == second, "no node failure counted")
        #expect(!grid.records.contains { if case .lost = $0 { true } else { false } })
    }

    @Test func anEvictionThatCountsAsAFailure_followsTheNodeFailureRule() throws {
        var grid = GridHarness(localNodes: 0)
        let first = try #require(grid.join(session: 1, workers: 1).first)
        let job = try grid.submit(Workflow(name: "spot", tasks: [fn("a")]))
        grid.start(on: first)
        grid.perform(grid.core.onHostReleased(session: 1, countsAsFailure: true, now: grid.now))
        #expect(grid.records.contains(.lost(job: job, index: 0, attempt: 1, node: first, at: .zero)))
        #expect(grid.core.job(job)?.instances[0].excludedNodes == [first])
    }

    @Test func demand_countsOnlyTasksForTheSource_andRunningWorkOnItsNodes() throws {
        var grid = GridHarness(localNodes: 1)
        let targeted = TaskDefinition("gpu", .function("f"), genericInfo: ["NODE_SOURCE": "other"])
        try grid.submit(Workflow(name: "mix", tasks: [fn("a"), fn("b"), targeted]))
        let cloud = grid.core.demand(source: "agents", now: .zero)
        #expect(cloud.ready == 1 && cloud.running == 0, "a runs on the local node, gpu targets another source")
        let every = grid.core.demand(now: .zero)
        #expect(every.ready == 2 && every.running == 1)
    }

    @Test func aSimulatedDay_isTheSameForTheSameSeed_andEveryJobFinishes() {
        let setup = ElasticSimulation.Setup(seed: 7, length: .seconds(10 * 3600))
        let first = ElasticSimulation.run(setup, policy: TesseraPolicy(maxHosts: 10))
        let again = ElasticSimulation.run(setup, policy: TesseraPolicy(maxHosts: 10))
        print("elastic day: seed 7, 10 h (the 09:30 burst), \(first.jobs) jobs, trace \(first.traceHash), cost \(first.cost)")
        #expect(first.traceHash == again.traceHash && first.cost == again.cost && first.meanTurnaroundSeconds == again.meanTurnaroundSeconds)
        #expect(first.jobs > 10 && first.jobsNotFinished == 0)
        let always = ElasticSimulation.run(setup, policy: StaticPolicy(hosts: 10))
        #expect(always.jobsNotFinished == 0 && always.scaleCycles == 0)
        let hours = max(10, always.endSeconds / 3600)
        #expect(abs(always.hostHours - 10 * hours) < 0.1, "10 hosts from the start to the last job's end: \(always.hostHours)")
        #expect(first.cost > 0 && first.acquisitions > 0, "the burst needs cloud hosts")
        #expect(first.cost < always.cost * 0.6, "\(first.cost) against \(always.cost)")
        #expect(first.meanTurnaroundSeconds < always.meanTurnaroundSeconds * 1.1)
        let other = ElasticSimulation.run(ElasticSimulation.Setup(seed: 8, length: .seconds(10 * 3600)), policy: TesseraPolicy(maxHosts: 10))
        #expect(other.traceHash != first.traceHash)
    }
}
