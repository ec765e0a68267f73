import Foundation

/// Every host deployed at once and kept: ProActive's static policy.
public struct StaticPolicy: ElasticPolicy {
    public var hosts: Int
    public var refresh: Duration
    public var name: String { "static" }

    public init(hosts: Int, refresh: Duration = .seconds(30)) {
        self.hosts = max(0, hosts)
        self.refresh = refresh
    }

    public func decide(_ snapshot: ElasticSnapshot) -> [ElasticDirective] {
        var out = snapshot.hosts.filter { $0.phase == .draining }.map { ElasticDirective.keep(host: $0.id) }
        if snapshot.alive < hosts { out.append(.acquire(hosts: hosts - snapshot.alive)) }
        return out
    }
}

/// ProActive's DynamicPolicy, with its parameters and shipped defaults (reference/elastic.md), and two fixes:
/// it counts only the tasks that could run now (#2821), and it reaches its target in one decision.
///
/// Each refresh: `target = ⌈(needed + busy) / loadFactor⌉` nodes (⌊…⌋ without `loadFactorRoundingUp`), kept
/// in `[minNodes, maxNodes]`, in whole hosts. Below it, the missing hosts are asked for at once; above it, hosts
/// whose nodes were all FREE for at least `minUptime` are released, longest idle first. During `initDelay` after
/// the source starts it only keeps `minNodes`; after that, a task that waited longer than `initDelay` gets a host
/// even when the formula says none (ProActive's rule for tasks no node accepts).
public struct DynamicPolicy: ElasticPolicy {
    public var minNodes: Int
    public var maxNodes: Int
    public var loadFactor: Double
    public var loadFactorRoundingUp: Bool
    public var refresh: Duration
    public var initDelay: Duration
    public var minUptime: Duration
    /// Release idle hosts only near the end of their billed period (SchedulerLoadingPolicy's releaseDelay and
    /// threshold, for any billing unit).
    public var billingAware: Bool
    /// When the source started deciding (the first snapshot's time).
    private var startedAt: Duration?
    public var name: String { "dynamic" }

    /// ProActive's shipped values: 0 – 10 nodes, load factor 1 rounded up, refresh 30 s, initDelay 120 s,
    /// minUptime 300 s.
    public init(
        minNodes: Int = 0, maxNodes: Int = 10, loadFactor: Double = 1, loadFactorRoundingUp: Bool = true,
        refresh: Duration = .seconds(30), initDelay: Duration = .seconds(120), minUptime: Duration = .seconds(300),
        billingAware: Bool = false
    ) {
        self.minNodes = minNodes
        self.maxNodes = maxNodes
        self.loadFactor = loadFactor
        self.loadFactorRoundingUp = loadFactorRoundingUp
        self.refresh = refresh
        self.initDelay = initDelay
        self.minUptime = minUptime
        self.billingAware = billingAware
    }

    /// The nodes the formula asks for, before the bounds.
    public func formulaNodes(_ demand: ElasticDemand) -> Int {
        let load = Double(demand.ready + demand.running) / loadFactor
        return Int(loadFactorRoundingUp ? load.rounded(.up) : load.rounded(.down))
    }

    public mutating func decide(_ snapshot: ElasticSnapshot) -> [ElasticDirective] {
        let now = snapshot.now
        let started = startedAt ?? now
        startedAt = started
        let maxHosts = snapshot.nodesPerHost <= 0 ? 0 : maxNodes / snapshot.nodesPerHost
        let minHosts = min(maxHosts, snapshot.hosts(forNodes: minNodes))
        var nodes = now - started < initDelay ? minNodes : formulaNodes(snapshot.demand)
        if now - started >= initDelay, let oldest = snapshot.demand.oldestReadySince, now - oldest > initDelay,
            snapshot.hosts(forNodes: nodes) <= snapshot.serving
        {
            nodes = (snapshot.serving + 1) * snapshot.nodesPerHost
        }
        let target = min(maxHosts, max(minHosts, snapshot.hosts(forNodes: nodes)))
        return Self.reach(target, snapshot, minIdle: minUptime, releaseWithin: billingAware ? refresh + .seconds(1) : nil)
    }

    /// The directives that bring a source to `target` hosts: draining hosts kept first, then new hosts; or idle
    /// hosts released (idle for `minIdle`, and with at most `releaseWithin` of their billed time left when set).
    static func reach(_ target: Int, _ snapshot: ElasticSnapshot, minIdle: Duration, releaseWithin: Duration?) -> [ElasticDirective] {
        var out: [ElasticDirective] = []
        var serving = snapshot.serving
        if target > serving {
            for host in snapshot.hosts where host.phase == .draining && serving < target {
                out.append(.keep(host: host.id))
                serving += 1
            }
            if target > serving { out.append(.acquire(hosts: target - serving)) }
            return out
        }
        var surplus = serving - target
        for host in snapshot.idleHosts where surplus > 0 {
            guard let idle = host.idleSince, snapshot.now - idle >= minIdle else { continue }
            if let releaseWithin, snapshot.billing.paidAhead(snapshot.now - host.requestedAt) > releaseWithin { continue }
            out.append(.release(host: host.id))
            surplus -= 1
        }
        return out
    }
}

