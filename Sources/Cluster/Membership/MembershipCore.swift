/// The timers the core asks its shell to set. A timer that fires after the state it was set for has moved on
/// is ignored, so timers are never cancelled.
public enum MembershipTimer: Hashable, Sendable {
    /// Start the next protocol period.
    case probe
    /// The direct probe `sequence` had no ack in time: probe indirectly.
    case probeTimeout(sequence: UInt32)
    /// The relayed probe `sequence` had no ack in time: nack the requester.
    case relay(sequence: UInt32)
    /// The suspicion of this member may have run out.
    case suspicion(NodeID)
    /// Send a round of gossip.
    case gossip
    /// Exchange state with a random member (anti-entropy).
    case pushPull
    /// Exchange state with a random dead member or seed (partition healing).
    case heal
    /// Forget tombstones older than their lifetime.
    case reap
    /// Try the seeds again: no join has succeeded yet.
    case join
}

/// What the core asks its shell to do.
public enum MembershipEffect: Hashable, Sendable {
    /// Send a datagram (UDP).
    case send(Datagram, to: MemberAddress)
    /// Open a state exchange (TCP) and feed the reply to `onSyncReply`, or the failure to `onSyncFailed`.
    case sync(SyncMessage, to: MemberAddress)
    /// Call `onTimer(_:now:)` at `at`.
    case setTimer(MembershipTimer, at: ClusterTime)
    /// Tell the grid.
    case event(MembershipEvent)
}

/// The SWIM + Lifeguard membership protocol of one member, as a pure value: inputs in, effects out.
///
/// No clock, no socket, no global randomness: the shell passes `now`, performs the effects and feeds back
/// datagrams, state exchanges and timers. The same seed and the same inputs give the same effects, which is
/// what lets the simulator replay a run of thousands of members from its seed.
public struct MembershipCore: Sendable {
    struct Probe: Sendable {
        let sequence: UInt32
        let target: NodeID
        let epoch: UInt64
        let incarnation: UInt64
        let address: MemberAddress
        let deadline: ClusterTime
        var expectedNacks = 0
        var nacks = 0
    }

    /// The order of one round-robin over the slots: `(multiplier · step + offset) mod modulus`.
    struct ProbeRound: Sendable {
        var multiplier: Int
        var offset: Int
        var modulus: Int
        var step: Int
    }

    struct Relay: Sendable {
        let origin: MemberAddress
        let originSequence: UInt32
        let wantsNack: Bool
    }

    /// The protocol's settings.
    public let settings: MembershipSettings
    /// This member as it announces itself.
    public internal(set) var me: Member
    /// Addresses to join through and to fall back on when every known member is gone.
    public internal(set) var seeds: [MemberAddress]
    /// Lifeguard's local health score, 0 (healthy) to `maxLocalHealth − 1`: timeouts scale by score + 1.
    public internal(set) var localHealth = 0

    var table: MemberTable
    var rng: Xoshiro256
    var round = ProbeRound(multiplier: 1, offset: 0, modulus: 1, step: 1)
    var verifications: [NodeID] = []
    var probe: Probe?
    var relays: [UInt32: Relay] = [:]
    var nextSequence: UInt32 = 0
    var suspicions: [NodeID: Suspicion] = [:]
    var queue = Dissemination()
    var gossipArmed = false
    var leaving = false
    var toldDead: [NodeID: ClusterTime] = [:]
    /// When a datagram or state exchange last arrived: a long silence before a timer means this member may have
    /// been paused with input unread.
    var lastInput = ClusterTime.zero
    /// When the last eager gossip round went out.
    var lastEagerGossip: ClusterTime?
    /// The wait before the next join attempt while no seed has answered (doubles up to the heal interval).
    var joinBackoff: Duration?

    /// A member that has not started yet.
    ///
    /// - Parameters:
    ///   - id: this process's identity (draw a fresh one per process start).
    ///   - address: where it listens.
    ///   - settings: the protocol's tunables.
    ///   - seed: the seed of every random choice it makes.
    public init(id: NodeID, address: MemberAddress, settings: MembershipSettings = .tessera, seed: UInt64) {
        self.settings = settings
        me = Member(id: id, epoch: 0, incarnation: 0, address: address, status: .alive)
        seeds = []
        rng = Xoshiro256(seed: seed)
        table = MemberTable(salt: rng.next())
    }

    /// Every other member this one knows, tombstones included, sorted by id.
    public var members: [Member] { table.members }

    /// The other members alive or suspect.
    public var activeCount: Int { table.activeCount }

    /// What this member believes about `id`.
    public func member(_ id: NodeID) -> Member? {
        table.slot(of: id).flatMap { table[$0]?.member }
    }

    /// Updates waiting to be gossiped.
    public var pendingGossip: Int { queue.count }

    /// Starts the member: arms its timers, announces itself and joins through `seeds`.
    ///
    /// - Parameters:
    ///   - seeds: members to join through (its own address is skipped); empty for the first member.
    ///   - now: the current time.
    /// - Returns: the timers to set and the join exchanges to open.
    public mutating func start(seeds: [MemberAddress], now: ClusterTime) -> [MembershipEffect] {
        self.seeds = seeds.filter { $0 != me.address }
        var out: [MembershipEffect] = []
        // Members start their periods at different offsets so a cluster started at once does not probe in step.
        let offset = settings.probeInterval.scaled(by: rng.unit())
        out.append(.setTimer(.probe, at: now + offset))
        out.append(.setTimer(.pushPull,
                             at: now + settings.pushPullPeriod(members: clusterSize).scaled(by: 0.5 + rng.unit())))
        if let heal = settings.healInterval {
            out.append(.setTimer(.heal, at: now + heal.scaled(by: 0.5 + rng.unit())))
        }
        out.append(.setTimer(.reap, at: now + reapPeriod))
        enqueue(.alive(me), now: now, into: &out)
        for seed in self.seeds {
            out.append(.sync(syncState(join: true), to: seed))
        }
        if !self.seeds.isEmpty { joinBackoff = settings.joinRetry }
        return out
    }

