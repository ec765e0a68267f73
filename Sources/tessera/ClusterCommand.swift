import ArgumentParser
import Cluster
import Foundation
import Logging
import ServiceLifecycle
import UnixSignals

/// `tessera cluster …`: the gossip membership layer.
struct ClusterCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cluster",
        abstract: "Gossip membership: simulate clusters and run members.",
        subcommands: [ClusterSimCommand.self, ClusterMemberCommand.self]
    )
}

/// `tessera cluster sim`: runs the deterministic simulator and prints the figures of gossip.md §5.
struct ClusterSimCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sim",
        abstract: "Simulate a cluster of membership cores over a modelled network and print its figures."
    )

    @Option(help: "Members.") var nodes: Int = 100
    @Option(help: "Datagram loss probability on every link (0…1).") var loss: Double = 0
    @Option(help: "Seed of the first run.") var seed: UInt64 = 1
    @Option(help: "Runs, with seeds seed, seed+1, …; figures are pooled.") var seeds: Int = 1
    @Option(help: "Protocol profile: tessera, swim-classic or memberlist-defaults.") var profile: String = "tessera"
    @Option(help: "Simulated minutes per run.") var minutes: Double = 1
    @Option(help: "Fraction of members that are CPU-starved (0.5–3 s pauses).") var starved: Double = 0
    @Option(help: "Members that crash during each run.") var crash: Int = 0
    @Option(help: "A partition START-END (seconds), optionally @FRACTION (default 0.5), or one-way:START-END.")
    var partition: [String] = []
    @Option(help: "Every member restarts as a new process between START-END (seconds).") var restartAll: String?
    @Option(help: "A new member joins at this second; the rounds until all learn it are measured.")
    var joinAt: Double?
    @Option(help: "Median one-way latency in milliseconds.") var latencyMs: Double = 0.5
    @Option(help: "Datagram duplication probability.") var duplication: Double = 0
    @Option(help: "Datagram reordering probability.") var reorder: Double = 0
    @Option(help: "Largest clock drift, in parts per million.") var driftPpm: Double = 0
    @Option(help: "Override the profile's shortest suspicion, in probe periods × log10 N.")
    var suspicionMultiplier: Double?
    @Option(help: "Override the profile's verification probes (members that probe a new suspect out of turn).")
    var verificationProbes: Int?
    @Flag(help: "Members join one by one through the first instead of starting converged.") var join = false
    @Flag(help: "Print one JSON object.") var json = false

    func validate() throws {
        guard nodes >= 2 else { throw ValidationError("--nodes must be at least 2") }
        guard (0...1).contains(loss), (0...1).contains(starved), (0...1).contains(duplication),
              (0...1).contains(reorder) else {
            throw ValidationError("--loss, --starved, --duplication and --reorder are probabilities in 0…1")
        }
        guard minutes > 0 else { throw ValidationError("--minutes must be positive") }
        guard seeds >= 1 else { throw ValidationError("--seeds must be at least 1") }
        guard crash >= 0, crash < nodes else { throw ValidationError("--crash must be in 0..<nodes") }
        if let verificationProbes, verificationProbes < 0 {
            throw ValidationError("--verification-probes must be ≥ 0")
        }
        if let suspicionMultiplier, suspicionMultiplier <= 0 {
            throw ValidationError("--suspicion-multiplier must be positive")
        }
        guard latencyMs >= 0, driftPpm >= 0 else { throw ValidationError("--latency-ms and --drift-ppm must be ≥ 0") }
        guard MembershipSettings.profile(named: profile) != nil else {
            throw ValidationError("unknown --profile \(profile); use one of "
                + MembershipSettings.profileNames.joined(separator: ", "))
        }
        _ = try partitions()
        _ = try restartWindow()
    }

    func partitions() throws -> [PartitionPlan] {
        try partition.map { text in
            var spec = Substring(text)
            var shape = PartitionPlan.Shape.split(fraction: 0.5)
            if spec.hasPrefix("one-way:") {
                spec = spec.dropFirst("one-way:".count)
                shape = .oneWay
            } else if let at = spec.firstIndex(of: "@") {
                guard let fraction = Double(spec[spec.index(after: at)...]), fraction > 0, fraction < 1 else {
                    throw ValidationError("--partition \(text): the fraction after @ must be in (0, 1)")
                }
                shape = .split(fraction: fraction)
                spec = spec[..<at]
            }
            let range = try Self.range(spec, option: "--partition", text: text)
            return PartitionPlan(start: .seconds(range.lowerBound), end: .seconds(range.upperBound), shape: shape)
        }
    }

    func restartWindow() throws -> ClosedRange<Double>? {
        try restartAll.map { try Self.range(Substring($0), option: "--restart-all", text: $0) }
    }

    static func range(_ spec: Substring, option: String, text: String) throws -> ClosedRange<Double> {
        let parts = spec.split(separator: "-")
        guard parts.count == 2, let start = Double(parts[0]), let end = Double(parts[1]), start >= 0, end > start else {
            throw ValidationError("\(option) \(text): expected START-END in seconds with START < END")
        }
        return start...end
    }

    func scenario(seed: UInt64) throws -> Scenario {
        var scenario = Scenario(members: nodes, seed: seed)
        scenario.settings = MembershipSettings.profile(named: profile) ?? .tessera
        if let suspicionMultiplier { scenario.settings.suspicion.multiplier = suspicionMultiplier }
        if let verificationProbes { scenario.settings.suspicion.verificationProbes = verificationProbes }
        scenario.duration = .milliseconds(Int64(minutes * 60_000))
        scenario.startConverged = !join
        scenario.network.loss = loss
        scenario.network.latencyMedian = .microseconds(Int64(latencyMs * 1000))
        scenario.network.duplication = duplication
        scenario.network.reordering = reorder
        scenario.crashes = crash
        scenario.starvedFraction = starved
        scenario.clockDriftPPM = driftPpm
        scenario.partitions = try partitions()
        scenario.massRestart = try restartWindow()
        scenario.joinAt = joinAt
        return scenario
    }

    func run() throws {
        let clock = ContinuousClock()
        let started = clock.now
        var reports: [SimulationReport] = []
        for offset in 0..<seeds {
            reports.append(Simulator(try scenario(seed: seed &+ UInt64(offset))).run())
        }
        let wall = (clock.now - started) / .seconds(1)
        let summary = SimulationSummary(reports: reports, wallSeconds: wall)
        if json {
            try printJSON(summary)
            return
        }
        func show(_ value: Double?, _ unit: String = "") -> String {
            value.map { String(format: "%.2f%@", $0, unit) } ?? "–"
        }
        print("profile \(summary.profile), \(nodes) members, \(seeds) run(s) of \(show(summary.simulatedSeconds, " s"))"
            + " simulated in \(show(wall, " s"))")
        print("detection p50 \(show(summary.detectionP50s, " s")), p99 \(show(summary.detectionP99s, " s")),"
            + " max \(show(summary.detectionMaxS, " s")) over \(summary.detections) crash(es),"
            + " \(summary.undetected) undetected")
        print("false dead \(summary.falseDead) (\(String(format: "%.4f", summary.falseDeadPerMemberHour)) per member-hour)")
        print("join reached 99.99 % in \(summary.rounds9999.map(String.init) ?? "–") rounds, all in"
            + " \(summary.rounds100.map(String.init) ?? "–")")
        print("traffic \(show(summary.bytesPerMemberPerSecond, " B/s")) per member,"
            + " largest datagram \(summary.largestDatagramBytes) B")
        if !partition.isEmpty { print("single view \(show(summary.healSeconds, " s")) after the partition ended") }
        if restartAll != nil {
            print("single view \(show(summary.restartConvergedSeconds, " s")) after the restarts")
        }
        print("stuck dead \(summary.stuckDead), stuck suspect \(summary.stuckSuspect),"
            + " resurrections \(summary.resurrections), events \(summary.events)")
        print("trace \(summary.traceHash)")
    }
}

