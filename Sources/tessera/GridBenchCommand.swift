import Actors
import ArgumentParser
import Foundation
import Grid
import GridWorkloads
import Logging

/// `tessera bench grid`: the grid's costs end to end (submit to result) on an embedded grid.
struct GridBenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "grid",
        abstract: "Measure task throughput, the tiling DAG, replication, script tasks and start-up.",
        discussion: """
            startupMs / startupRSSMB: Grid.start() wall time and the process RSS right after it (measured \
            first, in a fresh process). noopTasksPerSecond: independent no-op in-process tasks in one job, \
            submit to result (also per size in noopBySize). tilingSpeedup: the DAG of reference/peers.md \
            (1 root, 1,024 tiles of a 3x3 mean on 256x256 Float32, 1,023 adds), serial time over grid time; \
            tilingParallelSpeedup: the same tiles with parallelFor on the same cores and no grid; \
            tilingGridEfficiency: parallelFor time over grid time; tilingTileMicros: one tile's serial time. \
            --tile-side changes the tiles' size (and so how much work each task holds against the grid's cost per \
            task: the 256x256 tiles take about 0.2-0.5 ms on a 2 GHz Xeon, the reference's numpy tiles about 1 ms). \
            The three tiling runs go back to back in each of --tiling-rounds rounds, and each speedup is the median of the rounds' own ratios, so that a drift \
            of the machine's speed between rounds cancels out (the times reported are medians too); \
            tilingSpeedupBest is the fastest serial run over the fastest grid run. \
            replicate2000Ms: a job that replicates one task into 2,000, submit to result. \
            scriptTasksPerSecond: `bash -c true` command tasks. noopTasksPerSecondJournaled: the no-op job on a \
            second grid with the SQLite journal on, in the same run; journalCost is the ratio of the two rates. \
            Each figure is the median of --repeats runs. With TESSERA_BENCH_TRACE set, every run's times \
            (submission and total per job; serial, grid and parallelFor per tiling run) go to standard error; \
            with TESSERA_BENCH_TRACE=phases, each grid run of the tiling DAG also gives when the tiles' ends \
            reached the scheduler and when the job ended (from the grid-wide event stream, which the run then \
            feeds), and how long the nodes ran its tasks against the nodes times the wall time.
            """
    )

    @Option(help: "Runs per figure; the median is reported.")
    var repeats: Int = 3

    @Option(help: "No-op tasks for noopTasksPerSecond.")
    var noopTasks: Int = 100_000

    @Option(parsing: .upToNextOption, help: "Job sizes for the flatness check.")
    var noopSizes: [Int] = [2_000, 20_000, 200_000]

    @Option(help: "Tiles in the tiling DAG.")
    var tiles: Int = 1024

    @Option(help: "Side of the tiling DAG's square tiles, in pixels (2-4096).")
    var tileSide: Int = GridWorkload.tileSide

    @Option(help: "Rounds of the tiling comparison (serial, grid and parallelFor back to back).")
    var tilingRounds: Int = 7

    @Option(help: "Script tasks.")
    var scriptTasks: Int = 2000

    @Option(help: "Nodes of the embedded grid.")
    var nodes: Int = 2

    @Option(help: "How long a busy node holds its reports back, in milliseconds (default: the grid's choice, 30 on 2 nodes).")
    var reportIntervalMs: Double?

    @Flag(help: "Run the tasks as a multi-user server does (root only): under an account of their own (uid 2000099999), in a private job folder, with a rebuilt environment, limits, and control groups where the machine has them.")
    var isolated = false

    @Option(help: "With --isolated: the passwd account the tasks run as (a users file's unix=NAME), instead of uid 2000099999, which has no passwd entry (programs that look their user up, as bash does at each start, then fall through every NSS source).")
    var account: String?

    @Flag(help: "Print one JSON object.")
    var json = false

    @Flag(help: "Skip the journaled no-op runs (their figures read 0); for profiling the in-memory path.")
    var skipJournal = false

    func validate() throws {
        guard repeats >= 1, noopTasks >= 1, tiles >= 2, tilingRounds >= 1, scriptTasks >= 1, nodes >= 1 else {
            throw ValidationError("--repeats, --noop-tasks, --tiling-rounds, --script-tasks and --nodes must be at least 1, --tiles at least 2")
        }
        guard noopSizes.allSatisfy({ $0 >= 1 }) else { throw ValidationError("--noop-sizes must be positive") }
        if let reportIntervalMs, !(reportIntervalMs >= 0.01 && reportIntervalMs <= 10_000) {
            throw ValidationError("--report-interval-ms must be between 0.01 and 10000")
        }
        guard GridWorkload.tileSides.contains(tileSide) else {
            throw ValidationError("--tile-side must be between \(GridWorkload.tileSides.lowerBound) and \(GridWorkload.tileSides.upperBound)")
        }
    }

    func run() async throws {
        let data = FileManager.default.temporaryDirectory.path + "/tessera-bench-\(ProcessInfo.processInfo.processIdentifier)"
        defer { try? FileManager.default.removeItem(atPath: data) }
        var settings = GridSettings()
        settings.nodes = nodes
        settings.oversubscribe = true
        settings.reservedCores = 0
        settings.dataDirectory = data
        settings.workingDirectory = data
        settings.persistHealing = false
        if let reportIntervalMs { settings.reportInterval = .microseconds(Int64((reportIntervalMs * 1000).rounded())) }
        settings.logger.logLevel = .warning
        let owner = isolated ? "bench" : ""
        if isolated {
            guard getuid() == 0 else { throw ValidationError("--isolated runs tasks under another account: it needs root") }
            var taskAccount = UnixAccount(name: "uid-2000099999", uid: 2_000_099_999, gid: 2_000_099_999)
            if let account {
                guard let found = UnixAccount.lookUp(account), found.uid != 0 else {
                    throw ValidationError("--account \(account): no such account in the passwd database, or it is root")
                }
                taskAccount = found
            }
            settings.isolation = TaskIsolation(
                accounts: [owner: taskAccount], taskRoot: data + ".tasks",
                // In control groups too, where the machine has them, as a multi-user server runs them.
                cgroups: try? TaskCgroups.discover().get())
        } else if account != nil {
            throw ValidationError("--account needs --isolated")
        }
        defer { if isolated { try? FileManager.default.removeItem(atPath: data + ".tasks") } }
        let functions = FunctionRegistry()
        BuiltinFunctions.register(in: functions)

        let rssBefore = residentMegabytes()
        let clock = ContinuousClock()
        let started = clock.now
        let grid = try await Grid.start(settings: settings, functions: functions)
        let startupMs = milliseconds(clock.now - started)
        let startupRSS = residentMegabytes()
        // Whole microseconds as exact milliseconds (7.5, not 7.500000000000001): from the components, not seconds().
        let reportInterval = grid.settings.reportInterval ?? .zero
        let heldMilliseconds = Double(reportInterval.components.seconds) * 1000
            + Double(reportInterval.components.attoseconds / 1_000_000_000) / 1e6

        func timed(_ workflow: Workflow) async throws -> (Duration, JobResult) {
            let start = clock.now
            let job = try await grid.submit(workflow, owner: owner)
            let submitted = clock.now - start
            let result = try await job.result()
            let elapsed = clock.now - start
            if ProcessInfo.processInfo.environment["TESSERA_BENCH_TRACE"] != nil {
                FileHandle.standardError.write(Data("\(workflow.name) \(workflow.tasks.count): submit \(submitted), total \(elapsed)\n".utf8))
            }
            try await job.remove()  // each measured job starts from an empty scheduler
            return (elapsed, result)
        }
        func noop(_ count: Int) -> Workflow {
            Workflow(name: "noop", tasks: (0..<count).map { TaskDefinition("t\($0)", .function("bench.noop")) })
        }

        _ = try await timed(noop(2000))  // warm-up
        var noopRates: [Double] = []
        for _ in 0..<repeats {
            let workflow = noop(noopTasks)
            let (elapsed, result) = try await timed(workflow)
            guard result.status == .finished else { throw BenchFailure("no-op job ended \(result.status)") }
            noopRates.append(Double(noopTasks) / seconds(elapsed))
        }
        var bySize: [String: Double] = [:]
        for size in noopSizes {
            var rates: [Double] = []
            for _ in 0..<repeats {
                let (elapsed, _) = try await timed(noop(size))
                rates.append(Double(size) / seconds(elapsed))
            }
            bySize[String(size)] = median(rates)
        }

        var serialTimes: [Double] = []
        var gridTimes: [Double] = []
        var parallelTimes: [Double] = []
        // The same tiles split over the nodes' cores with no grid at all: what the hardware allows
        // (two cores share caches, memory bandwidth and clock), so the grid's own cost shows apart.
        let rawPool = try WorkerPool(plan: grid.plan, name: "bench-raw")
        defer { try? rawPool.shutdown() }
        let expected = GridWorkload.serialTiling(tiles: tiles, side: tileSide)
        let tracePhases = ProcessInfo.processInfo.environment["TESSERA_BENCH_TRACE"] == "phases"
        for _ in 0..<tilingRounds {
            let start = clock.now
            let value = GridWorkload.serialTiling(tiles: tiles, side: tileSide)
            serialTimes.append(seconds(clock.now - start))
            guard value == expected else { throw BenchFailure("the serial tiling is not deterministic") }
            let phases = tracePhases ? TilingPhases.collect(from: grid.events) : nil
            let (elapsed, result) = try await timed(GridWorkload.tilingWorkflow(tiles: tiles, side: tileSide))
            guard result.status == .finished, let final = result.tasks.last?.result, final == .double(expected) else {
                throw BenchFailure("the tiling DAG gave \(String(describing: result.tasks.last?.result)), serial \(expected)")
            }
            gridTimes.append(seconds(elapsed))
            if let phases {
                let line = TilingPhases.describe(events: await phases.value, result: result, nodes: nodes, wall: elapsed)
                FileHandle.standardError.write(Data((line + "\n").utf8))
            }
            let parallelStart = clock.now
            let parallel = try await GridWorkload.parallelTiling(tiles: tiles, side: tileSide, on: rawPool.executor)
            parallelTimes.append(seconds(clock.now - parallelStart))
            guard parallel == expected else { throw BenchFailure("the parallel tiling gave \(parallel), serial \(expected)") }
        }
        if ProcessInfo.processInfo.environment["TESSERA_BENCH_TRACE"] != nil {
            FileHandle.standardError.write(Data("serial \(serialTimes)\ngrid \(gridTimes)\nparallel \(parallelTimes)\n".utf8))
        }
        let serial = median(serialTimes)
        let wall = median(gridTimes)
        let rawParallel = median(parallelTimes)
        let rounds = serialTimes.indices
        let speedup = median(rounds.map { serialTimes[$0] / gridTimes[$0] })
        let parallelSpeedup = median(rounds.map { serialTimes[$0] / parallelTimes[$0] })
        let efficiency = median(rounds.map { parallelTimes[$0] / gridTimes[$0] })
        // Noise from the rest of the machine only ever adds time: the fastest runs are the least disturbed.
        let bestSpeedup = (serialTimes.min() ?? 0) / max(gridTimes.min() ?? 1, 1e-9)

        var replicateTimes: [Double] = []
        let replicate = Workflow(name: "replicate", tasks: [
            TaskDefinition("split", .function("bench.noop")).replicate(runs: .value("2000")),
            TaskDefinition("t", .function("bench.noop"), depends: ["split"]),
            TaskDefinition("merge", .function("bench.noop"), depends: ["t"]),
        ])
        for _ in 0..<repeats {
            let (elapsed, result) = try await timed(replicate)
            guard result.status == .finished, result.progress.total == 2002 else { throw BenchFailure("replicate ended \(result.status)") }
            replicateTimes.append(milliseconds(elapsed))
        }

        var scriptRates: [Double] = []
        let scripts = Workflow(name: "scripts", tasks: (0..<scriptTasks).map { TaskDefinition("s\($0)", .command(["bash", "-c", "true"])) })
        for _ in 0..<repeats {
            let (elapsed, result) = try await timed(scripts)
            guard result.status == .finished, result.progress.failed == 0 else { throw BenchFailure("script job ended \(result.status)") }
            scriptRates.append(Double(scriptTasks) / seconds(elapsed))
        }
        await grid.shutdown()

        // The same no-op job with every outcome journaled to SQLite (WAL, synchronous=NORMAL).
        var journaledRates: [Double] = []
        if !skipJournal {
            var journaled = settings
            journaled.dataDirectory = data + "/journaled"
            journaled.journal = true
            let journaledGrid = try await Grid.start(settings: journaled, functions: functions)
            _ = try await journaledGrid.submit(noop(2000)).result()
            for _ in 0..<repeats {
                let workflow = noop(noopTasks)
                let start = clock.now
                let job = try await journaledGrid.submit(workflow)
                let submitted = clock.now - start
                let result = try await job.result()
                guard result.status == .finished else { throw BenchFailure("journaled no-op job ended \(result.status)") }
                let elapsed = clock.now - start
                if ProcessInfo.processInfo.environment["TESSERA_BENCH_TRACE"] != nil {
                    FileHandle.standardError.write(Data("journaled noop \(noopTasks): submit \(submitted), total \(elapsed)\n".utf8))
                }
                journaledRates.append(Double(noopTasks) / seconds(elapsed))
                try await job.remove()
            }
            await journaledGrid.shutdown()
        }

        let report = GridBenchReport(
            nodes: nodes, reportIntervalMs: heldMilliseconds, noopTasks: noopTasks, noopTasksPerSecond: median(noopRates), noopBySize: bySize,
            tiles: tiles, tileSide: tileSide, tilingTileMicros: serial / Double(tiles) * 1e6, tilingRounds: tilingRounds, tilingSerialSeconds: serial, tilingGridSeconds: wall, tilingSpeedup: speedup, tilingSpeedupBest: bestSpeedup,
            tilingOverheadMicrosPerTask: (2 * wall - serial) / Double(2 * tiles) * 1e6,
            tilingParallelSeconds: rawParallel, tilingParallelSpeedup: parallelSpeedup, tilingGridEfficiency: efficiency,
            replicate2000Ms: median(replicateTimes), scriptTasks: scriptTasks, scriptTasksPerSecond: median(scriptRates),
            isolated: isolated, taskAccount: settings.isolation?.accounts[owner]?.name, startupMs: startupMs, startupRSSMB: startupRSS, rssBeforeStartMB: rssBefore,
            noopTasksPerSecondJournaled: median(journaledRates),
            journalCost: journaledRates.isEmpty ? 0 : median(noopRates) / max(median(journaledRates), 1))
        if json {
            try printJSON(report)
        } else {
            print(report.table)
        }
    }

    private func median(_ values: [Double]) -> Double {
        values.isEmpty ? 0 : values.sorted()[values.count / 2]
    }
}

