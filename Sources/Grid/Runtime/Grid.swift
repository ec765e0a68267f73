import Actors
import Cluster
import Foundation
import Logging
import Synchronization

/// An embedded compute grid: a scheduler, a resource manager with local nodes on pinned cores, and
/// the actor API to submit workflows and follow them.
///
/// ```swift
/// let grid = try await Grid.start()
/// grid.functions.register("double") { (x: Int, _: inout TaskContext) in x * 2 }
/// let job = try await grid.submit(Workflow(name: "demo", tasks: [TaskDefinition("a", .function("double", input: 21))]))
/// for await event in job.events { print(event) }
/// let result = try await job.result()      // result.result(of: "a") == 42
/// await grid.shutdown()
/// ```
public final class Grid: Sendable {
    /// In-process functions tasks call by name.
    public let functions: FunctionRegistry
    /// The settings it started with.
    public let settings: GridSettings
    /// The placement of its nodes on cores.
    public let plan: PlacementPlan
    let scheduler: SchedulerActor
    let hub: EventHub
    let runner: TaskRunner
    let pool: WorkerPool
    let nodeLoops: [Task<Void, Never>]
    let pump: ReportPump
    /// The journal, when ``GridSettings/journal`` is on: ended jobs that left memory are read from it.
    public let journal: Journal?
    /// Node sources attached after the start (agents).
    let attachedSources = Mutex<[AttachedSource]>([])
    /// The managed node sources, made on first use and let go at shutdown.
    private let managerBox = Mutex<NodeSourceManager?>(nil)
    private let isShutDown = Atomic<Bool>(false)

    /// The node sources an administrator manages at run time (processes, commands), with their policies.
    public var nodeSourceManager: NodeSourceManager {
        managerBox.withLock { box in
            if let manager = box { return manager }
            let manager = NodeSourceManager(grid: self)
            if !isShutDown.load(ordering: .relaxed) { box = manager }
            return manager
        }
    }

    struct AttachedSource: Sendable {
        let name: String
        let infrastructure: @Sendable (Int) -> NodeSourceInfrastructure
    }

    private init(
        functions: FunctionRegistry, settings: GridSettings, plan: PlacementPlan, scheduler: SchedulerActor, hub: EventHub,
        runner: TaskRunner, pool: WorkerPool, nodeLoops: [Task<Void, Never>], pump: ReportPump, journal: Journal?
    ) {
        self.pump = pump
        self.journal = journal
        self.functions = functions
        self.settings = settings
        self.plan = plan
        self.scheduler = scheduler
        self.hub = hub
        self.runner = runner
        self.pool = pool
        self.nodeLoops = nodeLoops
    }

