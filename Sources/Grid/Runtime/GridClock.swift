import Cluster
import Foundation
import Synchronization

/// The grid's time: a duration since the grid started, and sleeping until such a time.
///
/// Injected so that tests drive retries, walltimes and START_AT with a ``ManualClock``.
/// Every shell reads it: the scheduler's timers, the nodes' report batching and the pump, walltimes, agents'
/// log shipping and the agents' node source.
public protocol GridClock: Sendable {
    /// The time since the grid's epoch.
    var now: Duration { get }
    /// ``now`` in whole nanoseconds: the reading the hot paths take (a node reads it once per task, and stamps
    /// its reports with it).
    func nanoseconds() -> Int64
    /// Returns at or after `deadline`.
    ///
    /// - Throws: `CancellationError` when the calling task is cancelled first.
    func sleep(until deadline: Duration) async throws
}

extension GridClock {
    public func nanoseconds() -> Int64 { now.nanoseconds }

    /// Returns once `duration` has passed on this clock.
    ///
    /// - Throws: `CancellationError` when the calling task is cancelled first.
    public func sleep(for duration: Duration) async throws {
        try await sleep(until: now + duration)
    }
}

/// Real time, from the moment it was made: the monotonic clock, read as plain nanoseconds.
///
/// `ContinuousClock.Instant` is a resilient standard-library type that code outside the standard library handles
/// through runtime metadata; the nodes' per-task reading (``nanoseconds()``) is one C call instead
/// (``MonotonicTime``).
public struct SystemGridClock: GridClock {
    private let epoch = MonotonicTime.now()

    /// Starts counting now.
    public init() {}

    public var now: Duration { .nanoseconds(MonotonicTime.now() - epoch) }

    @inline(__always)
    public func nanoseconds() -> Int64 { MonotonicTime.now() - epoch }

    public func sleep(until deadline: Duration) async throws {
        let left = deadline - now
        guard left > .zero else { return try Task.checkCancellation() }
        try await Task.sleep(for: left)
    }
}

/// The system's wall clock: the default of every injected wall clock (``GridSettings/wallClock``, the journal's),
/// for the dates users read (submission and end times).
public let systemWallClock: @Sendable () -> Date = { Date() }

/// A clock that moves only when told to; sleepers wake when ``advance(to:)`` passes their deadline.
public final class ManualClock: GridClock {
    private struct Sleeper {
        var id: Int
        var deadline: Duration
        var continuation: CheckedContinuation<Void, any Error>
    }
    private struct State {
        var now: Duration = .zero
        var nextID = 0
        var sleepers: [Sleeper] = []
        var sleeperWaiters: [(ready: @Sendable ([Duration]) -> Bool, continuation: CheckedContinuation<Void, Never>)] = []

        /// The waiters whose condition holds now, removed.
        mutating func readyWaiters() -> [CheckedContinuation<Void, Never>] {
            let deadlines = sleepers.map(\.deadline)
            let ready = sleeperWaiters.filter { $0.ready(deadlines) }.map(\.continuation)
            sleeperWaiters.removeAll { $0.ready(deadlines) }
            return ready
        }
    }
    private let state = Mutex(State())

    /// Starts at zero.
    public init() {}

    public var now: Duration { state.withLock { $0.now } }

    /// How many tasks sleep on this clock now.
    public var sleeperCount: Int { state.withLock { $0.sleepers.count } }

    public func sleep(until deadline: Duration) async throws {
        let id = state.withLock { state in
            state.nextID += 1
            return state.nextID
        }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let waiters: [CheckedContinuation<Void, Never>]? = state.withLock { state in
                    if deadline <= state.now || Task.isCancelled { return nil }
                    state.sleepers.append(Sleeper(id: id, deadline: deadline, continuation: continuation))
                    return state.readyWaiters()
                }
                guard let waiters else {
                    if Task.isCancelled { continuation.resume(throwing: CancellationError()) } else { continuation.resume() }
                    return
                }
                for waiter in waiters { waiter.resume() }
            }
        } onCancel: {
            let sleeper: Sleeper? = state.withLock { state in
                guard let index = state.sleepers.firstIndex(where: { $0.id == id }) else { return nil }
                return state.sleepers.remove(at: index)
            }
            sleeper?.continuation.resume(throwing: CancellationError())
        }
    }

    /// Moves time to `time` (never backwards) and wakes every sleeper whose deadline passed.
    public func advance(to time: Duration) {
        let due: [Sleeper] = state.withLock { state in
            state.now = max(state.now, time)
            let due = state.sleepers.filter { $0.deadline <= state.now }
            state.sleepers.removeAll { $0.deadline <= state.now }
            return due
        }
        for sleeper in due.sorted(by: { $0.deadline < $1.deadline }) { sleeper.continuation.resume() }
    }

    /// Moves time forward by `duration`.
    public func advance(by duration: Duration) {
        advance(to: now + duration)
    }

    /// Returns once at least `count` tasks sleep on this clock (so a test advances after a timer is set).
    public func waitForSleepers(_ count: Int = 1) async {
        await waitFor { $0.count >= count }
    }

    /// Returns once a task sleeps on this clock until exactly `deadline` (a timer the test knows the time of).
    public func waitForSleeper(until deadline: Duration) async {
        await waitFor { $0.contains(deadline) }
    }

    private func waitFor(_ ready: @escaping @Sendable ([Duration]) -> Bool) async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let now = state.withLock { state in
                if ready(state.sleepers.map(\.deadline)) { return true }
                state.sleeperWaiters.append((ready, continuation))
                return false
            }
            if now { continuation.resume() }
        }
    }
}
