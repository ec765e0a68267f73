import DequeModule
import Foundation
import HeapModule

/// `tessera bench elastic`: a discrete-event simulation of a PEPS day that drives the real ``SchedulerCore`` (and
/// its resource manager) and a real ``ElasticPolicy`` with simulated task durations and host boots. No threads,
/// no clock: time is the next event's. The same seed gives the same trace (``Outcome/traceHash``).
///
/// Two sources: `onprem`, a static pool of local nodes (free), and `cloud`, hosts of `nodesPerHost` nodes that
/// its policy acquires and releases, which boot in a seeded time and are billed by ``Billing``. Lower identifiers
/// win placement ties, so the on-premises nodes fill first, and the cloud policy sees only the tasks they could
/// not take.
public struct ElasticSimulation {
    /// The machine room and the bill.
    public struct Setup: Sendable {
        public var workload: ElasticWorkload
        public var onPremNodes: Int
        public var maxHosts: Int
        public var nodesPerHost: Int
        /// Seconds from a request to the host's nodes being FREE.
        public var boot: ClosedRange<Double>
        public var billing: Billing
        /// Nodes-by-state and backlog are sampled this often.
        public var sample: Duration

        /// The day at `scale`: 60 on-premises nodes, up to 10 cloud hosts of 30 nodes booting in
        /// 60 – 180 s, 1.0 per host-hour billed per minute with a one-minute minimum (all but billing × scale).
        public init(seed: UInt64, scale: Int = 1, length: Duration = .seconds(86_400)) {
            workload = ElasticWorkload(seed: seed, scale: scale, length: length)
            onPremNodes = 60 * max(1, scale)
            maxHosts = 10 * max(1, scale)
            nodesPerHost = 30
            boot = 60...180
            billing = Billing(unit: .minute, minimum: .seconds(60), pricePerHostHour: 1)
            sample = .seconds(60)
        }
    }

    /// What one policy did with the day.
    public struct Outcome: Sendable, Codable {
        public var name: String
        public var cost: Double
        /// The same hosts billed by the hour (one-hour minimum).
        public var costHourlyBilling: Double
        public var hostHours: Double
        public var meanTurnaroundSeconds: Double
        public var p95TurnaroundSeconds: Double
        /// From each burst's arrival to the end of its last job.
        public var burstMakespanSeconds: [Double]
        /// The most ready tasks that no node took, at the samples.
        public var largestBacklog: Int
        /// Scale-down episodes that followed a scale-up (an always-on source has none).
        public var scaleCycles: Int
        public var acquisitions: Int
        /// From a host's request to its nodes being FREE.
        public var requestToFreeP50Seconds: Double
        public var requestToFreeP95Seconds: Double
        public var jobs: Int
        /// Jobs that did not end FINISHED.
        public var jobsNotFinished: Int
        /// When the last job ended.
        public var endSeconds: Double
        /// Cloud nodes up (FREE, BUSY or TO_BE_REMOVED) at each sample.
        public var cloudNodesUp: [Int]
        public var traceHash: String
    }

    private enum Event: Comparable {
        case arrive(Int)
        case end(job: JobID, index: Int, attempt: Int, node: NodeID, session: Int?, ran: Duration)
        case boot(host: Int)
        case decide
        case wake
        case sample

        /// Ties at one time: ends first (their nodes are free for what comes next), decisions last.
        var rank: Int {
            switch self {
            case .end: 0
            case .boot: 1
            case .arrive: 2
            case .wake: 3
            case .sample: 4
            case .decide: 5
            }
        }

        static func < (lhs: Event, rhs: Event) -> Bool { lhs.rank < rhs.rank }
    }

    private struct Scheduled: Comparable {
        var at: Duration
        var order: UInt64
        var event: Event
        static func < (lhs: Scheduled, rhs: Scheduled) -> Bool {
            (lhs.at, lhs.event.rank, lhs.order) < (rhs.at, rhs.event.rank, rhs.order)
        }
        static func == (lhs: Scheduled, rhs: Scheduled) -> Bool { lhs.order == rhs.order }
    }