    /// Starts a grid: one node per core of the placement plan (one core reserved for the grid when the
    /// machine has more than 2), each running its work on the pinned executor.
    ///
    /// - Throws: `GridError.startFailed` when the topology, placement, threads or data directory fail.
    public static func start(settings: GridSettings = .init(), functions: FunctionRegistry = .init()) async throws(GridError) -> Grid {
        var settings = settings
        let plan: PlacementPlan
        let pool: WorkerPool
        do {
            let machine = try MachineTopology.load()
            let cores = machine.topology.cores.count
            let reserved = settings.reservedCores ?? (cores > 2 ? 1 : 0)
            let workers = settings.nodes ?? max(1, cores - reserved)
            plan = try PlacementPlan.make(
                for: machine.topology,
                request: .init(workers: workers, reserved: .first(settings.nodes == nil || !settings.oversubscribe ? reserved : 0), oversubscribe: settings.oversubscribe))
            var actorSettings = settings.actors
            actorSettings.bindThreads = settings.bindThreads && actorSettings.bindThreads
            pool = try WorkerPool(plan: plan, name: "grid", settings: actorSettings)
        } catch {
            throw .startFailed("the machine's topology or the nodes' placement", cause: .init(error))
        }
        let reportInterval = settings.reportInterval
            ?? GridSettings.reportInterval(forCores: settings.localNodes ? Set(plan.slots.map(\.core)).count : 1)
        settings.reportInterval = reportInterval
        do {
            try FileManager.default.createDirectory(atPath: settings.dataDirectory, withIntermediateDirectories: true)
        } catch {
            throw .startFailed("cannot create \(settings.dataDirectory)", cause: .init(error))
        }
        // Isolated tasks run as other accounts: the journal, logs and records must be the grid's alone.
        if settings.isolation != nil, chmod(settings.dataDirectory, 0o700) != 0 {
            throw .startFailed("cannot make \(settings.dataDirectory) private (chmod 0700): \(String(cString: strerror(errno)))")
        }
        var journal: Journal?
        var recovery: Journal.Recovery?
        if settings.journal {
            let opened = try Journal(directory: settings.dataDirectory, durability: settings.journalDurability, wallClock: settings.wallClock)
            recovery = try opened.recover()
            journal = opened
        }
        let healing: HealingStore
        if let journal {
            healing = try HealingStore(journal: journal)
        } else {
            healing = HealingStore(path: settings.persistHealing ? settings.dataDirectory + "/healing.json" : nil)
        }
        let runner = TaskRunner(
            functions: functions, healing: healing, clock: settings.clock, dataDirectory: settings.dataDirectory,
            workingDirectory: settings.workingDirectory,
            outputGlob: OutputGlob(confined: settings.confineOutputs || settings.isolation != nil, limits: settings.limits),
            limits: settings.limits, isolation: settings.isolation)
        let hub = EventHub()
        let scheduler = SchedulerActor(hub: hub, settings: settings, journal: journal) { runner.logDirectory(job: $0) }
        let control = ExecutionControl()
        let nodes = settings.localNodes
            ? plan.slots.map { slot in
                LocalNode(id: NodeID(slot.worker), runner: runner, control: control, settings: settings, reportInterval: reportInterval)
            } : []
        let hostName = ProcessInfo.processInfo.hostName
        for node in nodes { node.setSiblings(nodes.map(\.queue)) }
        let pump = ReportPump(buffers: nodes.map(\.reports), interval: reportInterval, clock: settings.clock)
        var loops = nodes.map { node in
            Task(executorPreference: pool.executor) {
                await node.run(pump: pump) { reports in await scheduler.onReports(reports) }
            }
        }
        // Not on the pinned pool: a node busy in a long function never yields its worker, and the pump
        // must still report that the task started.
        loops.append(Task(executorPreference: globalConcurrentExecutor) {
            await pump.run { reports in await scheduler.onReports(reports) }
        })
        await scheduler.addNodes(nodes.map { node in
            (node, ResourceLedger.Entry(
                id: node.id, source: settings.nodeSourceName, state: .free, locked: false, labels: settings.labels, token: settings.token,
                capacity: settings.queueDepth, assigned: 0, host: hostName))
        })
        if let recovery { _ = await scheduler.recover(recovery) }
        settings.logger.info("grid started", metadata: ["grid.nodes": "\(nodes.count)", "grid.data": "\(settings.dataDirectory)"])
        return Grid(
            functions: functions, settings: settings, plan: plan, scheduler: scheduler, hub: hub, runner: runner, pool: pool,
            nodeLoops: loops, pump: pump, journal: journal)
    }

    /// Validates and submits a workflow; the job starts at once.
    ///
    /// - Parameters:
    ///   - variables: values that override the workflow's job variables.
    ///   - admin: allows HIGH and HIGHEST priorities.
    ///   - owner: who submits it (the REST API's user).
    /// - Throws: `GridError.invalidWorkflow` with every problem, `.priorityNeedsAdmin`, `.badStartAt`, `.shutDown`,
    ///   and with a journal `.notJournalable` (a closure decider) or `.journal` (the write failed).
    public func submit(_ workflow: Workflow, variables: [String: String] = [:], admin: Bool = false, owner: String = "") async throws(GridError) -> JobHandle {
        let plan: FlowPlan
        var encoded: Journal.EncodedWorkflow?
        if journal != nil {
            // The workflow is written as the journal will store it while it is validated here. One the journal
            // cannot store (a closure decider) is refused where it always was, after the scheduler's own checks.
            async let encoding = try? Journal.encode(workflow)
            plan = try validate(workflow)
            encoded = await encoding
        } else {
            plan = try validate(workflow)
        }
        let id = try await scheduler.submit(workflow, variables: variables, admin: admin, owner: owner, plan: plan, encoded: encoded)
        return JobHandle(id: id, grid: self)
    }

    /// Validates a workflow and checks that the functions it calls are registered.
    private func validate(_ workflow: Workflow) throws(GridError) -> FlowPlan {
        let plan: FlowPlan
        do {
            plan = try workflow.validatedPlan(limits: settings.limits)
        } catch {
            throw .invalidWorkflow(error.problems)
        }
        try checkFunctions(of: workflow)
        if settings.confineOutputs || settings.isolation != nil { try checkConfinedOutputs(of: workflow) }
        return plan
    }

