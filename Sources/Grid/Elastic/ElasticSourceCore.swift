import Foundation

/// The decisions of one managed node source: its hosts' life (DEPLOYING → CONFIGURING → up → TO_BE_REMOVED →
/// released), one-time join tokens, the deployment timeout with back-off, the drain timeout, reconciliation after
/// a restart, and its accounting (host-hours, cost, acquisitions by outcome, request → FREE times, nodes by state
/// through time). Its policy (``NodeSourceSpec/makePolicy()``) decides how many hosts; this core carries it out.
///
/// A pure value: it never starts a process, sleeps or reads a clock. ``ElasticNodeSource`` feeds it and performs
/// its directives in order.
///
/// | event | host |
/// |---|---|
/// | the policy acquires | DEPLOYING, a new name and token; ``Directive/acquire(_:)`` |
/// | the infrastructure started it (``onAcquired(host:handle:now:)``) | CONFIGURING: the agent is starting, joining, announcing |
/// | an agent announces with its token (``onJoined(token:session:address:now:)``) | up: its nodes are FREE |
/// | not joined within `deploymentTimeout`, or the acquire failed | released; the failure counts and the next acquisition waits (back-off) |
/// | the policy drains | TO_BE_REMOVED: released once its work ends, or past `drainTimeout` (its work queued again) |
/// | the policy releases, or the source is undeployed | released |
/// | its session ends without a release | LOST: forgotten, its process released |
public struct ElasticSourceCore: Sendable {
    /// One host of the source.
    public struct Host: Sendable, Hashable, Codable {
        public var id: Int
        /// `<source>-<id>`: the name the infrastructure knows it by.
        public var name: String
        /// The one-time token its agent joins with.
        public var token: String
        public var phase: ElasticHost.Phase
        /// Grid time of the request (billing starts here).
        public var requestedAt: Duration
        /// Wall time of the request.
        public var requestedWall: Date
        /// What the infrastructure calls it (a pid, a VM id), once acquired.
        public var handle: String?
        /// Its agent's session, once joined.
        public var session: Int?
        /// Its agent's cluster address, once joined (seeds the cluster after a restart).
        public var address: String?
        public var upAt: Duration?
        /// When the infrastructure said it started it (a list begun later must show it).
        public var acquiredAt: Duration?
        public var drainingSince: Duration?
        /// Its nodes that hold work, at the last decision.
        public var busy = 0
        public var idleSince: Duration?
        /// Adopted after a restart: waiting for its agent to join again.
        public var adopting = false
    }

    /// What the shell does, in order.
    public enum Directive: Sendable, Hashable {
        /// Start a host (the infrastructure's acquire); report ``onAcquired(host:handle:now:)`` or
        /// ``onAcquireFailed(host:error:now:)``. `count` is the number of hosts the source holds with this one.
        case acquire(Host, count: Int, after: Duration)
        /// The host's nodes get no new work (`true`), or take work again.
        case drain(session: Int, Bool)
        /// Release the host: its session leaves the scheduler (its work queued again; a node failure only when
        /// `countsAsFailure`), then the infrastructure stops it by name and handle.
        case release(Host, reason: String, countsAsFailure: Bool)
        /// Save the hosts to the journal.
        case save
        /// A line for the operator's log.
        case log(warning: Bool, String)
        /// Call ``onTick(now:wallNow:)`` at this time.
        case wake(at: Duration)
    }

    /// Acquisitions by how they ended.
    public struct Outcomes: Sendable, Hashable, Codable {
        public var joined = 0
        public var failed = 0
        public var timedOut = 0
        public var adopted = 0
        public var cancelled = 0
        /// Hosts the infrastructure took back (spot, preemption): no longer listed, or evicted by name.
        public var evicted = 0

        public init() {}
    }

    /// One sample of the nodes by state.
    public struct Sample: Sendable, Hashable, Codable {
        public var wall: Date
        public var deploying: Int
        public var configuring: Int
        public var free: Int
        public var busy: Int
        public var draining: Int
    }

