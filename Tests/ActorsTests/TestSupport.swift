import CShims
import Foundation
import Synchronization
import Testing

@testable import Actors

/// Makes a pool for a test and always shuts it down, so no test leaves threads behind.
func withPool<Result>(
    _ plan: PlacementPlan, name: String = "test", settings: Settings = .init(),
    _ body: (WorkerPool) async throws -> Result
) async throws -> Result {
    let pool = try WorkerPool(plan: plan, name: name, settings: settings)
    do {
        let result = try await body(pool)
        try pool.shutdown()
        return result
    } catch {
        try? pool.shutdown()
        throw error
    }
}

/// A plan of `workers` on a synthetic machine (threads are not bound: the plan is only a plan).
func syntheticPlan(_ spec: String, workers: Int? = nil, strategy: PlacementPlan.Strategy = .compact) throws -> PlacementPlan {
    try PlacementPlan.make(for: MachineTopology(synthetic: spec).topology, request: .init(workers: workers, strategy: strategy))
}

/// Counts down from `count` and resumes the waiter when it reaches zero.
final class Countdown: Sendable {
    private let remaining: Atomic<Int>
    private let continuation: CheckedContinuation<Void, Never>

    init(_ count: Int, _ continuation: CheckedContinuation<Void, Never>) {
        remaining = Atomic(count)
        self.continuation = continuation
    }

    func tick() {
        if remaining.subtract(1, ordering: .acquiringAndReleasing).newValue == 0 { continuation.resume() }
    }
}

/// Spins (never sleeps) until `condition` holds, failing the test after `seconds` of wall time.
func spin(until condition: () -> Bool, seconds: Double = 30, _ comment: Comment) -> Bool {
    let deadline = ContinuousClock.now + .seconds(seconds)
    while !condition() {
        if ContinuousClock.now > deadline {
            Issue.record(comment)
            return false
        }
        sched_yield()
    }
    return true
}

/// Whether the kernel thread `tid` of this process still exists.
func threadExists(_ tid: Int64) -> Bool {
    FileManager.default.fileExists(atPath: "/proc/self/task/\(tid)")
}

/// The resident set size of this process, in bytes.
func residentBytes() -> Int {
    guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
        let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") })
    else { return 0 }
    let kilobytes = line.split(whereSeparator: { $0 == " " || $0 == "\t" }).dropFirst().first.flatMap { Int($0) } ?? 0
    return kilobytes * 1024
}