    /// On a grid that confines outputs, each task's `outputs` lie in its working directory: refused at submission,
    /// not found out when a task ends (a `${VAR}` that makes one absolute still fails that task then).
    private func checkConfinedOutputs(of workflow: Workflow) throws(GridError) {
        var problems: [WorkflowProblem] = []
        let tasks = workflow.tasks
        for index in tasks.indices where !tasks[index].outputs.isEmpty {
            for pattern in tasks[index].outputs {
                guard let flaw = OutputGlob.confinementFlaw(pattern) else { continue }
                problems.append(WorkflowProblem(
                    .unconfinedOutput, path: "tasks.\(tasks[index].name).outputs",
                    message: "output `\(pattern.prefix(200))` of task `\(tasks[index].name)` \(flaw): on this grid outputs are paths inside the task's working directory"))
            }
        }
        guard problems.isEmpty else { throw .invalidWorkflow(problems) }
    }

    /// Every function the workflow calls must be registered: a typo fails the submission, not a task.
    private func checkFunctions(of workflow: Workflow) throws(GridError) {
        let registered = Set(functions.names)
        var checked: String?  // wide jobs call one function many times in a row
        let tasks = workflow.tasks
        for index in tasks.indices {  // by index: iterating would copy every definition
            guard case .function(let name, _) = tasks[index].executable, name != checked else { continue }
            guard registered.contains(name) else { throw .functionNotRegistered(name) }
            checked = name
        }
    }

    /// A handle on a job submitted earlier.
    public func job(_ id: JobID) -> JobHandle { JobHandle(id: id, grid: self) }

    /// Every job in memory, oldest first.
    public func jobs() async -> [JobResult] { await scheduler.reports() }

    /// Every job in memory in a few fields, oldest first.
    public func jobSummaries() async -> [JobSummary] { await scheduler.summaries() }

    /// The owner of a job in memory or in the journal.
    public func owner(of job: JobID) async throws(GridError) -> String { try await scheduler.owner(of: job) }

    /// Every job's events, from now on.
    public var events: AsyncStream<GridEvent> { hub.subscribeAll() }

    /// The nodes and their states.
    public func nodes() async -> [ResourceLedger.Entry] { await scheduler.nodeEntries() }

    /// The node list now, then each time it changes (a node joins, goes DOWN, UP or LOST, is locked, takes or ends
    /// work): the newest list only, for a slow reader. Ends when the grid shuts down.
    public var nodeChanges: AsyncStream<[ResourceLedger.Entry]> {
        get async { await scheduler.watchNodes() }
    }

    /// The node sources (the local infrastructure with the static policy, and the agent sources attached)
    /// and their nodes.
    public func nodeSources() async -> [NodeSourceReport] {
        let entries = await scheduler.nodeEntries()
        var reports: [NodeSourceReport] = []
        if settings.localNodes {
            reports.append(NodeSourceReport(
                name: settings.nodeSourceName, infrastructure: .local(nodes: plan.slots.count), policy: .static,
                nodes: entries.filter { $0.source == settings.nodeSourceName }))
        }
        for source in attachedSources.withLock({ $0 }) {
            let nodes = entries.filter { $0.source == source.name }
            reports.append(NodeSourceReport(
                name: source.name, infrastructure: source.infrastructure(Set(nodes.filter { $0.state != .lost }.map(\.host)).count),
                policy: .static, nodes: nodes))
        }
        return reports
    }

    /// A node source of agents that join through the cluster `member` belongs to: run it with the member's
    /// events (``AgentNodeSource/run(events:)``).
    ///
    /// - Parameters:
    ///   - capacity: executions each agent node may hold (running plus queued); default the grid's queue depth.
    ///   - processes: agents this source starts itself (shown in its infrastructure), `0` when they join on their own.
    ///   - sharedDirectory: a directory every host shares, where values over 1 MiB travel as files.
    public func agentNodeSource(
        name: String = "agents", member: ClusterMember, capacity: Int? = nil, processes: Int = 0, sharedDirectory: String? = nil
    ) -> AgentNodeSource {
        let configuration = member.configuration
        let source = AgentNodeSource(
            name: name, grid: self, identity: configuration.id, clusterID: configuration.clusterID, keyRing: configuration.keyRing,
            capacity: capacity ?? settings.queueDepth, sharedDirectory: sharedDirectory, logger: settings.logger)
        attachedSources.withLock {
            $0.append(AttachedSource(name: name, infrastructure: { processes > 0 ? .agentProcesses(processes: processes, hosts: $0) : .agents(hosts: $0) }))
        }
        return source
    }

