import Actors
import Benchmark
import Synchronization

// Side by side in one run (issue: Actors runtime):
// - a tiny closure job on the pinned executor, 2 workers (goal <= 150 ns);
// - a child task in a window of 1,024 on the pinned executor vs the global executor (goal <= 1.2x);
// - 2,048 jobs of about 1 ms on 1 worker vs 2 workers (goal >= 1.8x).

/// Resumes a waiter when the last of `count` jobs has run.
private final class Countdown: Sendable {
    let remaining: Atomic<Int>
    let continuation: CheckedContinuation<Void, Never>
    init(_ count: Int, _ continuation: CheckedContinuation<Void, Never>) {
        remaining = Atomic(count)
        self.continuation = continuation
    }
    func tick() {
        if remaining.subtract(1, ordering: .acquiringAndReleasing).newValue == 0 { continuation.resume() }
    }
}

@inline(never)
private func spin(_ iterations: Int) -> UInt64 {
    var x: UInt64 = 0x9E37_79B9_7F4A_7C15 &+ UInt64(truncatingIfNeeded: iterations)
    for _ in 0..<iterations {
        x ^= x << 13
        x ^= x >> 7
        x ^= x << 17
    }
    return x | 1
}

private func makePool(workers: Int, name: String) -> WorkerPool {
    do {
        let machine = try MachineTopology.load()
        let plan = try PlacementPlan.make(for: machine.topology, request: .init(workers: workers, oversubscribe: true))
        return try WorkerPool(plan: plan, name: name)
    } catch {
        preconditionFailure("cannot start the benchmark pool: \(error)")
    }
}

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .throughput, .peakMemoryResident], timeUnits: .nanoseconds,
        warmupIterations: 1, maxDuration: .seconds(5), maxIterations: 20)

    // With a scaling factor, one benchmark iteration runs `scaledIterations.count` items, so the
    // reported figure is per item (per closure, per child task).
    Benchmark("closure job, pinned, 2 workers", configuration: .init(scalingFactor: .mega)) { benchmark in
        let pool = makePool(workers: 2, name: "closures")
        let closures = benchmark.scaledIterations.count / 4096 * 4096
        benchmark.startMeasurement()
        do {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let countdown = Countdown(closures, continuation)
                let batch = [PoolJob](repeating: PoolJob { countdown.tick() }, count: 4096)
                for _ in 0..<(closures / batch.count) { try? pool.executor.execute(batch: batch) }
            }
        }
        benchmark.stopMeasurement()
        try? pool.shutdown()
    }

    for pinned in [true, false] {
        let name = pinned ? "child task, window 1024, pinned" : "child task, window 1024, global"
        Benchmark(name, configuration: .init(scalingFactor: .mega)) { benchmark in
            let pool = makePool(workers: 2, name: "children")
            let executor: any TaskExecutor = pinned ? pool.executor : globalConcurrentExecutor
            let children = benchmark.scaledIterations.count
            benchmark.startMeasurement()
            do {
                try await Task(executorPreference: executor) {
                    try await (0..<children).concurrentForEach(window: 1024) { _ in }
                }.value
            }
            benchmark.stopMeasurement()
            try? pool.shutdown()
        }
    }

    for workers in [1, 2] {
        Benchmark("2048 x 1 ms arithmetic, \(workers) worker(s)", configuration: .init(timeUnits: .milliseconds, maxIterations: 5)) { benchmark in
            let pool = makePool(workers: workers, name: "arith\(workers)")
            // About 1 ms per job on a 3-4 GHz core; the ratio between the two runs is what counts.
            let iterations = 1_000_000
            let sink = Atomic<UInt64>(0)
            benchmark.startMeasurement()
            for _ in benchmark.scaledIterations {
                try await pool.executor.parallelFor(0..<2048, grain: 1) { range in
                    for job in range { sink.wrappingAdd(spin(iterations &+ job % 2), ordering: .relaxed) }
                }
            }
            benchmark.stopMeasurement()
            blackHole(sink.load(ordering: .relaxed))
            try? pool.shutdown()
        }
    }
}
