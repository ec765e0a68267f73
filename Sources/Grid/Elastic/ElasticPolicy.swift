import Foundation

/// One host of an elastic node source, as its policy sees it.
public struct ElasticHost: Sendable, Hashable {
    /// Where the host is in its life.
    public enum Phase: String, Sendable, Hashable, Codable {
        /// Asked for; not joined yet.
        case deploying = "DEPLOYING"
        /// Joined; announcing its nodes.
        case configuring = "CONFIGURING"
        /// Its nodes are FREE or BUSY.
        case up = "UP"
        /// TO_BE_REMOVED: no new work; released once what runs there ends.
        case draining = "TO_BE_REMOVED"
    }

    /// The source's number for it (never given twice).
    public var id: Int
    public var phase: Phase
    /// When it was asked for (billing starts here).
    public var requestedAt: Duration
    /// When its nodes became FREE.
    public var upAt: Duration?
    /// Its nodes.
    public var nodes: Int
    /// Its nodes that hold work.
    public var busy: Int
    /// Since when none of its nodes holds work (`nil` while one does, or before it is up).
    public var idleSince: Duration?

    public init(id: Int, phase: Phase, requestedAt: Duration, upAt: Duration? = nil, nodes: Int, busy: Int = 0, idleSince: Duration? = nil) {
        self.id = id
        self.phase = phase
        self.requestedAt = requestedAt
        self.upAt = upAt
        self.nodes = nodes
        self.busy = busy
        self.idleSince = idleSince
    }
}

/// How hosts are billed: by the second, minute or hour of their life since they were asked for, with a minimum.
public struct Billing: Sendable, Hashable, Codable {
    public enum Unit: String, Sendable, Hashable, Codable, CaseIterable {
        case second, minute, hour

        public var duration: Duration {
            switch self {
            case .second: .seconds(1)
            case .minute: .seconds(60)
            case .hour: .seconds(3600)
            }
        }
    }

    public var unit: Unit
    /// The least any host is billed.
    public var minimum: Duration
    /// The price of one host for one hour.
    public var pricePerHostHour: Double

    public init(unit: Unit = .minute, minimum: Duration = .seconds(60), pricePerHostHour: Double = 0) {
        self.unit = unit
        self.minimum = minimum
        self.pricePerHostHour = pricePerHostHour
    }

    /// The time billed for a host alive `life`: whole units, at least the minimum.
    public func billed(_ life: Duration) -> Duration {
        let unit = self.unit.duration
        let units = (max(life, .zero) / unit).rounded(.up)
        return max(minimum, unit * Int(units))
    }

    /// What a host alive `life` costs.
    public func cost(_ life: Duration) -> Double { billed(life).seconds / 3600 * pricePerHostHour }

    /// How long a host alive `life` may go on before the next unit is billed (zero at a unit's boundary once
    /// the minimum is past).
    public func paidAhead(_ life: Duration) -> Duration { billed(life) - max(life, .zero) }
}

/// What a policy decides.
public enum ElasticDirective: Sendable, Hashable {
    /// Ask the infrastructure for this many more hosts.
    case acquire(hosts: Int)
    /// The host gets no new work; it is released once what runs there ends (TO_BE_REMOVED).
    case drain(host: Int)
    /// A draining host takes work again (cheaper than a new one: it is paid for and booted).
    case keep(host: Int)
    /// Release the host now (an idle one, or a request not joined yet).
    case release(host: Int)
}

/// What a policy sees at each decision: the work it may take, its hosts, and what the day cost so far.
public struct ElasticSnapshot: Sendable {
    public var now: Duration
    /// The work that this source may take and that lower-ranked sources could not.
    public var demand: ElasticDemand
    /// Its hosts, in request order.
    public var hosts: [ElasticHost]
    /// Nodes each host brings.
    public var nodesPerHost: Int
    public var billing: Billing
    /// What the source's hosts cost in the current budget day, released ones included, each billed to the end of
    /// its current period (billing rounds up).
    public var spentToday: Double
    /// The mean run time of the executions that ended so far (Dask sizes by expected work); `nil` before any.
    public var meanTaskSeconds: Double?
    /// The wall-clock time, for calendar windows.
    public var wallNow: Date

    public init(
        now: Duration, demand: ElasticDemand, hosts: [ElasticHost], nodesPerHost: Int, billing: Billing = Billing(),
        spentToday: Double = 0, meanTaskSeconds: Double? = nil, wallNow: Date = Date(timeIntervalSince1970: 0)
    ) {
        self.now = now
        self.demand = demand
        self.hosts = hosts
        self.nodesPerHost = nodesPerHost
        self.billing = billing
        self.spentToday = spentToday
        self.meanTaskSeconds = meanTaskSeconds
        self.wallNow = wallNow
    }

    /// Hosts that count against the bounds: every one that is not released (ProActive's "alive").
    public var alive: Int { hosts.count }
    /// Hosts that take work or will (not draining).
    public var serving: Int { hosts.count { $0.phase != .draining } }
    /// Nodes on hosts that are up, draining or not.
    public var nodesUp: Int { hosts.reduce(0) { $0 + ($1.phase == .up || $1.phase == .draining ? $1.nodes : 0) } }
    /// Hosts asked for and not joined yet.
    public var deploying: Int { hosts.count { $0.phase == .deploying || $0.phase == .configuring } }

    /// Hosts needed for `nodes` nodes.
    public func hosts(forNodes nodes: Int) -> Int {
        nodesPerHost <= 0 ? 0 : (max(0, nodes) + nodesPerHost - 1) / nodesPerHost
    }

    /// Idle hosts that are up, longest idle first.
    public var idleHosts: [ElasticHost] {
        hosts.filter { $0.phase == .up && $0.busy == 0 && $0.idleSince != nil }.sorted { ($0.idleSince ?? .zero, $0.id) < ($1.idleSince ?? .zero, $1.id) }
    }
}

/// When a node source acquires and releases hosts: a pure value that turns snapshots into directives. Its shell
/// calls ``decide(_:)`` every ``refresh`` and performs what it returns.
public protocol ElasticPolicy: Sendable {
    /// A short name for reports and benchmarks.
    var name: String { get }
    /// How often it decides.
    var refresh: Duration { get }
    mutating func decide(_ snapshot: ElasticSnapshot) -> [ElasticDirective]
}

extension Duration {
    /// The duration in seconds, as a `Double`.
    public var seconds: Double {
        let parts = components
        return Double(parts.seconds) + Double(parts.attoseconds) / 1e18
    }
}
