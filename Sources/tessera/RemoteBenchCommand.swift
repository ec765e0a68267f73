import ArgumentParser
import Cluster
import Foundation
import Grid
import GridWorkloads
import Logging

/// `tessera bench remote`: the grid across processes on this machine: a scheduler with no local nodes and
/// `tessera agent` processes on 127.0.0.2, 127.0.0.3, …, every task sent over the authenticated links.
struct RemoteBenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "remote",
        abstract: "Measure the grid across agent processes: no-op throughput, the tiling DAG, and re-running a lost host's work."
    )

    @Option(help: "Agent processes.") var agents: Int = 2
    @Option(help: "Nodes per agent.") var workers: Int = 1
    @Option(help: "No-op tasks per run.") var noopTasks: Int = 20_000
    @Option(help: "Tiles in the tiling DAG.") var tiles: Int = 1024
    @Option(help: "Runs per figure; the median is reported.") var repeats: Int = 5
    @Flag(help: "Print one JSON object.") var json = false

    func validate() throws {
        guard (1...50).contains(agents), (1...64).contains(workers) else { throw ValidationError("--agents in 1…50, --workers in 1…64") }
        guard noopTasks >= 1, tiles >= 2, repeats >= 1 else { throw ValidationError("--noop-tasks ≥ 1, --tiles ≥ 2, --repeats ≥ 1") }
    }

    struct Report: Encodable {
        var agents: Int
        var workersPerAgent: Int
        var noopTasks: Int
        var remoteNoopTasksPerSecond: Double
        var embeddedNoopTasksPerSecond: Double
        var tiles: Int
        var tilingSerialSeconds: Double
        var tilingRemoteSeconds: Double
        var tilingEmbeddedSeconds: Double
        var tilingRemoteSpeedup: Double
        /// From an agent's SIGKILL to all of its running tasks running again on another agent (its link closes at once).
        var killToRerunMs: Double
        /// From an agent's SIGSTOP (a hung host: its link stays open) to its tasks running elsewhere: the membership's
        /// detection (suspect, then dead) plus the re-queue.
        var hangToRerunSeconds: Double
        var hangDownSeconds: Double
    }

    func run() async throws {
        let data = FileManager.default.temporaryDirectory.path + "/tessera-bench-remote-\(ProcessInfo.processInfo.processIdentifier)"
        defer { try? FileManager.default.removeItem(atPath: data) }
        try FileManager.default.createDirectory(atPath: data, withIntermediateDirectories: true)
        let keyFile = data + "/keys"
        var random = SystemRandomNumberGenerator()
        try ("1 " + (0..<32).map { _ in String(format: "%02x", UInt8.random(in: 0...255, using: &random)) }.joined() + "\n")
            .write(toFile: keyFile, atomically: true, encoding: .utf8)
        let keyRing = try KeyRing.load(path: keyFile)
        ProcessReaper.start()
        var logger = Logger(label: "tessera.bench")
        logger.logLevel = .error

        let functions = FunctionRegistry()
        BuiltinFunctions.register(in: functions)
        var settings = GridSettings()
        settings.localNodes = false
        settings.nodes = 1
        settings.oversubscribe = true
        settings.dataDirectory = data + "/server"
        settings.workingDirectory = data
        settings.persistHealing = false
        settings.logger = logger
        let grid = try await Grid.start(settings: settings, functions: functions)
        let member = ClusterMember(
            configuration: .init(id: Cluster.NodeID.random(using: &random), bind: MemberAddress("127.0.0.1:0") ?? .unknown, seeds: [],
                                 clusterID: ServeCommand.defaultClusterID, keyRing: keyRing, seed: random.next()),
            logger: logger)
        let source = grid.agentNodeSource(member: member, processes: agents)
        let memberTask = Task { try await member.run() }
        let sourceTask = Task { await source.run(events: member.events) }
        let join = await member.listening()
        let executable = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().path
        var processes: [Process] = []
        func startAgent(_ index: Int) throws -> Process {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: executable)
            process.arguments = [
                "agent", "--join", join.description, "--bind", "127.0.0.\(index + 2):0", "--key-file", keyFile, "--workers", String(workers),
                "--data", data + "/agent-\(index)", "--log-level", "error", "--no-bind",
            ]
            process.standardOutput = FileHandle.nullDevice
            try process.run()
            return process
        }
        for index in 0..<agents { processes.append(try startAgent(index)) }
        defer { for process in processes where process.isRunning { kill(process.processIdentifier, SIGKILL) } }
        try await waitForHosts(grid, agents)

        let clock = ContinuousClock()
        func timed(_ workflow: Workflow, on target: Grid) async throws -> Double {
            let start = clock.now
            let job = try await target.submit(workflow)
            let result = try await job.result()
            guard result.status == .finished else { throw BenchFailure("\(workflow.name) ended \(result.status)") }
            let elapsed = seconds(clock.now - start)
            try await job.remove()
            return elapsed
        }
        func noop(_ count: Int) -> Workflow {
            Workflow(name: "noop", tasks: (0..<count).map { TaskDefinition("t\($0)", .function("bench.noop")) })
        }
        _ = try await timed(noop(2000), on: grid)
        var remoteRates: [Double] = []
        for _ in 0..<repeats { remoteRates.append(Double(noopTasks) / (try await timed(noop(noopTasks), on: grid))) }
        var remoteTiling: [Double] = []
        for _ in 0..<repeats { remoteTiling.append(try await timed(GridWorkload.tilingWorkflow(tiles: tiles), on: grid)) }

        // Kill -9 one agent while every node runs a long task: time until they all run again elsewhere.
        let killMs = try await rerunAfter(grid: grid, clock: clock) { victim in
            kill(Int32(victim.pid), SIGKILL)
        }
        // A replacement for the killed agent, then a hung one (SIGSTOP): only the membership can tell.
        processes.append(try startAgent(agents))
        try await waitForHosts(grid, agents)
        var hangDown = 0.0
        let hangSeconds = try await rerunAfter(grid: grid, clock: clock, down: { hangDown = $0 }) { victim in
            kill(Int32(victim.pid), SIGSTOP)
        } / 1000

        for process in processes where process.isRunning {
            kill(process.processIdentifier, SIGCONT)
            process.terminate()
        }
        await grid.shutdown()
        member.leave()
        _ = try? await memberTask.value
        sourceTask.cancel()

        // The same figures on an embedded grid with as many local nodes as the agents had.
        var embeddedSettings = settings
        embeddedSettings.localNodes = true
        embeddedSettings.nodes = agents * workers
        embeddedSettings.reservedCores = 0
        embeddedSettings.dataDirectory = data + "/embedded"
        let embedded = try await Grid.start(settings: embeddedSettings, functions: functions)
        _ = try await timed(noop(2000), on: embedded)
        var embeddedRates: [Double] = []
        for _ in 0..<repeats { embeddedRates.append(Double(noopTasks) / (try await timed(noop(noopTasks), on: embedded))) }
        var embeddedTiling: [Double] = []
        for _ in 0..<repeats { embeddedTiling.append(try await timed(GridWorkload.tilingWorkflow(tiles: tiles), on: embedded)) }
        await embedded.shutdown()
        var serial: [Double] = []
        for _ in 0..<repeats {
            let start = clock.now
            _ = GridWorkload.serialTiling(tiles: tiles)
            serial.append(seconds(clock.now - start))
        }

        let report = Report(
            agents: agents, workersPerAgent: workers, noopTasks: noopTasks, remoteNoopTasksPerSecond: median(remoteRates),
            embeddedNoopTasksPerSecond: median(embeddedRates), tiles: tiles, tilingSerialSeconds: median(serial),
            tilingRemoteSeconds: median(remoteTiling), tilingEmbeddedSeconds: median(embeddedTiling),
            tilingRemoteSpeedup: median(serial) / median(remoteTiling), killToRerunMs: killMs, hangToRerunSeconds: hangSeconds,
            hangDownSeconds: hangDown)
        if json {
            try printJSON(report)
        } else {
            func f(_ value: Double, _ digits: Int = 1) -> String { String(format: "%.\(digits)f", value) }
            print("""
                grid across \(agents) agent process(es) × \(workers) node(s) on this machine
                  no-op tasks/s (\(noopTasks))   remote \(f(report.remoteNoopTasksPerSecond, 0))   embedded \(f(report.embeddedNoopTasksPerSecond, 0))
                  tiling DAG (\(tiles) tiles)    remote \(f(report.tilingRemoteSeconds, 3)) s   embedded \(f(report.tilingEmbeddedSeconds, 3)) s   serial \(f(report.tilingSerialSeconds, 3)) s   remote speed-up \(f(report.tilingRemoteSpeedup, 2))×
                  kill -9 → re-run elsewhere   \(f(report.killToRerunMs)) ms
                  SIGSTOP → DOWN               \(f(report.hangDownSeconds, 2)) s
                  SIGSTOP → re-run elsewhere   \(f(report.hangToRerunSeconds, 2)) s
                """)
        }
    }

    private func waitForHosts(_ grid: Grid, _ count: Int) async throws {
        let deadline = ContinuousClock.now + .seconds(60)
        while Set(await grid.nodes().filter { $0.state == .free && $0.source == "agents" }.map(\.host)).count < count {
            guard ContinuousClock.now < deadline else { throw BenchFailure("the agents did not join within 60 s") }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    /// Fills every agent node with a 30 s task, stops one host with `stop`, and returns the milliseconds until every
    /// task that ran there runs on another host.
    private func rerunAfter(
        grid: Grid, clock: ContinuousClock, down: (Double) -> Void = { _ in }, stop: (AgentVictim) -> Void
    ) async throws -> Double {
        // As many long tasks as one agent has nodes: they all land on the agent with the lowest node ids (placement
        // ties go to the lowest), and the other agents have room to take them at once.
        let job = try await grid.submit(Workflow(name: "long", tasks: (0..<workers).map {
            TaskDefinition("s\($0)", .function("bench.sleep", input: .int(30_000)))
        }))
        var report = try await job.report()
        while report.progress.running < workers {
            try await Task.sleep(for: .milliseconds(10))
            report = try await job.report()
        }
        guard let host = report.tasks.first?.host, let agent = try? AgentVictim.find(host: host) else {
            throw BenchFailure("cannot find the agent process of \(report.tasks.first?.host ?? "?")")
        }
        let onHost = Set(report.tasks.filter { $0.host == host }.map(\.name))
        let start = clock.now
        stop(agent)
        var downAt: Double?
        while true {
            if downAt == nil, await grid.nodes().contains(where: { $0.host == host && ($0.state == .down || $0.state == .lost) }) {
                downAt = seconds(clock.now - start)
            }
            report = try await job.report()
            let moved = report.tasks.filter { onHost.contains($0.name) && $0.status == .running && $0.host != host }
            if moved.count == onHost.count { break }
            guard clock.now - start < .seconds(120) else { throw BenchFailure("the lost host's tasks did not run again within 120 s") }
            try await Task.sleep(for: .milliseconds(2))
        }
        let elapsed = milliseconds(clock.now - start)
        down(downAt ?? elapsed / 1000)
        try await job.kill()
        return elapsed
    }

    private func median(_ values: [Double]) -> Double {
        let sorted = values.sorted()
        return sorted.isEmpty ? 0 : sorted[sorted.count / 2]
    }
}

/// The agent process serving a host (found through its bind address in /proc).
struct AgentVictim {
    let pid: Int

    static func find(host: String) throws -> AgentVictim {
        let ip = String(host.split(separator: ":")[0])
        for entry in try FileManager.default.contentsOfDirectory(atPath: "/proc") {
            guard let pid = Int(entry), let raw = FileManager.default.contents(atPath: "/proc/\(entry)/cmdline") else { continue }
            let arguments = raw.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
            guard arguments.count > 1, arguments[1] == "agent", let index = arguments.firstIndex(of: "--bind"), index + 1 < arguments.count,
                arguments[index + 1].hasPrefix(ip + ":")
            else { continue }
            // Not the agent's reaper (a fork with the same command line, whose parent is the agent).
            let stat = (try? String(contentsOfFile: "/proc/\(entry)/stat", encoding: .utf8)) ?? ""
            let parent = stat.split(separator: ")").last?.split(separator: " ").dropFirst().first.flatMap { Int($0) } ?? 0
            let parentArguments = FileManager.default.contents(atPath: "/proc/\(parent)/cmdline")?.split(separator: 0).map { String(decoding: $0, as: UTF8.self) } ?? []
            if parentArguments.count > 1 && parentArguments[1] == "agent" { continue }
            return AgentVictim(pid: pid)
        }
        throw BenchFailure("no agent process bound to \(ip)")
    }
}
