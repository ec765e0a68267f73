import Cluster
import Foundation
import Logging

/// What the scheduler answers about its jobs and nodes: reports, summaries, owners, workflows, the events of a
/// job and the wait for its end. None of it changes the scheduler's state, apart from registering a waiter.
extension SchedulerActor {

    /// The resource manager's view of the nodes.
    func nodeEntries() -> [ResourceLedger.Entry] { core.ledger.all }

    /// The host of a node (reports show where each task ran).
    func hosts() -> [NodeID: String] { core.resources.hostNames }

    /// The job's current report; an ended job that left memory is read from the journal.
    func report(_ id: JobID) throws(GridError) -> JobResult {
        guard let job = core.job(id) else {
            if let stored = try journal?.report(id) { return stored }
            throw .jobNotFound(id)
        }
        return JobResult(job, logDirectory: logDirectory(id), hosts: core.resources.hostNames)
    }

    /// The job's owner, from memory or the journal.
    func owner(of id: JobID) throws(GridError) -> String {
        if let job = core.job(id) { return job.owner }
        if let owner = try journal?.owner(of: id) { return owner }
        throw .jobNotFound(id)
    }

    /// Every job in memory, oldest first.
    func reports() -> [JobResult] {
        core.jobs.sorted { $0.id < $1.id }.map { JobResult($0, logDirectory: logDirectory($0.id), hosts: core.resources.hostNames) }
    }

    /// Every job in memory in a few fields, oldest first.
    func summaries() -> [JobSummary] {
        // Grid time to wall-clock time: now on the wall clock, minus how long ago in grid time.
        let now = self.now
        let wall = wallClock()
        func date(_ time: Duration?) -> Date? { time.map { wall.addingTimeInterval(-Double((now - $0).nanoseconds) / 1e9) } }
        return core.jobs.sorted { $0.id < $1.id }.map {
            JobSummary(
                job: $0.id, name: $0.workflow.name, owner: $0.owner, status: $0.status, priority: $0.priority, progress: $0.progress,
                submitted: date($0.submittedAt), started: date($0.startedAt), ended: date($0.finishedAt))
        }
    }

    /// A job's workflow, from memory or the journal.
    func workflow(_ id: JobID) throws(GridError) -> Workflow {
        if let job = core.job(id) { return job.workflow }
        if let workflow = try journal?.workflow(of: id) { return workflow }
        throw .jobNotFound(id)
    }

    /// Waits for the job's final state.
    func result(_ id: JobID) async throws(GridError) -> JobResult {
        if let ended = try resultIfEnded(id) { return ended }
        return await withCheckedContinuation { waiters[id, default: []].append($0) }
    }

    /// The job's report if it ended, `nil` while it runs. Not inlined into ``result(_:)``: a copy of the job held
    /// across the wait would share its arrays, and the job's next update would copy every instance.
    private func resultIfEnded(_ id: JobID) throws(GridError) -> JobResult? {
        guard let job = core.job(id) else { return try report(id) }
        return job.status.isAlive ? nil : JobResult(job, logDirectory: logDirectory(id), hosts: core.resources.hostNames)
    }

    /// The job's events, starting with its current state: one event per task instance that has left
    /// PENDING (so a late subscriber misses no transition that already happened), then the job's state.
    func events(_ id: JobID) throws(GridError) -> AsyncStream<GridEvent> {
        let now = self.now
        guard let job = core.job(id) else {
            // An ended job that left memory: its final state only.
            let stored = try report(id)
            return hub.subscribe(
                job: id, initial: [GridEvent(job: id, change: .job(stored.status), progress: stored.progress, time: now)],
                finished: true)
        }
        var snapshot: [GridEvent] = []
        for instance in job.instances where instance.status != .pending && instance.status != .submitted {
            snapshot.append(GridEvent(
                job: id, change: .task(instance.name, instance.status, node: instance.node, executions: instance.executions, message: instance.message),
                progress: job.progress, time: now))
        }
        snapshot.append(GridEvent(job: id, change: .job(job.status), progress: job.progress, time: now))
        return hub.subscribe(job: id, initial: snapshot, finished: !job.status.isAlive)
    }
}