struct BenchFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

func seconds(_ duration: Duration) -> Double {
    Double(duration.components.seconds) + Double(duration.components.attoseconds) * 1e-18
}

func milliseconds(_ duration: Duration) -> Double { seconds(duration) * 1000 }

/// The resident set of this process in MiB (from /proc/self/statm).
func residentMegabytes() -> Double {
    guard let text = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return 0 }
    let fields = text.split(separator: " ")
    guard fields.count > 1, let pages = Double(fields[1]) else { return 0 }
    return pages * Double(sysconf(Int32(_SC_PAGESIZE))) / 1_048_576
}

/// The figures of `tessera bench grid`.
struct GridBenchReport: Encodable {
    var nodes: Int
    /// How long a busy node held its reports back (GridSettings.reportInterval), in ms.
    var reportIntervalMs: Double
    var noopTasks: Int
    var noopTasksPerSecond: Double
    var noopBySize: [String: Double]
    var tiles: Int
    /// The tiles' side in pixels.
    var tileSide: Int
    /// One tile's serial time (the median serial run over the tiles), in µs.
    var tilingTileMicros: Double
    /// Rounds of serial, grid and parallelFor runs, back to back.
    var tilingRounds: Int
    /// Medians of the rounds' times.
    var tilingSerialSeconds: Double
    var tilingGridSeconds: Double
    /// The median of the rounds' serial / grid ratios.
    var tilingSpeedup: Double
    /// The fastest serial run over the fastest grid run (other load on the machine only adds time).
    var tilingSpeedupBest: Double
    var tilingOverheadMicrosPerTask: Double
    /// The tiles split over the same cores with `parallelFor`, no grid: the hardware's ceiling.
    var tilingParallelSeconds: Double
    /// The median of the rounds' serial / parallelFor ratios.
    var tilingParallelSpeedup: Double
    /// The median of the rounds' parallelFor / grid ratios: the share of the ceiling the grid reaches.
    var tilingGridEfficiency: Double
    var replicate2000Ms: Double
    var scriptTasks: Int
    var scriptTasksPerSecond: Double
    /// Whether the tasks ran isolated (`--isolated`).
    var isolated: Bool
    /// The account isolated tasks ran as (`nil` when not isolated).
    var taskAccount: String?
    var startupMs: Double
    var startupRSSMB: Double
    var rssBeforeStartMB: Double
    var noopTasksPerSecondJournaled: Double
    /// No-op throughput without the journal over throughput with it.
    var journalCost: Double