    /// Starts the member already converged with `peers` (the simulator's steady-state start), without the
    /// join exchanges a real start would make.
    package mutating func bootstrap(peers: [Member], now: ClusterTime) -> [MembershipEffect] {
        var converged = MemberTable(salt: rng.next())
        for peer in peers { _ = converged.insert(peer, at: now) }
        return bootstrap(converged: converged, now: now)
    }

    /// Starts the member with a converged table it may share with others (copy-on-write): its own record, if
    /// the table holds it, is removed.
    mutating func bootstrap(converged: MemberTable, now: ClusterTime) -> [MembershipEffect] {
        table = converged
        if let slot = table.slot(of: me.id) { table.remove(slot) }
        var out = start(seeds: [], now: now)
        queue = Dissemination()
        out.removeAll { if case .setTimer(.gossip, _) = $0 { true } else { false } }
        gossipArmed = false
        return out
    }

    /// Leaves the cluster gracefully: the member gossips that it left and stops probing.
    public mutating func leave(now: ClusterTime) -> [MembershipEffect] {
        guard !leaving else { return [] }
        leaving = true
        me.status = .left
        me.incarnation += 1
        var out: [MembershipEffect] = []
        enqueue(Update(kind: .left, subject: me.id, epoch: me.epoch, incarnation: me.incarnation, from: me.id),
                now: now, into: &out)
        gossipRound(now: now, into: &out)
        return out
    }

    /// A timer the core asked for fired.
    public mutating func onTimer(_ timer: MembershipTimer, now: ClusterTime) -> [MembershipEffect] {
        var out: [MembershipEffect] = []
        switch timer {
        case .probe:
            onProbeTick(now: now, into: &out)
        case .probeTimeout(let sequence):
            onProbeTimeout(sequence: sequence, now: now, into: &out)
        case .relay(let sequence):
            if let relay = relays.removeValue(forKey: sequence), relay.wantsNack {
                send(.nack(sequence: relay.originSequence), to: relay.origin, into: &out)
            }
        case .suspicion(let id):
            onSuspicionTimeout(id, now: now, into: &out)
        case .gossip:
            gossipArmed = false
            gossipRound(now: now, into: &out)
            if !queue.isEmpty { armGossip(now: now, into: &out) }
        case .pushPull:
            onPushPullTick(now: now, into: &out)
        case .heal:
            onHealTick(now: now, into: &out)
        case .reap:
            reap(now: now)
            out.append(.setTimer(.reap, at: now + reapPeriod))
        case .join:
            guard table.activeCount == 0, !leaving else { joinBackoff = nil; break }
            for seed in seeds { out.append(.sync(syncState(join: true), to: seed)) }
        }
        return out
    }

    /// A datagram arrived from `address`.
    public mutating func onDatagram(_ datagram: Datagram, from address: MemberAddress, now: ClusterTime)
        -> [MembershipEffect] {
        var out: [MembershipEffect] = []
        lastInput = now
        let sender = datagram.sender
        if let slot = table.slot(of: sender.id), let record = table[slot] {
            if sender.epoch < record.member.epoch { return out }
            if !record.member.status.isActive, sender.epoch == record.member.epoch {
                // A member this one declared dead is still talking: tell it, so it rejoins in a new epoch.
                tellDead(record.member, now: now, into: &out)
                for update in datagram.updates { apply(update, now: now, into: &out) }
                return out
            }
        }
        for update in datagram.updates { apply(update, now: now, into: &out) }
        guard !leaving else { return out }
        switch datagram.body {
        case .ping(let sequence, let target):
            // A ping for an earlier process at this address gets no answer: its prober must find it gone.
            if target == me.id { send(.ack(sequence: sequence), to: address, into: &out) }
        case .ack(let sequence):
            onAck(sequence: sequence, into: &out)
        case .nack(let sequence):
            if probe?.sequence == sequence { probe?.nacks += 1 }
        case .pingRequest(let sequence, let target, let targetAddress, let wantsNack):
            let relaySequence = takeSequence()
            relays[relaySequence] = Relay(origin: address, originSequence: sequence, wantsNack: wantsNack)
            send(.ping(sequence: relaySequence, target: target), to: targetAddress, into: &out)
            out.append(.setTimer(.relay(sequence: relaySequence), at: now + settings.probeTimeout))
        case .gossip:
            break
        }
        return out
    }

    static let reapPeriodSeconds = 60

    var reapPeriod: Duration { .seconds(Self.reapPeriodSeconds) }

    mutating func takeSequence() -> UInt32 {
        nextSequence &+= 1
        return nextSequence
    }

    /// Timeouts stretched by the local health multiplier.
    func scaled(_ duration: Duration) -> Duration {
        duration * (localHealth + 1)
    }

    mutating func changeHealth(by delta: Int) {
        localHealth = min(max(localHealth + delta, 0), max(settings.maxLocalHealth - 1, 0))
    }

    /// Whether a timer due at `due` fired so late that this member must have been paused.
    func firedLate(due: ClusterTime, now: ClusterTime) -> Bool {
        guard let tolerance = settings.lateTimerTolerance else { return false }
        return now > due + tolerance
    }

    /// Members in the cluster, this one included (the N of every log-scaled setting).
    var clusterSize: Int { table.activeCount + 1 }
}
