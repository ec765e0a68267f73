import Foundation

/// Every tunable of the membership protocol, with the three profiles the simulator compares.
///
/// Timeouts that depend on the cluster size follow memberlist: the suspicion timeout grows with log10 N, the
/// retransmit limit with log10 (N + 1) and the push-pull interval with log2 N above 32 members.
public struct MembershipSettings: Sendable, Hashable {
    /// One protocol period: a member probes one other member per period. Default 1 s.
    public var probeInterval: Duration = .seconds(1)
    /// How long a direct probe waits for its ack before asking others to probe indirectly. Default 400 ms.
    public var probeTimeout: Duration = .milliseconds(400)
    /// Members asked to probe indirectly after a direct probe times out (SWIM's K). Default 3.
    public var indirectProbes: Int = 3
    /// Lifeguard's nacks: indirect probers answer even when the target stays silent. Default on.
    public var nacks: Bool = true
    /// Lifeguard's local health multiplier ceiling: probe periods and timeouts stretch up to this factor while
    /// a member misses acks and nacks itself. 1 turns it off. Default 8.
    public var maxLocalHealth: Int = 8
    /// Lifeguard's buddy system: a probe of a suspect carries the suspicion so the suspect can refute at once.
    /// Default on.
    public var buddy: Bool = true
    /// A member whose own timer fires this much later than it was due was itself paused (CPU-starved): the
    /// acks and refutations it has not read yet may be waiting in its socket, so it neither suspects the target
    /// of that probe nor declares a suspect dead until it has read them. nil turns it off. Default 200 ms.
    public var lateTimerTolerance: Duration? = .milliseconds(200)
    /// How long suspicions last and what shortens them.
    public var suspicion = SuspicionSettings()
    /// How often a member with gossip to spread sends it. Default 200 ms.
    public var gossipInterval: Duration = .milliseconds(200)
    /// Eager gossip: a member that accepts a new death, or sees a suspicion refuted, sends a gossip round at
    /// once instead of at its next interval (at most one such round per `eagerGossipSpacing`), so the updates
    /// that race suspicion timers cross the cluster in milliseconds instead of about a second. nil turns it
    /// off. Default 50 ms.
    public var eagerGossipSpacing: Duration? = .milliseconds(50)
    /// Members each gossip round goes to. Default 3.
    public var gossipFanout: Int = 3
    /// Each update is sent `retransmitMultiplier × ceil(log10(N + 1))` times. Default 4.
    public var retransmitMultiplier: Int = 4
    /// How long members keep gossiping to a member they declared dead, so it can learn it and rejoin. Default 30 s.
    public var gossipToTheDead: Duration = .seconds(30)
    /// The largest datagram, authentication envelope included: 1,200 bytes fit the IPv6 minimum MTU.
    public var maxDatagramBytes: Int = 1200
    /// Anti-entropy: a full state exchange with a random member this often (scaled up above 32 members).
    /// Default 30 s.
    public var pushPullInterval: Duration = .seconds(30)
    /// Partition healing: a state exchange with a random dead member or seed this often; nil turns it off
    /// (memberlist, which then needs a manual join). Default 30 s.
    public var healInterval: Duration? = .seconds(30)
    /// The first wait before trying the seeds again when none answered a join; it doubles each time up to the
    /// heal interval. Default 500 ms.
    public var joinRetry: Duration = .milliseconds(500)
    /// How long a dead or left member's tombstone is kept, so stale gossip cannot revive it. Default 1 h.
    public var tombstoneLifetime: Duration = .seconds(3600)

    /// The defaults: Tessera's full Lifeguard profile.
    public init() {}

    /// The protocol tuned by Tessera: full Lifeguard, verification probes, weak evidence, healing.
    public static let tessera = MembershipSettings()