    /// Locks a node (no new tasks) or unlocks it (journaled when the grid has a journal).
    public func setNode(_ node: NodeID, locked: Bool) async throws(GridError) { try await scheduler.setLocked(node, locked) }

    /// Stops the grid: kills running subprocesses, ends event streams, releases `result()` waiters,
    /// and joins every worker thread. Idempotent.
    public func shutdown() async {
        isShutDown.store(true, ordering: .relaxed)
        if let manager = managerBox.withLock({ box in defer { box = nil }; return box }) { await manager.shutdown() }
        _ = await scheduler.shutdown()
        pump.stop()
        for loop in nodeLoops { await loop.value }
        try? pool.shutdown()
        journal?.waitForPendingWrites()
    }
}

/// A submitted job: its events, its result, its logs and the user's actions on it.
public struct JobHandle: Sendable {
    /// The job's identifier.
    public let id: JobID
    let grid: Grid

    /// The job's events, starting with its current state (every task instance that has left PENDING,
    /// then the job), so subscribing late loses nothing; the stream ends after the job's final state.
    public var events: AsyncStream<GridEvent> {
        get async throws(GridError) { try await grid.scheduler.events(id) }
    }

    /// Waits for the job to end and returns its final report.
    public func result() async throws(GridError) -> JobResult { try await grid.scheduler.result(id) }

    /// The job as it stands now.
    public func report() async throws(GridError) -> JobResult { try await grid.scheduler.report(id) }

    /// The stdout and stderr logs of a task instance (readable while it runs), and the grid's notes.
    public func logs(task: String) throws(GridError) -> String {
        guard let name = TaskInstanceName(parsing: task) else { throw .taskNotFound(id, task) }
        let paths = grid.runner.logPaths(job: id, task: name)
        let out = (try? String(contentsOfFile: paths.out, encoding: .utf8)) ?? ""
        let err = (try? String(contentsOfFile: paths.err, encoding: .utf8)) ?? ""
        return out + err
    }

    /// The stdout and stderr log files of a task instance (they may not exist yet), to read in parts.
    ///
    /// - Throws: `GridError.taskNotFound` when `task` is not an instance name.
    public func logPaths(task: String) throws(GridError) -> (out: String, err: String) {
        guard let name = TaskInstanceName(parsing: task) else { throw .taskNotFound(id, task) }
        return grid.runner.logPaths(job: id, task: name)
    }

    /// The workflow the job was submitted with.
    public func workflow() async throws(GridError) -> Workflow { try await grid.scheduler.workflow(id) }

    /// Where the job's log files are.
    public var logDirectory: String { grid.runner.logDirectory(job: id) }

    /// Removes the job from the grid's memory once it has ended (ProActive's "remove job"); its logs
    /// stay on disk. A long-running grid should remove the jobs it no longer needs to ask about.
    /// - Throws: `GridError.actionNotAllowed` while the job is alive, `.jobNotFound` when it is gone.
    public func remove() async throws(GridError) { try await grid.scheduler.remove(id) }

    /// Applies a user's action (journaled when the grid has a journal).
    public func act(_ action: JobAction) async throws(GridError) { try await grid.scheduler.act(id, action) }
    /// Kills the job.
    public func kill() async throws(GridError) { try await act(.kill) }
    /// Pauses the job.
    public func pause() async throws(GridError) { try await act(.pause) }
    /// Resumes the job.
    public func resume() async throws(GridError) { try await act(.resume) }
    /// Changes the job's priority.
    public func setPriority(_ priority: JobPriority, admin: Bool = false) async throws(GridError) {
        try await act(.priority(priority, admin: admin))
    }
    /// Kills one task instance.
    public func killTask(_ task: String) async throws(GridError) { try await act(.killTask(try parse(task))) }
    /// Restarts a running task instance.
    public func restartTask(_ task: String) async throws(GridError) { try await act(.restartTask(try parse(task))) }
    /// Restarts an IN_ERROR task instance.
    public func restartInErrorTask(_ task: String) async throws(GridError) { try await act(.restartInErrorTask(try parse(task))) }
    /// Marks an IN_ERROR task instance finished so its successors run.
    public func finishInErrorTask(_ task: String) async throws(GridError) { try await act(.finishInErrorTask(try parse(task))) }

    private func parse(_ task: String) throws(GridError) -> TaskInstanceName {
        guard let name = TaskInstanceName(parsing: task) else { throw .taskNotFound(id, task) }
        return name
    }
}
