/// Jobs: submissions, users' actions, removals, timers and recovery from the journal.
extension SchedulerCore {
    /// A job that passed validation and is in the journal: it starts (its first tasks become PENDING or wait for
    /// START_AT) and joins the schedule.
    ///
    /// - Parameter job: the job as made, not started; its identifier is normally ``nextJobID``.
    public mutating func onSubmitted(_ job: consuming JobCore, now: Duration) -> [SchedulerDirective] {
        let id = job.id
        let effects = job.start(now: now)
        add(consume job)  // the job's arrays must stay uniquely referenced, or the first placement copies them
        perform(effects, job: id, now: now)
        return finishTurn(placing: true)
    }

    /// A user's action on a job in memory (kill, pause, resume, restart, priority…), journaled.
    ///
    /// - Throws: ``GridError/jobNotFound(_:)`` when the job is not in memory, or what the job's state machine
    ///   refuses.
    public mutating func onAction(_ action: JobAction, job id: JobID, now: Duration) throws(GridError) -> [SchedulerDirective] {
        let effects = try update(id) { (job: inout JobCore) throws(GridError) in try job.apply(action, now: now) }
        if settings.journals { records.append(.action(job: id, action, at: now)) }
        perform(effects, job: id, now: now)
        return finishTurn(placing: true)
    }

    /// A user removes an ended job from memory (its report stays in the journal, its logs on disk).
    ///
    /// - Throws: ``GridError/jobNotFound(_:)``, or ``GridError/actionNotAllowed(_:target:state:)`` while it
    ///   is alive.
    public mutating func onRemove(_ id: JobID, now: Duration) throws(GridError) -> [SchedulerDirective] {
        guard let job = job(id) else { throw .jobNotFound(id) }
        guard !job.status.isAlive else { throw .actionNotAllowed(.remove, target: .job(id), state: .job(job.status)) }
        forgetEnded(id, now: now)
        return finishTurn(placing: false)
    }

    /// The time of a ``SchedulerDirective/wake(at:)`` came: due retry delays and START_AT times end (journaled
    /// as ticks), ended jobs past ``Settings/removeEndedJobsAfter`` are forgotten, LOST nodes past
    /// ``Settings/keepLostNodes`` leave the list. Asks for the next wake.
    public mutating func onTick(now: Duration) -> [SchedulerDirective] {
        armed = nil
        // Identifiers first: holding copies of the jobs while updating them would copy their instances.
        let due = order.filter { id in slots[id].flatMap { jobList[$0].nextWake }.map { $0 <= now } ?? false }
        for id in due {
            let effects = (try? update(id) { $0.onTick(now: now) }) ?? []
            if settings.journals { records.append(.tick(job: id, at: now)) }
            perform(effects, job: id, now: now)
        }
        while let first = removals.first, first.at <= now {
            removals.removeFirst()
            forgetEnded(first.job, now: now)
        }
        resources.pruneLost(now: now)
        if let next = [nextWake, removals.first?.at, resources.nextPrune].compactMap({ $0 }).min() { wake(at: next) }
        return finishTurn(placing: true)
    }

    /// What ``onRecovered(_:limits:now:)`` brought back.
    public struct Recovered: Sendable {
        /// How many jobs are in memory again.
        public var jobs: Int
        /// What the shell must do now.
        public var directives: [SchedulerDirective]
    }

    /// Rebuilds the unfinished jobs of a journal after a restart: each job's workflow replayed through its
    /// records, then what was running queued again. A job that cannot be rebuilt is put in quarantine
    /// (``SchedulerDirective/quarantine(_:reason:)``), not tried again at every start.
    public mutating func onRecovered(_ recovery: Journal.Recovery, limits: InputLimits, now: Duration) -> Recovered {
        lastJob = max(lastJob, recovery.lastJob)
        var recovered = 0
        for (submission, records) in recovery.jobs {
            var job: JobCore
            do {
                job = try JobCore(
                    id: submission.id, workflow: submission.workflow, variables: submission.variables, isAdmin: submission.admin,
                    owner: submission.owner, now: submission.at, wallNow: submission.wall, plan: nil, limits: limits)
            } catch {
                out.append(.quarantine(submission.id, reason: "it cannot be rebuilt: \(error)"))
                continue
            }
            _ = job.start(now: submission.at)
            for record in records { job.replay(record) }
            let effects = job.status.isAlive ? job.requeueInterrupted(now: now) : []
            let id = job.id
            let status = job.status
            add(consume job)
            recovered += 1
            if !status.isAlive {
                // It ended before the crash, but its report was not stored yet.
                perform([.jobChanged(status)], job: id, now: now)
            } else {
                perform(effects.filter { if case .wake = $0 { true } else { false } }, job: id, now: now)
            }
        }
        for node in recovery.lockedNodes { resources.ledger.setLocked(node, true) }
        // Agents' nodes get identifiers no journaled record or lock used.
        var highest = recovery.lockedNodes.map(\.rawValue).max() ?? 0
        for (_, records) in recovery.jobs {
            for record in records {
                switch record {
                case .finished(_, _, _, let node, _, _, _), .lost(_, _, _, let node, _): highest = max(highest, node.rawValue)
                case .tick, .action: break
                }
            }
        }
        resources.reserveIdentifiers(through: highest)
        return Recovered(jobs: recovered, directives: finishTurn(placing: true))
    }
}
