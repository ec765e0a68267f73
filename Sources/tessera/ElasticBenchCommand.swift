import ArgumentParser
import Foundation
import Grid

/// `tessera bench elastic`: a simulated PEPS day (reference/elastic.md, issue 29) run once per cloud policy on the
/// same seed, through the real scheduler core and the policy cores, with the figures side by side.
struct ElasticBenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "elastic",
        abstract: "Simulate a PEPS day of ORTHO_S1_GRD jobs on an on-premises pool plus elastic cloud hosts, once per policy."
    )

    @Option(help: "The seed of the day's arrivals, tiles, durations and boots.") var seed: UInt64 = 1
    @Option(help: "Multiply the day (jobs, rates, bursts, on-premises nodes, cloud hosts) by this, 1 – 20.") var scale = 1
    @Option(help: "Only these policies, comma-separated (static, dynamic, tessera, dask, ray, one-per-cycle).") var only: String?
    @Flag(help: "Also time one decision (demand, policy, placement) with 3,000+ nodes and 100,000 pending tasks.") var decisionTime = false
    @Flag(help: "Print one JSON object.") var json = false

    static let names = ["static", "dynamic", "tessera", "dask", "ray", "one-per-cycle"]

    func validate() throws {
        guard (1...20).contains(scale) else { throw ValidationError("--scale must be 1 – 20, got \(scale)") }
        for name in selected where !Self.names.contains(name) {
            throw ValidationError("--only: unknown policy \(name); use \(Self.names.joined(separator: ", "))")
        }
    }

    var selected: [String] {
        only.map { $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces).lowercased() } } ?? Self.names
    }

    struct PolicyFigures: Encodable {
        var name: String
        var cost: Double
        var costHourlyBilling: Double
        var hostHours: Double
        var meanTurnaroundSeconds: Double
        var p95TurnaroundSeconds: Double
        var burstMakespanSeconds: [Double]
        var largestBacklog: Int
        var scaleCycles: Int
        var acquisitions: Int
        var requestToFreeP50Seconds: Double
        var requestToFreeP95Seconds: Double
        var jobs: Int
        var jobsNotFinished: Int
        var simulationSeconds: Double
        var traceHash: String
    }

    struct Report: Encodable {
        var seed: UInt64
        var scale: Int
        var policies: [PolicyFigures]
        var best: String
        var traceHash: String
        var decision: DecisionTime?
    }

    struct DecisionTime: Encodable {
        var nodes: Int
        var pendingTasks: Int
        var demandMilliseconds: Double
        var policyMilliseconds: Double
        var placementMilliseconds: Double
    }

    func run() throws {
        let setup = ElasticSimulation.Setup(seed: seed, scale: scale)
        let hosts = setup.maxHosts
        let nodes = hosts * setup.nodesPerHost
        var figures: [PolicyFigures] = []
        for name in selected {
            let started = ContinuousClock.now
            let outcome: ElasticSimulation.Outcome = switch name {
            case "static": ElasticSimulation.run(setup, policy: StaticPolicy(hosts: hosts))
            case "dynamic": ElasticSimulation.run(setup, policy: DynamicPolicy(maxNodes: nodes))
            case "tessera": ElasticSimulation.run(setup, policy: TesseraPolicy(maxHosts: hosts))
            case "dask": ElasticSimulation.run(setup, policy: DaskAdaptivePolicy(maximumHosts: hosts))
            case "ray": ElasticSimulation.run(setup, policy: RayAutoscalerPolicy(maxWorkers: hosts))
            default: ElasticSimulation.run(setup, policy: OneHostPerCyclePolicy(maxHosts: hosts))
            }
            let seconds = (ContinuousClock.now - started) / .seconds(1)
            figures.append(PolicyFigures(
                name: outcome.name, cost: outcome.cost, costHourlyBilling: outcome.costHourlyBilling, hostHours: outcome.hostHours,
                meanTurnaroundSeconds: outcome.meanTurnaroundSeconds, p95TurnaroundSeconds: outcome.p95TurnaroundSeconds,
                burstMakespanSeconds: outcome.burstMakespanSeconds, largestBacklog: outcome.largestBacklog, scaleCycles: outcome.scaleCycles,
                acquisitions: outcome.acquisitions, requestToFreeP50Seconds: outcome.requestToFreeP50Seconds,
                requestToFreeP95Seconds: outcome.requestToFreeP95Seconds, jobs: outcome.jobs, jobsNotFinished: outcome.jobsNotFinished,
                simulationSeconds: seconds, traceHash: outcome.traceHash))
            if !json { FileHandle.standardOutput.write(Data((Self.line(figures[figures.count - 1]) + "\n").utf8)) }
        }
        let best = figures.first { $0.name == "tessera" }?.name ?? figures.min { $0.cost < $1.cost }?.name ?? ""
        var combined: UInt64 = 0xCBF2_9CE4_8422_2325
        for byte in figures.map(\.traceHash).joined(separator: ",").utf8 { combined = (combined ^ UInt64(byte)) &* 0x100_0000_01B3 }
        let decision = decisionTime ? Self.timeOneDecision(nodes: max(3000, nodes), pending: 100_000) : nil
        if json {
            try printJSON(Report(seed: seed, scale: scale, policies: figures, best: best, traceHash: String(combined, radix: 16), decision: decision))
        } else {
            print("seed \(seed), scale \(scale), trace \(String(combined, radix: 16)); best: \(best)")
            if let decision {
                print(String(
                    format: "one decision with %d nodes and %d pending tasks: demand %.1f ms, policy %.3f ms, placement pass %.1f ms",
                    decision.nodes, decision.pendingTasks, decision.demandMilliseconds, decision.policyMilliseconds, decision.placementMilliseconds))
            }
        }
    }

    static func line(_ f: PolicyFigures) -> String {
        let bursts = f.burstMakespanSeconds.map { String(format: "%.0f", $0 / 60) }.joined(separator: "/")
        return String(
            format: "%-15@ cost %7.1f (hourly %6.0f)  host-h %6.1f  turnaround mean %5.0f s p95 %5.0f s  bursts %@ min  backlog %5d  cycles %3d  (%.1f s)",
            f.name as NSString, f.cost, f.costHourlyBilling, f.hostHours, f.meanTurnaroundSeconds, f.p95TurnaroundSeconds, bursts as NSString,
            f.largestBacklog, f.scaleCycles, f.simulationSeconds)
    }

    /// One refresh's work at scale: the demand read from a scheduler holding `pending` ready tasks on `nodes` busy
    /// nodes, the policy's decision, and a placement pass after a host joined.
    static func timeOneDecision(nodes: Int, pending: Int) -> DecisionTime {
        var core = SchedulerCore()
        let perHost = 30
        let local = (0..<nodes).map { index in
            ResourceLedger.Entry(id: NodeID(index), source: "cloud", state: .free, locked: false, labels: [], token: nil, capacity: 1, assigned: 0, host: "h\(index / perHost)")
        }
        _ = core.onLocalNodesJoined(local, now: .zero)
        let tasks = (0..<(pending + nodes)).map { TaskDefinition("t\($0)", .function("tessera.noop")) }
        if let job = try? JobCore(id: core.nextJobID, workflow: Workflow(name: "wide", tasks: tasks), now: .zero, wallNow: Date()) {
            _ = core.onSubmitted(job, now: .zero)
        }
        let clock = ContinuousClock()
        var demand = ElasticDemand()
        let demandTime = clock.measure { demand = core.demand(source: "cloud", now: .seconds(1)) }
        let hosts = (0..<(nodes / perHost)).map { ElasticHost(id: $0, phase: .up, requestedAt: .zero, upAt: .zero, nodes: perHost, busy: perHost) }
        var policy = TesseraPolicy(maxHosts: nodes / perHost + 100)
        let snapshot = ElasticSnapshot(now: .seconds(1), demand: demand, hosts: hosts, nodesPerHost: perHost)
        let policyTime = clock.measure { _ = policy.decide(snapshot) }
        let offer = ResourceCore.HostOffer(session: 1, address: "new", workers: perHost, labels: [], token: nil, source: "cloud", capacity: 1)
        let placementTime = clock.measure { _ = core.onHostJoined(offer, now: .seconds(1)) }
        return DecisionTime(
            nodes: nodes + perHost, pendingTasks: demand.ready, demandMilliseconds: demandTime / .milliseconds(1),
            policyMilliseconds: policyTime / .milliseconds(1), placementMilliseconds: placementTime / .milliseconds(1))
    }
}