    /// A step in a host's life, for the source's log.
    public struct Step: Sendable, Hashable, Codable {
        public var wall: Date
        public var host: String
        /// DEPLOYING, CONFIGURING, FREE, TO_BE_REMOVED, RELEASED or LOST.
        public var state: String
        public var reason: String?
    }

    /// What the source has done and cost.
    public struct Usage: Sendable, Hashable, Codable {
        /// The hosts' steps, the most recent 500.
        public var steps: [Step] = []
        /// Host-seconds of released hosts (alive ones are added when read).
        public var releasedHostSeconds = 0.0
        /// Cost of released hosts.
        public var releasedCost = 0.0
        public var outcomes = Outcomes()
        /// Request → FREE, in seconds, the most recent 1,000.
        public var readySeconds: [Double] = []
        /// Nodes by state through the source's life: 1,440 samples at most, 5 s apart until they fill up, then
        /// every other one is dropped and the period doubles.
        public var history: [Sample] = []
        /// Cost of hosts released in the current UTC day, and which day that is (days since 1970).
        public var spentDay = 0
        public var spentToday = 0.0
    }

    /// What the journal keeps of the source besides its spec.
    public struct StoredState: Sendable, Codable {
        public var deployed: Bool
        public var hosts: [Host]
        public var usage: Usage
        /// Being removed: it leaves once its hosts are released, even across a restart.
        public var removing: Bool?
    }

    /// The state to journal.
    public var stored: StoredState { StoredState(deployed: deployed, hosts: hosts, usage: usage) }

    public private(set) var spec: NodeSourceSpec
    private var policy: any ElasticPolicy
    public private(set) var hosts: [Host] = []
    public private(set) var usage = Usage()
    /// Whether the source acquires (deployed) or only releases what it holds (undeployed).
    public private(set) var deployed = true
    /// Why the last acquisition failed, and how many failed in a row.
    public private(set) var lastFailure: String?
    public private(set) var failuresInRow = 0
    /// No acquisition before this time (back-off after failures).
    public private(set) var acquireNotBefore: Duration = .zero
    private var nextID = 1
    private var nextDecision: Duration = .zero
    private var nextSample: Duration?
    private var armed: Duration?
    private var random: SplitMix
    private var out: [Directive] = []
    /// The wall time of the input being handled: the time of the steps it logs (the shell sets it before each input
    /// that does not carry one).
    public var wallNow = Date(timeIntervalSince1970: 0)
    /// Samples of the history are this far apart.
    public static let samplePeriod: Duration = .seconds(5)

    /// A source from its spec; `seed` draws the tokens' and boot delays' randomness (the shell seeds it from the
    /// system's generator; tests print theirs).
    public init(spec: NodeSourceSpec, seed: UInt64, tokens: (@Sendable () -> String)? = nil) {
        self.spec = spec
        self.policy = spec.makePolicy()
        self.random = SplitMix(seed: seed)
        self.tokens = tokens
    }

    /// Where join tokens come from: the shell gives the system's generator (tokens must not be guessable); without
    /// one (tests), they are drawn from the seed.
    private let tokens: (@Sendable () -> String)?

    /// Whether `name` is one of this source's host names (`SOURCE-N`): another source's hosts never are, even
    /// when their names share a prefix.
    public func isHostName(_ name: String) -> Bool {
        guard name.hasPrefix(spec.name + "-") else { return false }
        let number = name.dropFirst(spec.name.count + 1)
        return !number.isEmpty && number.allSatisfy { $0.isASCII && $0.isNumber }
    }

