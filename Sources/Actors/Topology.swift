/// The hardware of one machine as plain values: packages, NUMA nodes, L3 caches, cores and their PUs.
///
/// Every list is in hwloc's logical order, and the items refer to each other by logical index
/// (`Core.numaNode` is an index into `numaNodes`). OS indexes, the numbers the kernel uses for
/// binding, are kept beside them (`Core.processingUnits`, `NUMANode.osIndex`). A `Topology` is built
/// from the real machine or from an hwloc synthetic description by ``MachineTopology``, and it is all
/// a ``PlacementPlan`` needs, so plans for a 32-core VM can be made and tested on a laptop.
public struct Topology: Sendable, Hashable, Codable {
    /// Where a topology came from.
    public enum Source: Sendable, Hashable, Codable {
        /// Discovered on the running machine; its OS indexes can be bound to.
        case machine
        /// Built from an hwloc synthetic description; a plan only, nothing to bind to.
        case synthetic(String)
    }

    /// One processor package (socket).
    public struct Package: Sendable, Hashable, Codable {
        /// Logical index among the packages.
        public var index: Int
        /// Logical indexes of the NUMA nodes whose cores sit in this package.
        public var numaNodes: [Int]
        /// Logical indexes of the cores in this package.
        public var cores: [Int]
    }

    /// One NUMA node: a memory bank and the cores closest to it.
    public struct NUMANode: Sendable, Hashable, Codable {
        /// Logical index among the NUMA nodes.
        public var index: Int
        /// The kernel's number for this node (what `mbind` and `numactl` use).
        public var osIndex: Int
        /// Local memory in bytes as hwloc reports it (0 when unknown).
        public var memoryBytes: UInt64
        /// Logical indexes of the cores local to this node.
        public var cores: [Int]
    }

    /// One L3 cache and the cores that share it.
    public struct Cache: Sendable, Hashable, Codable {
        /// Logical index among the L3 caches.
        public var index: Int
        /// Size in bytes (0 when unknown).
        public var sizeBytes: UInt64
        /// Logical indexes of the cores sharing this cache.
        public var cores: [Int]
    }

    /// One physical core.
    public struct Core: Sendable, Hashable, Codable {
        /// Logical index among the cores.
        public var index: Int
        /// The kernel's core number (hwloc `os_index`).
        public var osIndex: Int
        /// Logical index of the package holding the core.
        public var package: Int
        /// Logical index of the NUMA node local to the core.
        public var numaNode: Int
        /// Logical index of the L3 cache of the core, when there is one.
        public var l3: Int?
        /// OS indexes of the core's processing units (hardware threads); two or more means SMT.
        public var processingUnits: [Int]
    }

    /// Where this description came from.
    public var source: Source
    /// The packages, in logical order.
    public var packages: [Package]
    /// The NUMA nodes, in logical order.
    public var numaNodes: [NUMANode]
    /// The L3 caches, in logical order (empty when hwloc reports none).
    public var l3Caches: [Cache]
    /// The cores, in logical order.
    public var cores: [Core]

    /// Makes a topology from its parts; ``MachineTopology`` is the usual way to get one.
    public init(source: Source, packages: [Package], numaNodes: [NUMANode], l3Caches: [Cache], cores: [Core]) {
        self.source = source
        self.packages = packages
        self.numaNodes = numaNodes
        self.l3Caches = l3Caches
        self.cores = cores
    }

    /// The number of processing units (hardware threads) over all cores.
    public var processingUnitCount: Int {
        cores.reduce(0) { $0 + $1.processingUnits.count }
    }

    /// Whether any core has more than one processing unit.
    public var hasSMT: Bool {
        cores.contains { $0.processingUnits.count > 1 }
    }
}
