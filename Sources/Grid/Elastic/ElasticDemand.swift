/// The work a node source's policy sizes its hosts by, read from the scheduler's jobs
/// (``SchedulerCore/demand(source:now:)``).
public struct ElasticDemand: Sendable, Hashable {
    /// Tasks that could start now and that no node has taken: every node that accepts them is full. ProActive
    /// counted every pending task, also those waiting on others (its bug #2821); this counts only these. For a
    /// source, it also counts executions waiting in other sources' node queues that it could take (the scheduler
    /// hands queued work to idle hosts).
    public var ready = 0
    /// Executions that nodes hold now (running, or queued on a node).
    public var running = 0
    /// The look-ahead: tasks expected to become ready within two steps of the ready and running ones, beyond the
    /// one node each of those uses or frees. A task that several wait on alone (a split; a replicate, whose copies
    /// are expected as many as the replicates decided so far) adds them less one; a chain adds nothing.
    public var upcoming = 0
    /// Since when the oldest of the ready tasks waits.
    public var oldestReadySince: Duration?
    /// Scratch while counting: executions dispatched to other sources' nodes and not started (the demand adds
    /// those waiting in queues, then clears it).
    var queuedElsewhere = 0

    public init(ready: Int = 0, running: Int = 0, upcoming: Int = 0, oldestReadySince: Duration? = nil) {
        self.ready = ready
        self.running = running
        self.upcoming = upcoming
        self.oldestReadySince = oldestReadySince
    }
}

extension JobCore {
    /// Adds this job's ready, running and upcoming tasks to `demand`, leaving out those that target another
    /// source (`NODE_SOURCE` in the task's or the job's generic information).
    ///
    /// For a source (`source` set), executions queued on other sources' nodes and not started count as ready
    /// (`ownNodes` are the source's own). Tasks that need a node access token or labels are left out too: a managed
    /// source's hosts offer neither, so hosts acquired for them would never take them (#2821). With
    /// `targetedOnly` (ProActive's `globalScope: false`), only the tasks that name this source count.
    func countDemand(
        source: String?, users: Set<String>? = nil, targetedOnly: Bool = false, ownNodes: Set<NodeID> = [], now: Duration, replicas: Double,
        into demand: inout ElasticDemand
    ) {
        guard status.isAlive, !paused else { return }
        // A source open to some users only never runs the others' work.
        if let users, !users.contains(owner) { return }
        let jobTarget = workflow.genericInfo.isEmpty ? nil : workflow.genericInfo["NODE_SOURCE"]
        // Field reads, not a copy of each instance (its arrays and name would be retained for every task).
        for index in instances.indices {
            if let source {
                let info = workflow.tasks[instances[index].definition].genericInfo
                let target = (info.isEmpty ? nil : info["NODE_SOURCE"]) ?? jobTarget
                if let target, target != source { continue }
                if targetedOnly && target == nil { continue }
                let selection = definitionSelections[instances[index].definition]
                if selection.token != nil || !selection.labels.isEmpty { continue }
            }
            if instances[index].dispatched, source != nil, instances[index].status == .pending,
                let node = instances[index].node, !ownNodes.contains(node)
            {
                // Dispatched to another source's node and not started: it may wait in that node's queue (see
                // ``SchedulerCore/demand(source:users:targetedOnly:now:)``).
                demand.queuedElsewhere += 1
            } else if instances[index].dispatched {
                demand.running += 1
                if instances[index].status == .running { demand.upcoming += max(0, width(index, depth: 2, replicas: replicas) - 1) }
            } else if instances[index].status == .pending, instances[index].queued, (instances[index].notBefore ?? now) <= now {
                demand.ready += 1
                let since = instances[index].since
                demand.oldestReadySince = min(demand.oldestReadySince ?? since, since)
                demand.upcoming += max(0, width(index, depth: 2, replicas: replicas) - 1)
            }
        }
    }

    /// How many tasks are expected to be ready once instance `index` ends, looking `depth` steps down: its children
    /// that wait on it alone (each counting the tasks it releases in turn, at least itself), times the expected
    /// copies when it replicates.
    private func width(_ index: Int, depth: Int, replicas: Double) -> Int {
        guard depth > 0, !instances[index].children.isEmpty else { return 0 }
        var children = 0
        for child in instances[index].children where instances[child].waitingOn == 1 {
            children += max(1, width(child, depth: depth - 1, replicas: replicas))
        }
        if case .replicate = workflow.tasks[instances[index].definition].flow { return Int((Double(children) * replicas).rounded()) }
        return children
    }
}
