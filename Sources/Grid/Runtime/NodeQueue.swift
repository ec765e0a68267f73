import DequeModule
import Synchronization

/// A node's local queue of assignments, shared with its siblings so that idle ones can steal.
final class NodeQueue: Sendable {
    private struct State {
        var items: Deque<TaskAssignment> = []
        var waiter: CheckedContinuation<Bool, Never>?
        var stopping = false
    }
    private let state = Mutex(State())
    let node: NodeID

    init(node: NodeID) { self.node = node }

    /// Appends a batch and wakes the node if it was parked.
    func push(_ batch: [TaskAssignment]) {
        let waiter = state.withLock { state -> CheckedContinuation<Bool, Never>? in
            state.items.append(contentsOf: batch)
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume(returning: true)
    }

    /// The oldest assignment, if any.
    func pop() -> TaskAssignment? {
        state.withLock { $0.items.popFirst() }
    }

    /// How many wait.
    var count: Int { state.withLock { $0.items.count } }

    /// Takes up to half of the queue (from the back, the newest) that `thief` may run: not excluded
    /// from it (`elsewhere`), and selecting what it offers (`accepts`: labels and token).
    func steal(for thief: NodeID, max: Int, accepts: (TaskAssignment) -> Bool) -> [TaskAssignment] {
        state.withLock { state in
            let take = min(max, state.items.count / 2)
            guard take > 0 else { return [] }
            var stolen: [TaskAssignment] = []
            var kept: [TaskAssignment] = []
            while stolen.count < take, let last = state.items.popLast() {
                if last.excludedNodes.contains(thief) || !accepts(last) { kept.append(last) } else { stolen.append(last) }
            }
            state.items.append(contentsOf: kept.reversed())
            return stolen.reversed()
        }
    }

    /// Removes one queued assignment; `true` when it was there.
    func remove(job: JobID, index: Int, attempt: Int) -> Bool {
        state.withLock { state in
            guard let position = state.items.firstIndex(where: { $0.job == job && $0.index == index && $0.attempt == attempt }) else {
                return false
            }
            state.items.remove(at: position)
            return true
        }
    }

    /// Waits until something is queued (`true`) or the node stops (`false`).
    func park() async -> Bool {
        await withCheckedContinuation { (continuation: CheckedContinuation<Bool, Never>) in
            let answer: Bool? = state.withLock { state in
                if state.stopping { return false }
                if !state.items.isEmpty { return true }
                state.waiter = continuation
                return nil
            }
            if let answer { continuation.resume(returning: answer) }
        }
    }

    /// Wakes a parked node without work, so that it tries to steal.
    func nudge() {
        let waiter = state.withLock { state -> CheckedContinuation<Bool, Never>? in
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume(returning: true)
    }

    /// Whether the node is parked.
    var isParked: Bool { state.withLock { $0.waiter != nil } }

    /// Stops the node: it ends its loop after the current task; returns what was still queued.
    func stop() -> [TaskAssignment] {
        let (waiter, items) = state.withLock { state in
            state.stopping = true
            defer {
                state.waiter = nil
                state.items.removeAll()
            }
            return (state.waiter, Array(state.items))
        }
        waiter?.resume(returning: false)
        return items
    }

}