    private struct Host {
        var phase: ElasticHost.Phase
        var requestedAt: Duration
        var upAt: Duration?
        var releasedAt: Duration?
        var nodes: [NodeID] = []
        var busy = 0
        var idleSince: Duration?
    }

    let setup: Setup
    /// Ended jobs leave memory a minute after their end, as on a long-running grid.
    private var core = SchedulerCore(settings: .init(removeEndedJobsAfter: .seconds(60)))
    private var queue = Heap<Scheduled>()
    private var order: UInt64 = 0
    private var now: Duration = .zero
    private var hosts: [Host] = []
    private var hostOfNode: [NodeID: Int] = [:]
    private var arrivals: [ElasticWorkload.Arrival] = []
    private var serialOfJob: [JobID: Int] = [:]
    private var turnarounds: [Double] = []
    private var burstEnds: [Duration] = []
    private var notFinished = 0
    private var jobsLeft = 0
    private var lastEnd: Duration = .zero
    private var armed: Duration?
    private var backlog = 0
    private var cycles = 0
    private var lastChange = 0
    private var ranSum = 0.0
    private var ranCount = 0
    private var cloudUp: [Int] = []
    private var hash: UInt64 = 0xCBF2_9CE4_8422_2325
    private var directives: Deque<SchedulerDirective> = []
    private static let epoch = Date(timeIntervalSince1970: 1_796_601_600)  // Monday 2026-12-07 00:00 UTC

    /// Runs the day with `policy` for the cloud source.
    public static func run(_ setup: Setup, policy: some ElasticPolicy) -> Outcome {
        var simulation = ElasticSimulation(setup: setup)
        var policy = policy
        return simulation.run(&policy)
    }

    init(setup: Setup) { self.setup = setup }

    private mutating func run(_ policy: inout some ElasticPolicy) -> Outcome {
        arrivals = setup.workload.arrivals()
        jobsLeft = arrivals.count
        burstEnds = Array(repeating: .zero, count: ElasticWorkload.bursts.count)
        let local = (0..<setup.onPremNodes).map { index in
            ResourceLedger.Entry(
                id: NodeID(index), source: "onprem", state: .free, locked: false, labels: [], token: nil, capacity: 1, assigned: 0,
                host: "onprem-\(index / 30)")
        }
        perform(core.onLocalNodesJoined(local, now: .zero))
        for arrival in arrivals { schedule(.arrive(arrival.serial), at: arrival.at) }
        schedule(.decide, at: .zero)
        schedule(.sample, at: .zero)
        while let next = queue.popMin() {
            now = next.at
            trace(next.event)
            switch next.event {
            case .arrive(let serial): arrive(serial)
            case .end(let job, let index, let attempt, let node, let session, let ran): end(job, index, attempt, node, session, ran)
            case .boot(let host): boot(host)
            case .wake:
                armed = nil
                perform(core.onTick(now: now))
            case .sample:
                backlog = max(backlog, core.demand(source: "cloud", now: now).ready)
                cloudUp.append(hosts.reduce(0) { $0 + ($1.phase == .up || $1.phase == .draining ? $1.nodes.count : 0) })
                if !finished { schedule(.sample, at: now + setup.sample) }
            case .decide:
                if finished {
                    releaseAll()
                } else {
                    apply(policy.decide(snapshot()))
                    schedule(.decide, at: now + policy.refresh)
                }
            }
        }
        return outcome(policy.name)
    }

    private var finished: Bool { jobsLeft == 0 }

    // MARK: - Events

    private mutating func arrive(_ serial: Int) {
        let id = core.nextJobID
        guard let job = try? JobCore(id: id, workflow: ElasticWorkload.workflow, now: now, wallNow: Self.epoch + now.seconds) else {
            jobsLeft -= 1
            notFinished += 1
            return
        }
        serialOfJob[id] = serial
        perform(core.onSubmitted(job, now: now))
    }

