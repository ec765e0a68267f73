import Synchronization

/// Fans events out to subscribers of one job or of the whole grid, without cost when nobody listens.
final class EventHub: Sendable {
    private struct State {
        var nextID = 0
        var all: [Int: AsyncStream<GridEvent>.Continuation] = [:]
        var byJob: [JobID: [Int: AsyncStream<GridEvent>.Continuation]] = [:]
    }
    private let state = Mutex(State())
    private let hasSubscribers = Atomic<Int>(0)

    /// Whether anybody listens (checked before building events on the hot path).
    var isListening: Bool { hasSubscribers.load(ordering: .relaxed) > 0 }

    /// A stream of every job's events; `initial` events come first.
    func subscribeAll(initial: [GridEvent] = []) -> AsyncStream<GridEvent> {
        let (stream, continuation) = AsyncStream<GridEvent>.makeStream()
        for event in initial { continuation.yield(event) }
        let id = state.withLock { state in
            state.nextID += 1
            state.all[state.nextID] = continuation
            return state.nextID
        }
        hasSubscribers.add(1, ordering: .relaxed)
        continuation.onTermination = { [weak self] _ in self?.unsubscribe(id, job: nil) }
        return stream
    }

    /// A stream of one job's events, starting with `initial`; it ends after the job's final state.
    func subscribe(job: JobID, initial: [GridEvent], finished: Bool) -> AsyncStream<GridEvent> {
        let (stream, continuation) = AsyncStream<GridEvent>.makeStream()
        for event in initial { continuation.yield(event) }
        if finished {
            continuation.finish()
            return stream
        }
        let id = state.withLock { state in
            state.nextID += 1
            state.byJob[job, default: [:]][state.nextID] = continuation
            return state.nextID
        }
        hasSubscribers.add(1, ordering: .relaxed)
        continuation.onTermination = { [weak self] _ in self?.unsubscribe(id, job: job) }
        return stream
    }

    private func unsubscribe(_ id: Int, job: JobID?) {
        let removed = state.withLock { state -> Bool in
            if let job {
                return state.byJob[job]?.removeValue(forKey: id) != nil
            }
            return state.all.removeValue(forKey: id) != nil
        }
        if removed { hasSubscribers.subtract(1, ordering: .relaxed) }
    }

    /// Delivers events in order; a job's streams end after its final state.
    func publish(_ events: [GridEvent]) {
        guard !events.isEmpty, isListening else { return }
        let (all, byJob) = state.withLock { state in
            (Array(state.all.values), state.byJob)
        }
        for event in events {
            for continuation in all { continuation.yield(event) }
            if let subscribers = byJob[event.job] {
                for continuation in subscribers.values {
                    continuation.yield(event)
                    if event.isFinal { continuation.finish() }
                }
            }
        }
    }

    /// Ends every stream (shutdown).
    func finishAll() {
        let continuations = state.withLock { state in
            let list = Array(state.all.values) + state.byJob.values.flatMap(\.values)
            state.all = [:]
            state.byJob = [:]
            return list
        }
        for continuation in continuations { continuation.finish() }
    }
}