    /// A source rebuilt from the journal: its hosts as they were, its usage, and whether it was deployed.
    ///
    /// The journal's grid times are of the previous process's clock: ``reconcile(listed:now:wallNow:)`` rebases them
    /// on the wall times. Sessions of the previous process mean nothing now.
    public init(
        spec: NodeSourceSpec, seed: UInt64, restoring hosts: [Host], usage: Usage, deployed: Bool, tokens: (@Sendable () -> String)? = nil
    ) {
        self.init(spec: spec, seed: seed, tokens: tokens)
        self.hosts = hosts.map { host in
            var host = host
            host.session = nil
            return host
        }
        self.usage = usage
        self.deployed = deployed
        nextID = (hosts.map(\.id).max() ?? 0) + 1
    }

    // MARK: - Inputs

    /// Replaces the source's spec (an edit): the new policy decides from the next refresh on.
    public mutating func edit(_ new: NodeSourceSpec, now: Duration) -> [Directive] {
        spec = new
        policy = new.makePolicy()
        nextDecision = now
        out.append(.save)
        wake(at: now)
        return take()
    }

    /// Deploys the source (it acquires as its policy says) or undeploys it (hosts not joined are released, the
    /// others drain and leave once their work ends).
    public mutating func setDeployed(_ flag: Bool, now: Duration) -> [Directive] {
        deployed = flag
        if !flag {
            for host in hosts {
                switch host.phase {
                case .deploying, .configuring: release(host.id, reason: "the source was undeployed", outcome: \.cancelled, now: now)
                case .up: drain(host.id, now: now)
                case .draining: break
                }
            }
        }
        nextDecision = now
        out.append(.save)
        wake(at: now)
        return take()
    }

    /// After a restart: `listed` is what the infrastructure holds now (name → handle), or `nil` when it cannot
    /// list. Journaled hosts it still holds wait for their agents to join again (adopted) until the deployment
    /// timeout; the others are forgotten. Hosts it holds that the journal does not know are released.
    public mutating func reconcile(listed: [String: String]?, now: Duration, wallNow: Date) -> [Directive] {
        self.wallNow = wallNow
        var kept: [Host] = []
        for var host in hosts {
            // The previous process's clock: its times are rebuilt from the wall clock (billing goes on from the
            // request, across the restart).
            let age = Duration.milliseconds(Int64(max(0, wallNow.timeIntervalSince(host.requestedWall)) * 1000))
            host.requestedAt = now - age
            host.acquiredAt = host.requestedAt
            // Without a list, every host the journal holds may still be there: each waits for its agent, and is
            // released (by name) if it does not come.
            let present = listed.map { $0[host.name] != nil } ?? true
            if present {
                if let handle = listed?[host.name], !handle.isEmpty { host.handle = handle }
                host.phase = .configuring
                host.session = nil
                host.adopting = true
                host.upAt = nil
                host.drainingSince = nil
                kept.append(host)
            } else {
                account(host, until: now)
                step(host.name, "RELEASED", "gone from the infrastructure while the grid was down")
                out.append(.log(warning: true, "host \(host.name) is gone from the infrastructure: forgotten"))
            }
        }
        hosts = kept
        adoptDeadline = now + spec.deploymentTimeout
        for (name, handle) in (listed ?? [:]).sorted(by: { $0.key < $1.key }) where isHostName(name) && !hosts.contains(where: { $0.name == name }) {
            out.append(.release(
                orphan(name, handle: handle.isEmpty ? nil : handle, now: now), reason: "the journal does not know it (an acquisition cut short by a crash)",
                countsAsFailure: false))
        }
        nextDecision = now
        out.append(.save)
        wake(at: now)
        return take()
    }

    /// A host the source no longer holds, to release by name.
    private func orphan(_ name: String, handle: String?, now: Duration) -> Host {
        Host(id: 0, name: name, token: "", phase: .configuring, requestedAt: now, requestedWall: wallNow, handle: handle)
    }

    private var adoptDeadline: Duration?

