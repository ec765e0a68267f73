import Actors
import Cluster
import Foundation
import Logging
import Synchronization

/// What an agent runs with.
public struct AgentSettings: Sendable {
    /// Nodes it offers (default: one per core).
    public var workers: Int?
    /// Labels tasks may select.
    public var labels: Set<String> = []
    /// When set, only tasks with this token run here.
    public var token: String?
    /// The one-time token of the managed node source that started it (announced, so that the grid ties it to its
    /// request).
    public var joinToken: String?
    /// Its cluster address, announced as the host's name in the grid.
    public var address: String = ""
    /// Where task logs and per-execution files go.
    public var dataDirectory: String = FileManager.default.temporaryDirectory.path + "/tessera-agent-\(ProcessInfo.processInfo.processIdentifier)"
    /// The working directory of subprocesses when a workflow sets none.
    public var workingDirectory: String = FileManager.default.currentDirectoryPath
    /// Where a multi-user scheduler's tasks get their private folders (``TaskIsolation/taskRoot``); `nil` is
    /// ``dataDirectory`` + `.tasks`. Every folder above it must let other accounts through.
    public var taskRoot: String?
    /// A directory every host shares, where values over 1 MiB travel as files; without one such a result fails its task.
    public var sharedDirectory: String?
    /// Reports a node batches before sending.
    public var reportBatch: Int = 256
    /// The longest a report waits.
    public var reportInterval: Duration = .milliseconds(5)
    /// How often the logs of running tasks are sent.
    public var logInterval: Duration = .milliseconds(250)
    /// Pin worker threads to their cores.
    public var bindThreads: Bool = true
    /// Where it logs.
    public var logger: Logger = Logger(label: "tessera.agent")
    /// The agent's time: report batching, walltimes and log shipping wait on it.
    public var clock: any GridClock = SystemGridClock()

    /// Default settings.
    public init() {}
}

/// The agent's side of the grid: it serves the links the scheduler opens, one session per link, running the
/// tasks it receives on its own nodes (pinned workers stealing from each other, as in the embedded grid) and
/// sending back starts, ends and logs in batches.
///
/// A session ends when its link closes: its subprocesses are killed and its queues dropped (the scheduler
/// re-runs them elsewhere, so nothing runs twice on purpose).
public final class GridAgent: Sendable {
    /// The functions tasks call by name (the same binary registers the same names everywhere).
    public let functions: FunctionRegistry
    /// Its settings.
    public let settings: AgentSettings
    /// What it announces.
    public let resources: AgentResources
    let pool: WorkerPool
    let runner: TaskRunner
    private let sessions = Mutex<[ObjectIdentifier: AgentSession]>([:])
    /// The control groups of isolated tasks, found the first time a multi-user scheduler configures this agent.
    private let cgroups = Mutex<Result<TaskCgroups, TaskCgroups.Unavailable>?>(nil)

    /// The agent's task control groups (found once), or why there are none.
    func taskCgroups() -> Result<TaskCgroups, TaskCgroups.Unavailable> {
        cgroups.withLock { found in
            if let found { return found }
            let discovered = TaskCgroups.discover()
            found = discovered
            return discovered
        }
    }

    /// Starts an agent's workers.
    ///
    /// - Throws: `GridError.startFailed` when the topology, placement or threads fail.
    public init(settings: AgentSettings, functions: FunctionRegistry) throws(GridError) {
        self.settings = settings
        self.functions = functions
        let machine: MachineTopology
        let plan: PlacementPlan
        do {
            machine = try MachineTopology.load()
            let cores = machine.topology.cores.count
            let workers = settings.workers ?? cores
            plan = try PlacementPlan.make(
                for: machine.topology, request: .init(workers: workers, reserved: .first(0), oversubscribe: workers > cores))
            var actorSettings = Actors.Settings()
            actorSettings.bindThreads = settings.bindThreads
            pool = try WorkerPool(plan: plan, name: "agent", settings: actorSettings)
        } catch {
            throw .startFailed("the machine's topology or the nodes' placement", cause: .init(error))
        }
        do {
            try FileManager.default.createDirectory(atPath: settings.dataDirectory, withIntermediateDirectories: true)
        } catch {
            throw .startFailed("cannot create \(settings.dataDirectory)", cause: .init(error))
        }
        let topology = machine.topology
        resources = AgentResources(
            hostname: ProcessInfo.processInfo.hostName, address: settings.address, pid: Int(ProcessInfo.processInfo.processIdentifier),
            workers: plan.slots.count, cores: topology.cores.count, memoryBytes: ProcessInfo.processInfo.physicalMemory,
            numaCores: topology.numaNodes.map(\.cores.count), labels: settings.labels, token: settings.token,
            joinToken: settings.joinToken)
        runner = TaskRunner(
            functions: functions, healing: HealingStore(path: settings.dataDirectory + "/healing.json"), clock: settings.clock,
            dataDirectory: settings.dataDirectory, workingDirectory: settings.workingDirectory)
    }

    /// Serves every link accepted on `links` until the stream ends.
    public func serve(_ links: AsyncStream<Link>) async {
        await withTaskGroup(of: Void.self) { group in
            for await link in links {
                group.addTask { await self.serve(link) }
            }
        }
    }

    /// Serves one scheduler link until it closes.
    public func serve(_ link: Link) async {
        let session = AgentSession(agent: self, link: link)
        let key = ObjectIdentifier(session)
        sessions.withLock { $0[key] = session }
        settings.logger.notice("scheduler linked", metadata: ["agent.peer": "\(link.peer.short)", "agent.address": "\(link.remoteAddress)"])
        let reason = await session.run()
        sessions.withLock { $0[key] = nil }
        settings.logger.notice("scheduler link closed", metadata: ["agent.reason": "\(reason)"])
    }

    /// Scheduler links served now.
    public var linkedSessions: Int { sessions.withLock { $0.count } }

    /// Ends every session (their links close) and stops the workers.
    public func shutdown() {
        for session in sessions.withLock({ Array($0.values) }) { session.link.close() }
        try? pool.shutdown()
    }
}
