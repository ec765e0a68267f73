/// The node life cycle: local nodes and agents joining, DOWN and UP, LOST, locks.
extension SchedulerCore {
    /// Local nodes joined (FREE).
    public mutating func onLocalNodesJoined(_ entries: [ResourceLedger.Entry], now: Duration) -> [SchedulerDirective] {
        resources.addLocal(entries)
        return finishTurn(placing: true)
    }

    /// An agent announced itself on a new session: its nodes join FREE, one per worker, with identifiers no node
    /// had before. The first directive is ``SchedulerDirective/configureHost(session:nodes:)``.
    public mutating func onHostJoined(_ offer: ResourceCore.HostOffer, now: Duration) -> [SchedulerDirective] {
        resources.pruneLost(now: now)
        let ids = resources.addHost(offer)
        out.append(.configureHost(session: offer.session, nodes: ids))
        return finishTurn(placing: true)
    }

    /// An agent is suspected: its nodes are DOWN and get no new work; what runs there goes on.
    public mutating func onHostDown(session: Int, now: Duration) -> [SchedulerDirective] {
        _ = resources.setDown(session: session, true)
        return finishTurn(placing: false)
    }

    /// A suspected agent answers again: its nodes are BUSY or FREE by what they hold, and take work.
    public mutating func onHostUp(session: Int, now: Duration) -> [SchedulerDirective] {
        guard resources.setDown(session: session, false) else { return [] }
        return finishTurn(placing: true)
    }

    /// An agent's session is over (its member died or left, or its link closed): its nodes are LOST. What was
    /// queued there is queued again; what was running there runs again elsewhere under ProActive's node-failure
    /// rule (one re-run, then FAILED), journaled. Later reports from the session are dropped.
    public mutating func onHostLost(session: Int, now: Duration) -> [SchedulerDirective] {
        resources.pruneLost(now: now)
        guard let lostNodes = resources.endSession(session, now: now) else { return [] }
        let (requeued, rerun) = placeAgain(from: Set(lostNodes), now: now) { core, id, index, attempt, node in
            core.runAgainAfterNodeFailure(id, index, attempt, node, now: now)
        }
        out.append(.closeHost(session: session, nodes: lostNodes, requeued: requeued, rerun: rerun))
        if let prune = resources.nextPrune { wake(at: prune) }
        return finishTurn(placing: true)
    }

    /// Takes every execution dispatched to `nodes` back: a queued one is queued again; a running one goes through
    /// `running` (given the core, it returns its effects). Returns how many of each.
    private mutating func placeAgain(
        from nodes: Set<NodeID>, now: Duration, running: (inout SchedulerCore, JobID, Int, Int, NodeID) -> [JobCore.Effect]
    ) -> (requeued: Int, rerun: Int) {
        var requeued = 0
        var rerun = 0
        for id in order {
            guard let slot = slots[id] else { continue }
            let affected = jobList[slot].instances.indices.filter { index in
                let instance = jobList[slot].instances[index]
                guard instance.dispatched, let node = instance.node else { return false }
                return nodes.contains(node)
            }
            for index in affected {
                guard let instance = job(id)?.instances[index], let node = instance.node else { continue }
                let attempt = instance.executions
                let effects: [JobCore.Effect]
                if instance.status == TaskStatus.pending {
                    effects = (try? update(id) { $0.undispatch(index, attempt: attempt) }) ?? []
                    requeued += 1
                } else {
                    effects = running(&self, id, index, attempt, node)
                    rerun += 1
                }
                perform(effects, job: id, now: now)
            }
        }
        return (requeued, rerun)
    }

    /// A running execution's node failed: ProActive's node-failure rule, journaled as a `lost` record.
    private mutating func runAgainAfterNodeFailure(_ id: JobID, _ index: Int, _ attempt: Int, _ node: NodeID, now: Duration) -> [JobCore.Effect] {
        let effects = (try? update(id) { $0.onExecutionLost(index, attempt: attempt, node: node, now: now) }) ?? []
        if !effects.isEmpty, settings.journals { records.append(.lost(job: id, index: index, attempt: attempt, node: node, at: now)) }
        return effects
    }

