#if canImport(Glibc)
import Glibc
#endif
import CHwloc

/// A loaded hwloc topology: the real machine (which can be bound to) or a synthetic one (a plan only).
///
/// Load the machine once per process and share it: loading walks `/sys` and takes milliseconds.
/// The value description is ``topology``; the handle stays alive for NUMA-bound allocations
/// (``NUMABuffer``).
// Invariant for @unchecked Sendable: the hwloc handle is fully loaded in `init` and never modified
// afterwards; hwloc documents read-only use of a loaded topology (queries, binding, membind
// allocation) as thread-safe. The handle is destroyed only in `deinit`, when no one can use it.
public final class MachineTopology: @unchecked Sendable {
    /// The topology as plain values.
    public let topology: Topology
    let handle: hwloc_topology_t

    /// Loads the topology of the machine this process runs on, restricted to the CPUs the process is
    /// bound to (`taskset`, `numactl --physcpubind`, a batch system's binding: the main thread's affinity);
    /// cgroup cpusets are honoured as well, by hwloc itself.
    ///
    /// - Throws: `TopologyError.hwlocFailed` when hwloc cannot read the machine, or
    ///   `TopologyError.empty` when it finds no core.
    public static func load() throws(TopologyError) -> MachineTopology {
        try MachineTopology(source: .machine)
    }

    /// Builds a topology from an hwloc synthetic description, checked first by ``SyntheticTopologySpec``.
    ///
    /// - Parameter synthetic: for example `package:1 numa:2 l3:2 core:8 pu:1`.
    /// - Throws: `TopologyError.malformedSynthetic` naming the bad token, or `TopologyError.hwlocFailed`.
    public convenience init(synthetic: String) throws(TopologyError) {
        let spec = try SyntheticTopologySpec(synthetic)
        try self.init(source: .synthetic(spec.text))
    }

    private init(source: Topology.Source) throws(TopologyError) {
        var maybeHandle: hwloc_topology_t?
        guard hwloc_topology_init(&maybeHandle) == 0, let handle = maybeHandle else {
            throw .hwlocFailed(operation: "topology_init", errno: errno)
        }
        if case .synthetic(let text) = source {
            guard hwloc_topology_set_synthetic(handle, text) == 0 else {
                let code = errno
                hwloc_topology_destroy(handle)
                throw .hwlocFailed(operation: "topology_set_synthetic('\(text)')", errno: code)
            }
        }
        guard hwloc_topology_load(handle) == 0 else {
            let code = errno
            hwloc_topology_destroy(handle)
            throw .hwlocFailed(operation: "topology_load", errno: code)
        }
        if source == .machine {
            do {
                try Self.restrictToProcessBinding(handle)
            } catch {
                hwloc_topology_destroy(handle)
                throw error
            }
        }
        let topology = Self.describe(handle, source: source)
        guard !topology.cores.isEmpty else {
            hwloc_topology_destroy(handle)
            throw .empty(source)
        }
        self.handle = handle
        self.topology = topology
    }

    deinit {
        hwloc_topology_destroy(handle)
    }

    /// Whether this is the running machine, whose OS indexes can be bound to.
    public var isMachine: Bool { topology.source == .machine }

    /// Keeps only the PUs the process may run on (``ThreadAffinity/process()``, the binding the worker pools check
    /// too): a grid started under `taskset`, `numactl --physcpubind` or a batch system's CPU binding places its
    /// workers inside that binding. Nothing changes when the binding covers the whole machine.
    private static func restrictToProcessBinding(_ handle: hwloc_topology_t) throws(TopologyError) {
        let allowed = ThreadAffinity.process()
        guard !allowed.isEmpty, let whole = hwloc_topology_get_topology_cpuset(handle), let set = hwloc_bitmap_alloc() else {
            return
        }
        defer { hwloc_bitmap_free(set) }
        for unit in allowed { hwloc_bitmap_set(set, UInt32(unit)) }
        guard hwloc_bitmap_isincluded(whole, set) == 0 else { return }
        guard hwloc_topology_restrict(handle, set, 0) == 0 else {
            throw .hwlocFailed(operation: "topology_restrict", errno: errno)
        }
    }

