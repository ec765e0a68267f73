import Testing

@testable import Actors

@Suite struct PlacementPlanTests {
    static let twoNUMA = "package:1 numa:2 l3:2 core:8 pu:1"
    static let twoSockets = "package:2 [numa] l3:1 core:16 pu:1"
    static let smt = "package:1 numa:2 core:16 pu:2"

    private func topology(_ spec: String) throws -> Topology {
        try MachineTopology(synthetic: spec).topology
    }

    @Test(arguments: [twoNUMA, twoSockets, smt])
    func spread_32Workers_16PerNUMANodeOnDistinctCores(spec: String) throws {
        let plan = try PlacementPlan.make(for: topology(spec), request: .init(workers: 32, strategy: .spread))
        #expect(plan.workerCount == 32)
        #expect(Set(plan.slots.map(\.core)).count == 32)
        #expect(plan.workers(onNUMANode: 0).count == 16)
        #expect(plan.workers(onNUMANode: 1).count == 16)
        #expect(plan.slots.map(\.worker) == Array(0..<32))
        // Consecutive workers alternate nodes.
        #expect(plan.slots.prefix(4).map(\.numaNode) == [0, 1, 0, 1])
        #expect(!plan.isOversubscribed)
    }

    @Test func spread_twoNUMA_exactPlanAlternatesNodesThenL3() throws {
        let plan = try PlacementPlan.make(for: topology(Self.twoNUMA), request: .init(strategy: .spread))
        #expect(plan.slots.prefix(8).map(\.core) == [0, 16, 8, 24, 1, 17, 9, 25])
        #expect(plan.slots.prefix(8).map(\.l3) == [0, 2, 1, 3, 0, 2, 1, 3])
        #expect(plan.slots.last?.core == 31)
    }

    @Test(arguments: [twoNUMA, twoSockets, smt])
    func compact_fillsNode0First(spec: String) throws {
        let plan = try PlacementPlan.make(for: topology(spec), request: .init(workers: 20, strategy: .compact))
        #expect(plan.slots.map(\.core) == Array(0..<20))
        #expect(plan.workers(onNUMANode: 0) == Array(0..<16))
        #expect(plan.workers(onNUMANode: 1) == Array(16..<20))
    }

    @Test func smt_siblingsNeverShared_unlessAsked() throws {
        let smt = try topology(Self.smt)
        let plan = try PlacementPlan.make(for: smt, request: .init(strategy: .spread))
        #expect(plan.workerCount == 32)
        // Each worker owns a whole core: both of its PUs, and no PU appears twice.
        let pus = plan.slots.flatMap(\.processingUnits)
        #expect(pus.count == 64 && Set(pus).count == 64)
        #expect(plan.slots.allSatisfy { $0.processingUnits == [2 * $0.core, 2 * $0.core + 1] })

        #expect(throws: PlacementError.tooManyWorkers(requested: 33, available: 32)) {
            try PlacementPlan.make(for: smt, request: .init(workers: 33))
        }

        let shared = try PlacementPlan.make(for: smt, request: .init(workers: 64, shareSMTSiblings: true))
        #expect(shared.workerCount == 64)
        #expect(Set(shared.slots.flatMap(\.processingUnits)).count == 64)
        // Every core's first PU is used before any second PU.
        #expect(shared.slots.prefix(32).allSatisfy { $0.processingUnits == [2 * $0.core] })
        #expect(shared.slots.suffix(32).allSatisfy { $0.processingUnits == [2 * $0.core + 1] })
    }

    @Test(arguments: [twoNUMA, twoSockets, smt])
    func reservedCores_areNeverUsed(spec: String) throws {
        let topology = try topology(spec)
        let first = try PlacementPlan.make(for: topology, request: .init(reserved: .first(2), strategy: .spread))
        #expect(first.reservedCores == [0, 1])
        #expect(first.workerCount == 30)
        #expect(first.slots.allSatisfy { !first.reservedCores.contains($0.core) })

        let chosen = try PlacementPlan.make(for: topology, request: .init(reserved: .cores([5, 20])))
        #expect(chosen.reservedCores == [5, 20])
        #expect(chosen.slots.allSatisfy { $0.core != 5 && $0.core != 20 })
        #expect(chosen.workerCount == 30)
    }

    @Test func badRequests_getTypedErrors() throws {
        let topology = try topology(Self.twoNUMA)
        #expect(throws: PlacementError.invalidWorkerCount(0)) {
            try PlacementPlan.make(for: topology, request: .init(workers: 0))
        }
        #expect(throws: PlacementError.unknownReservedCore(32)) {
            try PlacementPlan.make(for: topology, request: .init(reserved: .cores([32])))
        }
        #expect(throws: PlacementError.everyCoreReserved(cores: 32)) {
            try PlacementPlan.make(for: topology, request: .init(reserved: .first(32)))
        }
        #expect(throws: PlacementError.tooManyWorkers(requested: 31, available: 30)) {
            try PlacementPlan.make(for: topology, request: .init(workers: 31, reserved: .first(2)))
        }
    }

    @Test func oversubscription_wrapsAroundOnlyWhenAsked() throws {
        let topology = try topology("package:1 core:2 pu:1")
        let plan = try PlacementPlan.make(for: topology, request: .init(workers: 5, oversubscribe: true))
        #expect(plan.isOversubscribed)
        #expect(plan.slots.map(\.core) == [0, 1, 0, 1, 0])
    }

    @Test func plan_isDeterministicAndPrintable() throws {
        let topology = try topology(Self.twoSockets)
        let request = PlacementPlan.Request(workers: 8, reserved: .first(1), strategy: .spread)
        let a = try PlacementPlan.make(for: topology, request: request)
        let b = try PlacementPlan.make(for: topology, request: request)
        #expect(a == b)
        let text = "\(a)"
        #expect(text.hasPrefix("placement: 8 workers, spread, reserved cores 0"))
        #expect(text.contains("worker 1 -> core 16 (PU 16) numa 1 l3 1"))
        #expect(a.numaNodesInUse == [0, 1])
    }
}