    /// SWIM as published (probe, K indirect probes, suspicion with a fixed timeout), with no Lifeguard and no
    /// healing. Its fixed timeout equals Tessera's shortest, so both detect a crash equally fast and the
    /// comparison is about mistakes.
    public static let swimClassic: MembershipSettings = {
        var settings = MembershipSettings()
        settings.probeTimeout = .milliseconds(500)
        settings.nacks = false
        settings.maxLocalHealth = 1
        settings.buddy = false
        settings.lateTimerTolerance = nil
        settings.eagerGossipSpacing = nil
        settings.suspicion.maximumMultiplier = 1
        settings.suspicion.confirmations = 0
        settings.suspicion.verificationProbes = 0
        settings.suspicion.weakEvidence = false
        settings.healInterval = nil
        return settings
    }()

    /// hashicorp/memberlist's DefaultLANConfig: probe 1 s / 500 ms, 3 indirect checks, suspicion 4 × log10 N
    /// periods up to 6 times that with 2 confirmations, gossip 200 ms to 3 members, retransmit ×4, push-pull
    /// 30 s, no healing.
    public static let memberlistDefaults: MembershipSettings = {
        var settings = MembershipSettings()
        settings.probeTimeout = .milliseconds(500)
        settings.suspicion.multiplier = 4
        settings.suspicion.maximumMultiplier = 6
        settings.suspicion.confirmations = 2
        settings.suspicion.verificationProbes = 0
        settings.suspicion.weakEvidence = false
        settings.lateTimerTolerance = nil
        settings.eagerGossipSpacing = nil
        settings.maxDatagramBytes = 1400
        settings.healInterval = nil
        return settings
    }()

    /// The named profiles, for the CLI.
    public static func profile(named name: String) -> MembershipSettings? {
        switch name {
        case "tessera": .tessera
        case "swim-classic": .swimClassic
        case "memberlist-defaults": .memberlistDefaults
        default: nil
        }
    }

    /// The profile names `profile(named:)` accepts.
    public static let profileNames = ["tessera", "swim-classic", "memberlist-defaults"]

    /// The shortest suspicion for a cluster of `members`: `multiplier × max(1, log10 N)` probe periods.
    public func minimumSuspicion(members: Int) -> Duration {
        let scale = max(1, log10(Double(max(1, members))))
        return probeInterval.scaled(by: suspicion.multiplier * scale)
    }

    /// How many times each update is sent in a cluster of `members`.
    public func retransmitLimit(members: Int) -> Int {
        retransmitMultiplier * Int(log10(Double(members + 1)).rounded(.up))
    }

    /// The push-pull period for a cluster of `members`: memberlist's scaling, one more step each time N doubles
    /// beyond 32.
    public func pushPullPeriod(members: Int) -> Duration {
        guard members > 32 else { return pushPullInterval }
        let steps = (log2(Double(members)) - log2(32)).rounded(.up) + 1
        return pushPullInterval.scaled(by: steps)
    }
}

/// Lifeguard's dynamic suspicion: a suspicion starts long and shortens as independent members confirm it.
public struct SuspicionSettings: Sendable, Hashable {
    /// The shortest suspicion is `multiplier × max(1, log10 N)` probe periods. Default 1.2 (3.6 s at N = 1,000).
    public var multiplier: Double = 1.2
    /// The longest suspicion is this many times the shortest; 1 makes it fixed. Default 4.
    public var maximumMultiplier: Double = 4
    /// Independent confirmations that bring a suspicion down to its shortest (Lifeguard's K). Default 3.
    public var confirmations: Int = 3
    /// On first hearing a suspicion, a member probes the suspect itself, out of turn, with probability
    /// `verificationProbes / N`, so confirmations arrive in about one period instead of several. Default 6.
    public var verificationProbes: Int = 6
    /// Suspicions raised by members whose local health multiplier is above 0 are weak: they start at the
    /// longest timeout and never count as confirmations. Default on.
    public var weakEvidence: Bool = true

    /// The defaults.
    public init() {}
}
