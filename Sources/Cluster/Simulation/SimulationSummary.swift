/// The figures of several runs of one scenario under different seeds, pooled (what `tessera cluster sim` prints).
public struct SimulationSummary: Sendable, Hashable, Codable {
    /// The profile simulated.
    public var profile: String
    /// Members per run.
    public var members: Int
    /// Seeds run.
    public var seeds: [UInt64]
    /// Simulated seconds per run.
    public var simulatedSeconds: Double
    /// Crash detections pooled over the runs.
    public var detections: Int
    /// Median detection time (seconds).
    public var detectionP50s: Double?
    /// 99th-percentile detection time (seconds).
    public var detectionP99s: Double?
    /// Longest detection time (seconds).
    public var detectionMaxS: Double?
    /// Crashes that were never detected by 99 % of the live members.
    public var undetected: Int
    /// Healthy members declared dead, over all runs.
    public var falseDead: Int
    /// Healthy members declared dead per member-hour.
    public var falseDeadPerMemberHour: Double
    /// Gossip rounds until 99.99 % learnt a join (worst run).
    public var rounds9999: Int?
    /// Gossip rounds until every member learnt it (worst run).
    public var rounds100: Int?
    /// Bytes per member per second, mean of the runs.
    public var bytesPerMemberPerSecond: Double
    /// The largest datagram of any run.
    public var largestDatagramBytes: Int
    /// Seconds from the end of the partition to a single view (worst run).
    public var healSeconds: Double?
    /// Seconds from the end of a mass restart to a single view (worst run).
    public var restartConvergedSeconds: Double?
    /// Observer → member pairs still wrong at the end (dead or missing), over all runs.
    public var stuckDead: Int
    /// Observer → member pairs still suspect at the end, over all runs.
    public var stuckSuspect: Int
    /// Crashed members seen alive again after a declared death, over all runs.
    public var resurrections: Int
    /// Events simulated, over all runs.
    public var events: Int
    /// Wall-clock seconds the runs took.
    public var wallSeconds: Double
    /// A hash of the runs' trace hashes, in seed order: equal for equal scenarios and seeds.
    public var traceHash: String

    /// Pools `reports` (one per seed) that took `wallSeconds` in all.
    public init(reports: [SimulationReport], wallSeconds: Double) {
        profile = reports.first?.profile ?? "custom"
        members = reports.first?.members ?? 0
        seeds = reports.map(\.seed)
        simulatedSeconds = reports.first?.simulatedSeconds ?? 0
        let pooled = reports.flatMap(\.detections)
        detections = pooled.count
        detectionP50s = SimulationReport.quantile(pooled, 0.5)
        detectionP99s = SimulationReport.quantile(pooled, 0.99)
        detectionMaxS = pooled.max()
        undetected = reports.reduce(0) { $0 + $1.undetected }
        falseDead = reports.reduce(0) { $0 + $1.falseDead }
        let memberHours = reports.reduce(0.0) { $0 + Double($1.members) * $1.simulatedSeconds / 3600 }
        falseDeadPerMemberHour = memberHours > 0 ? Double(falseDead) / memberHours : 0
        rounds9999 = Self.worst(reports.map(\.rounds9999))
        rounds100 = Self.worst(reports.map(\.rounds100))
        bytesPerMemberPerSecond = reports.isEmpty ? 0
            : reports.reduce(0.0) { $0 + $1.bytesPerMemberPerSecond } / Double(reports.count)
        largestDatagramBytes = reports.map(\.largestDatagramBytes).max() ?? 0
        healSeconds = Self.worst(reports.map(\.healSeconds))
        restartConvergedSeconds = Self.worst(reports.map(\.restartConvergedSeconds))
        stuckDead = reports.reduce(0) { $0 + $1.stuckDead }
        stuckSuspect = reports.reduce(0) { $0 + $1.stuckSuspect }
        resurrections = reports.reduce(0) { $0 + $1.resurrections }
        events = reports.reduce(0) { $0 + $1.events }
        self.wallSeconds = wallSeconds
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for report in reports {
            for byte in report.traceHash.utf8 {
                hash ^= UInt64(byte)
                hash = hash &* 0x0000_0100_0000_01B3
            }
        }
        let digits = String(hash, radix: 16)
        traceHash = String(repeating: "0", count: 16 - digits.count) + digits
    }

    /// The largest value, or nil if any run did not reach it (a missing value is the worst).
    private static func worst<T: Comparable>(_ values: [T?]) -> T? {
        guard !values.isEmpty, !values.contains(where: { $0 == nil }) else { return nil }
        return values.compactMap { $0 }.max()
    }
}
