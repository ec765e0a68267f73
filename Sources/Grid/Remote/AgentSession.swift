import Actors
import Cluster
import Foundation
import Logging
import Synchronization

/// One scheduler link on an agent: the nodes the scheduler named, their loops, and the log shipping.
final class AgentSession: Sendable {
    let agent: GridAgent
    let link: Link
    private let control = ExecutionControl()
    private let state = Mutex(State())
    /// Log bytes already sent, per running execution.
    private let shipping = Mutex<[ExecutionControl.Key: Shipped]>([:])

    private struct State {
        var nodes: [NodeID: LocalNode] = [:]
        var pump: ReportPump?
        var loops: [Task<Void, Never>] = []
        var closed = false
    }

    struct Shipped {
        var name: TaskInstanceName
        /// A subprocess: its logs are sent while it runs.
        var process: Bool
        /// An in-process function with self-healing: the runner may note why it ran or not.
        var notes: Bool
        var started = false
        var out: UInt64 = 0
        var err: UInt64 = 0
    }

    init(agent: GridAgent, link: Link) {
        self.agent = agent
        self.link = link
    }

    /// Announces the agent, serves the link until it closes, then stops what runs.
    func run() async -> LinkError {
        link.start { [self] payload in self.receive(payload) }
        send([.announce(agent.resources)])
        let logs = Task { [self] in
            while !Task.isCancelled {
                try? await agent.settings.clock.sleep(for: agent.settings.logInterval)
                shipLogs()
            }
        }
        let reason = await link.closed()
        logs.cancel()
        let (nodes, pump, loops) = state.withLock { state in
            state.closed = true
            return (Array(state.nodes.values), state.pump, state.loops)
        }
        for node in nodes { _ = node.stop() }
        pump?.stop()
        for loop in loops { await loop.value }
        return reason
    }

    private func send(_ messages: [RemoteMessage]) {
        for frame in RemoteWire.encode(messages) {
            do {
                try link.send(frame)
            } catch .closed {
                return  // the session is ending
            } catch {
                agent.settings.logger.error("cannot send to the scheduler", metadata: ["agent.error": "\(error)"])
                link.close()
                return
            }
        }
    }

    private func receive(_ payload: [UInt8]) {
        let messages: [RemoteMessage]
        do {
            messages = try RemoteWire.decode(payload)
        } catch {
            agent.settings.logger.warning("bad frame from the scheduler: link closed", metadata: ["agent.error": "\(error)"])
            link.close()
            return
        }
        for message in messages {
            switch message {
            case .configure(let ids, let isolation):
                guard let runner = isolatedRunner(isolation) else {
                    link.close()
                    return
                }
                configure(ids, runner: runner)
            case .assign(let batch):
                assign(batch)
            case .abort(let job, let index, let attempt):
                let nodes = state.withLock { Array($0.nodes.values) }
                for node in nodes where node.abort(job: job, index: index, attempt: attempt) {
                    forget(.init(job: job, index: index, attempt: attempt))
                    send([.reports([.dropped(job: job, index: index, attempt: attempt, assignedNode: node.id)])])
                    break
                }
            case .release(let max):
                release(max)
            case .maySteal(let id, let allowed):
                state.withLock { $0.nodes[id] }?.setMaySteal(allowed)
            case .announce, .reports, .log:
                agent.settings.logger.warning("the scheduler sent an agent message: link closed")
                link.close()
                return
            }
        }
    }

