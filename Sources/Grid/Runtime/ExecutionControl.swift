import Synchronization

/// Which executions the grid's local nodes run now, and which were aborted before they could be
/// stopped: the bookkeeping that makes an abort or a shutdown reach an execution whatever step it is at.
///
/// A node takes an assignment from a queue (its own or a sibling's), registers it here, starts it
/// (for a subprocess: spawns it and attaches the pid), and ends it. An in-process execution has no
/// process to kill: it is admitted (``beginInProcess(_:)``) and ended (``endInProcess(_:)``) without
/// being registered, and only the aborts below reach it. An abort can land at any point:
/// - still queued: the queue drops it (not here);
/// - taken but not registered yet (between the pop or steal and ``begin(_:)``): it is remembered, and
///   ``begin(_:)`` refuses it;
/// - registered, no process yet: ``attach(_:pid:)`` refuses the pid, and the node kills it at once;
/// - process attached: the caller kills the group.
///
/// After ``stop()``, nothing new begins or attaches, so no subprocess outlives the grid's shutdown.
final class ExecutionControl: Sendable {
    /// One execution: instance `index` of `job`, execution number `attempt`.
    struct Key: Hashable, Sendable {
        var job: JobID
        var index: Int
        var attempt: Int
    }

    private struct State {
        /// Registered executions: the process group id, or 0 while none is attached.
        var running: [Key: Int32] = [:]
        /// Aborts that found no attached process.
        var aborted: Set<Key> = []
        var stopping = false
    }
    private let state = Mutex(State())
    /// How many aborts are remembered (`State.aborted.count`), readable without the lock: an in-process
    /// execution that ends while none is remembered takes no lock.
    private let abortedCount = Atomic<Int>(0)
    /// `State.stopping`, readable without the lock.
    private let stopped = Atomic<Bool>(false)

    /// Registers an execution about to start; `false` when it was aborted already or the grid stops.
    func begin(_ key: Key) -> Bool {
        state.withLock { state in
            if forget(key, in: &state) || state.stopping { return false }
            state.running[key] = 0
            return true
        }
    }

    /// Admits an in-process execution about to start: it has no process to kill, so it is not registered;
    /// only an abort that came first, or a stop, refuses it. The fast path of every function task.
    ///
    /// Without remembered aborts it takes no lock, so nodes admitting their tasks do not contend for it: an
    /// abort or a stop that lands during the check acts as one that lands just after the admission (the
    /// execution runs; the abort is forgotten when it ends; the node stops after it).
    func beginInProcess(_ key: Key) -> Bool {
        if stopped.load(ordering: .acquiring) { return false }
        if abortedCount.load(ordering: .acquiring) == 0 { return true }
        return state.withLock { state in
            if state.stopping { return false }
            return state.aborted.isEmpty || forget(key, in: &state) == false
        }
    }

    /// Forgets an abort that reached an in-process execution while it ran.
    ///
    /// Without remembered aborts it takes no lock; an abort that lands just then is remembered, as one that
    /// arrives after the end is (such entries stay, and later ends take the lock to check them).
    func endInProcess(_ key: Key) {
        guard abortedCount.load(ordering: .acquiring) > 0 else { return }
        state.withLock { state in _ = forget(key, in: &state) }
    }

    /// Removes a remembered abort; `true` when it was there.
    private func forget(_ key: Key, in state: inout State) -> Bool {
        guard state.aborted.remove(key) != nil else { return false }
        abortedCount.store(state.aborted.count, ordering: .releasing)
        return true
    }

    /// Attaches the subprocess of a registered execution; `false` when it must be killed at once
    /// (aborted since it began, or the grid stops).
    func attach(_ key: Key, pid: Int32) -> Bool {
        state.withLock { state in
            if state.stopping || state.aborted.contains(key) || state.running[key] == nil { return false }
            state.running[key] = pid
            return true
        }
    }

    /// Forgets an execution that ended.
    func end(_ key: Key) {
        state.withLock { state in
            state.running.removeValue(forKey: key)
            _ = forget(key, in: &state)
        }
    }

    /// Aborts an execution that is not queued: returns the process group to kill, if one is attached;
    /// otherwise remembers the abort so that the execution never starts its subprocess.
    ///
    /// An abort that arrives after the execution ended is remembered too; that costs one entry, and
    /// ``begin(_:)`` never sees the key again.
    func abort(_ key: Key) -> Int32? {
        state.withLock { state in
            if let pid = state.running[key], pid > 0 { return pid }
            state.aborted.insert(key)
            abortedCount.store(state.aborted.count, ordering: .releasing)
            return nil
        }
    }

    /// Refuses every new execution and returns the process groups to kill: every node stops the
    /// grid's control, and only the first call gets them (none attaches afterwards).
    func stop() -> [Int32] {
        state.withLock { state in
            guard !state.stopping else { return [] }
            state.stopping = true
            stopped.store(true, ordering: .releasing)
            return state.running.values.filter { $0 > 0 }
        }
    }

    /// Executions registered now (tests and diagnostics).
    var runningCount: Int { state.withLock { $0.running.count } }
}
