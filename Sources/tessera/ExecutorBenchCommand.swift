import GridWorkloads
import Actors
import ArgumentParser
import Synchronization

/// `tessera bench executor`: the pinned executor's costs, side by side with the global executor.
struct ExecutorBenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "executor",
        abstract: "Measure closure jobs, child tasks and CPU scaling on the pinned executor.",
        discussion: """
            closureJobNs: ns per tiny closure through a 2-worker pool (1M closures, batches of 4,096). \
            pinnedChildTaskNs / globalChildTaskNs: ns per no-op child task in a task group with a window \
            of 1,024, on the pinned executor and on Swift's global executor. speedup2Workers: 2,048 jobs \
            of about 1 ms of arithmetic on 1 worker, then on 2. Each figure is the median of --repeats runs.
            """
    )

    @Option(help: "Runs per figure; the median is reported.")
    var repeats: Int = 3

    @Option(help: "Closure jobs per run.")
    var closures: Int = 1_000_000

    @Option(help: "Child tasks per run.")
    var children: Int = 200_000

    @Option(help: "Arithmetic jobs of about 1 ms per scaling run.")
    var arithmeticJobs: Int = 2048

    @Flag(help: "Print one JSON object.")
    var json = false

    func validate() throws {
        guard repeats >= 1 else { throw ValidationError("--repeats must be at least 1") }
        guard closures >= 1, children >= 1, arithmeticJobs >= 1 else {
            throw ValidationError("--closures, --children and --arithmetic-jobs must be at least 1")
        }
    }

    func run() async throws {
        let machine = try MachineTopology.load()
        let twoWorkers = try PlacementPlan.make(
            for: machine.topology, request: .init(workers: 2, oversubscribe: true))
        let oneWorker = try PlacementPlan.make(for: machine.topology, request: .init(workers: 1))

        let pool = try WorkerPool(plan: twoWorkers, name: "bench")
        defer { try? pool.shutdown() }
        let closureNs = try await median(repeats) { try await ExecutorWorkload.closureJobs(pool.executor, count: closures) }
        let pinnedNs = try await median(repeats) {
            try await ExecutorWorkload.childTasks(on: pool.executor, count: children)
        }
        let globalNs = try await median(repeats) {
            try await ExecutorWorkload.childTasks(on: globalConcurrentExecutor, count: children)
        }

        let iterations = ExecutorWorkload.calibrateMillisecondJob()
        let single = try WorkerPool(plan: oneWorker, name: "bench1")
        let oneSeconds = try await ExecutorWorkload.arithmeticJobs(single.executor, jobs: arithmeticJobs, iterations: iterations)
        try single.shutdown()
        let twoSeconds = try await ExecutorWorkload.arithmeticJobs(pool.executor, jobs: arithmeticJobs, iterations: iterations)

        let report = ExecutorBenchReport(
            workers: 2, cores: machine.topology.cores.count, closureJobs: closures, childTasks: children,
            closureJobNs: closureNs, pinnedChildTaskNs: pinnedNs, globalChildTaskNs: globalNs,
            pinnedOverGlobal: pinnedNs / globalNs, arithmeticJobs: arithmeticJobs,
            oneWorkerSeconds: oneSeconds, twoWorkerSeconds: twoSeconds, speedup2Workers: oneSeconds / twoSeconds)
        if json {
            try printJSON(report)
        } else {
            print(report.table)
        }
    }

    private func median(_ runs: Int, _ measure: () async throws -> Double) async throws -> Double {
        var values: [Double] = []
        for _ in 0..<runs { values.append(try await measure()) }
        return values.sorted()[values.count / 2]
    }
}

/// The figures of `tessera bench executor`.
struct ExecutorBenchReport: Encodable {
    var workers: Int
    var cores: Int
    var closureJobs: Int
    var childTasks: Int
    var closureJobNs: Double
    var pinnedChildTaskNs: Double
    var globalChildTaskNs: Double
    var pinnedOverGlobal: Double
    var arithmeticJobs: Int
    var oneWorkerSeconds: Double
    var twoWorkerSeconds: Double
    var speedup2Workers: Double

    var table: String {
        func fixed(_ value: Double, _ digits: Int = 1) -> String {
            let scale = (0..<digits).reduce(1.0) { value, _ in value * 10 }
            let scaled = Int((value * scale).rounded())
            return digits == 0 ? "\(scaled)" : "\(scaled / Int(scale)).\(String(scaled % Int(scale)).leftPadded(digits))"
        }
        return """
            executor benchmarks (\(workers) workers, \(cores) cores)
              closure job            \(fixed(closureJobNs)) ns   (goal <= 150)
              child task, pinned     \(fixed(pinnedChildTaskNs)) ns
              child task, global     \(fixed(globalChildTaskNs)) ns   (pinned/global \(fixed(pinnedOverGlobal, 2)), goal <= 1.2)
              \(arithmeticJobs) x 1 ms, 1 worker  \(fixed(oneWorkerSeconds, 3)) s
              \(arithmeticJobs) x 1 ms, 2 workers \(fixed(twoWorkerSeconds, 3)) s   (speedup \(fixed(speedup2Workers, 2)), goal >= 1.8)
            """
    }
}

extension String {
    fileprivate func leftPadded(_ width: Int) -> String {
        String(repeating: "0", count: max(0, width - count)) + self
    }
}