    var table: String {
        func f(_ value: Double, _ digits: Int = 1) -> String { String(format: "%.\(digits)f", value) }
        let sizes = noopBySize.keys.compactMap(Int.init).sorted().map { "\($0): \(f(noopBySize[String($0)] ?? 0, 0))/s" }
        return """
            grid benchmarks (\(nodes) nodes, reports held up to \(f(reportIntervalMs)) ms)
              start-up                 \(f(startupMs, 2)) ms, RSS \(f(startupRSSMB)) MB (before \(f(rssBeforeStartMB)) MB)   (goal < 50 ms, < 50 MB)
              no-op tasks (\(noopTasks))     \(f(noopTasksPerSecond, 0)) tasks/s   (goal >= 200,000)
                by job size            \(sizes.joined(separator: ", "))
              tiling DAG (\(tiles) tiles of \(tileSide)x\(tileSide), \(f(tilingTileMicros, 0)) µs each serially)
                serial \(f(tilingSerialSeconds, 3)) s, grid \(f(tilingGridSeconds, 3)) s, speedup \(f(tilingSpeedup, 2)) (best runs: \(f(tilingSpeedupBest, 2)))   (goal >= 1.8)
                (2*wall - serial) per task \(f(tilingOverheadMicrosPerTask)) µs; same tiles with parallelFor and no grid \(f(tilingParallelSeconds, 3)) s = \(f(tilingParallelSpeedup, 2))x; grid at \(f(tilingGridEfficiency * 100, 0)) % of it
                (medians over \(tilingRounds) rounds; speedups are medians of each round's ratio)
              journaled no-op          \(f(noopTasksPerSecondJournaled, 0)) tasks/s, cost \(f(journalCost, 2))x   (goal < 2x)
              replicate 2,000          \(f(replicate2000Ms, 2)) ms   (goal < 50)
              bash -c true (\(scriptTasks))   \(f(scriptTasksPerSecond, 0)) tasks/s
            """
    }
}

