import CHwloc

#if canImport(Glibc)
import Glibc
#endif

/// Memory bound to one NUMA node of this machine (hwloc `alloc_membind`), freed when released.
///
/// Give each worker buffers on its own node (`pool.plan.slots[worker].numaNode`) so its loads and
/// stores stay local. The memory is zero-filled; pages are placed when first touched, and hwloc's
/// `BIND` policy keeps them on the node.
public final class NUMABuffer<Element: BitwiseCopyable> {
    /// The number of elements.
    public let count: Int
    /// The logical NUMA node the memory is bound to.
    public let numaNode: Int
    private let machine: MachineTopology
    private let base: UnsafeMutableRawPointer
    private let byteCount: Int

    /// Allocates `count` elements on NUMA node `numaNode`.
    ///
    /// - Parameters:
    ///   - count: elements to allocate (≥ 1).
    ///   - numaNode: the logical index of a NUMA node of `machine`.
    ///   - machine: the loaded topology of this machine (a synthetic one has no memory to bind).
    /// - Throws: `NUMAMemoryError` when the request is impossible or the system refuses it.
    public init(count: Int, numaNode: Int, machine: MachineTopology) throws(NUMAMemoryError) {
        guard machine.isMachine else { throw .syntheticTopology }
        guard count >= 1 else { throw .invalidCount(count) }
        guard machine.topology.numaNodes.indices.contains(numaNode) else {
            throw .unknownNode(numaNode, available: machine.topology.numaNodes.count)
        }
        let (bytes, overflow) = count.multipliedReportingOverflow(by: MemoryLayout<Element>.stride)
        guard !overflow else { throw .invalidCount(count) }
        guard let nodeset = hwloc_bitmap_alloc() else { throw .allocationFailed(bytes: bytes, errno: ENOMEM) }
        defer { hwloc_bitmap_free(nodeset) }
        hwloc_bitmap_only(nodeset, UInt32(machine.topology.numaNodes[numaNode].osIndex))
        let flags = Int32(HWLOC_MEMBIND_BYNODESET.rawValue)
        guard let memory = hwloc_alloc_membind(machine.handle, bytes, nodeset, HWLOC_MEMBIND_BIND, flags) else {
            throw .allocationFailed(bytes: bytes, errno: errno)
        }
        memset(memory, 0, bytes)
        self.count = count
        self.numaNode = numaNode
        self.machine = machine
        self.base = memory
        self.byteCount = bytes
    }

    deinit {
        hwloc_free(machine.handle, base, byteCount)
    }

    /// Gives `body` the elements as a mutable buffer; the pointer must not escape `body`.
    public func withUnsafeMutableBufferPointer<Result, Failure: Error>(
        _ body: (UnsafeMutableBufferPointer<Element>) throws(Failure) -> Result
    ) throws(Failure) -> Result {
        try body(UnsafeMutableBufferPointer(start: base.assumingMemoryBound(to: Element.self), count: count))
    }

    /// The logical NUMA nodes holding the buffer's touched pages, as the kernel reports them now.
    public func residentNodes() -> [Int] {
        guard let nodeset = hwloc_bitmap_alloc() else { return [] }
        defer { hwloc_bitmap_free(nodeset) }
        let flags = Int32(HWLOC_MEMBIND_BYNODESET.rawValue)
        guard hwloc_get_area_memlocation(machine.handle, base, byteCount, nodeset, flags) == 0 else { return [] }
        var nodes: [Int] = []
        var osIndex = hwloc_bitmap_first(nodeset)
        while osIndex >= 0 {
            if let node = machine.topology.numaNodes.firstIndex(where: { $0.osIndex == Int(osIndex) }) {
                nodes.append(node)
            }
            osIndex = hwloc_bitmap_next(nodeset, osIndex)
        }
        return nodes
    }
}

/// Why NUMA-bound memory could not be allocated.
public enum NUMAMemoryError: Error, Sendable, Hashable {
    /// The topology is synthetic: there is no memory behind its nodes.
    case syntheticTopology
    /// The element count is below 1 or its byte size overflows.
    case invalidCount(Int)
    /// The node does not exist on this machine.
    case unknownNode(Int, available: Int)
    /// hwloc or the kernel refused the allocation.
    case allocationFailed(bytes: Int, errno: Int32)
}
