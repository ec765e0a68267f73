import ArgumentParser
import Cluster
import Dispatch
import Foundation
import Synchronization

/// `tessera bench cluster`: the targets T1–T10 of gossip.md §5, in the simulator with fixed seeds, side by side
/// for the three profiles.
struct ClusterBenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cluster",
        abstract: "Run the gossip membership benchmarks (T1–T10) for the three profiles and print their figures."
    )

    @Flag(help: "Smaller clusters, fewer seeds and shorter runs (a few minutes instead of half an hour).")
    var quick = false
    @Option(help: "Seeds per scenario (default 20, or 3 with --quick); seeds are 1, 2, …") var seeds: Int?
    @Option(help: "Only these targets, comma-separated (for example T1,T3).") var only: String?
    @Flag(help: "Print one JSON object.") var json = false

    func validate() throws {
        if let seeds, seeds < 1 { throw ValidationError("--seeds must be at least 1") }
        let known = Set((1...10).map { "T\($0)" })
        for target in selected where !known.contains(target) {
            throw ValidationError("--only: unknown target \(target); use T1…T10")
        }
    }

    var selected: [String] {
        only.map { $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces).uppercased() } }
            ?? (1...10).map { "T\($0)" }
    }

    func run() throws {
        let seedCount = seeds ?? (quick ? 3 : 20)
        var results: [String: BenchTarget] = [:]
        for target in selected {
            let started = ContinuousClock.now
            let result: BenchTarget
            switch target {
            case "T9": result = simulatorSpeed()
            case "T10": result = codecThroughput()
            default: result = simulated(target, seeds: seedCount)
            }
            results[target] = result
            if !json {
                let seconds = String(format: "%.0f", (ContinuousClock.now - started) / .seconds(1))
                // Written at once (not buffered): a long run shows each target as it finishes.
                FileHandle.standardOutput.write(Data((result.describe(target) + "\n  (\(seconds) s)\n").utf8))
            }
        }
        if json { try printJSON(results) }
    }

    /// The scenario of a target for one profile and seed.
    func scenario(_ target: String, settings: MembershipSettings, seed: UInt64) -> Scenario {
        func make(_ members: Int, seconds: Double, _ configure: (inout Scenario) -> Void) -> Scenario {
            var scenario = Scenario(members: members, seed: seed)
            scenario.settings = settings
            scenario.duration = .milliseconds(Int64(seconds * 1000))
            configure(&scenario)
            return scenario
        }
        switch target {
        case "T1":
            return make(quick ? 500 : 1000, seconds: quick ? 120 : 300) {
                $0.network.loss = 0.05
                $0.crashes = quick ? 4 : 10
            }
        case "T2":
            return make(quick ? 300 : 1000, seconds: quick ? 120 : 180) {
                $0.starvedFraction = 0.2
                $0.network.loss = 0.01
            }
        case "T3":
            return make(quick ? 2000 : 10_000, seconds: 20) {
                $0.network.loss = 0.01
                $0.joinAt = 5
            }
        case "T3b":
            // Dissemination alone: at 20 % loss SWIM's detector itself suspects about 7 % of probes, and at
            // 10,000 members the suspicions, not the update, fill every datagram (T1 and T2 cover detection).
            return make(quick ? 2000 : 10_000, seconds: 20) {
                $0.network.loss = 0.2
                $0.joinAt = 5
                $0.settings.probeInterval = .seconds(3600)
            }
        case "T4":
            return make(1000, seconds: quick ? 120 : 300) { _ in }
        case "T5":
            let minutes = quick ? 2.0 : 10.0
            return make(quick ? 200 : 1000, seconds: 10 + minutes * 60 + 120) {
                $0.partitions = [PartitionPlan(start: .seconds(10), end: .seconds(Int64(10 + minutes * 60)),
                                               shape: .split(fraction: 0.5))]
            }
        case "T6":
            return make(quick ? 1000 : 5000, seconds: quick ? 200 : 400) {
                $0.crashes = quick ? 20 : 100
                $0.crashWindow = 10...100
                $0.network.loss = 0.01
            }
        case "T7":
            return make(quick ? 300 : 1000, seconds: 60) { $0.massRestart = 10...20 }
        default:
            return make(quick ? 300 : 1000, seconds: quick ? 120 : 300) {
                $0.partitions = [PartitionPlan(start: .seconds(10), end: .seconds(quick ? 110 : 290), shape: .oneWay)]
            }
        }
    }

    /// Runs a target's scenario for every profile and seed (seeds in parallel on the machine's cores; each
    /// simulation itself is single-threaded).
    func simulated(_ target: String, seeds: Int) -> BenchTarget {
        let seedCount = ["T5", "T6", "T7", "T8"].contains(target) ? max(1, min(seeds, quick ? 1 : 5)) : seeds
        var profiles: [String: SimulationSummary] = [:]
        var extra: [String: SimulationSummary] = [:]
        for name in MembershipSettings.profileNames {
            let settings = MembershipSettings.profile(named: name) ?? .tessera
            profiles[name] = runSeeds(target, settings: settings, seeds: seedCount)
            if target == "T3" { extra[name] = runSeeds("T3b", settings: settings, seeds: seedCount) }
        }
        return BenchTarget(goal: Self.goals[target] ?? "", profiles: profiles,
                           atTwentyPercentLoss: extra.isEmpty ? nil : extra, figures: nil)
    }

    func runSeeds(_ target: String, settings: MembershipSettings, seeds: Int) -> SimulationSummary {
        let reports = Mutex<[SimulationReport?]>(Array(repeating: nil, count: seeds))
        let started = ContinuousClock.now
        // Seeds run in parallel on the machine's cores, except the 10,000-member scenarios, one at a time so
        // that two of them never hold their tables at once.
        let parallel = scenario(target, settings: settings, seed: 1).members <= 5000
        let run: @Sendable (Int) -> Void = { index in
            let report = Simulator(scenario(target, settings: settings, seed: UInt64(index + 1))).run()
            reports.withLock { $0[index] = report }
        }
        if parallel {
            DispatchQueue.concurrentPerform(iterations: seeds, execute: run)
        } else {
            for index in 0..<seeds { run(index) }
        }
        let wall = (ContinuousClock.now - started) / .seconds(1)
        return SimulationSummary(reports: reports.withLock { $0.compactMap { $0 } }, wallSeconds: wall)
    }

    /// T9: one large run, twice with the same seed (same trace hash), timed on one core.
    func simulatorSpeed() -> BenchTarget {
        var scenario = Scenario(members: quick ? 2000 : 10_000, seed: 1)
        scenario.duration = .seconds(quick ? 120 : 600)
        let clock = ContinuousClock()
        let started = clock.now
        let first = Simulator(scenario).run()
        let wall = (clock.now - started) / .seconds(1)
        let second = Simulator(scenario).run()
        return BenchTarget(goal: Self.goals["T9"] ?? "", profiles: [:], atTwentyPercentLoss: nil, figures: [
            "members": Double(scenario.members), "simulatedSeconds": Double(scenario.duration.components.seconds),
            "wallSeconds": wall, "events": Double(first.events),
            "eventsPerSecond": Double(first.events) / wall,
            "sameTraceHash": first.traceHash == second.traceHash ? 1 : 0,
        ])
    }

    /// T10: authenticated packets opened per second on one core, and the cost of refusing forged, replayed
    /// and random ones.
    func codecThroughput() -> BenchTarget {
        let count = quick ? 100_000 : 1_000_000
        let ring = (try? KeyRing([(id: 1, secret: Array(repeating: 0x5A, count: 32))]))
        guard let ring else { return BenchTarget(goal: "", profiles: [:], atTwentyPercentLoss: nil, figures: [:]) }
        var sender = PacketCodec(clusterID: 7, keyRing: ring)
        let identity = MemberIdentity(id: NodeID(high: 1, low: 2))
        let update = Update.alive(Member(id: NodeID(high: 3, low: 4), epoch: 0, incarnation: 1,
                                         address: MemberAddress(ipv4: 0x0A00_0001, port: 7946), status: .alive))
        let packets = (0..<count).map { index in
            sender.seal(Datagram(sender: identity, body: .ping(sequence: UInt32(truncatingIfNeeded: index),
                                                                target: NodeID(high: 9, low: 9)),
                                 updates: [update, update]))
        }
        var forger = PacketCodec(clusterID: 7, keyRing: (try? KeyRing([(id: 1, secret: Array(repeating: 1, count: 32))]))
            ?? ring)
        let forged = (0..<count / 10).map { _ in forger.seal(Datagram(sender: identity, body: .gossip)) }
        var random = Xoshiro256(seed: 10)
        let junk = (0..<count / 10).map { _ in (0..<120).map { _ in UInt8(truncatingIfNeeded: random.next()) } }
        var receiver = PacketCodec(clusterID: 7, keyRing: ring)
        let clock = ContinuousClock()
        var accepted = 0
        var started = clock.now
        for packet in packets { if case .success = receiver.open(packet, stream: false) { accepted += 1 } }
        let validSeconds = (clock.now - started) / .seconds(1)
        var refused = 0
        started = clock.now
        for packet in packets.prefix(count / 10) { if case .failure = receiver.open(packet, stream: false) { refused += 1 } }
        let replayedSeconds = (clock.now - started) / .seconds(1)
        started = clock.now
        for packet in forged { if case .failure = receiver.open(packet, stream: false) { refused += 1 } }
        let forgedSeconds = (clock.now - started) / .seconds(1)
        started = clock.now
        for packet in junk { if case .failure = receiver.open(packet, stream: false) { refused += 1 } }
        let junkSeconds = (clock.now - started) / .seconds(1)
        let tenth = Double(count / 10)
        return BenchTarget(goal: Self.goals["T10"] ?? "", profiles: [:], atTwentyPercentLoss: nil, figures: [
            "validPacketsPerSecond": Double(accepted) / validSeconds,
            "packetBytes": Double(packets.first?.count ?? 0),
            "replayedRejectMicroseconds": replayedSeconds / tenth * 1e6,
            "forgedRejectMicroseconds": forgedSeconds / tenth * 1e6,
            "randomRejectMicroseconds": junkSeconds / tenth * 1e6,
            "accepted": Double(accepted), "refused": Double(refused),
            "wrongfullyAccepted": Double(Int(3 * tenth) - refused),
        ])
    }

    static let goals: [String: String] = [
        "T1": "N=1,000, 5 % loss, crashes: detection by 99 % of members p50 ≤ 6 s, p99 ≤ 10 s",
        "T2": "N=1,000, 20 % CPU-starved (0.5–3 s pauses), 1 % loss: ≤ 0.01 false dead per member-hour, ≥ 50× fewer than swim-classic",
        "T3": "N=10,000, 1 % loss, one join: 99.99 % within 15 rounds, 100 % within 25; at 20 % loss (dissemination only, probing off) ≤ 20 rounds to 99.99 %",
        "T4": "N=1,000 steady state: ≤ 2 KB/s per member, every datagram ≤ 1,200 B",
        "T5": "N=1,000 split 50/50 for 10 min: one view ≤ 60 s after the partition ends, with no manual join",
        "T6": "N=5,000, 100 members removed, push-pull on: 0 resurrections",
        "T7": "N=1,000 all restart within 10 s: one view ≤ 30 s, 0 members stuck dead",
        "T8": "N=1,000, one member cannot hear another: 0 healthy members declared dead",
        "T9": "N=10,000 for 10 simulated minutes in ≤ 60 s on one core; same seed, same trace hash",
        "T10": "≥ 300,000 valid packets/s decoded and authenticated per core; rejection ≤ 2 µs per packet",
    ]
}

