import Cluster

/// What an agent offers: announced once per link, right after the handshake.
public struct AgentResources: Sendable, Hashable, Codable {
    /// The machine's host name.
    public var hostname: String
    /// The agent's cluster address (`host:port`), which names the host in the grid.
    public var address: String
    /// The agent's process id.
    public var pid: Int
    /// Nodes it runs (one per worker).
    public var workers: Int
    /// Cores of the machine.
    public var cores: Int
    /// Physical memory, in bytes.
    public var memoryBytes: UInt64
    /// Cores per NUMA node, from the Actors topology.
    public var numaCores: [Int]
    /// Labels tasks may select.
    public var labels: Set<String>
    /// When set, only tasks with this token run there.
    public var token: String?
    /// The one-time token a managed node source gave the host it acquired (`TESSERA_JOIN_TOKEN`): it ties the agent
    /// to its request. `nil` for an agent that joins on its own.
    public var joinToken: String?

    /// Describes an agent.
    public init(hostname: String, address: String, pid: Int, workers: Int, cores: Int, memoryBytes: UInt64, numaCores: [Int],
                labels: Set<String>, token: String?, joinToken: String? = nil) {
        self.joinToken = joinToken
        self.hostname = hostname
        self.address = address
        self.pid = pid
        self.workers = workers
        self.cores = cores
        self.memoryBytes = memoryBytes
        self.numaCores = numaCores
        self.labels = labels
        self.token = token
    }
}

/// The messages of a link between the scheduler and an agent. A frame carries a batch of them.
enum RemoteMessage: Sendable {
    // Agent to scheduler.
    /// The agent's resources (first message of the agent).
    case announce(AgentResources)
    /// Starts, ends and drops of executions.
    case reports([NodeReport])
    /// New bytes of a task's stdout (`stream` 1) or stderr (2).
    case log(job: JobID, task: TaskInstanceName, stream: UInt8, bytes: [UInt8])

    // Scheduler to agent.
    /// The grid's identifiers of the agent's nodes, one per worker (first message of the scheduler), and, on a
    /// multi-user grid, the accounts and limits its subprocess tasks must run under (an agent that cannot isolate
    /// them, not being root, closes the link rather than run them as its own account).
    case configure(nodes: [NodeID], isolation: AgentIsolation? = nil)
    /// Executions to queue on the agent's nodes (each names its node).
    case assign([TaskAssignment])
    /// Stop one execution: drop it from its queue (reported dropped) or kill it.
    case abort(job: JobID, index: Int, attempt: Int)
    /// Give back up to `max` queued executions (reported dropped), newest first: another host is idle.
    case release(max: Int)
    /// Allow or forbid a node to take work from its siblings (locks).
    case maySteal(node: NodeID, Bool)
}

/// Why a frame of the remote protocol was refused.
public enum RemoteWireError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The bytes do not decode.
    case malformed(String)
    /// Values nest deeper than the limit.
    case tooDeep

    public var description: String {
        switch self {
        case .malformed(let why): "malformed remote frame: \(why)"
        case .tooDeep: "malformed remote frame: values nest deeper than \(RemoteWire.maxDepth) levels"
        }
    }
}
