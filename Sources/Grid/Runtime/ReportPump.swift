import Synchronization

/// Reports a node has not sent yet.
final class ReportBuffer: Sendable {
    private let reports = Mutex<[NodeReport]>([])

    /// Appends a report; returns how many wait now.
    func append(_ report: NodeReport) -> Int {
        reports.withLock { reports in
            reports.append(report)
            return reports.count
        }
    }

    /// Takes every waiting report.
    func take() -> [NodeReport] {
        reports.withLock { reports in
            defer { reports = [] }
            return reports
        }
    }
}

/// Sends what nodes buffered to the scheduler at least every `interval`, so that a task that runs
/// for long shows RUNNING while it runs, even though nodes batch their reports.
///
/// Nodes still send full batches themselves, and everything when they run out of work; the pump
/// only covers a node busy in one long task. It parks while no buffer holds anything.
final class ReportPump: Sendable {
    private struct State {
        var waiter: CheckedContinuation<Bool, Never>?
        var pending = false
        var stopped = false
    }
    private let state = Mutex(State())
    private let buffers: [ReportBuffer]
    private let interval: Duration

    init(buffers: [ReportBuffer], interval: Duration) {
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

    /// Stops the pump.
    func stop() {
        let waiter = state.withLock { state -> CheckedContinuation<Bool, Never>? in
            state.stopped = true
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume(returning: false)
    }

    /// The pump's loop; returns after ``stop()``.
    func run(report: @escaping @Sendable ([NodeReport]) async -> Void) async {
        while await waitForWork() {
            try? await Task.sleep(for: interval)
            for buffer in buffers {
                let batch = buffer.take()
                if !batch.isEmpty { await report(batch) }
            }
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
