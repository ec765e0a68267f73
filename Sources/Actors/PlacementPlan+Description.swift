extension PlacementPlan: CustomStringConvertible {
    /// A table of the plan, one line per worker, for `tessera topology` and logs.
    public var description: String {
        var lines = [
            "placement: \(workerCount) workers, \(strategy.rawValue)"
                + (reservedCores.isEmpty ? "" : ", reserved cores \(reservedCores.map(String.init).joined(separator: ","))")
                + (isOversubscribed ? ", oversubscribed" : "")
        ]
        for slot in slots {
            let pus = slot.processingUnits.map(String.init).joined(separator: ",")
            lines.append(
                "  worker \(slot.worker) -> core \(slot.coreOSIndex) (PU \(pus)) numa \(slot.numaNode)"
                    + (slot.l3.map { " l3 \($0)" } ?? ""))
        }
        return lines.joined(separator: "\n")
    }
}

extension Topology: CustomStringConvertible {
    /// A summary of the machine followed by one line per NUMA node.
    public var description: String {
        let kind: String
        switch source {
        case .machine: kind = "machine"
        case .synthetic(let text): kind = "synthetic '\(text)'"
        }
        var lines = [
            "topology (\(kind)): \(packages.count) package(s), \(numaNodes.count) NUMA node(s), "
                + "\(l3Caches.count) L3, \(cores.count) cores, \(processingUnitCount) PUs"
        ]
        for node in numaNodes {
            let tenths = Int((Double(node.memoryBytes) / 1_073_741_824 * 10).rounded())
            let memory = node.memoryBytes > 0 ? "\(tenths / 10).\(tenths % 10) GiB" : "memory unknown"
            lines.append("  numa \(node.index) (os \(node.osIndex), \(memory)): cores \(Self.ranges(node.cores))")
        }
        return lines.joined(separator: "\n")
    }

    /// Compresses `[0,1,2,5]` to `0-2,5`.
    static func ranges(_ values: [Int]) -> String {
        var parts: [String] = []
        var index = 0
        let sorted = values.sorted()
        while index < sorted.count {
            var end = index
            while end + 1 < sorted.count, sorted[end + 1] == sorted[end] + 1 { end += 1 }
            parts.append(end == index ? "\(sorted[index])" : "\(sorted[index])-\(sorted[end])")
            index = end + 1
        }
        return parts.isEmpty ? "none" : parts.joined(separator: ",")
    }
}