/// Where a grid run of the tiling DAG spends its time, for `TESSERA_BENCH_TRACE=phases`.
enum TilingPhases {
    /// Collects the grid-wide events until the first job that ends (the one submitted next).
    static func collect(from stream: AsyncStream<GridEvent>) -> Task<[GridEvent], Never> {
        Task {
            var events: [GridEvent] = []
            for await event in stream {
                events.append(event)
                if event.isFinal { break }
            }
            return events
        }
    }

    /// One line: when the tiles' ends reached the scheduler and when the job ended (ms after the job's first event),
    /// and how long the nodes ran its tasks (their own measure) against the nodes × the wall time.
    static func describe(events: [GridEvent], result: JobResult, nodes: Int, wall: Duration) -> String {
        let mine = events.filter { $0.job == result.job }
        guard let origin = mine.first?.time else { return "phases: no events" }
        func ms(_ time: Duration?) -> String {
            time.map { String(format: "%.2f", milliseconds($0 - origin)) } ?? "-"
        }
        // Nodes report a task's start with its end (in batches), so only the ends' arrival times tell anything.
        let tileEnds = mine.compactMap { event -> Duration? in
            guard case .task(let name, .finished, _, _, _) = event.change, name.description.hasPrefix("tile") else { return nil }
            return event.time
        }
        let jobEnd = mine.last(where: \.isFinal)?.time
        var busy: [NodeID: (tasks: Int, seconds: Double)] = [:]
        for task in result.tasks {
            guard let node = task.node else { continue }
            busy[node, default: (0, 0)].tasks += 1
            busy[node, default: (0, 0)].seconds += task.duration ?? 0
        }
        let perNode = busy.values.map(\.seconds)
        let total = perNode.reduce(0, +)
        return "phases ms: tiles' ends reached the scheduler from \(ms(tileEnds.min())) to \(ms(tileEnds.max())), "
            + "the job ended at \(ms(jobEnd)); "
            + String(format: "nodes ran tasks %.1f ms in all (%.1f %% of %ld × wall), per node %.1f – %.1f ms and %ld – %ld of the %ld tasks",
                     total * 1e3, total / (Double(nodes) * seconds(wall)) * 100, nodes,
                     (perNode.min() ?? 0) * 1e3, (perNode.max() ?? 0) * 1e3,
                     busy.count < nodes ? 0 : busy.values.map(\.tasks).min() ?? 0, busy.values.map(\.tasks).max() ?? 0,
                     busy.values.map(\.tasks).reduce(0, +))
    }
}