    private mutating func end(_ job: JobID, _ index: Int, _ attempt: Int, _ node: NodeID, _ session: Int?, _ ran: Duration) {
        if let session {
            guard hosts[session].releasedAt == nil else { return }
            hosts[session].busy -= 1
            if hosts[session].busy == 0 { hosts[session].idleSince = now }
        }
        ranSum += ran.seconds
        ranCount += 1
        let result: Value = core.job(job)?.instances[index].name.task == "fetch" ? .int(setup.workload.tiles(serialOfJob[job] ?? 0)) : .null
        let report = NodeReport.finished(
            job: job, index: index, attempt: attempt, node: node, assignedNode: node, outcome: .success(result: result, variables: nil),
            ran: Int64(ran / .nanoseconds(1)))
        perform(core.onReports([report], session: session, now: now))
    }

    private mutating func boot(_ id: Int) {
        guard hosts[id].phase == .deploying else { return }
        hosts[id].phase = .up
        hosts[id].upAt = now
        hosts[id].idleSince = now
        perform(core.onHostJoined(
            .init(session: id, address: "cloud-\(id)", workers: setup.nodesPerHost, labels: [], token: nil, source: "cloud", capacity: 1),
            now: now))
    }

    // MARK: - The scheduler's directives

    private mutating func perform(_ list: [SchedulerDirective]) {
        let draining = directives.isEmpty
        directives.append(contentsOf: list)
        guard draining else { return }
        while let directive = directives.popFirst() {
            switch directive {
            case .dispatch(let node, let batch):
                let session = hostOfNode[node]
                var started: [NodeReport] = []
                for assignment in batch {
                    let serial = serialOfJob[assignment.job] ?? 0
                    let ran = setup.workload.duration(serial, task: assignment.name.task, replica: assignment.name.replication)
                    started.append(.started(job: assignment.job, index: assignment.index, attempt: assignment.attempt, node: node))
                    schedule(.end(job: assignment.job, index: assignment.index, attempt: assignment.attempt, node: node, session: session, ran: ran), at: now + ran)
                    if let session {
                        hosts[session].busy += 1
                        hosts[session].idleSince = nil
                    }
                }
                directives.append(contentsOf: core.onReports(started, session: session, now: now))
            case .placeMore(let preferring):
                directives.append(contentsOf: core.onPlaceMore(preferring: preferring, now: now))
            case .configureHost(let session, let ids):
                hosts[session].nodes = ids
                for id in ids { hostOfNode[id] = session }
            case .wake(let at):
                if armed.map({ at < $0 }) ?? true {
                    armed = at
                    schedule(.wake, at: at)
                }
            case .jobEnded(let id):
                guard let job = core.job(id), let serial = serialOfJob[id] else { continue }
                jobsLeft -= 1
                if job.status != .finished { notFinished += 1 }
                let arrival = arrivals[serial]
                turnarounds.append((now - arrival.at).seconds)
                if let burst = arrival.burst { burstEnds[burst] = max(burstEnds[burst], now) }
                lastEnd = max(lastEnd, now)
                serialOfJob[id] = nil
            case .abort, .releaseFromHost, .reclaimLocal, .closeHost, .setMaySteal, .nudge, .commit, .quarantine:
                continue
            }
        }
    }

    // MARK: - The policy

    private func snapshot() -> ElasticSnapshot {
        let alive = hosts.indices.filter { hosts[$0].releasedAt == nil }
        let view = alive.map { id in
            ElasticHost(
                id: id, phase: hosts[id].phase, requestedAt: hosts[id].requestedAt, upAt: hosts[id].upAt, nodes: setup.nodesPerHost,
                busy: hosts[id].busy, idleSince: hosts[id].idleSince)
        }
        return ElasticSnapshot(
            now: now, demand: core.demand(source: "cloud", now: now), hosts: view, nodesPerHost: setup.nodesPerHost, billing: setup.billing,
            spentToday: cost(setup.billing), meanTaskSeconds: ranCount == 0 ? nil : ranSum / Double(ranCount), wallNow: Self.epoch + now.seconds)
    }