    /// The infrastructure started the host: it is CONFIGURING until its agent joins.
    public mutating func onAcquired(host id: Int, handle: String?, now: Duration) -> [Directive] {
        guard let index = hosts.firstIndex(where: { $0.id == id }) else {
            // Released while it was being acquired (an edit, an undeploy, the deployment timeout): stop what was
            // started, by name when the infrastructure gave no handle.
            out.append(.release(orphan("\(spec.name)-\(id)", handle: handle, now: now), reason: "released while it was being acquired", countsAsFailure: false))
            return take()
        }
        hosts[index].handle = handle
        hosts[index].acquiredAt = now
        if hosts[index].phase == .deploying {
            hosts[index].phase = .configuring
            step(hosts[index].name, "CONFIGURING", handle.map { "handle \($0)" })
        }
        out.append(.save)
        return take()
    }

    /// The infrastructure could not start the host: the failure counts, and the next acquisition waits.
    public mutating func onAcquireFailed(host id: Int, error: String, now: Duration) -> [Directive] {
        guard let index = hosts.firstIndex(where: { $0.id == id }) else { return take() }
        let host = hosts[index]
        fail("acquiring \(host.name) failed: \(error)", now: now)
        release(id, reason: "its acquisition failed", outcome: \.failed, now: now)
        return take()
    }

    /// An agent announced itself with `token`. Returns the host it is, when the token is one of a host waiting
    /// for its agent (a token serves one agent: once joined, another agent with it is refused).
    public mutating func onJoined(token: String, session: Int, address: String, now: Duration) -> (host: Host?, directives: [Directive]) {
        guard !token.isEmpty, let index = hosts.firstIndex(where: { $0.token == token }), hosts[index].session == nil,
            hosts[index].phase == .deploying || hosts[index].phase == .configuring
        else {
            out.append(.log(warning: true, "an agent at \(address) offered an unknown or used join token: refused"))
            return (nil, take())
        }
        hosts[index].session = session
        hosts[index].address = address
        hosts[index].phase = .up
        hosts[index].upAt = now
        hosts[index].idleSince = now
        step(hosts[index].name, "FREE", "joined from \(address)")
        if hosts[index].adopting {
            hosts[index].adopting = false
            usage.outcomes.adopted += 1
            out.append(.log(warning: false, "host \(hosts[index].name) adopted again after the restart"))
        } else {
            usage.outcomes.joined += 1
            appendBounded(&usage.readySeconds, (now - hosts[index].requestedAt).seconds, limit: 1000)
            failuresInRow = 0
            lastFailure = nil
        }
        let joined = hosts[index]
        // An undeployed source (after a restart, or undeployed while this host booted) keeps no host: it drains.
        if !deployed { drain(joined.id, now: now) }
        out.append(.save)
        return (joined, take())
    }

    /// The host's session ended without a release (its agent died, its link broke, the infrastructure evicted it):
    /// its nodes are LOST and the host is released (its process or VM, if any, stopped).
    public mutating func onSessionLost(session: Int, reason: String, evicted: Bool = false, now: Duration) -> [Directive] {
        guard let host = hosts.first(where: { $0.session == session }) else { return take() }
        out.append(.log(warning: true, "host \(host.name) \(evicted ? "was evicted" : "was lost"): \(reason)"))
        release(host.id, reason: evicted ? "evicted: \(reason)" : "lost: \(reason)", outcome: evicted ? \.evicted : nil, now: now, leaveScheduler: evicted)
        return take()
    }

    /// What the infrastructure lists now (a list begun at `since`): a host it started before that and no longer
    /// lists was taken back (a spot VM reclaimed, a batch job ended): evicted. Its work is queued again, as a node
    /// failure only when the source says so (``NodeSourceSpec/evictionCountsAsFailure``).
    ///
    /// A listed host the source does not hold (a release that failed, an acquisition it gave up on) is released
    /// again, so that nothing it started outlives it. `releasing` names the hosts whose release is under way.
    public mutating func onListed(_ listed: [String: String], since: Duration, releasing: Set<String> = [], now: Duration) -> [Directive] {
        for host in hosts where listed[host.name] == nil && (host.acquiredAt.map { $0 < since } ?? false) {
            out.append(.log(warning: true, "host \(host.name) is no longer listed by the infrastructure: evicted"))
            release(host.id, reason: "evicted: the infrastructure no longer lists it", outcome: \.evicted, now: now, leaveScheduler: true)
        }
        for (name, handle) in listed.sorted(by: { $0.key < $1.key })
        where isHostName(name) && !releasing.contains(name) && !hosts.contains(where: { $0.name == name }) {
            out.append(.log(warning: true, "host \(name) is listed but not held: released again"))
            out.append(.release(orphan(name, handle: handle.isEmpty ? nil : handle, now: now), reason: "listed but not held", countsAsFailure: false))
        }
        return take()
    }

