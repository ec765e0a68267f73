import Testing

@testable import Actors

@Suite struct SyntheticTopologyTests {
    @Test func synthetic_twoNUMAWithFourL3_hasExpectedShape() throws {
        let topology = try MachineTopology(synthetic: "package:1 numa:2 l3:2 core:8 pu:1").topology
        #expect(topology.source == .synthetic("package:1 numa:2 l3:2 core:8 pu:1"))
        #expect(topology.packages.count == 1)
        #expect(topology.numaNodes.count == 2)
        #expect(topology.l3Caches.count == 4)
        #expect(topology.cores.count == 32)
        #expect(topology.processingUnitCount == 32)
        #expect(topology.numaNodes[0].cores == Array(0..<16))
        #expect(topology.numaNodes[1].cores == Array(16..<32))
        #expect(topology.cores[15].numaNode == 0 && topology.cores[15].l3 == 1)
        #expect(topology.cores[16].numaNode == 1 && topology.cores[16].l3 == 2)
        #expect(topology.numaNodes.allSatisfy { $0.memoryBytes > 0 })
        #expect(!topology.hasSMT)
    }

    @Test func synthetic_twoSocketsWithMemoryChildren_hasOneNUMANodePerPackage() throws {
        let topology = try MachineTopology(synthetic: "package:2 [numa] l3:1 core:16 pu:1").topology
        #expect(topology.packages.count == 2)
        #expect(topology.numaNodes.count == 2)
        #expect(topology.l3Caches.count == 2)
        #expect(topology.cores.count == 32)
        #expect(topology.packages[0].numaNodes == [0] && topology.packages[1].numaNodes == [1])
        #expect(topology.packages[1].cores == Array(16..<32))
    }

    @Test func synthetic_SMT_coreOwnsConsecutivePUs() throws {
        let topology = try MachineTopology(synthetic: "package:1 numa:2 core:16 pu:2").topology
        #expect(topology.cores.count == 32)
        #expect(topology.processingUnitCount == 64)
        #expect(topology.hasSMT)
        for core in topology.cores {
            #expect(core.processingUnits == [2 * core.index, 2 * core.index + 1])
        }
        #expect(topology.l3Caches.isEmpty)
    }

    @Test(arguments: [
        ("package:1 numa:2 l3:2 kore:8 pu:1", "kore:8", 3),
        ("package:1 numa:two core:8 pu:1", "numa:two", 1),
        ("package:1 numa:0 core:8 pu:1", "numa:0", 1),
        ("package:1 core:8", "core:8", 1),
        ("package:1 core:8 pu:1 core:2", "core:2", 3),
        ("package:1 core:8 core:2 pu:1", "core:2", 2),
        ("core:4 package:2 pu:1", "package:2", 1),
        ("package:1 [core] core:2 pu:1", "[core]", 1),
        ("package:1 core:8(memory pu:1", "core:8(memory", 1),
        ("package", "package", 0),
        ("package:1 core:100000 pu:4", "core:100000", 1),
    ])
    func synthetic_malformed_namesTheBadToken(spec: String, token: String, position: Int) {
        #expect {
            try SyntheticTopologySpec(spec)
        } throws: { error in
            guard case .malformedSynthetic(_, let bad, let at, let reason)? = error as? TopologyError else { return false }
            return bad == token && at == position && !reason.isEmpty
        }
    }

    @Test func synthetic_empty_isAnError() {
        #expect(throws: TopologyError.self) { try SyntheticTopologySpec("   ") }
    }

    @Test func synthetic_attributesAndCaseAreAccepted() throws {
        let spec = try SyntheticTopologySpec("Package:1 NUMANode:2(memory=2GB) L3Cache:1 Core:2 PU:2")
        #expect(spec.processingUnits == 8)
        let topology = try MachineTopology(synthetic: spec.text).topology
        #expect(topology.numaNodes.count == 2)
        #expect(topology.processingUnitCount == 8)
    }

    @Test func synthetic_errorDescription_quotesTheToken() {
        let error = TopologyError.malformedSynthetic(spec: "a:1", token: "a:1", position: 0, reason: "unknown object type 'a'")
        #expect("\(error)".contains("token 1 'a:1'"))
    }

    @Test func machine_loads_withCoresPUsAndANUMANode() throws {
        let machine = try MachineTopology.load()
        let topology = machine.topology
        #expect(machine.isMachine)
        #expect(topology.cores.count >= 1)
        #expect(topology.numaNodes.count >= 1)
        let pus = topology.cores.flatMap(\.processingUnits)
        #expect(Set(pus).count == pus.count, "a PU belongs to one core only")
        #expect(Set(ThreadAffinity.process()).isSubset(of: Set(pus)) || pus.count >= ThreadAffinity.process().count)
        #expect(topology.numaNodes.flatMap(\.cores).sorted() == Array(topology.cores.indices))
    }
}
