import Foundation

/// A simulated PEPS day: `ORTHO_S1_GRD`-shaped jobs arriving through 24 h, with three bursts, for
/// ``ElasticSimulation``. Every draw is a hash of the seed and what it is for, so each policy sees the same jobs,
/// tiles and task durations whatever it decides.
public struct ElasticWorkload: Sendable {
    /// One job's arrival.
    public struct Arrival: Sendable, Hashable {
        public var at: Duration
        /// The job's number in the day (the key of its draws).
        public var serial: Int
        /// The burst it belongs to, if any.
        public var burst: Int?
    }

    public var seed: UInt64
    /// Everything is multiplied by this (jobs, arrival rates, bursts).
    public var scale: Int
    public var length: Duration
    /// The bursts: when, and how many jobs (before `scale`).
    public static let bursts: [(at: Duration, jobs: Int)] = [
        (.seconds(9 * 3600 + 1800), 150), (.seconds(14 * 3600), 300), (.seconds(21 * 3600), 100),
    ]

    public init(seed: UInt64, scale: Int = 1, length: Duration = .seconds(86_400)) {
        self.seed = seed
        self.scale = max(1, scale)
        self.length = length
    }

    /// Arrivals per hour at `hour` of the day: 5 at night, rising from 07:00 to 40 at 10:00, 40 until 17:00,
    /// back to 5 by 20:00.
    public static func rate(atHour hour: Double) -> Double {
        switch hour {
        case ..<7: 5
        case ..<10: 5 + (hour - 7) / 3 * 35
        case ..<17: 40
        case ..<20: 40 - (hour - 17) / 3 * 35
        default: 5
        }
    }

    /// Every arrival, in time order: a Poisson process at ``rate(atHour:)`` (by thinning), plus the bursts.
    public func arrivals() -> [Arrival] {
        var random = SplitMix(seed: ElasticWorkload.mix(seed, 1, 0, 0))
        var list: [Arrival] = []
        let peak = 40.0 * Double(scale) / 3600
        var t = 0.0
        while true {
            t += -log(1 - random.unit()) / peak
            guard t < length.seconds else { break }
            let hour = t.truncatingRemainder(dividingBy: 86_400) / 3600
            if random.unit() < Self.rate(atHour: hour) * Double(scale) / 3600 / peak {
                list.append(Arrival(at: .milliseconds(Int64(t * 1000)), serial: 0, burst: nil))
            }
        }
        for (number, burst) in Self.bursts.enumerated() where burst.at < length {
            for _ in 0..<(burst.jobs * scale) { list.append(Arrival(at: burst.at, serial: 0, burst: number)) }
        }
        list.sort { $0.at < $1.at }
        for index in list.indices { list[index].serial = index }
        return list
    }

    /// The tiles job `serial` cuts: 1 – 6.
    public func tiles(_ serial: Int) -> Int { 1 + Int(Self.mix(seed, 2, UInt64(serial), 0) % 6) }

    /// How long one task of job `serial` runs: init 2 s, fetch 30 – 90 s, each tile 3 – 8 min, zip 20 – 40 s,
    /// clean 2 s.
    public func duration(_ serial: Int, task: String, replica: Int) -> Duration {
        let (kind, low, high): (UInt64, Double, Double) = switch task {
        case "fetch": (3, 30, 90)
        case "s1tiling": (4, 180, 480)
        case "zip": (5, 20, 40)
        default: (6, 2, 2)
        }
        let unit = Double(Self.mix(seed, kind, UInt64(serial), UInt64(replica)) >> 11) / Double(1 << 53)
        return .milliseconds(Int64((low + (high - low) * unit) * 1000))
    }

    /// The boot time of the `serial`-th host asked for: 60 – 180 s, uniform.
    public func boot(_ serial: Int, range: ClosedRange<Double>) -> Duration {
        let unit = Double(Self.mix(seed, 7, UInt64(serial), 0) >> 11) / Double(1 << 53)
        return .milliseconds(Int64((range.lowerBound + (range.upperBound - range.lowerBound) * unit) * 1000))
    }

    /// `ORTHO_S1_GRD`: init → fetch, which replicates `s1tiling` over its result (the tiles) → zip → clean.
    public static let workflow = Workflow(name: "ORTHO_S1_GRD", tasks: [
        TaskDefinition("init", .function("peps.init")),
        TaskDefinition("fetch", .function("peps.fetch"), depends: ["init"]).replicate(runs: .result),
        TaskDefinition("s1tiling", .function("peps.s1tiling"), depends: ["fetch"]),
        TaskDefinition("zip", .function("peps.zip"), depends: ["s1tiling"]),
        TaskDefinition("clean", .function("peps.clean"), depends: ["zip"]),
    ])

    /// A hash of the seed and three keys (SplitMix64's finalizer over their mix).
    static func mix(_ seed: UInt64, _ a: UInt64, _ b: UInt64, _ c: UInt64) -> UInt64 {
        var z = seed &+ a &* 0x9E37_79B9_7F4A_7C15 &+ b &* 0xD1B5_4A32_D192_ED03 &+ c &* 0x8CB9_2BA7_2F3D_8DD7
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// SplitMix64, for the arrival process.
struct SplitMix {
    private var state: UInt64
    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    mutating func unit() -> Double { Double(next() >> 11) / Double(1 << 53) }
}
