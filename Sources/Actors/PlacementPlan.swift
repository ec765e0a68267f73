/// Which worker runs on which core: a deterministic, printable, comparable plan for a topology.
///
/// A plan is pure data made by ``PlacementPlan/make(for:request:)`` from a ``Topology``, so the plan for a
/// 32-core, 2-NUMA VM can be made and checked on any machine. ``WorkerPool`` binds its threads by it.
public struct PlacementPlan: Sendable, Hashable, Codable {
    /// How workers are laid over NUMA nodes.
    public enum Strategy: String, Sendable, Hashable, Codable, CaseIterable {
        /// Fill one NUMA node's cores before the next: least cross-node traffic, one memory bank.
        case compact
        /// Alternate NUMA nodes (and L3 caches inside a node): every memory bank and cache works.
        case spread
    }

    /// What to plan for.
    public struct Request: Sendable, Hashable {
        /// How many workers; `nil` means one per available core (one per PU with `shareSMTSiblings`).
        public var workers: Int?
        /// Cores kept free of workers, for example one for the scheduler and I/O.
        public var reserved: Reservation
        /// Compact or spread over NUMA nodes.
        public var strategy: Strategy
        /// Allow two workers on the hardware threads of one core; each worker then owns a single PU.
        public var shareSMTSiblings: Bool
        /// Allow more workers than slots; the extra workers wrap around and share slots.
        public var oversubscribe: Bool

        /// Makes a request; the defaults give one worker per core of the whole machine, compact.
        public init(
            workers: Int? = nil, reserved: Reservation = .none, strategy: Strategy = .compact,
            shareSMTSiblings: Bool = false, oversubscribe: Bool = false
        ) {
            self.workers = workers
            self.reserved = reserved
            self.strategy = strategy
            self.shareSMTSiblings = shareSMTSiblings
            self.oversubscribe = oversubscribe
        }
    }

    /// Cores kept out of the plan.
    public enum Reservation: Sendable, Hashable {
        /// Every core may hold a worker.
        case none
        /// The first `count` cores in logical order (core 0 takes most interrupts on Linux).
        case first(Int)
        /// These cores, by logical index.
        case cores(Set<Int>)
    }

    /// One worker's place.
    public struct Slot: Sendable, Hashable, Codable {
        /// The worker's index, 0-based and dense.
        public var worker: Int
        /// Logical index of the core in the topology.
        public var core: Int
        /// The core's OS index.
        public var coreOSIndex: Int
        /// OS indexes of the PUs the worker is bound to: the whole core, or one PU when sharing siblings.
        public var processingUnits: [Int]
        /// Logical index of the core's NUMA node.
        public var numaNode: Int
        /// Logical index of the core's L3 cache, when there is one.
        public var l3: Int?
    }

    /// The topology the plan was made for.
    public var source: Topology.Source
    /// The strategy used.
    public var strategy: Strategy
    /// One slot per worker, in worker order.
    public var slots: [Slot]
    /// Logical indexes of the reserved cores, ascending.
    public var reservedCores: [Int]
    /// Whether some slot holds more than one worker.
    public var isOversubscribed: Bool

    /// The number of workers.
    public var workerCount: Int { slots.count }

    /// The workers on NUMA node `node`, in worker order.
    public func workers(onNUMANode node: Int) -> [Int] {
        slots.filter { $0.numaNode == node }.map(\.worker)
    }

    /// The NUMA nodes that hold at least one worker, ascending.
    public var numaNodesInUse: [Int] {
        Array(Set(slots.map(\.numaNode))).sorted()
    }
}

/// Why a placement plan cannot be made.
public enum PlacementError: Error, Sendable, Hashable {
    /// More workers were asked for than there are slots, and oversubscription was not requested.
    case tooManyWorkers(requested: Int, available: Int)
    /// The worker count is zero or negative.
    case invalidWorkerCount(Int)
    /// A reserved core does not exist in the topology.
    case unknownReservedCore(Int)
    /// The reservation leaves no core for workers.
    case everyCoreReserved(cores: Int)
}

extension PlacementError: CustomStringConvertible {
    public var description: String {
        switch self {
        case let .tooManyWorkers(requested, available):
            "\(requested) workers requested but only \(available) \(available == 1 ? "slot is" : "slots are") free; "
                + "ask for oversubscription to share slots"
        case let .invalidWorkerCount(count):
            "the worker count must be at least 1 (got \(count))"
        case let .unknownReservedCore(core):
            "reserved core \(core) does not exist in this topology"
        case let .everyCoreReserved(cores):
            "all \(cores) cores are reserved; none is left for workers"
        }
    }
}
