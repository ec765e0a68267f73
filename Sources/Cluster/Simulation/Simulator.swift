/// A single-threaded discrete-event simulation of a whole cluster: thousands of membership cores over a
/// modelled network, with crashes, restarts, CPU-starved members, clock drift and partitions.
///
/// Everything random comes from the scenario's seed, and events at equal times run in the order they were
/// scheduled, so a run is a pure function of its scenario: `traceHash` proves it.
public struct Simulator: ~Copyable {
    enum Event {
        case deliver(to: Int32, Datagram, from: MemberAddress)
        case timer(Int32, generation: UInt32, MembershipTimer)
        case syncRequest(to: Int32, SyncMessage, from: Int32, generation: UInt32)
        case syncReply(to: Int32, generation: UInt32, SyncMessage)
        case syncFailed(to: Int32, generation: UInt32, MemberAddress)
        case crash(Int32)
        case restart(Int32)
        case pause(Int32)
        case resume(Int32)
        case start(Int32)
        case check
    }

    struct Host {
        var core: MembershipCore
        var address: MemberAddress
        var up = false
        var generation: UInt32 = 0
        var starved = false
        var pausedUntil: Int64 = 0
        var backlog: [Event] = []
        var drift = 1.0
        var group: UInt8 = 0
    }

    struct Crash {
        let time: Int64
        let threshold: Int
        var observers = 0
        var declared = false
        var detected = false
    }

    let scenario: Scenario
    var hosts: [Host] = []
    var agenda = EventQueue<Event>()
    var rng: Xoshiro256
    var report: SimulationReport
    var now: Int64 = 0
    var trace: UInt64 = 0xcbf2_9ce4_8422_2325
    var crashes: [NodeID: Crash] = [:]
    var hostOf: [NodeID: Int32] = [:]
    var oneWay: [(plan: Int, listener: Int32, speaker: Int32)] = []
    var joinProbe: NodeID?
    var joinOrigin: Int64?
    var joinSeen = 0
    var udpBytes = 0
    var tcpBytes = 0
    var lastPartitionEnd: Int64?
    var restartWindowEnd: Int64?
    var seedAddresses: [MemberAddress] = []

    /// A simulation of `scenario`, not run yet.
    public init(_ scenario: Scenario) {
        self.scenario = scenario
        rng = Xoshiro256(seed: scenario.seed)
        let profile = MembershipSettings.profileNames.first { MembershipSettings.profile(named: $0) == scenario.settings }
        report = SimulationReport(members: scenario.members, simulatedSeconds: scenario.duration.seconds,
                                  seed: scenario.seed, profile: profile ?? "custom")
    }

    /// The address of simulated host `index`: 10.0.0.0 + index + 1, port 7946.
    public static func address(of index: Int) -> MemberAddress {
        MemberAddress(ipv4: 0x0A00_0001 &+ UInt32(index), port: 7946)
    }

    static func host(at address: MemberAddress) -> Int? {
        guard let ip = address.ipv4, ip >= 0x0A00_0001 else { return nil }
        return Int(ip - 0x0A00_0001)
    }

    /// Runs the scenario to its end and returns what it measured.
    public consuming func run() -> SimulationReport {
        setUp()
        let end = scenario.duration.nanoseconds
        while let next = agenda.nextTime, next <= end, let (time, event) = agenda.pop() {
            now = time
            report.events += 1
            handle(event)
        }
        now = end
        finish()
        return report
    }
}

extension Duration {
    var seconds: Double { Double(nanoseconds) / 1e9 }
}