/// `tessera cluster member`: runs one member on real sockets and prints membership events as JSON lines.
struct ClusterMemberCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "member",
        abstract: "Run one cluster member and print its membership events as JSON lines."
    )

    @Option(help: "Address to listen on and announce, HOST:PORT (UDP and TCP).") var bind: String
    @Option(help: "A member to join through, HOST:PORT (repeatable).") var join: [String] = []
    @Option(help: "Key file: one `ID HEX64` per line, the first one signs.") var keyFile: String
    @Option(help: "The cluster's id (members of other clusters are refused).") var clusterId: UInt64 = 0x7465_7373
    @Option(help: "Protocol profile: tessera, swim-classic or memberlist-defaults.") var profile: String = "tessera"
    @Option(help: "Seconds between partition-healing exchanges (default: the profile's).") var healInterval: Double?
    @Option(help: "Seed of the member's random choices (default: drawn, and printed).") var seed: UInt64?

    func validate() throws {
        guard MemberAddress(bind) != nil else { throw ValidationError("--bind \(bind): expected HOST:PORT") }
        for seed in join where MemberAddress(seed) == nil {
            throw ValidationError("--join \(seed): expected HOST:PORT")
        }
        guard MembershipSettings.profile(named: profile) != nil else {
            throw ValidationError("unknown --profile \(profile); use one of "
                + MembershipSettings.profileNames.joined(separator: ", "))
        }
        if let healInterval, healInterval <= 0 { throw ValidationError("--heal-interval must be positive") }
    }

    func run() async throws {
        let keyRing = try loadKeyRing(keyFile)
        var random = SystemRandomNumberGenerator()
        let seed = self.seed ?? random.next()
        var settings = MembershipSettings.profile(named: profile) ?? .tessera
        if let healInterval { settings.healInterval = .milliseconds(Int64(healInterval * 1000)) }
        let id = NodeID.random(using: &random)
        let address = MemberAddress(bind) ?? .unknown
        let configuration = ClusterMember.Configuration(
            id: id, bind: address, seeds: join.compactMap(MemberAddress.init), clusterID: clusterId,
            keyRing: keyRing, settings: settings, seed: seed)
        var logger = Logger(label: "tessera.cluster")
        logger.logLevel = .notice
        let member = ClusterMember(configuration: configuration, logger: logger)
        let group = ServiceGroup(configuration: .init(
            services: [.init(service: member)], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        let clock = ContinuousClock()
        let started = clock.now
        try emit(MemberEventLine(event: "started", node: id.description, epoch: 0, incarnation: 0,
                                      address: address.description, by: nil, seed: seed, seconds: 0))
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            tasks.addTask {
                for await event in member.events {
                    let seconds = (clock.now - started) / .seconds(1)
                    try emit(MemberEventLine(event, seconds: seconds))
                }
            }
            try await tasks.waitForAll()
        }
    }
}