    /// A node was locked (it gets no new tasks, and steals nothing) or unlocked (it takes work and looks for
    /// some to steal).
    public mutating func onLockChanged(_ node: NodeID, locked: Bool, now: Duration) -> [SchedulerDirective] {
        resources.ledger.setLocked(node, locked)
        out.append(.setMaySteal(node, !locked))
        var directives = finishTurn(placing: !locked)
        // An unlocked node with an empty queue looks for work to steal.
        if !locked { directives.append(.nudge(node)) }
        return directives
    }
}

/// Node sources that acquire and release hosts: draining, release, evictions, and the demand their policies read.
extension SchedulerCore {
    /// A host of an elastic source is TO_BE_REMOVED (`draining`): its nodes get no new work and what runs there
    /// finishes; or it is kept after all (`false`) and takes work again.
    public mutating func onHostDraining(session: Int, _ draining: Bool, now: Duration) -> [SchedulerDirective] {
        guard resources.setDraining(session: session, draining) else { return [] }
        return finishTurn(placing: !draining)
    }

    /// A node source released its host (its policy chose to, a drain timed out, or the infrastructure evicted
    /// it): its nodes leave the list. What was queued there is queued again; what was running runs again
    /// elsewhere, as a node failure only when `countsAsFailure` (ProActive's rule: one re-run, then FAILED), and
    /// otherwise without using a run. Later reports from the session are dropped.
    public mutating func onHostReleased(session: Int, countsAsFailure: Bool = false, now: Duration) -> [SchedulerDirective] {
        guard let released = resources.releaseSession(session) else { return [] }
        let (requeued, rerun) = placeAgain(from: Set(released), now: now) { core, id, index, attempt, node in
            if countsAsFailure { return core.runAgainAfterNodeFailure(id, index, attempt, node, now: now) }
            return (try? core.update(id) { $0.onExecutionEvicted(index, attempt: attempt, node: node, now: now) }) ?? []
        }
        out.append(.closeHost(session: session, nodes: released, requeued: requeued, rerun: rerun))
        return finishTurn(placing: true)
    }

    /// What a node source's policy needs to know of the work, read from the jobs in memory.
    ///
    /// - Parameter source: the source asking. Tasks whose `NODE_SOURCE` generic information names another
    ///   source are not counted for it, and `running` counts what its own nodes hold; `nil` counts every task.
    ///   `users`: the source's users, when it takes only theirs: other users' jobs are not counted.
    ///   `targetedOnly`: count only the tasks whose `NODE_SOURCE` names `source` (ProActive's `globalScope: false`).
    public func demand(source: String? = nil, users: Set<String>? = nil, targetedOnly: Bool = false, now: Duration) -> ElasticDemand {
        var demand = ElasticDemand()
        // The replicates' runs so far: what the running ones are expected to decide.
        var (runs, decisions) = endedReplicates
        for id in order {
            guard let slot = slots[id] else { continue }
            runs += jobList[slot].replicateRuns.runs
            decisions += jobList[slot].replicateRuns.decisions
        }
        let replicas = decisions == 0 ? 1 : Double(runs) / Double(decisions)
        let ownNodes: Set<NodeID> = source.map { name in Set(resources.ledger.all.lazy.filter { $0.source == name }.map(\.id)) } ?? []
        for id in order {
            guard let slot = slots[id] else { continue }
            jobList[slot].countDemand(
                source: source, users: users, targetedOnly: targetedOnly, ownNodes: ownNodes, now: now, replicas: replicas, into: &demand)
        }
        if let source {
            // Its own load; the executions waiting in other sources' node queues (dispatched, not started: as
            // ready as the unplaced ones, since idle hosts take them over); and the look-ahead less what other
            // sources' free nodes will take.
            let (running, freeElsewhere, backlogElsewhere) = resources.ledger.load(of: source)
            demand.running = running
            // Of what other sources' nodes hold beyond the one each runs, the part this source could take.
            demand.ready += min(demand.queuedElsewhere, backlogElsewhere)
            demand.upcoming = max(0, demand.upcoming - freeElsewhere)
        }
        demand.queuedElsewhere = 0
        return demand
    }
}