    /// Releases every host now (the grid stops): each is accounted to now and its release directed.
    public mutating func releaseAll(reason: String, now: Duration) -> [Directive] {
        for host in hosts { release(host.id, reason: reason, outcome: nil, now: now) }
        return take()
    }

    /// A release the infrastructure could not do, after its retries: the source says so.
    public mutating func onReleaseFailed(host name: String, error: String, now: Duration) -> [Directive] {
        lastFailure = "releasing \(name) failed: \(error)"
        out.append(.log(warning: true, "releasing \(name) failed: \(error); it is released again when the infrastructure lists it"))
        return take()
    }

    /// The time of a wake came (or the shell's refresh): timeouts, then the policy's decision with `demand` and the
    /// busy nodes of each session.
    public mutating func onTick(now: Duration, wallNow: Date, demand: ElasticDemand, busy: [Int: Int], meanTaskSeconds: Double?) -> [Directive] {
        armed = nil
        self.wallNow = wallNow
        // Busy and idle, from the scheduler's view.
        for index in hosts.indices {
            guard let session = hosts[index].session else { continue }
            let count = busy[session] ?? 0
            if count == 0 && hosts[index].busy > 0 { hosts[index].idleSince = now }
            if count > 0 { hosts[index].idleSince = nil }
            hosts[index].busy = count
        }
        // Deployment timeouts.
        for host in hosts where (host.phase == .deploying || host.phase == .configuring) {
            let deadline = host.adopting ? (adoptDeadline ?? now) : host.requestedAt + spec.deploymentTimeout
            guard deadline <= now else { continue }
            if host.adopting {
                release(host.id, reason: "its agent did not join again within \(spec.deploymentTimeout) of the restart", outcome: nil, now: now)
            } else {
                fail("host \(host.name) did not join within \(spec.deploymentTimeout)", now: now)
                release(host.id, reason: "not joined within the deployment timeout", outcome: \.timedOut, now: now)
            }
        }
        // Drains: released once their work ends (an undeployed source at once; otherwise when the paid period ends,
        // so that a policy may keep it for work that comes meanwhile), or past the drain timeout.
        for host in hosts where host.phase == .draining {
            if host.busy == 0 {
                guard !deployed || spec.billing.paidAhead(now - host.requestedAt) <= .seconds(2) else { continue }
                release(host.id, reason: "drained", outcome: nil, now: now)
            } else if let since = host.drainingSince, since + spec.drainTimeout <= now {
                release(host.id, reason: "its work ran past the drain timeout \(spec.drainTimeout): queued again", outcome: nil, now: now)
            }
        }
        if now >= nextDecision {
            nextDecision = now + policy.refresh
            decide(now: now, wallNow: wallNow, demand: demand, meanTaskSeconds: meanTaskSeconds)
        }
        if nextSample.map({ $0 <= now }) ?? true {
            sample(wallNow)
            nextSample = now + sampleEvery
        }
        var next = nextDecision
        for host in hosts where host.phase == .deploying || host.phase == .configuring {
            next = min(next, host.adopting ? (adoptDeadline ?? next) : host.requestedAt + spec.deploymentTimeout)
        }
        for host in hosts where host.phase == .draining { next = min(next, (host.drainingSince ?? now) + spec.drainTimeout) }
        wake(at: max(next, now + .milliseconds(10)))
        return take()
    }

