import Synchronization

/// The grid's time: a duration since the grid started, and sleeping until such a time.
///
/// Injected so that tests drive retries, walltimes and START_AT with a ``ManualClock``.
public protocol GridClock: Sendable {
    /// The time since the grid's epoch.
    var now: Duration { get }
    /// Returns at or after `deadline`.
    ///
    /// - Throws: `CancellationError` when the calling task is cancelled first.
    func sleep(until deadline: Duration) async throws
}

/// Real time, from the moment it was made.
public struct SystemGridClock: GridClock {
    private let epoch = ContinuousClock.now

    /// Starts counting now.
    public init() {}

    public var now: Duration { ContinuousClock.now - epoch }

    public func sleep(until deadline: Duration) async throws {
        try await ContinuousClock().sleep(until: epoch + deadline, tolerance: nil)
    }
}

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
        var sleeperWaiters: [(count: Int, continuation: CheckedContinuation<Void, Never>)] = []
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
                    let ready = state.sleeperWaiters.filter { $0.count <= state.sleepers.count }.map(\.continuation)
                    state.sleeperWaiters.removeAll { $0.count <= state.sleepers.count }
                    return ready
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
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let ready = state.withLock { state in
                if state.sleepers.count >= count { return true }
                state.sleeperWaiters.append((count, continuation))
                return false
            }
            if ready { continuation.resume() }
        }
    }
}
