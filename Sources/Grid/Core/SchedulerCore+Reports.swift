import Cluster
import Metrics

/// Node reports: starts, ends and drops, in the batches nodes send them.
extension SchedulerCore {
    /// A batch of reports from a node, or from an agent's session.
    ///
    /// Reports of a session that is over are dropped (a lost agent's late results are fenced: its executions
    /// were queued again). A report of an execution the job no longer waits for changes nothing.
    /// - Parameters:
    ///   - reports: runs of reports about the same job, in the order the node made them.
    ///   - session: the agent session they came on; `nil` for local nodes.
    ///   - now: the grid's time.
    /// - Returns: the turn's directives.
    mutating func onReports(_ reports: [NodeReport], session: Int?, now: Duration) -> [SchedulerDirective] {
        if let session {
            guard resources.knows(session: session) else { return [] }
            resources.heard(from: session)
        }
        // A node's batch holds runs of reports about the same job: each run is one update of that job.
        var start = reports.startIndex
        while start < reports.endIndex {
            let job = reports[start].job
            var end = start + 1
            while end < reports.endIndex, reports[end].job == job { end += 1 }
            apply(reports[start..<end], job: job, now: now)
            start = end
        }
        // A batch that ends with an end comes from a node between tasks, awake and about to look at its queue: it
        // gets ties (a parked node would need waking). One that ends with a start comes from a node inside a
        // task (sent by the pump, or before a subprocess): no preference.
        let reporter: NodeID? = if case .finished(_, _, _, let node, _, _, _)? = reports.last { node } else { nil }
        return finishTurn(placing: true, preferring: reporter)
    }

    /// Executions the shell aborted while they were still queued on these nodes: they leave without a report, so
    /// their room is free now.
    public mutating func onAbortedInQueue(_ nodes: [NodeID], now: Duration) -> [SchedulerDirective] {
        for node in nodes { resources.ledger.release(from: node) }
        return finishTurn(placing: true)
    }

    /// Applies a run of reports about one job in one update of it. Events are read from the job right after
    /// the report that caused them (a start and an end in the same batch show RUNNING, then FINISHED); the
    /// other effects are performed once the job is updated, in order.
    private mutating func apply(_ reports: ArraySlice<NodeReport>, job id: JobID, now: Duration) {
        // What ended or was dropped frees its room on the node, whether or not the job still knows it.
        for report in reports {
            switch report {
            case .finished(_, _, _, _, let assignedNode, _, _), .dropped(_, _, _, let assignedNode):
                resources.ledger.release(from: assignedNode)
            case .started:
                break
            }
        }
        var effects = takeEffectBuffer()
        var events: [GridEvent] = []
        var records: [JournalRecord] = []
        let listening = publishesEvents
        let journaling = settings.journals
        let latency = dispatchLatency
        _ = try? update(id) { job in
            for report in reports {
                var before = effects.count
                switch report {
                case .started(_, let index, let attempt, let node):
                    if job.instances.indices.contains(index) {
                        latency.recordNanoseconds((now - job.instances[index].since).nanoseconds)
                    }
                    job.onStarted(index, attempt: attempt, node: node, now: now, &effects)
                case .finished(_, let index, let attempt, let node, _, let outcome, let ran):
                    // An end without its start report implies the start: the task shows RUNNING, then its end. A node
                    // sends a short task's end in place of its start (ReportBuffer); a start the pump took while the
                    // node sent the end first arrives late and is ignored.
                    if job.instances.indices.contains(index), job.instances[index].status == .pending {
                        latency.recordNanoseconds((now - job.instances[index].since).nanoseconds)
                        job.onStarted(index, attempt: attempt, node: node, now: now, &effects)
                        if listening, effects.count > before {
                            SchedulerCore.collectEvents(effects[before...], of: job, now: now, into: &events)
                        }
                    }
                    before = effects.count
                    let measured: Duration? = ran > 0 ? .nanoseconds(ran) : nil
                    job.onFinished(index, attempt: attempt, node: node, outcome: outcome, now: now, ran: measured, &effects)
                    // A late or unknown report changes nothing and leaves no record.
                    if journaling, effects.count > before {
                        records.append(.finished(job: id, index: index, attempt: attempt, node: node, outcome: outcome, at: now, ran: measured))
                    }
                case .dropped(_, let index, let attempt, _):
                    job.undispatch(index, attempt: attempt, &effects)
                }
                if listening, effects.count > before {
                    SchedulerCore.collectEvents(effects[before...], of: job, now: now, into: &events)
                }
            }
        }
        self.records.append(contentsOf: records)
        self.events.append(contentsOf: events)
        performActions(effects, job: id, now: now)
        effectBuffer = effects
    }

    /// The effects buffer, emptied (one array serves every report of a turn).
    private mutating func takeEffectBuffer() -> [JobCore.Effect] {
        var buffer: [JobCore.Effect] = []
        swap(&buffer, &effectBuffer)
        buffer.removeAll(keepingCapacity: true)
        return buffer
    }
}
