import Cluster
import Synchronization

/// Reports a node has not sent yet, and since when the oldest of them waits.
final class ReportBuffer: Sendable {
    private struct State {
        var reports: [NodeReport] = []
        /// The time given with the oldest waiting report, in ``MonotonicTime`` nanoseconds (a node gives a start
        /// report the end time of its previous task, read once per task).
        var since: Int64?
    }
    private let state = Mutex(State())

    /// Appends a report; returns how many wait now, since when the oldest of them waits, and whether it replaced
    /// its start.
    ///
    /// An end whose start is the last report waiting replaces it: the scheduler reads an end that comes without
    /// its start as both (the task shows RUNNING, then its end), so a short task costs one report, not two.
    func append(_ report: NodeReport, at now: Int64) -> (count: Int, since: Int64, replaced: Bool) {
        state.withLock { state in
            var replaced = false
            if case .finished(let job, let index, let attempt, _, _, _, _) = report,
                case .started(job, index, attempt, _)? = state.reports.last
            {
                state.reports[state.reports.count - 1] = report
                replaced = true
            } else {
                state.reports.append(report)
            }
            let since = state.since ?? now
            state.since = since
            return (state.reports.count, since, replaced)
        }
    }

    /// Takes every waiting report.
    func take() -> [NodeReport] {
        state.withLock { Self.drain(&$0) }
    }

    /// Takes every waiting report if the oldest one waits since `cutoff` or earlier (its node did not send
    /// them in time: it is busy in a long task); otherwise nothing.
    func takeIfWaiting(since cutoff: Int64) -> [NodeReport] {
        state.withLock { state in
            guard let since = state.since, since <= cutoff else { return [] }
            return Self.drain(&state)
        }
    }

    private static func drain(_ state: inout State) -> [NodeReport] {
        // Nothing to take (a node out of work looks every time): the room kept for the next batch stays.
        guard !state.reports.isEmpty else { return [] }
        let taken = state.reports
        // The next batch gets room for as many as this one had: growing from empty again would copy the
        // reports about ten times per batch.
        state = State()
        state.reports.reserveCapacity(taken.count)
        return taken
    }

    /// Whether reports wait.
    var isEmpty: Bool { state.withLock { $0.reports.isEmpty } }
}

/// Sends what a node busy in a long task buffered, so that the task shows RUNNING while it runs even
/// though nodes batch their reports.
///
/// Nodes send their reports themselves: a full batch, a batch whose oldest report waited `interval`
/// (checked after each task), and everything when they run out of work. The pump takes only reports
/// that waited longer than `interval`, which a node that goes on finishing tasks never leaves: the
/// scheduler's work then runs on the nodes' own threads rather than on the pump's, a third thread that
/// on 2 cores held the scheduler while descheduled and stalled the nodes waiting for it. While any
/// buffer holds reports the pump wakes once per `interval` to look; it parks when all are empty.
final class ReportPump: Sendable {
    private struct State {
        var waiter: CheckedContinuation<Bool, Never>?
        var pending = false
        var stopped = false
        /// The wait of the current interval, which ``stop()`` cuts short (on a manual clock it would last until the
        /// test moved time).
        var wait: Task<Void, Never>?
    }
    private let state = Mutex(State())
    private let buffers: [ReportBuffer]
    /// How long a report may wait in a buffer before the pump takes it.
    let interval: Duration
    /// The grid's clock: the nodes stamp their reports with it, and the pump waits on it.
    private let clock: any GridClock
    /// Batches being handed to the scheduler now, by nodes or the pump.
    private let sending = Atomic<Int>(0)

    init(buffers: [ReportBuffer], interval: Duration, clock: any GridClock) {
        self.clock = clock
        self.buffers = buffers
        self.interval = interval
    }

    /// Tells the pump that a buffer holds reports (cheap when it already knows).
    func signal() {
        let waiter = state.withLock { state -> CheckedContinuation<Bool, Never>? in
            state.pending = true
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume(returning: true)
    }

    /// Hands a batch to the scheduler (through `report`), counted in ``isSending`` meanwhile.
    func send(_ batch: [NodeReport], via report: @Sendable ([NodeReport]) async -> Void) async {
        sending.add(1, ordering: .relaxed)
        await report(batch)
        sending.subtract(1, ordering: .relaxed)
    }

    /// Whether a batch is being handed to the scheduler now. A node with work queued and a batch that is due
    /// only by age waits for its next task rather than queue behind it: its thread would idle while the other
    /// thread ran both batches.
    var isSending: Bool { sending.load(ordering: .relaxed) > 0 }

    /// Stops the pump.
    func stop() {
        let (waiter, wait) = state.withLock { state -> (CheckedContinuation<Bool, Never>?, Task<Void, Never>?) in
            state.stopped = true
            defer { state.waiter = nil }
            return (state.waiter, state.wait)
        }
        wait?.cancel()
        waiter?.resume(returning: false)
    }

    /// The pump's loop; returns after ``stop()``.
    func run(report: @escaping @Sendable ([NodeReport]) async -> Void) async {
        while await waitForWork() {
            await waitOneInterval()
            let cutoff = clock.nanoseconds() - interval.nanoseconds
            for buffer in buffers {
                let batch = buffer.takeIfWaiting(since: cutoff)
                if !batch.isEmpty { await send(batch, via: report) }
            }
            // Reports too young to take now: look again after another interval.
            if buffers.contains(where: { !$0.isEmpty }) { signal() }
        }
    }

    /// Sleeps one interval on the grid's clock, or until ``stop()``.
    private func waitOneInterval() async {
        let (clock, interval) = (self.clock, self.interval)
        let wait = Task<Void, Never> { try? await clock.sleep(for: interval) }
        if !register(wait) { wait.cancel() }
        await wait.value
        state.withLock { $0.wait = nil }
    }

    /// Keeps `wait` for ``stop()`` to cancel; `false` when the pump is stopped already.
    private func register(_ wait: Task<Void, Never>) -> Bool {
        state.withLock { state in
            guard !state.stopped else { return false }
            state.wait = wait
            return true
        }
    }

    private func waitForWork() async -> Bool {
        await withCheckedContinuation { (continuation: CheckedContinuation<Bool, Never>) in
            let answer: Bool? = state.withLock { state in
                if state.stopped { return false }
                if state.pending {
                    state.pending = false
                    return true
                }
                state.waiter = continuation
                return nil
            }
            if let answer { continuation.resume(returning: answer) }
        }
    }
}