/// One target's figures.
struct BenchTarget: Encodable {
    let goal: String
    let profiles: [String: SimulationSummary]
    let atTwentyPercentLoss: [String: SimulationSummary]?
    let figures: [String: Double]?

    func describe(_ name: String) -> String {
        var lines = ["\(name): \(goal)"]
        func value(_ number: Double?, _ format: String = "%.2f") -> String {
            number.map { String(format: format, $0) } ?? "–"
        }
        for profile in MembershipSettings.profileNames {
            guard let summary = profiles[profile] else { continue }
            var parts: [String] = []
            switch name {
            case "T1":
                parts = ["p50 \(value(summary.detectionP50s)) s", "p99 \(value(summary.detectionP99s)) s",
                         "\(summary.detections) detections", "\(summary.undetected) undetected"]
            case "T2":
                parts = ["false dead \(summary.falseDead)",
                         "\(value(summary.falseDeadPerMemberHour, "%.4f")) per member-hour"]
            case "T3":
                let lossy = atTwentyPercentLoss?[profile]
                parts = ["99.99 % in \(summary.rounds9999.map(String.init) ?? "–") rounds",
                         "100 % in \(summary.rounds100.map(String.init) ?? "–")",
                         "at 20 % loss: \(lossy?.rounds9999.map(String.init) ?? "–") / \(lossy?.rounds100.map(String.init) ?? "–")"]
            case "T4":
                parts = ["\(value(summary.bytesPerMemberPerSecond, "%.0f")) B/s per member",
                         "largest datagram \(summary.largestDatagramBytes) B"]
            case "T5":
                parts = ["one view \(value(summary.healSeconds)) s after", "stuck dead \(summary.stuckDead)"]
            case "T6":
                parts = ["resurrections \(summary.resurrections)", "undetected \(summary.undetected)"]
            case "T7":
                parts = ["one view \(value(summary.restartConvergedSeconds)) s after", "stuck dead \(summary.stuckDead)"]
            default:
                parts = ["false dead \(summary.falseDead)", "stuck suspect \(summary.stuckSuspect)",
                         "stuck dead \(summary.stuckDead)"]
            }
            lines.append("  \(profile): " + parts.joined(separator: ", ")
                + " [\(summary.seeds.count) seed(s), \(value(summary.wallSeconds, "%.0f")) s]")
        }
        if let figures {
            for key in figures.keys.sorted() { lines.append("  \(key): \(value(figures[key], "%.3f"))") }
        }
        return lines.joined(separator: "\n")
    }
}
