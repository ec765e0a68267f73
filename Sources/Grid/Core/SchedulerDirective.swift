/// What the scheduler's shell must do after an input to ``SchedulerCore``, in the order the core gives.
///
/// The core decides; the shell (``SchedulerActor``) only performs these, against nodes, agents, the journal,
/// the event hub and its timer. Some directives ask the shell to come back with an input once performed
/// (``placeMore(preferring:)``, ``abort(job:index:attempt:node:)``, ``reclaimLocal(max:)``).
public enum SchedulerDirective: Sendable {
    /// Queue these executions on `node`; the node reports their starts and ends through
    /// ``SchedulerCore/onReports(_:session:now:)``.
    case dispatch(NodeID, [TaskAssignment])
    /// The first placement pass placed a few executions per node, so that nodes start on them: once they are
    /// sent, call ``SchedulerCore/onPlaceMore(preferring:now:)`` for the rest.
    case placeMore(preferring: NodeID?)
    /// Stop execution `attempt` of instance `index` of `job` on `node` (kill its process or take it out of the
    /// queue). When the node says it was still queued and leaves without a report, tell the core with
    /// ``SchedulerCore/onAbortedInQueue(_:now:)``.
    case abort(job: JobID, index: Int, attempt: Int, node: NodeID)
    /// A new agent session has these nodes: tell the agent their identifiers (and the isolation it must run
    /// under), and dispatch to them from now on.
    case configureHost(session: Int, nodes: [NodeID])
    /// Ask the agent of `session` to give back up to `max` executions it holds queued; it reports them dropped.
    case releaseFromHost(session: Int, max: Int)
    /// Take up to `max` queued executions back from the local nodes' queues and give them to the core as
    /// dropped reports (``SchedulerCore/onReports(_:session:now:)`` with no session).
    case reclaimLocal(max: Int)
    /// The agent session is over and its nodes are LOST: close its link and stop dispatching to `nodes`.
    /// `requeued` queued and `rerun` running executions went back to the queue.
    case closeHost(session: Int, nodes: [NodeID], requeued: Int, rerun: Int)
    /// Allow or forbid `node` to take queued work from its siblings.
    case setMaySteal(NodeID, Bool)
    /// Wake `node` if it is idle, so it looks for work to steal.
    case nudge(NodeID)
    /// The job reached a final state: its report goes to the journal with the next ``commit(records:events:)``
    /// and to those waiting for its result.
    case jobEnded(JobID)
    /// The end of a turn: write `records` to the journal (with the reports of jobs that ended in the turn) in one
    /// transaction, then publish `events` and answer the waiters of ended jobs.
    case commit(records: [JournalRecord], events: [GridEvent])
    /// A journaled job cannot be rebuilt after a restart: put it in quarantine with `reason`.
    case quarantine(JobID, reason: String)
    /// Call ``SchedulerCore/onTick(now:)`` at this grid time (a retry delay, START_AT, a removal or a LOST node's
    /// retention ends). A later wake replaces an earlier one only when it is sooner.
    case wake(at: Duration)
}
