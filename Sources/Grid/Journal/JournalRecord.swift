/// One input to a job's state machine, as the journal keeps it. Replaying a job's records in order on a
/// fresh ``JobCore`` built from its workflow rebuilds exactly the state it had (the core is a pure value:
/// the same inputs at the same times give the same state).
public enum JournalRecord: Sendable, Hashable {
    /// Execution `attempt` of instance `index` ended on `node`, after running for `ran` by the node's clock
    /// (`nil` when the node did not measure it).
    case finished(job: JobID, index: Int, attempt: Int, node: NodeID, outcome: TaskOutcome, at: Duration, ran: Duration? = nil)
    /// The job's timers were due (retry delays, START_AT).
    case tick(job: JobID, at: Duration)
    /// A user's action.
    case action(job: JobID, JobAction, at: Duration)
    /// Execution `attempt` of instance `index` was running on `node` when the node was lost.
    case lost(job: JobID, index: Int, attempt: Int, node: NodeID, at: Duration)

    /// The job it is about.
    public var job: JobID {
        switch self {
        case .finished(let job, _, _, _, _, _, _), .tick(let job, _), .action(let job, _, _), .lost(let job, _, _, _, _): job
        }
    }

    /// When it happened, in grid time.
    public var at: Duration {
        switch self {
        case .finished(_, _, _, _, _, let at, _), .tick(_, let at), .action(_, _, let at), .lost(_, _, _, _, let at): at
        }
    }
}

extension JobCore {
    /// Applies a journaled record while rebuilding the job after a restart; the effects are not performed (they
    /// happened before the restart).
    ///
    /// A finished record first hands the instance to its node again as the dispatch did (the journal keeps
    /// neither dispatches nor starts: what had not finished is simply dispatched again).
    public mutating func replay(_ record: JournalRecord) {
        switch record {
        case .finished(_, let index, let attempt, let node, let outcome, let at, let ran):
            guard redispatch(index, attempt: attempt, node: node) else { return }
            // Without the node's measure (not measured, or written before schema v4) the journal does not know when the
            // execution began: its duration is unknown rather than an earlier execution's start.
            if ran == nil { instances[index].startedAt = nil }
            _ = onFinished(index, attempt: attempt, node: node, outcome: outcome, now: at, ran: ran)
        case .tick(_, let at):
            _ = onTick(now: at)
        case .action(_, let action, let at):
            _ = try? apply(action, now: at)
        case .lost(_, let index, let attempt, let node, let at):
            guard redispatch(index, attempt: attempt, node: node) else { return }
            _ = onExecutionLost(index, attempt: attempt, node: node, now: at)
        }
    }

    /// Marks instance `index` handed to `node` for execution `attempt` (what ``dispatch(_:to:)`` did live).
    private mutating func redispatch(_ index: Int, attempt: Int, node: NodeID) -> Bool {
        guard instances.indices.contains(index) else { return false }
        if instances[index].dispatched && instances[index].executions == attempt { return true }
        guard instances[index].status == .pending, !instances[index].dispatched else { return false }
        _ = dispatch(index, to: node)
        instances[index].executions = attempt
        return true
    }

    /// After a restart: the executions that were running (or handed to a node) in the process that died are
    /// queued again. At least once: the interrupted execution counts as started but not as an error, so it
    /// uses up neither the retries nor the node-failure re-runs.
    public mutating func requeueInterrupted(now: Duration) -> [Effect] {
        var effects: [Effect] = []
        for index in instances.indices where instances[index].dispatched {
            instances[index].dispatched = false
            instances[index].message = "re-queued after the grid restarted"
            makeEligible(index, now: now, &effects)
        }
        refreshStatus(now: now, &effects)
        if let next = nextWake { effects.append(.wake(at: next)) }
        return effects
    }
}