    /// Reads hwloc's tree into plain values.
    private static func describe(_ handle: hwloc_topology_t, source: Topology.Source) -> Topology {
        let numaObjects = objects(handle, HWLOC_OBJ_NUMANODE)
        var numaByOSIndex: [Int: Int] = [:]
        var numaNodes: [Topology.NUMANode] = []
        for (index, object) in numaObjects.enumerated() {
            let osIndex = Int(object.pointee.os_index)
            numaByOSIndex[osIndex] = index
            let memory = object.pointee.attr.map { $0.pointee.numanode.local_memory } ?? 0
            numaNodes.append(.init(index: index, osIndex: osIndex, memoryBytes: memory, cores: []))
        }

        let l3Objects = objects(handle, HWLOC_OBJ_L3CACHE)
        var l3Caches = l3Objects.enumerated().map { index, object in
            Topology.Cache(
                index: index, sizeBytes: object.pointee.attr.map { $0.pointee.cache.size } ?? 0, cores: [])
        }

        let packageObjects = objects(handle, HWLOC_OBJ_PACKAGE)
        var packages = packageObjects.indices.map { Topology.Package(index: $0, numaNodes: [], cores: []) }
        if packages.isEmpty { packages = [.init(index: 0, numaNodes: [], cores: [])] }

        // Some virtual machines expose PUs without cores; each PU then counts as a core.
        var coreObjects = objects(handle, HWLOC_OBJ_CORE)
        if coreObjects.isEmpty { coreObjects = objects(handle, HWLOC_OBJ_PU) }

        var cores: [Topology.Core] = []
        for (index, object) in coreObjects.enumerated() {
            let pus = objectsInside(handle, object.pointee.cpuset, HWLOC_OBJ_PU).map { Int($0.pointee.os_index) }
            let firstNode = object.pointee.nodeset.map { Int(hwloc_bitmap_first($0)) } ?? 0
            let numa = numaByOSIndex[firstNode] ?? 0
            let package = hwloc_get_ancestor_obj_by_type(handle, HWLOC_OBJ_PACKAGE, object)
                .map { Int($0.pointee.logical_index) } ?? 0
            let l3 = hwloc_get_ancestor_obj_by_type(handle, HWLOC_OBJ_L3CACHE, object)
                .map { Int($0.pointee.logical_index) }
            cores.append(
                .init(
                    index: index, osIndex: Int(object.pointee.os_index), package: package, numaNode: numa,
                    l3: l3, processingUnits: pus.isEmpty ? [Int(object.pointee.os_index)] : pus))
            if numaNodes.indices.contains(numa) { numaNodes[numa].cores.append(index) }
            if let l3, l3Caches.indices.contains(l3) { l3Caches[l3].cores.append(index) }
            if packages.indices.contains(package) {
                packages[package].cores.append(index)
                if !packages[package].numaNodes.contains(numa) { packages[package].numaNodes.append(numa) }
            }
        }
        if numaNodes.isEmpty {
            numaNodes = [.init(index: 0, osIndex: 0, memoryBytes: 0, cores: Array(cores.indices))]
        }
        return Topology(source: source, packages: packages, numaNodes: numaNodes, l3Caches: l3Caches, cores: cores)
    }

    private static func objects(_ handle: hwloc_topology_t, _ type: hwloc_obj_type_t) -> [hwloc_obj_t] {
        let count = hwloc_get_nbobjs_by_type(handle, type)
        guard count > 0 else { return [] }
        return (0..<UInt32(count)).compactMap { hwloc_get_obj_by_type(handle, type, $0) }
    }

    private static func objectsInside(
        _ handle: hwloc_topology_t, _ set: hwloc_const_cpuset_t?, _ type: hwloc_obj_type_t
    ) -> [hwloc_obj_t] {
        guard let set else { return [] }
        let count = hwloc_get_nbobjs_inside_cpuset_by_type(handle, set, type)
        guard count > 0 else { return [] }
        return (0..<UInt32(count)).compactMap { hwloc_get_obj_inside_cpuset_by_type(handle, set, type, $0) }
    }
}
