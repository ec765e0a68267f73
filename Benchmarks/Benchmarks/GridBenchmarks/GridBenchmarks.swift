import Benchmark
import Grid
import GridWorkloads
import Logging

// The grid's workloads from GridWorkloads, the same code `tessera bench grid` runs: the tiling DAG of
// reference/peers.md serially (the floor of the work itself) and on an embedded grid (the floor plus scheduling),
// and no-op tasks (scheduling alone).

private func startGrid() async throws -> Grid {
    let functions = FunctionRegistry()
    BuiltinFunctions.register(in: functions)
    var settings = GridSettings()
    settings.logger.logLevel = .warning
    return try await Grid.start(settings: settings, functions: functions)
}

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .throughput, .peakMemoryResident], timeUnits: .milliseconds,
        warmupIterations: 1, maxDuration: .seconds(10), maxIterations: 10)

    Benchmark("tiling DAG, 64 tiles of 256², serial") { benchmark in
        for _ in benchmark.scaledIterations { blackHole(GridWorkload.serialTiling(tiles: 64)) }
    }

    Benchmark("tiling DAG, 64 tiles of 256², on an embedded grid") { benchmark in
        let grid = try await startGrid()
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            blackHole(try await grid.submit(GridWorkload.tilingWorkflow(tiles: 64)).result().status)
        }
        benchmark.stopMeasurement()
        await grid.shutdown()
    }

    Benchmark("10,000 no-op tasks on an embedded grid") { benchmark in
        let grid = try await startGrid()
        let workflow = Workflow(name: "noop", tasks: (0..<10_000).map { TaskDefinition("t\($0)", .function("bench.noop")) })
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations { blackHole(try await grid.submit(workflow).result().status) }
        benchmark.stopMeasurement()
        await grid.shutdown()
    }
}