/// ProActive's older SchedulerLoadingPolicy: one host asked for or released per refresh, and nothing asked for
/// while an acquisition is outstanding. Counted every pending task (#2821); here it gets the same demand as the
/// others, so that only the one-host-per-cycle rule differs.
public struct OneHostPerCyclePolicy: ElasticPolicy {
    public var minHosts: Int
    public var maxHosts: Int
    public var refresh: Duration
    public var releaseDelay: Duration
    public var name: String { "one-per-cycle" }

    public init(minHosts: Int = 0, maxHosts: Int, refresh: Duration = .seconds(30), releaseDelay: Duration = .seconds(300)) {
        self.minHosts = minHosts
        self.maxHosts = maxHosts
        self.refresh = refresh
        self.releaseDelay = releaseDelay
    }

    public func decide(_ snapshot: ElasticSnapshot) -> [ElasticDirective] {
        let wanted = snapshot.hosts(forNodes: snapshot.demand.ready + snapshot.demand.running)
        if snapshot.alive < minHosts || (wanted > snapshot.nodesUp / max(1, snapshot.nodesPerHost) && snapshot.alive < maxHosts) {
            return snapshot.deploying > 0 ? [] : [.acquire(hosts: 1)]
        }
        guard snapshot.alive > max(minHosts, wanted), let host = snapshot.idleHosts.first, let idle = host.idleSince,
            snapshot.now - idle >= releaseDelay
        else { return [] }
        return [.release(host: host.id)]
    }
}

/// Dask's adaptive rule (`distributed.deploy.Adaptive`): every `interval`, workers =
/// ⌈(expected seconds of queued and running work) / `targetDuration`⌉ in `[minimum, maximum]`; up at once, and a
/// worker is retired only after it was proposed for removal `waitCount` times in a row. Work is expected to
/// last the mean run time seen so far (0.5 s, Dask's default for unknown tasks, before any ended).
public struct DaskAdaptivePolicy: ElasticPolicy {
    public var minimumHosts: Int
    public var maximumHosts: Int
    public var targetDuration: Duration
    public var waitCount: Int
    public var refresh: Duration
    private var proposals: [Int: Int] = [:]
    public var name: String { "dask-adaptive" }

    public init(minimumHosts: Int = 0, maximumHosts: Int, targetDuration: Duration = .seconds(5), waitCount: Int = 3, interval: Duration = .seconds(1)) {
        self.minimumHosts = minimumHosts
        self.maximumHosts = maximumHosts
        self.targetDuration = targetDuration
        self.waitCount = waitCount
        self.refresh = interval
    }

    public mutating func decide(_ snapshot: ElasticSnapshot) -> [ElasticDirective] {
        let occupancy = Double(snapshot.demand.ready + snapshot.demand.running) * (snapshot.meanTaskSeconds ?? 0.5)
        let workers = Int((occupancy / targetDuration.seconds).rounded(.up))
        let target = min(maximumHosts, max(minimumHosts, snapshot.hosts(forNodes: workers)))
        if target >= snapshot.serving {
            proposals = [:]
            return DynamicPolicy.reach(target, snapshot, minIdle: .zero, releaseWithin: nil)
        }
        var out: [ElasticDirective] = []
        var surplus = snapshot.serving - target
        var proposed: [Int: Int] = [:]
        for host in snapshot.idleHosts where surplus > 0 {
            let count = (proposals[host.id] ?? 0) + 1
            proposed[host.id] = count
            surplus -= 1
            if count >= waitCount { out.append(.release(host: host.id)) }
        }
        proposals = proposed
        return out
    }
}

/// Ray's autoscaler rule: it scales on the queued requests (the ready tasks no node takes), with at most
/// `max(5, upscalingSpeed × hosts)` launches pending at once, and removes a host idle for `idleTimeout`.
public struct RayAutoscalerPolicy: ElasticPolicy {
    public var minWorkers: Int
    public var maxWorkers: Int
    public var upscalingSpeed: Double
    public var idleTimeout: Duration
    public var refresh: Duration
    public var name: String { "ray-autoscaler" }

    public init(minWorkers: Int = 0, maxWorkers: Int, upscalingSpeed: Double = 1, idleTimeout: Duration = .seconds(300), refresh: Duration = .seconds(5)) {
        self.minWorkers = minWorkers
        self.maxWorkers = maxWorkers
        self.upscalingSpeed = upscalingSpeed
        self.idleTimeout = idleTimeout
        self.refresh = refresh
    }

    public func decide(_ snapshot: ElasticSnapshot) -> [ElasticDirective] {
        // Requests the hosts being launched will not take.
        let unmet = snapshot.demand.ready - snapshot.deploying * snapshot.nodesPerHost
        var out: [ElasticDirective] = []
        if snapshot.alive < minWorkers { out.append(.acquire(hosts: minWorkers - snapshot.alive)) }
        if unmet > 0 {
            let allowed = max(5, Int(upscalingSpeed * Double(snapshot.alive))) - snapshot.deploying
            let launches = min(snapshot.hosts(forNodes: unmet), allowed, maxWorkers - max(snapshot.alive, minWorkers))
            if launches > 0 { out.append(.acquire(hosts: launches)) }
            return out
        }
        var removable = snapshot.alive - minWorkers
        for host in snapshot.idleHosts where removable > 0 {
            guard let idle = host.idleSince, snapshot.now - idle >= idleTimeout else { continue }
            out.append(.release(host: host.id))
            removable -= 1
        }
        return out
    }
}