    /// The runner for this scheduler's tasks: the agent's own, or (a multi-user scheduler) one that runs them under
    /// their users' accounts in a task root beside the agent's data; `nil` when this agent cannot (not root), so
    /// that it runs nothing rather than run them as its own account.
    private func isolatedRunner(_ isolation: AgentIsolation?) -> TaskRunner? {
        guard let isolation else { return agent.runner }
        let logger = agent.settings.logger
        guard getuid() == 0 else {
            logger.error(
                "the scheduler is multi-user and this agent is not root: it cannot run each user's tasks under their own account, so it runs none (start tessera agent as root)")
            return nil
        }
        let data = agent.settings.dataDirectory
        guard chmod(data, 0o700) == 0 else {
            logger.error("cannot make the agent's data private", metadata: ["agent.data": "\(data)"])
            return nil
        }
        let cgroups: TaskCgroups?
        switch TaskCgroups.forTasks(isolation.resources, found: agent.taskCgroups()) {
        case .success(let found): cgroups = found
        case .failure(let why):
            logger.error(
                "the scheduler sets task memory or process limits, which need control groups, and this agent cannot make any: it runs none",
                metadata: ["agent.cgroups": "\(why)"])
            return nil
        }
        var runner = agent.runner
        runner.isolation = TaskIsolation(
            accounts: isolation.accounts, taskRoot: agent.settings.taskRoot ?? data + ".tasks", resources: isolation.resources, cgroups: cgroups)
        runner.outputGlob = OutputGlob(confined: true, limits: runner.limits)
        return runner
    }

    private func configure(_ ids: [NodeID], runner: TaskRunner) {
        var gridSettings = GridSettings()
        gridSettings.labels = agent.settings.labels
        gridSettings.token = agent.settings.token
        gridSettings.reportBatch = agent.settings.reportBatch
        gridSettings.clock = agent.settings.clock
        let nodes = ids.prefix(agent.resources.workers).map {
            LocalNode(id: $0, runner: runner, control: control, settings: gridSettings, reportInterval: agent.settings.reportInterval)
        }
        for node in nodes { node.setSiblings(nodes.map(\.queue)) }
        let pump = ReportPump(buffers: nodes.map(\.reports), interval: agent.settings.reportInterval, clock: agent.settings.clock)
        var loops = nodes.map { node in
            Task(executorPreference: agent.pool.executor) { [self] in
                await node.run(pump: pump) { reports in self.report(reports) }
            }
        }
        loops.append(Task(executorPreference: globalConcurrentExecutor) { [self] in
            await pump.run { reports in self.report(reports) }
        })
        let closed = state.withLock { state in
            guard !state.closed, state.nodes.isEmpty else { return true }
            state.nodes = Dictionary(uniqueKeysWithValues: nodes.map { ($0.id, $0) })
            state.pump = pump
            state.loops = loops
            return false
        }
        if closed {
            for node in nodes { _ = node.stop() }
            pump.stop()
        }
    }

    private func assign(_ received: [TaskAssignment]) {
        let nodes = state.withLock { $0.nodes }
        var byNode: [NodeID: [TaskAssignment]] = [:]
        // Values that came as shared files are read back (and checked) before the task is queued.
        var batch: [TaskAssignment] = []
        batch.reserveCapacity(received.count)
        var unreadable: [NodeReport] = []
        for var assignment in received {
            do {
                if case .function(let name, let input) = assignment.executable, case .object = input {
                    assignment.executable = .function(name, input: try ResultFiles.resolve(input))
                }
                for index in assignment.parentResults.indices where isObject(assignment.parentResults[index].value) {
                    assignment.parentResults[index].value = try ResultFiles.resolve(assignment.parentResults[index].value)
                }
                batch.append(assignment)
            } catch {
                unreadable.append(.finished(
                    job: assignment.job, index: assignment.index, attempt: assignment.attempt, node: assignment.assignedNode,
                    assignedNode: assignment.assignedNode, outcome: .failure(message: error.description), ran: 0))
            }
        }
        if !unreadable.isEmpty { send([.reports(unreadable)]) }
        shipping.withLock { shipping in
            for assignment in batch {
                shipping[.init(job: assignment.job, index: assignment.index, attempt: assignment.attempt)] = Shipped(
                    name: assignment.name, process: { if case .function = assignment.executable { false } else { true } }(),
                    notes: assignment.fingerprint != nil)
            }
        }
        for assignment in batch { byNode[assignment.assignedNode, default: []].append(assignment) }
        for (id, assignments) in byNode {
            if let node = nodes[id] {
                node.enqueue(assignments)
            } else {
                // Not one of this session's nodes: refuse it so the scheduler places it again.
                for assignment in assignments { forget(.init(job: assignment.job, index: assignment.index, attempt: assignment.attempt)) }
                send([.reports(assignments.map { .dropped(job: $0.job, index: $0.index, attempt: $0.attempt, assignedNode: $0.assignedNode) })])
            }
        }
    }

