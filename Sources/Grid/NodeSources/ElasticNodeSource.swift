import Foundation
import Logging

/// A managed node source's shell: it feeds its ``ElasticSourceCore`` the grid's demand and clock, the agents that
/// join with its tokens and the sessions that end, and performs the directives: the infrastructure's acquire and
/// release (each in a child task), the scheduler's drain and release, the journal, the log and the next wake.
public actor ElasticNodeSource {
    public nonisolated let name: String
    private var core: ElasticSourceCore
    private var infrastructure: any NodeInfrastructure
    private let makeInfrastructure: @Sendable (NodeSourceSpec) -> any NodeInfrastructure
    private let grid: Grid
    private var logger: Logger
    private var wakeAt: Duration?
    private var wakeTask: Task<Void, Never>?
    /// Acquisitions and releases under way (awaited by ``stop(releasing:)``).
    private var work: [Int: Task<Void, Never>] = [:]
    private var nextWork = 0
    private var stopped = false
    /// Releases under way, by host name.
    private var releasing: [String: Int] = [:]
    /// Whether the infrastructure was listed after a restart (until then no agent is claimed: a join could not be
    /// told from an adoption).
    private var reconciled = false
    /// A save is due at the end of the directives being performed.
    private var saveDue = false
    /// Set once the source is removed: it then only releases, and leaves once it holds nothing.
    public private(set) var removing = false
    private var removed: (@Sendable () async -> Void)?

    init(core: ElasticSourceCore, grid: Grid, makeInfrastructure: @escaping @Sendable (NodeSourceSpec) -> any NodeInfrastructure) {
        self.name = core.spec.name
        self.core = core
        self.grid = grid
        self.makeInfrastructure = makeInfrastructure
        self.infrastructure = makeInfrastructure(core.spec)
        var logger = grid.settings.logger
        logger[metadataKey: "grid.source"] = "\(core.spec.name)"
        self.logger = logger
    }

    private var now: Duration {
        core.wallNow = grid.settings.wallClock()
        return grid.settings.clock.now
    }

    // MARK: - Operations

    /// Starts deciding (a new source), or reconciles with the infrastructure first (one rebuilt from the journal).
    func start(reconciling: Bool) async {
        defer { reconciled = true }
        if reconciling {
            let listed: [String: String]?
            do {
                listed = try await infrastructure.list()
            } catch {
                logger.warning("cannot list the infrastructure's hosts: trusting the journal", metadata: ["grid.error": "\(error)"])
                listed = nil
            }
            perform(core.reconcile(listed: listed, now: now, wallNow: grid.settings.wallClock()))
        } else {
            perform(core.setDeployed(core.deployed, now: now))
        }
    }

    /// Replaces the spec (the same infrastructure type; its parameters and the policy may change).
    ///
    /// Checked here, in the actor, so that no acquisition can slip in between the check and the edit.
    func edit(_ spec: NodeSourceSpec) throws(NodeSourceError) {
        guard core.spec.infrastructure.type == spec.infrastructure.type else {
            throw .invalid(field: "infrastructure.type", "a source keeps its infrastructure type (\(core.spec.infrastructure.type)); add a new one instead")
        }
        guard core.spec.nodesPerHost == spec.nodesPerHost || core.hosts.isEmpty else {
            throw .invalid(
                field: "infrastructure.nodesPerHost",
                "its \(core.hosts.count) host(s) have \(core.spec.nodesPerHost) nodes each: undeploy it, or wait until it holds none, to change it")
        }
        infrastructure = makeInfrastructure(spec)
        perform(core.edit(spec, now: now))
    }

    func setDeployed(_ flag: Bool) { perform(core.setDeployed(flag, now: now)) }

    /// Removes the source: undeployed, then `done` once every host is released. Returns `true` when it held
    /// nothing (it is gone at once; `done` is not called).
    func remove(done: @escaping @Sendable () async -> Void) -> Bool {
        removing = true
        perform(core.setDeployed(false, now: now))
        if core.hosts.isEmpty && work.isEmpty {
            stopped = true
            wakeTask?.cancel()
            return true
        }
        removed = done
        return false
    }

    /// Whether any of its nodes holds work now.
    func holdsWork() async -> Bool {
        let busy = await grid.scheduler.busyBySession(source: name)
        return busy.values.contains { $0 > 0 }
    }

    /// Stops deciding; with `releasing`, releases every host and waits until the infrastructure let them go.
    func stop(releasing: Bool) async {
        // First: an acquisition under way sees it and releases what it started.
        stopped = true
        wakeTask?.cancel()
        if releasing { perform(core.releaseAll(reason: "the grid stops", now: now)) }
        // At most 30 s: a release command that hangs must not hold the grid's stop past a supervisor's patience
        // (what is still being released is listed, and released again, at the next start).
        let pending = Array(work.values)
        await withTaskGroup(of: Void.self) { group in
            group.addTask { for task in pending { await task.value } }
            group.addTask { try? await Task.sleep(for: .seconds(30)) }
            await group.next()
            group.cancelAll()
        }
        if !work.isEmpty { logger.warning("the grid stops with releases still under way", metadata: ["grid.releasing": "\(self.releasing.keys.sorted())"]) }
    }

    /// Whether the source stopped (an acquisition in flight then releases what it started).
    var isStopped: Bool { stopped }

    // MARK: - Agents

    /// An agent announced `token`: the host it is, if it is one of this source's.
    func joined(token: String, session: Int, address: String) -> ElasticSourceCore.Host? {
        guard !stopped, reconciled, core.hosts.contains(where: { $0.token == token }) else { return nil }
        let (host, directives) = core.onJoined(token: token, session: session, address: address, now: now)
        perform(directives)
        if let host { logger.info("host joined", metadata: ["grid.host": "\(host.name)", "grid.session": "\(session)", "grid.address": "\(address)"]) }
        return host
    }

    /// Whether a session is one of this source's hosts.
    func owns(session: Int) -> Bool { core.hosts.contains { $0.session == session } }

    /// A session of this source ended without a release.
    func sessionLost(_ session: Int, reason: String, evicted: Bool = false) {
        perform(core.onSessionLost(session: session, reason: reason, evicted: evicted, now: now))
    }

    // MARK: - Views

    /// What the REST API, the CLI and the portal show.
    func status() -> NodeSourceStatus {
        let now = self.now
        return NodeSourceStatus(
            spec: core.spec, deployed: core.deployed, removing: removing, hosts: core.hosts, usage: core.usage, lastFailure: core.lastFailure,
            failuresInRow: core.failuresInRow, cost: core.cost(now: now), hostHours: core.hostSeconds(now: now) / 3600,
            ready: core.readyPercentiles.map { [$0.p50, $0.p95] }, releasing: releasing.values.reduce(0, +))
    }

    /// Journal addresses of the hosts that had joined (seeds for the cluster after a restart).
    func addresses() -> [String] { core.hosts.compactMap(\.address) }

    // MARK: - Directives

    /// When the infrastructure is listed next, and whether a list is under way.
    private var nextList: Duration?
    private var listing = false

    private func tick() async {
        wakeAt = nil
        guard !stopped else { return }
        let time = now
        if !listing, !core.hosts.isEmpty, nextList.map({ $0 <= time }) ?? true {
            if nextList != nil {
                listing = true
                let infrastructure = self.infrastructure
                spawn { source in
                    let listed = try? await infrastructure.list()
                    await source.listed(listed ?? nil, since: time)
                }
            }
            nextList = time + core.spec.listInterval
        }
        let inputs = await grid.scheduler.elasticInputs(source: name, users: core.spec.users, targetedOnly: !core.spec.globalScope)
        perform(core.onTick(
            now: now, wallNow: grid.settings.wallClock(), demand: inputs.demand, busy: inputs.busy, meanTaskSeconds: inputs.meanTaskSeconds))
        checkRemoved()
    }

    private func perform(_ directives: [ElasticSourceCore.Directive]) {
        defer {
            if saveDue {
                saveDue = false
                save()
            }
        }
        for directive in directives {
            switch directive {
            case .acquire(let host, let count, let after):
                guard !stopped else { continue }
                logger.info("acquiring a host", metadata: ["grid.host": "\(host.name)", "grid.hosts": "\(count)"])
                let (infrastructure, clock) = (self.infrastructure, grid.settings.clock)
                spawn { source in
                    if after > .zero { try? await clock.sleep(for: after) }
                    // Stopped during the boot delay: nothing to start.
                    guard await !source.isStopped else { return }
                    do {
                        let handle = try await infrastructure.acquire(host, count: count)
                        if await source.isStopped {
                            // The grid stopped while it started: it goes at once.
                            var started = host
                            started.handle = handle
                            try? await infrastructure.release(started)
                            return
                        }
                        await source.acquired(host.id, handle: handle)
                    } catch {
                        await source.acquireFailed(host.id, error: "\(error)")
                    }
                }
            case .drain(let session, let flag):
                let scheduler = grid.scheduler
                spawn { _ in await scheduler.setHostDraining(session, flag) }
            case .release(let host, let reason, let countsAsFailure):
                logger.notice("releasing a host", metadata: ["grid.host": "\(host.name)", "grid.reason": "\(reason)"])
                let (infrastructure, scheduler, clock) = (self.infrastructure, grid.scheduler, grid.settings.clock)
                releasing[host.name, default: 0] += 1
                spawn { source in
                    if let session = host.session { await scheduler.hostReleased(session, countsAsFailure: countsAsFailure) }
                    // A release that fails is tried again after 1 s, 2 s and 4 s; past that the source says so, and
                    // the next list of the infrastructure (which still shows the host) releases it again.
                    var failure: (any Error)?
                    for attempt in 0..<4 {
                        // A stopping grid tries once.
                        if attempt > 0 {
                            if await source.isStopped { break }
                            try? await clock.sleep(for: .seconds(1 << (attempt - 1)))
                        }
                        do {
                            try await infrastructure.release(host)
                            failure = nil
                            break
                        } catch {
                            failure = error
                        }
                    }
                    await source.released(host.name, failure: failure.map { "\($0)" })
                }
            case .save:
                saveDue = true
            case .log(let warning, let message):
                if warning { logger.warning("\(message)") } else { logger.info("\(message)") }
            case .wake(let at):
                guard !stopped, wakeAt.map({ at < $0 }) ?? true else { continue }
                wakeAt = at
                wakeTask?.cancel()
                let clock = grid.settings.clock
                wakeTask = Task { [weak self] in
                    do {
                        try await clock.sleep(until: at)
                    } catch {
                        return
                    }
                    await self?.tick()
                }
            }
        }
    }

    private func released(_ name: String, failure: String?) {
        releasing[name, default: 1] -= 1
        if releasing[name] == 0 { releasing[name] = nil }
        if let failure {
            logger.error("the infrastructure could not release a host", metadata: ["grid.host": "\(name)", "grid.error": "\(failure)"])
            perform(core.onReleaseFailed(host: name, error: failure, now: now))
        }
    }

    private func listed(_ listed: [String: String]?, since: Duration) {
        listing = false
        guard let listed, !stopped else { return }
        perform(core.onListed(listed, since: since, releasing: Set(releasing.keys), now: now))
    }

    private func acquired(_ id: Int, handle: String?) {
        perform(core.onAcquired(host: id, handle: handle, now: now))
    }

    private func acquireFailed(_ id: Int, error: String) {
        perform(core.onAcquireFailed(host: id, error: error, now: now))
    }

    /// Runs `body` as tracked work of the source.
    private func spawn(_ body: @escaping @Sendable (ElasticNodeSource) async -> Void) {
        let key = nextWork
        nextWork += 1
        work[key] = Task { [self] in
            await body(self)
            self.finished(key)
        }
    }

    private func finished(_ key: Int) {
        work[key] = nil
        checkRemoved()
    }

    private func checkRemoved() {
        guard removing, core.hosts.isEmpty, work.isEmpty, let done = removed else { return }
        removed = nil
        stopped = true
        wakeTask?.cancel()
        Task { await done() }
    }

    private func save() {
        guard let journal = grid.journal, !(removing && core.hosts.isEmpty) else { return }
        do {
            var stored = core.stored
            stored.removing = removing ? true : nil
            let state = try JSONEncoder().encode(stored)
            try journal.saveNodeSource(.init(name: name, spec: core.spec.jsonData, state: state))
        } catch {
            logger.error("cannot journal the node source", metadata: ["grid.error": "\(error)"])
        }
    }
}

/// A managed source as the views show it.
public struct NodeSourceStatus: Sendable {
    public var spec: NodeSourceSpec
    public var deployed: Bool
    public var removing: Bool
    public var hosts: [ElasticSourceCore.Host]
    public var usage: ElasticSourceCore.Usage
    public var lastFailure: String?
    public var failuresInRow: Int
    public var cost: Double
    public var hostHours: Double
    /// Request → FREE p50 and p95 in seconds, once a host joined.
    public var ready: [Double]?
    /// Hosts being released now (the infrastructure has not confirmed yet).
    public var releasing = 0

    /// Nodes of hosts in `phase`.
    public func nodes(_ phase: ElasticHost.Phase) -> Int { hosts.count { $0.phase == phase } * spec.nodesPerHost }
}
