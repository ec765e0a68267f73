extension PlacementPlan {
    /// Plans workers on `topology`.
    ///
    /// Each core gets at most one worker unless `shareSMTSiblings` is set; then every core's first PU is
    /// used before any second PU. With `.spread`, consecutive workers alternate NUMA nodes, and inside a
    /// node they alternate L3 caches; with `.compact` they fill node 0 first, in logical core order.
    ///
    /// - Parameters:
    ///   - topology: the machine, real or synthetic.
    ///   - request: workers, reservation, strategy and sharing rules.
    /// - Returns: the plan; the same inputs always give the same plan.
    /// - Throws: `PlacementError` when the request cannot be met.
    public static func make(for topology: Topology, request: Request = .init()) throws(PlacementError) -> PlacementPlan {
        let reserved = try reservedCores(request.reserved, in: topology)
        let available = topology.cores.filter { !reserved.contains($0.index) }
        guard !available.isEmpty else { throw .everyCoreReserved(cores: topology.cores.count) }

        let ordered = order(available, topology: topology, strategy: request.strategy)
        var places: [(core: Topology.Core, pus: [Int])] = []
        if request.shareSMTSiblings {
            let depth = ordered.map(\.processingUnits.count).max() ?? 1
            for pass in 0..<depth {
                for core in ordered where core.processingUnits.count > pass {
                    places.append((core, [core.processingUnits[pass]]))
                }
            }
        } else {
            places = ordered.map { ($0, $0.processingUnits) }
        }

        let count = request.workers ?? places.count
        guard count >= 1 else { throw .invalidWorkerCount(count) }
        guard count <= places.count || request.oversubscribe else {
            throw .tooManyWorkers(requested: count, available: places.count)
        }
        let slots = (0..<count).map { worker in
            let place = places[worker % places.count]
            return Slot(
                worker: worker, core: place.core.index, coreOSIndex: place.core.osIndex,
                processingUnits: place.pus, numaNode: place.core.numaNode, l3: place.core.l3)
        }
        return PlacementPlan(
            source: topology.source, strategy: request.strategy, slots: slots,
            reservedCores: reserved.sorted(), isOversubscribed: count > places.count)
    }

    private static func reservedCores(_ reservation: Reservation, in topology: Topology) throws(PlacementError) -> Set<Int> {
        switch reservation {
        case .none:
            return []
        case .first(let count):
            guard count < topology.cores.count else { throw .everyCoreReserved(cores: topology.cores.count) }
            return Set(topology.cores.prefix(max(0, count)).map(\.index))
        case .cores(let cores):
            if let unknown = cores.sorted().first(where: { !topology.cores.indices.contains($0) }) {
                throw .unknownReservedCore(unknown)
            }
            return cores
        }
    }

    /// Orders cores so that taking a prefix gives the strategy's layout.
    private static func order(_ cores: [Topology.Core], topology: Topology, strategy: Strategy) -> [Topology.Core] {
        switch strategy {
        case .compact:
            return cores.sorted { ($0.numaNode, $0.index) < ($1.numaNode, $1.index) }
        case .spread:
            let byNode = Dictionary(grouping: cores, by: \.numaNode).sorted { $0.key < $1.key }
                .map { interleave(Dictionary(grouping: $0.value, by: { $0.l3 ?? -1 }).sorted { $0.key < $1.key }.map(\.value)) }
            return interleave(byNode)
        }
    }

    /// Round-robin over groups: first of each, then second of each, and so on.
    private static func interleave(_ groups: [[Topology.Core]]) -> [Topology.Core] {
        var result: [Topology.Core] = []
        let longest = groups.map(\.count).max() ?? 0
        for position in 0..<longest {
            for group in groups where position < group.count {
                result.append(group[position])
            }
        }
        return result
    }
}