    private mutating func apply(_ decided: [ElasticDirective]) {
        for directive in decided {
            switch directive {
            case .acquire(let count):
                let alive = hosts.count { $0.releasedAt == nil }
                let granted = min(count, setup.maxHosts - alive)
                guard granted > 0 else { continue }
                if lastChange < 0 { cycles += 1 }
                lastChange = 1
                for _ in 0..<granted {
                    hosts.append(Host(phase: .deploying, requestedAt: now))
                    schedule(.boot(host: hosts.count - 1), at: now + setup.workload.boot(hosts.count - 1, range: setup.boot))
                }
            case .drain(let id):
                guard hosts.indices.contains(id), hosts[id].phase == .up, hosts[id].releasedAt == nil else { continue }
                hosts[id].phase = .draining
                perform(core.onHostDraining(session: id, true, now: now))
            case .keep(let id):
                guard hosts.indices.contains(id), hosts[id].phase == .draining, hosts[id].releasedAt == nil else { continue }
                hosts[id].phase = .up
                perform(core.onHostDraining(session: id, false, now: now))
            case .release(let id):
                guard hosts.indices.contains(id), hosts[id].releasedAt == nil else { continue }
                release(id)
            }
        }
    }

    private mutating func release(_ id: Int) {
        if lastChange > 0 { lastChange = -1 }
        hosts[id].releasedAt = now
        if hosts[id].phase != .deploying { perform(core.onHostReleased(session: id, now: now)) }
        hosts[id].busy = 0
    }

    /// The day is over: every host still alive goes, at the end of the day or of the last job, whichever is later.
    private mutating func releaseAll() {
        now = max(now, setup.workload.length)
        let last = lastChange
        for id in hosts.indices where hosts[id].releasedAt == nil { release(id) }
        lastChange = last
    }

    // MARK: - Figures

    private func cost(_ billing: Billing) -> Double {
        hosts.reduce(0) { $0 + billing.cost(($1.releasedAt ?? now) - $1.requestedAt) }
    }

    private func outcome(_ name: String) -> Outcome {
        let sorted = turnarounds.sorted()
        let boots = hosts.compactMap { host in host.upAt.map { ($0 - host.requestedAt).seconds } }.sorted()
        func percentile(_ list: [Double], _ p: Double) -> Double {
            list.isEmpty ? 0 : list[min(list.count - 1, Int((Double(list.count) * p).rounded(.up)) - 1)]
        }
        return Outcome(
            name: name, cost: cost(setup.billing),
            costHourlyBilling: cost(Billing(unit: .hour, minimum: .seconds(3600), pricePerHostHour: setup.billing.pricePerHostHour)),
            hostHours: hosts.reduce(0) { $0 + (($1.releasedAt ?? now) - $1.requestedAt).seconds } / 3600,
            meanTurnaroundSeconds: sorted.isEmpty ? 0 : sorted.reduce(0, +) / Double(sorted.count),
            p95TurnaroundSeconds: percentile(sorted, 0.95),
            burstMakespanSeconds: zip(ElasticWorkload.bursts, burstEnds).map { max(0, ($1 - $0.at).seconds) },
            largestBacklog: backlog, scaleCycles: cycles, acquisitions: hosts.count,
            requestToFreeP50Seconds: percentile(boots, 0.5), requestToFreeP95Seconds: percentile(boots, 0.95),
            jobs: arrivals.count, jobsNotFinished: notFinished + jobsLeft, endSeconds: lastEnd.seconds, cloudNodesUp: cloudUp,
            traceHash: String(hash, radix: 16))
    }

    // MARK: - The event queue

    private mutating func schedule(_ event: Event, at time: Duration) {
        order += 1
        queue.insert(Scheduled(at: time, order: order, event: event))
    }

    /// Folds an event into the trace hash (FNV-1a over its time and kind).
    private mutating func trace(_ event: Event) {
        var value = UInt64(bitPattern: Int64(now / .milliseconds(1))) &* 31 &+ UInt64(event.rank)
        for _ in 0..<8 {
            hash = (hash ^ (value & 0xFF)) &* 0x100_0000_01B3
            value >>= 8
        }
    }
}
