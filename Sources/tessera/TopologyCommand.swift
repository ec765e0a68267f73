import Actors
import ArgumentParser

/// `tessera topology`: the machine (or a synthetic one) and the placement plan for it.
struct TopologyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "topology",
        abstract: "Print the hardware topology and the worker placement plan.",
        discussion: """
            Without --synthetic the topology is this machine's, read through hwloc. A synthetic \
            description such as 'package:1 numa:2 l3:2 core:8 pu:1' plans for another machine.
            """
    )

    @Option(help: "An hwloc synthetic topology, for example 'package:2 [numa] l3:1 core:16 pu:1'.")
    var synthetic: String?

    @Option(help: "Number of workers (default: one per free core).")
    var workers: Int?

    @Option(help: "Cores to keep free of workers, taken from core 0 upwards.")
    var reserve: Int = 0

    @Flag(help: "Fill NUMA node 0 first (--compact, the default) or alternate nodes (--spread).")
    var strategy: PlacementPlan.Strategy = .compact

    @Flag(help: "Allow two workers on the hardware threads of one core.")
    var shareSMTSiblings = false

    @Flag(help: "Allow more workers than free slots.")
    var oversubscribe = false

    @Flag(help: "Print one JSON object.")
    var json = false

    func validate() throws {
        if let workers, workers < 1 { throw ValidationError("--workers must be at least 1 (got \(workers))") }
        if reserve < 0 { throw ValidationError("--reserve must not be negative (got \(reserve))") }
    }

    func run() throws {
        let machine = try synthetic.map { try MachineTopology(synthetic: $0) } ?? MachineTopology.load()
        let request = PlacementPlan.Request(
            workers: workers, reserved: reserve > 0 ? .first(reserve) : .none, strategy: strategy,
            shareSMTSiblings: shareSMTSiblings, oversubscribe: oversubscribe)
        let plan = try PlacementPlan.make(for: machine.topology, request: request)
        if json {
            try printJSON(TopologyReport(topology: machine.topology, plan: plan))
        } else {
            print(machine.topology)
            print(plan)
        }
    }
}

extension PlacementPlan.Strategy: EnumerableFlag {}

/// The JSON shape of `tessera topology --json`.
struct TopologyReport: Encodable {
    struct NUMA: Encodable {
        var node: Int
        var osIndex: Int
        var memoryBytes: UInt64
        var cores: [Int]
    }

    struct Worker: Encodable {
        var worker: Int
        var core: Int
        var numaNode: Int
        var l3: Int?
        var processingUnits: [Int]
    }

    var source: String
    var synthetic: String?
    var packages: Int
    var numaNodes: Int
    var l3Caches: Int
    var cores: Int
    var processingUnits: Int
    var numa: [NUMA]
    var strategy: String
    var reservedCores: [Int]
    var oversubscribed: Bool
    var workers: [Worker]

    init(topology: Topology, plan: PlacementPlan) {
        switch topology.source {
        case .machine:
            source = "machine"
        case .synthetic(let text):
            source = "synthetic"
            synthetic = text
        }
        packages = topology.packages.count
        numaNodes = topology.numaNodes.count
        l3Caches = topology.l3Caches.count
        cores = topology.cores.count
        processingUnits = topology.processingUnitCount
        numa = topology.numaNodes.map { node in
            NUMA(
                node: node.index, osIndex: node.osIndex, memoryBytes: node.memoryBytes,
                cores: node.cores.map { topology.cores[$0].osIndex })
        }
        strategy = plan.strategy.rawValue
        reservedCores = plan.reservedCores.map { topology.cores[$0].osIndex }
        oversubscribed = plan.isOversubscribed
        workers = plan.slots.map {
            Worker(worker: $0.worker, core: $0.coreOSIndex, numaNode: $0.numaNode, l3: $0.l3, processingUnits: $0.processingUnits)
        }
    }
}