    // MARK: - Views

    /// Hosts by phase, as nodes (each host counts `nodesPerHost`).
    public func nodes(in phase: ElasticHost.Phase) -> Int { hosts.count { $0.phase == phase } * spec.nodesPerHost }

    /// Host-seconds so far, alive hosts to `now`.
    public func hostSeconds(now: Duration) -> Double {
        usage.releasedHostSeconds + hosts.reduce(0) { $0 + max(0, (now - $1.requestedAt).seconds) }
    }

    /// Cost so far: released hosts as billed, alive ones billed to the end of their current period.
    public func cost(now: Duration) -> Double {
        usage.releasedCost + hosts.reduce(0) { $0 + spec.billing.cost(now - $1.requestedAt) }
    }

    /// Request → FREE: the median and the 95th percentile, in seconds.
    public var readyPercentiles: (p50: Double, p95: Double)? {
        guard !usage.readySeconds.isEmpty else { return nil }
        let sorted = usage.readySeconds.sorted()
        func at(_ p: Double) -> Double { sorted[min(sorted.count - 1, Int((p * Double(sorted.count - 1)).rounded()))] }
        return (at(0.5), at(0.95))
    }

    // MARK: - Decisions

    private mutating func decide(now: Duration, wallNow: Date, demand: ElasticDemand, meanTaskSeconds: Double?) {
        let view = hosts.map {
            ElasticHost(
                id: $0.id, phase: $0.phase, requestedAt: $0.requestedAt, upAt: $0.upAt, nodes: spec.nodesPerHost, busy: $0.busy, idleSince: $0.idleSince)
        }
        let day = Self.day(wallNow)
        if day != usage.spentDay {
            usage.spentDay = day
            usage.spentToday = 0
        }
        let aliveToday = hosts.reduce(0.0) { $0 + spec.billing.cost(now - $1.requestedAt) }
        let snapshot = ElasticSnapshot(
            now: now, demand: demand, hosts: view, nodesPerHost: spec.nodesPerHost, billing: spec.billing,
            spentToday: usage.spentToday + aliveToday, meanTaskSeconds: meanTaskSeconds, wallNow: wallNow)
        for directive in policy.decide(snapshot) {
            switch directive {
            case .acquire(let count):
                guard deployed, now >= acquireNotBefore else { continue }
                let room = spec.maxHosts - hosts.count
                for _ in 0..<max(0, min(count, room)) { acquire(now: now, wallNow: wallNow) }
            case .drain(let id):
                drain(id, now: now)
            case .keep(let id):
                guard deployed, let index = hosts.firstIndex(where: { $0.id == id }), hosts[index].phase == .draining, let session = hosts[index].session
                else { continue }
                hosts[index].phase = .up
                hosts[index].drainingSince = nil
                step(hosts[index].name, "FREE", "kept: the work came back")
                out.append(.drain(session: session, false))
                out.append(.save)
            case .release(let id):
                release(id, reason: "released by the \(policy.name) policy", outcome: nil, now: now)
            }
        }
    }

    private mutating func acquire(now: Duration, wallNow: Date) {
        let id = nextID
        nextID += 1
        let host = Host(
            id: id, name: "\(spec.name)-\(id)", token: tokens?() ?? Self.token(&random), phase: .deploying, requestedAt: now, requestedWall: wallNow)
        hosts.append(host)
        step(host.name, "DEPLOYING")
        var delay = Duration.zero
        if case .processes(let boot?, _, _) = spec.infrastructure {
            let span = (boot.upperBound - boot.lowerBound) / .nanoseconds(1)
            delay = boot.lowerBound + .nanoseconds(span > 0 ? Int64(random.next() % UInt64(span + 1)) : 0)
        }
        out.append(.acquire(host, count: hosts.count, after: delay))
        out.append(.save)
    }

