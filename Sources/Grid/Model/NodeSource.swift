/// How a node source acquires its nodes (ProActive's infrastructure manager).
public enum NodeSourceInfrastructure: Sendable, Hashable, CustomStringConvertible {
    /// Nodes inside the grid's process: one per core of the Actors placement plan, each running its
    /// in-process work on the pinned executor of its core.
    case local(nodes: Int)
    /// Agents (`tessera agent`) that join the cluster on their own hosts; `hosts` are linked now.
    case agents(hosts: Int)
    /// Agent processes this grid starts on this machine, each on its own loopback address.
    case agentProcesses(processes: Int, hosts: Int)

    public var description: String {
        switch self {
        case .local(let nodes): "local (\(nodes) node\(nodes == 1 ? "" : "s"))"
        case .agents(let hosts): "agents (\(hosts) host\(hosts == 1 ? "" : "s") joined)"
        case .agentProcesses(let processes, let hosts): "agent processes (\(processes) started, \(hosts) joined)"
        }
    }
}

/// When a node source acquires and releases nodes (ProActive's policy).
public enum NodeSourcePolicy: Sendable, Hashable, CustomStringConvertible {
    /// Every node is deployed when the source starts and kept until the grid stops.
    case `static`

    public var description: String {
        switch self {
        case .static: "static"
        }
    }
}

/// A node source as the resource manager reports it: its infrastructure, its policy and its nodes.
public struct NodeSourceReport: Sendable, Hashable {
    /// Its name (the `source` of its nodes' entries).
    public var name: String
    /// How it acquires nodes.
    public var infrastructure: NodeSourceInfrastructure
    /// When it acquires and releases them.
    public var policy: NodeSourcePolicy
    /// Its nodes, in identifier order.
    public var nodes: [ResourceLedger.Entry]

    /// How many of its nodes are in `state`.
    public func count(_ state: NodeState) -> Int { nodes.count { $0.state == state } }
}
