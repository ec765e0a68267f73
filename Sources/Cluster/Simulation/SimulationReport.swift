/// What a simulated run measured (the figures of gossip.md §5).
public struct SimulationReport: Sendable, Hashable, Codable {
    /// Members at the start.
    public var members: Int
    /// Simulated seconds.
    public var simulatedSeconds: Double
    /// The run's seed.
    public var seed: UInt64
    /// The profile's name, when it is one of the named profiles.
    public var profile: String
    /// Crash detection times: from a crash until 99 % of live members held the member dead (seconds).
    public var detections: [Double] = []
    /// Crashes not detected by 99 % of live members before the end of the run.
    public var undetected = 0
    /// Dead declarations (a member's own suspicion running out) about members whose process was running.
    public var falseDead = 0
    /// `falseDead` per member and simulated hour.
    public var falseDeadPerMemberHour: Double = 0
    /// Declarations excluded from `falseDead` because the declarer could not hear its subject (a partition).
    public var partitionedDead = 0
    /// Gossip rounds until 99.99 % of the members learnt the joined member (nil without a join or if not reached).
    public var rounds9999: Int?
    /// Gossip rounds until every member learnt it.
    public var rounds100: Int?
    /// Bytes sent (UDP and TCP) per member and simulated second.
    public var bytesPerMemberPerSecond: Double = 0
    /// Bytes sent over UDP per member and simulated second.
    public var udpBytesPerMemberPerSecond: Double = 0
    /// The largest datagram sent, envelope included.
    public var largestDatagramBytes = 0
    /// Datagrams sent.
    public var datagrams = 0
    /// State exchanges opened.
    public var syncs = 0
    /// Seconds after the last partition ended until every live member saw every live member active
    /// (nil without a partition or if not reached).
    public var healSeconds: Double?
    /// Seconds after the mass restart window ended until every member saw every other (nil if not reached).
    public var restartConvergedSeconds: Double?
    /// Members still held dead or missing by some live member at the end (pairs observer → subject).
    public var stuckDead = 0
    /// Members held suspect by some live member at the end (pairs).
    public var stuckSuspect = 0
    /// Alive or joined events about a crashed member after a member had declared it dead.
    public var resurrections = 0
    /// Events processed.
    public var events = 0
    /// FNV-1a hash of every effect in order: the same seed and scenario give the same hash.
    public var traceHash: String = ""

    /// The detection time below which `fraction` of the detections fall.
    public func detectionQuantile(_ fraction: Double) -> Double? {
        Self.quantile(detections, fraction)
    }

    /// The nearest-rank quantile of `values`.
    public static func quantile(_ values: [Double], _ fraction: Double) -> Double? {
        guard !values.isEmpty else { return nil }
        let sorted = values.sorted()
        let rank = Int((fraction * Double(sorted.count)).rounded(.up)) - 1
        return sorted[min(max(rank, 0), sorted.count - 1)]
    }
}