    private mutating func drain(_ id: Int, now: Duration) {
        guard let index = hosts.firstIndex(where: { $0.id == id }) else { return }
        switch hosts[index].phase {
        case .up:
            guard let session = hosts[index].session else { return }
            hosts[index].phase = .draining
            hosts[index].drainingSince = now
            step(hosts[index].name, "TO_BE_REMOVED")
            out.append(.drain(session: session, true))
            out.append(.save)
        case .deploying, .configuring:
            release(id, reason: "no longer needed before it joined", outcome: \.cancelled, now: now)
        case .draining:
            break
        }
    }

    /// Takes the host out: it leaves the scheduler (when joined) and the infrastructure stops it.
    private mutating func release(
        _ id: Int, reason: String, outcome: WritableKeyPath<Outcomes, Int>?, now: Duration, leaveScheduler: Bool = false
    ) {
        guard let index = hosts.firstIndex(where: { $0.id == id }) else { return }
        let host = hosts.remove(at: index)
        step(host.name, reason.hasPrefix("lost") ? "LOST" : "RELEASED", reason)
        if let outcome { usage.outcomes[keyPath: outcome] += 1 }
        account(host, until: now)
        out.append(.release(host, reason: reason, countsAsFailure: leaveScheduler && spec.evictionCountsAsFailure))
        out.append(.save)
    }

    private mutating func account(_ host: Host, until now: Duration) {
        let life = max(.zero, now - host.requestedAt)
        usage.releasedHostSeconds += life.seconds
        let cost = spec.billing.cost(life)
        usage.releasedCost += cost
        usage.spentToday += cost
    }

    private mutating func fail(_ why: String, now: Duration) {
        failuresInRow += 1
        lastFailure = why
        let delay = min(Duration.seconds(300), .seconds(1) * (1 << min(failuresInRow - 1, 9)))
        acquireNotBefore = now + delay
        nextDecision = min(nextDecision, acquireNotBefore)
        out.append(.log(warning: true, "\(why); next acquisition in \(delay) (\(failuresInRow) in a row)"))
    }

    /// The history's period now: 5 s, doubled each time its 1,440 samples fill up (every other one is dropped), so
    /// that it spans the source's whole life.
    private var sampleEvery = ElasticSourceCore.samplePeriod

    private mutating func sample(_ wallNow: Date) {
        if usage.history.count >= 1440 {
            usage.history = stride(from: 0, to: usage.history.count, by: 2).map { usage.history[$0] }
            sampleEvery = sampleEvery * 2
        }
        let up = hosts.filter { $0.phase == .up }
        let busy = up.reduce(0) { $0 + min($1.busy, spec.nodesPerHost) }
        appendBounded(&usage.history, Sample(
            wall: wallNow, deploying: nodes(in: .deploying), configuring: nodes(in: .configuring), free: up.count * spec.nodesPerHost - busy,
            busy: busy, draining: nodes(in: .draining)), limit: 2000)
    }

    private mutating func step(_ host: String, _ state: String, _ reason: String? = nil) {
        appendBounded(&usage.steps, Step(wall: wallNow, host: host, state: state, reason: reason), limit: 500)
    }

    private func appendBounded<T>(_ list: inout [T], _ value: T, limit: Int) {
        list.append(value)
        if list.count > limit { list.removeFirst(list.count - limit) }
    }

    private mutating func wake(at time: Duration) {
        if let armed, armed <= time { return }
        armed = time
        out.append(.wake(at: time))
    }

    private mutating func take() -> [Directive] {
        var taken: [Directive] = []
        swap(&taken, &out)
        return taken
    }

    static func day(_ wall: Date) -> Int { Int((wall.timeIntervalSince1970 / 86_400).rounded(.down)) }

    /// 128 random bits as hex (tests' tokens; the shell's come from the system's generator).
    static func token(_ random: inout SplitMix) -> String {
        let high = random.next()
        return String(format: "%016llx%016llx", high, random.next())
    }
}