    private func isObject(_ value: Value) -> Bool {
        if case .object = value { return true }
        return false
    }

    /// Gives back up to `max` queued executions, newest first, from the longest queues.
    private func release(_ max: Int) {
        let nodes = state.withLock { Array($0.nodes.values) }.sorted { $0.queue.count > $1.queue.count }
        var released: [NodeReport] = []
        for node in nodes where released.count < max {
            for assignment in node.queue.steal(for: NodeID(-1), max: max - released.count, accepts: { _ in true }) {
                forget(.init(job: assignment.job, index: assignment.index, attempt: assignment.attempt))
                released.append(.dropped(job: assignment.job, index: assignment.index, attempt: assignment.attempt, assignedNode: assignment.assignedNode))
            }
        }
        // Always answer, so the scheduler may ask again later.
        send([.reports(released)])
    }

    private func forget(_ key: ExecutionControl.Key) {
        _ = shipping.withLock { $0.removeValue(forKey: key) }
    }

    /// Sends a batch of reports, each ended execution's last log bytes first.
    private func report(_ batch: [NodeReport]) {
        var messages: [RemoteMessage] = []
        // A large result goes to the shared directory (or fails its task): frames stay bounded.
        let reports = batch.map { report -> NodeReport in
            guard case .finished(let job, let index, let attempt, let node, let assigned, let outcome, let ran) = report else { return report }
            switch outcome {
            case .success(let result, _), .alreadyDone(let result, _, _):
                guard ResultFiles.isLarge(result) else { return report }
                return .finished(
                    job: job, index: index, attempt: attempt, node: node, assignedNode: assigned,
                    outcome: ResultFiles.spill(outcome, directory: agent.settings.sharedDirectory), ran: ran)
            case .failure:
                return report
            }
        }
        for report in reports {
            switch report {
            case .finished(let job, let index, let attempt, _, _, let outcome, _):
                // A function writes a log only through the runner's notes (a failure, self-healing): the others'
                // files are not looked for.
                let key = ExecutionControl.Key(job: job, index: index, attempt: attempt)
                guard let shipped = shipping.withLock({ $0.removeValue(forKey: key) }) else { continue }
                var failed = false
                if case .failure = outcome { failed = true }
                if shipped.process || shipped.notes || failed { messages += logMessages(key, shipped).messages }
            case .dropped(let job, let index, let attempt, _):
                forget(.init(job: job, index: index, attempt: attempt))
            case .started(let job, let index, let attempt, _):
                shipping.withLock { $0[.init(job: job, index: index, attempt: attempt)]?.started = true }
            }
        }
        messages.append(.reports(reports))
        send(messages)
    }

    /// Sends what the running executions wrote since the last time.
    private func shipLogs() {
        let running = shipping.withLock { $0.filter { $0.value.process && $0.value.started } }
        var messages: [RemoteMessage] = []
        for (key, shipped) in running {
            let (more, updated) = logMessages(key, shipped)
            guard !more.isEmpty else { continue }
            messages += more
            shipping.withLock { shipping in
                if shipping[key] != nil { shipping[key] = updated }
            }
        }
        if !messages.isEmpty { send(messages) }
    }

    private func logMessages(_ key: ExecutionControl.Key, _ shipped: Shipped) -> (messages: [RemoteMessage], updated: Shipped) {
        var updated = shipped
        var messages: [RemoteMessage] = []
        let paths = agent.runner.logPaths(job: key.job, task: shipped.name)
        for (stream, path) in [(UInt8(1), paths.out), (UInt8(2), paths.err)] {
            let offset = stream == 1 ? shipped.out : shipped.err
            guard let handle = FileHandle(forReadingAtPath: path) else { continue }
            defer { try? handle.close() }
            guard (try? handle.seek(toOffset: offset)) != nil, let data = try? handle.read(upToCount: 4 << 20), !data.isEmpty else { continue }
            messages.append(.log(job: key.job, task: shipped.name, stream: stream, bytes: Array(data)))
            if stream == 1 { updated.out += UInt64(data.count) } else { updated.err += UInt64(data.count) }
        }
        return (messages, updated)
    }
}
