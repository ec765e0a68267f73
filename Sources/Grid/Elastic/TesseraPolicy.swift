import Foundation

/// Tessera's elastic rule: sized on the work that can run now, decided often, paid time used to the end, and
/// hosts consolidated so that they empty and leave.
///
/// - **Up:** `target = ⌈(ready + running + upcoming) / nodesPerHost⌉` hosts in `[minHosts, maxHosts]`, reached in
///   one decision; draining hosts are kept before new ones are asked for (they are booted and paid for).
///   `upcoming` looks one step ahead: the tasks a running split or replicate will release beyond the node it
///   frees, so that hosts boot while it runs (a chain adds nothing: #2821's 1 → 1 → 4 → 1 asks for 4 nodes
///   while the second task runs, all of which the 4 use).
/// - **Consolidation:** hosts beyond the target are drained (TO_BE_REMOVED) fewest-busy first, so new work goes
///   to the others and they empty instead of each keeping a task or two.
/// - **Release:** an idle host beyond the target is released when its billed period is about to end (with
///   per-minute billing within the last `releaseWithin` of its minute): until then it is free to keep, and work
///   that comes meanwhile uses it. With hourly billing this is SchedulerLoadingPolicy's release near the end of
///   the billed hour, without its one-host-per-cycle limit.
/// - **Hysteresis:** a host is not released in its first `minUptime` (boot costs time the next burst would pay
///   again).
public struct TesseraPolicy: ElasticPolicy {
    public var minHosts: Int
    public var maxHosts: Int
    public var refresh: Duration
    public var minUptime: Duration
    /// How much paid time a release may leave unused.
    public var releaseWithin: Duration
    public var name: String { "tessera" }

    public init(
        minHosts: Int = 0, maxHosts: Int, refresh: Duration = .seconds(1), minUptime: Duration = .seconds(60), releaseWithin: Duration = .seconds(2)
    ) {
        self.minHosts = minHosts
        self.maxHosts = maxHosts
        self.refresh = refresh
        self.minUptime = minUptime
        self.releaseWithin = releaseWithin
    }

    /// The nodes it asks for: the tasks that run or could, with the look-ahead.
    public func nodes(_ snapshot: ElasticSnapshot) -> Int {
        snapshot.demand.ready + snapshot.demand.running + snapshot.demand.upcoming
    }

    public func decide(_ snapshot: ElasticSnapshot) -> [ElasticDirective] {
        let target = min(maxHosts, max(minHosts, snapshot.hosts(forNodes: nodes(snapshot))))
        if target >= snapshot.serving {
            return DynamicPolicy.reach(target, snapshot, minIdle: .zero, releaseWithin: releaseWithin)
                .filter { if case .release = $0 { false } else { true } } + releasesOfDraining(snapshot)
        }
        var out: [ElasticDirective] = releasesOfDraining(snapshot)
        var surplus = snapshot.serving - target
        // Idle hosts first: released at the end of their paid period, kept (and still serving) until then.
        for host in snapshot.idleHosts where surplus > 0 {
            surplus -= 1
            let life = snapshot.now - host.requestedAt
            if life >= minUptime, snapshot.billing.paidAhead(life) <= releaseWithin { out.append(.release(host: host.id)) }
        }
        // Then the least busy hosts drain.
        let busy = snapshot.hosts.filter { $0.phase == .up && $0.busy > 0 }.sorted { ($0.busy, -$0.id) < ($1.busy, -$1.id) }
        for host in busy where surplus > 0 {
            out.append(.drain(host: host.id))
            surplus -= 1
        }
        return out
    }

    /// Draining hosts that emptied: released when their paid period ends.
    private func releasesOfDraining(_ snapshot: ElasticSnapshot) -> [ElasticDirective] {
        snapshot.hosts.filter { host in
            host.phase == .draining && host.busy == 0 && snapshot.billing.paidAhead(snapshot.now - host.requestedAt) <= releaseWithin
        }.map { .release(host: $0.id) }
    }
}

/// A daily budget around any policy: what it asks for is cut so that the day's cost (``ElasticSnapshot/spentToday``:
/// every host billed to the end of its current period) plus each new host at its minimum stays within `perDay`.
/// Once one more billed unit of the alive hosts would pass it, they drain: they take no new work, and what runs
/// there finishes (its time is the only cost past the budget).
public struct BudgetedPolicy<Inner: ElasticPolicy>: ElasticPolicy {
    public var inner: Inner
    public var perDay: Double
    public var name: String { "\(inner.name)+budget" }
    public var refresh: Duration { inner.refresh }

    public init(_ inner: Inner, perDay: Double) {
        self.inner = inner
        self.perDay = perDay
    }

    public mutating func decide(_ snapshot: ElasticSnapshot) -> [ElasticDirective] {
        let billing = snapshot.billing
        // Billing rounds up: the alive hosts' current periods are in it already.
        let committed = snapshot.spentToday
        let perHost = billing.cost(billing.minimum)
        var out: [ElasticDirective] = []
        for directive in inner.decide(snapshot) {
            guard case .acquire(let hosts) = directive else {
                out.append(directive)
                continue
            }
            let affordable = perHost <= 0 ? hosts : Int(((perDay - committed) / perHost).rounded(.down))
            if min(hosts, affordable) > 0 { out.append(.acquire(hosts: min(hosts, affordable))) }
        }
        // One more billed unit for every alive host would pass the budget: stop taking work on them.
        let nextUnit = Double(snapshot.alive) * billing.unit.duration.seconds / 3600 * billing.pricePerHostHour
        if committed + nextUnit > perDay {
            out = out.filter { if case .keep = $0 { false } else { true } }
            for host in snapshot.hosts where host.phase != .draining {
                out.append(host.phase == .up ? .drain(host: host.id) : .release(host: host.id))
            }
        }
        return out
    }
}