/// The key ring of `--key-file`, or a usage error that says what is wrong with the file.
func loadKeyRing(_ path: String) throws -> KeyRing {
    do {
        return try KeyRing.load(path: path)
    } catch {
        throw ValidationError("--key-file \(path): \(error)")
    }
}

/// Writes one JSON line straight to standard output (no buffering: a reader sees each event at once).
func emit(_ line: MemberEventLine) throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    var data = try encoder.encode(line)
    data.append(0x0A)
    FileHandle.standardOutput.write(data)
}

/// One membership event as a JSON line.
struct MemberEventLine: Encodable {
    let event: String
    let node: String
    let epoch: UInt64
    let incarnation: UInt64
    let address: String
    let by: String?
    var seed: UInt64?
    let seconds: Double

    init(event: String, node: String, epoch: UInt64, incarnation: UInt64, address: String, by: String?,
         seed: UInt64?, seconds: Double) {
        self.event = event
        self.node = node
        self.epoch = epoch
        self.incarnation = incarnation
        self.address = address
        self.by = by
        self.seed = seed
        self.seconds = seconds
    }

    init(_ event: MembershipEvent, seconds: Double) {
        let name: String
        var member: Member?
        var by: NodeID?
        switch event {
        case .joined(let subject): name = "joined"; member = subject
        case .suspect(let subject, let suspecter): name = "suspect"; member = subject; by = suspecter
        case .alive(let subject): name = "alive"; member = subject
        case .dead(let subject, let declarer): name = "dead"; member = subject; by = declarer
        case .left(let subject): name = "left"; member = subject
        case .reincarnated(let identity):
            name = "reincarnated"
            member = Member(id: identity.id, epoch: identity.epoch, incarnation: 0, address: .unknown, status: .alive)
        }
        self.init(event: name, node: member?.id.description ?? "", epoch: member?.epoch ?? 0,
                  incarnation: member?.incarnation ?? 0, address: member?.address.description ?? "",
                  by: by?.description, seed: nil, seconds: seconds)
    }
}
