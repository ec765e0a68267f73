import Actors
import Synchronization

/// The measured workloads of `tessera bench executor`.
public enum ExecutorWorkload {
    /// Counts down and resumes a waiter when the last job has run.
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

    /// ns per tiny closure: `count` closures submitted from outside in batches of 4,096.
    public static func closureJobs(_ executor: PinnedExecutor, count: Int) async throws -> Double {
        let start = ContinuousClock.now
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let countdown = Countdown(count, continuation)
            let batch = [PoolJob](repeating: PoolJob { countdown.tick() }, count: 4096)
            var submitted = 0
            do {
                while submitted < count {
                    let size = min(batch.count, count - submitted)
                    try executor.execute(batch: size == batch.count ? batch : Array(batch.prefix(size)))
                    submitted += size
                }
            } catch {
                // The pool is owned by the benchmark and cannot shut down while it runs.
                preconditionFailure("benchmark pool shut down: \(error)")
            }
        }
        return nanoseconds(since: start) / Double(count)
    }

    /// ns per no-op child task in a group with a window of 1,024, parent and children on `executor`.
    public static func childTasks(on executor: any TaskExecutor, count: Int) async throws -> Double {
        let start = ContinuousClock.now
        try await Task(executorPreference: executor) {
            try await (0..<count).concurrentForEach(window: 1024) { _ in }
        }.value
        return nanoseconds(since: start) / Double(count)
    }

    /// Iterations of `spin` that take about 1 ms on this machine.
    public static func calibrateMillisecondJob() -> Int {
        var iterations = 10_000
        while true {
            let start = ContinuousClock.now
            _ = spin(iterations)
            let elapsed = nanoseconds(since: start)
            if elapsed > 20_000_000 { return max(1, Int(Double(iterations) * 1_000_000 / elapsed)) }
            iterations *= 2
        }
    }

    /// Seconds for `jobs` arithmetic jobs of `iterations` each through `parallelFor` with grain 1.
    public static func arithmeticJobs(_ executor: PinnedExecutor, jobs: Int, iterations: Int) async throws -> Double {
        let sink = Atomic<UInt64>(0)
        let start = ContinuousClock.now
        try await executor.parallelFor(0..<jobs, grain: 1) { range in
            for job in range { sink.wrappingAdd(spin(iterations &+ job % 2), ordering: .relaxed) }
        }
        let seconds = nanoseconds(since: start) / 1e9
        precondition(sink.load(ordering: .relaxed) != 0, "the arithmetic was optimised away")
        return seconds
    }

    /// A dependent chain of xorshift steps the optimiser cannot skip.
    @inline(never)
    public static func spin(_ iterations: Int) -> UInt64 {
        var x: UInt64 = 0x9E37_79B9_7F4A_7C15 &+ UInt64(truncatingIfNeeded: iterations)
        for _ in 0..<iterations {
            x ^= x << 13
            x ^= x >> 7
            x ^= x << 17
        }
        return x | 1
    }

    private static func nanoseconds(since start: ContinuousClock.Instant) -> Double {
        let elapsed = ContinuousClock.now - start
        return Double(elapsed.components.seconds) * 1e9 + Double(elapsed.components.attoseconds) / 1e9
    }
}
