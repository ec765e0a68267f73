import ArgumentParser
import Cluster
import Foundation
import Grid
import GridServer
import GridWorkloads
import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import ServiceLifecycle
import UnixSignals
import Yams

/// `tessera serve`: the long-running grid. A journaled grid (every unfinished job of the data directory is
/// finished first), the REST API and the metrics, as one swift-service-lifecycle group that shuts down
/// gracefully on SIGTERM and SIGINT.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run the grid as a long-running server with a REST API.",
        discussion: """
            State lives in DATA/journal.sqlite (SQLite, WAL): after a crash or a kill -9, the next start \
            finishes every unfinished job. Without --users the server accepts loopback connections only and \
            everyone is the local administrator. On SIGTERM or SIGINT it stops accepting requests, stops the \
            running tasks (they are queued again on the next start), flushes the journal and exits 0.
            """
    )

    @Option(help: "A YAML file with any of: data, listen, users, nodes, keepInMemory, keepDays, durability, logLevel, clusterBind, keyFile, clusterId, agents, agentWorkers, healInterval, localNodes, sharedDir, limits and taskLimits (mappings), taskRoot, taskUids, nodeSources (a list of node sources, as POST /api/v1/nodesources takes them) (flags win).")
    var config: String?

    @Option(name: .customLong("data"), help: "The data directory (journal, logs, results); default $XDG_DATA_HOME/tessera.")
    var dataFlag: String?

    @Option(name: .customLong("listen"), help: "Address and port to listen on (port 0 picks a free one); default 127.0.0.1:8080.")
    var listenFlag: String?

    @Option(name: .customLong("users"), help: "The users file: one 'NAME ROLE TOKEN' per line, ROLE user or admin.")
    var usersFlag: String?

    @Option(name: .customLong("nodes"), help: "Local nodes (default: one per core, one core kept for the grid when there are more than 2).")
    var nodesFlag: Int?

    @Option(name: .customLong("keep-in-memory"), help: "Seconds an ended job stays in memory (then it is read from the journal); default 60.")
    var keepInMemoryFlag: Int?

    @Option(name: .customLong("keep-days"), help: "Days an ended job stays in the journal; default 30.")
    var keepDaysFlag: Int?

    @Option(name: .customLong("durability"), help: "normal (survives a killed process, the default) or full (also a power loss: an fsync per commit).")
    var durabilityFlag: Journal.Durability?

    @Option(name: .customLong("log-level"), help: "trace, debug, info (the default), notice, warning, error or critical.")
    var logLevelFlag: Logger.Level?

    @Option(name: .customLong("cluster-bind"), help: "Join agents: the cluster address to listen on, HOST:PORT (UDP and TCP; port 0 picks one). Needs --key-file.")
    var clusterBindFlag: String?

    @Option(name: .customLong("key-file"), help: "The cluster's key file: one `ID HEX64` per line, the first one signs (the agents use the same ring).")
    var keyFileFlag: String?

    @Option(name: .customLong("cluster-id"), help: "The cluster's id (agents of another cluster are refused); default \(ServeCommand.defaultClusterID).")
    var clusterIdFlag: UInt64?

    @Option(name: .customLong("agents"), help: "Agent processes to start on this machine, each on its own 127.0.0.x address (implies --cluster-bind 127.0.0.1:0).")
    var agentsFlag: Int?

    @Option(name: .customLong("agent-workers"), help: "Nodes per started agent (default: one per core).")
    var agentWorkersFlag: Int?

    @Option(name: .customLong("heal-interval"), help: "Seconds between the membership's partition-healing exchanges (default 30).")
    var healIntervalFlag: Double?

    @Flag(name: .customLong("no-local-nodes"), help: "Run no local nodes: every task goes to agents.")
    var noLocalNodesFlag = false

    @Option(name: .customLong("task-root"), help: "With --users: where each job's private working folder is made (default DATA.tasks; every folder above it must be o+x).")
    var taskRootFlag: String?

    @Option(name: .customLong("task-uids"), help: "With --users: the uids FIRST-LAST given to users without unix= (default \(ServeIsolation.defaultUIDs.lowerBound)-\(ServeIsolation.defaultUIDs.upperBound)).")
    var taskUIDsFlag: String?

    @Option(name: .customLong("max-connections"), help: "HTTP connections at once, in all (default 8192); past it a connection gets 503.")
    var maxConnectionsFlag: Int?

    @Option(name: .customLong("max-connections-per-address"), help: "HTTP connections at once from one client address (default 2048).")
    var maxConnectionsPerAddressFlag: Int?

    @Option(name: .customLong("header-timeout"), help: "Seconds a client has to send a request's head, and an idle connection is kept (default 10).")
    var headerTimeoutFlag: Double?

    @Option(name: .customLong("max-streams-per-user"), help: "Event streams (/api/v1/events) a user may hold open at once (default 16).")
    var maxStreamsPerUserFlag: Int?

    @Option(name: .customLong("shared-dir"), help: "A directory every host shares (same path): values over 1 MiB between hosts travel as files there (default with --agents: DATA/shared).")
    var sharedDirFlag: String?

    /// The cluster id `serve` and `agent` use unless told otherwise ("tess").
    static let defaultClusterID: UInt64 = 0x7465_7373

    /// The settings from the flags, then the config file, then the defaults.
    struct Settings {
        var data = ServeCommand.defaultDataDirectory
        var listen = "127.0.0.1:8080"
        var users: String?
        var nodes: Int?
        var keepInMemory = 60
        var keepDays = 30
        var durability = Journal.Durability.normal
        var logLevel = Logger.Level.info
        var clusterBind: String?
        var keyFile: String?
        var clusterId = ServeCommand.defaultClusterID
        var agents = 0
        var agentWorkers: Int?
        var healInterval: Double?
        var localNodes = true
        var sharedDir: String?
        var limits = InputLimits()
        var taskRoot: String?
        var taskUIDs = ServeIsolation.defaultUIDs
        var taskLimits = ResourceLimits()
        var maxConnections = 8192
        var maxConnectionsPerAddress = 2048
        var maxStreamsPerUser = 16
        var headerTimeout = 10.0
        /// Managed node sources to create at the start (the journal's own win over these, by name).
        var nodeSources: [NodeSourceSpec] = []
    }

    func settings() throws -> Settings {
        var resolved = Settings()
        if let config {
            guard let source = try? String(contentsOfFile: config, encoding: .utf8) else { throw ValidationError("cannot read --config \(config)") }
            let loaded: Any?
            do {
                loaded = try Yams.load(yaml: source)
            } catch {
                throw ValidationError("\(config): not YAML: \(error)")
            }
            guard let values = (loaded ?? [String: Any]()) as? [String: Any] else { throw ValidationError("\(config): expected a mapping of settings") }
            let known: Set<String> = [
                "data", "listen", "users", "nodes", "keepInMemory", "keepDays", "durability", "logLevel", "clusterBind", "keyFile",
                "clusterId", "agents", "agentWorkers", "healInterval", "localNodes", "sharedDir", "limits", "taskRoot", "taskUids",
                "taskLimits", "nodeSources",
            ]
            let unknown = Set(values.keys).subtracting(known)
            guard unknown.isEmpty else {
                throw ValidationError("\(config): unknown setting(s) \(unknown.sorted().joined(separator: ", ")); known: \(known.sorted().joined(separator: ", "))")
            }
            func text(_ key: String) throws -> String? {
                guard let value = values[key] else { return nil }
                guard let string = value as? String ?? (value as? any CustomStringConvertible)?.description, !(value is [Any]), !(value is [String: Any]) else {
                    throw ValidationError("\(config): \(key) must be a single value")
                }
                return string
            }
            func number(_ key: String) throws -> Int? {
                guard let value = values[key] else { return nil }
                guard let number = value as? Int else { throw ValidationError("\(config): \(key) must be a whole number") }
                return number
            }
            if let value = try text("data") { resolved.data = value }
            if let value = try text("listen") { resolved.listen = value }
            if let value = try text("users") { resolved.users = value }
            if let value = try number("nodes") { resolved.nodes = value }
            if let value = try number("keepInMemory") { resolved.keepInMemory = value }
            if let value = try number("keepDays") { resolved.keepDays = value }
            if let value = try text("durability") {
                guard let parsed = Journal.Durability(rawValue: value) else { throw ValidationError("\(config): durability is normal or full, got '\(value)'") }
                resolved.durability = parsed
            }
            if let value = try text("logLevel") {
                guard let parsed = Logger.Level(rawValue: value) else {
                    throw ValidationError("\(config): logLevel is one of \(Logger.Level.allCases.map(\.rawValue).joined(separator: ", ")), got '\(value)'")
                }
                resolved.logLevel = parsed
            }
            if let value = try text("clusterBind") { resolved.clusterBind = value }
            if let value = try text("keyFile") { resolved.keyFile = value }
            if let value = try number("clusterId") { resolved.clusterId = UInt64(clamping: value) }
            if let value = try number("agents") { resolved.agents = value }
            if let value = try number("agentWorkers") { resolved.agentWorkers = value }
            if let value = values["healInterval"] {
                guard let seconds = (value as? Double) ?? (value as? Int).map(Double.init) else { throw ValidationError("\(config): healInterval must be a number of seconds") }
                resolved.healInterval = seconds
            }
            if let value = values["localNodes"] {
                guard let flag = value as? Bool else { throw ValidationError("\(config): localNodes must be true or false") }
                resolved.localNodes = flag
            }
            if let value = try text("sharedDir") { resolved.sharedDir = value }
            if let value = values["limits"] { resolved.limits = try ServeCommand.limits(from: value, config: config) }
            if let value = try text("taskRoot") { resolved.taskRoot = value }
            if let value = try text("taskUids") { resolved.taskUIDs = try ServeCommand.uidRange(value) }
            if let value = values["taskLimits"] { resolved.taskLimits = try ServeCommand.taskLimits(from: value, config: config) }
            if let value = values["nodeSources"] {
                guard let list = value as? [Any], list.count <= NodeSourceManager.maxSources else {
                    throw ValidationError("\(config): nodeSources must be a list of at most \(NodeSourceManager.maxSources) node sources")
                }
                for (index, item) in list.enumerated() {
                    do {
                        let spec = try NodeSourceSpec(parsing: item)
                        guard !resolved.nodeSources.contains(where: { $0.name == spec.name }) else {
                            throw ValidationError("\(config): nodeSources[\(index)].name: '\(spec.name)' is given twice")
                        }
                        resolved.nodeSources.append(spec)
                    } catch let error as ElasticConfigError {
                        throw ValidationError("\(config): nodeSources[\(index)].\(error)")
                    }
                }
            }
        }
        if let dataFlag { resolved.data = dataFlag }
        if let listenFlag { resolved.listen = listenFlag }
        if let usersFlag { resolved.users = usersFlag }
        if let nodesFlag { resolved.nodes = nodesFlag }
        if let keepInMemoryFlag { resolved.keepInMemory = keepInMemoryFlag }
        if let keepDaysFlag { resolved.keepDays = keepDaysFlag }
        if let durabilityFlag { resolved.durability = durabilityFlag }
        if let logLevelFlag { resolved.logLevel = logLevelFlag }
        if let clusterBindFlag { resolved.clusterBind = clusterBindFlag }
        if let keyFileFlag { resolved.keyFile = keyFileFlag }
        if let clusterIdFlag { resolved.clusterId = clusterIdFlag }
        if let agentsFlag { resolved.agents = agentsFlag }
        if let agentWorkersFlag { resolved.agentWorkers = agentWorkersFlag }
        if let healIntervalFlag { resolved.healInterval = healIntervalFlag }
        if noLocalNodesFlag { resolved.localNodes = false }
        if let sharedDirFlag { resolved.sharedDir = sharedDirFlag }
        if let taskRootFlag { resolved.taskRoot = taskRootFlag }
        if let maxConnectionsFlag { resolved.maxConnections = maxConnectionsFlag }
        if let maxConnectionsPerAddressFlag { resolved.maxConnectionsPerAddress = maxConnectionsPerAddressFlag }
        if let maxStreamsPerUserFlag { resolved.maxStreamsPerUser = maxStreamsPerUserFlag }
        if let headerTimeoutFlag { resolved.headerTimeout = headerTimeoutFlag }
        guard resolved.headerTimeout >= 0.1, resolved.headerTimeout <= 3600 else { throw ValidationError("--header-timeout must be 0.1…3600 seconds") }
        guard (1...1_000_000).contains(resolved.maxConnections), (1...resolved.maxConnections).contains(resolved.maxConnectionsPerAddress) else {
            throw ValidationError("--max-connections must be 1…1000000 and --max-connections-per-address 1…--max-connections")
        }
        guard (1...10_000).contains(resolved.maxStreamsPerUser) else { throw ValidationError("--max-streams-per-user must be 1…10000") }
        if let taskUIDsFlag { resolved.taskUIDs = try ServeCommand.uidRange(taskUIDsFlag) }
        return resolved
    }

    static var defaultDataDirectory: String {
        let base = ProcessInfo.processInfo.environment["XDG_DATA_HOME"]
            ?? (FileManager.default.homeDirectoryForCurrentUser.path + "/.local/share")
        return base + "/tessera"
    }

    func validate() throws {
        let settings = try settings()
        _ = try address(settings.listen)
        if let nodes = settings.nodes, nodes < 1 { throw ValidationError("nodes must be at least 1") }
        guard settings.keepInMemory >= 0, settings.keepDays >= 1 else { throw ValidationError("keep-in-memory must be ≥ 0 and keep-days ≥ 1") }
        if let clusterBind = settings.clusterBind, MemberAddress(clusterBind) == nil {
            throw ValidationError("cluster-bind \(clusterBind): expected HOST:PORT with a numeric IP")
        }
        guard (0...250).contains(settings.agents) else { throw ValidationError("agents must be in 0…250") }
        if let healInterval = settings.healInterval, healInterval <= 0 { throw ValidationError("heal-interval must be positive") }
        if let agentWorkers = settings.agentWorkers, !(1...4096).contains(agentWorkers) { throw ValidationError("agent-workers must be in 1…4096") }
        let clustered = settings.clusterBind != nil || settings.agents > 0
        if clustered, settings.keyFile == nil { throw ValidationError("cluster-bind and agents need a key-file") }
        if !settings.localNodes && !clustered { throw ValidationError("no local nodes needs agents: give cluster-bind or agents") }
        if !settings.nodeSources.isEmpty && !clustered { throw ValidationError("nodeSources need a cluster for their agents to join: give clusterBind and keyFile") }
    }

    /// The host and port of `--listen`.
    func address(_ listen: String) throws -> (host: String, port: Int) {
        guard let colon = listen.lastIndex(of: ":"), let port = Int(listen[listen.index(after: colon)...]), (0...65535).contains(port) else {
            throw ValidationError("--listen expects HOST:PORT, got '\(listen)'")
        }
        var host = String(listen[..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard !host.isEmpty else { throw ValidationError("--listen expects HOST:PORT, got '\(listen)'") }
        return (host, port)
    }

    func run() async throws {
        let resolved = try settings()
        let (data, users, nodes, keepInMemory, keepDays, durability) = (
            resolved.data, resolved.users, resolved.nodes, resolved.keepInMemory, resolved.keepDays, resolved.durability)
        ProcessReaper.start()
        var logger = Logger(label: "tessera.serve")
        logger.logLevel = resolved.logLevel
        let (host, port) = try address(resolved.listen)
        let userList: Users?
        if let users {
            do {
                userList = try Users(contentsOfFile: users)
            } catch {
                FileHandle.standardError.write(Data("tessera serve: \(error)\n".utf8))
                throw ExitCode(2)
            }
        } else {
            guard ServeCommand.isLoopback(host) else {
                FileHandle.standardError.write(Data("tessera serve: without --users the server listens on loopback only; \(host) is not loopback\n".utf8))
                throw ExitCode(2)
            }
            logger.notice("no users file: listening on loopback only, every client is the local administrator")
            userList = nil
        }
        let metrics = GridMetrics.bootstrap()
        var settings = GridSettings()
        settings.nodes = nodes
        settings.oversubscribe = nodes != nil
        settings.localNodes = resolved.localNodes
        settings.dataDirectory = URL(fileURLWithPath: data).standardizedFileURL.path
        settings.workingDirectory = settings.dataDirectory + "/work"
        settings.journal = true
        settings.journalDurability = durability
        settings.removeEndedJobsAfter = .seconds(keepInMemory)
        settings.logger = logger
        settings.limits = resolved.limits
        if let userList, let users {
            let taskRoot = resolved.taskRoot.map { URL(fileURLWithPath: $0).standardizedFileURL.path } ?? settings.dataDirectory + ".tasks"
            do {
                settings.isolation = try ServeIsolation.make(
                    users: userList, usersFile: users, keyFile: resolved.keyFile, data: settings.dataDirectory, taskRoot: taskRoot,
                    range: resolved.taskUIDs, resources: resolved.taskLimits)
            } catch {
                FileHandle.standardError.write(Data("tessera serve: \(error)\n".utf8))
                throw ExitCode(2)
            }
            logger.notice("tasks isolated", metadata: [
                "grid.task.root": "\(taskRoot)",
                "grid.task.accounts": "\(settings.isolation?.accounts.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value.uid)" }.joined(separator: ",") ?? "")",
                "grid.task.cgroups": "\(settings.isolation?.cgroups?.summary ?? "none")",
            ])
        }
        try FileManager.default.createDirectory(atPath: settings.workingDirectory, withIntermediateDirectories: true)
        let functions = FunctionRegistry()
        BuiltinFunctions.register(in: functions)
        let started = ContinuousClock.now
        let grid: Grid
        do {
            grid = try await Grid.start(settings: settings, functions: functions)
        } catch {
            FileHandle.standardError.write(Data("tessera serve: \(error)\n".utf8))
            throw ExitCode(1)
        }
        let recovered = await grid.jobSummaries().count
        logger.info("grid ready", metadata: [
            "grid.recovered": "\(recovered)", "grid.start.ms": "\(Int64(milliseconds(ContinuousClock.now - started).rounded()))",
        ])
        let purged = (try? grid.journal?.purge(endedBefore: grid.settings.wallClock().addingTimeInterval(-Double(keepDays) * 86_400))) ?? 0
        if purged > 0 { logger.info("journal purged", metadata: ["grid.jobs": "\(purged)"]) }

        let descriptors = ServeCommand.raiseDescriptorLimit()
        let headerTimeout = resolved.headerTimeout
        logger.info("descriptors", metadata: ["serve.descriptors": "\(descriptors)"])
        let streams = EventBroadcaster(grid: grid, perUser: resolved.maxStreamsPerUser)
        var api = RESTAPI(grid: grid, users: userList, metrics: metrics)
        api.streams = streams
        let history = NodeHistory(grid: grid)
        api.history = history
        let dataPath = settings.dataDirectory
        // Each connection fits under the descriptors, with room for the journal, logs, tasks' pipes and agents.
        let budget = DescriptorBudget(descriptors: descriptors, maxConnections: resolved.maxConnections)
        let limiter = ConnectionLimiter(total: budget.answered, perAddress: resolved.maxConnectionsPerAddress)
        let app = Application(
            router: api.router(),
            server: .http1(configuration: .init(
                additionalChannelHandlers: [ConnectionGuard(limiter: limiter, headTimeout: .milliseconds(Int64(headerTimeout * 1000)))],
                idleTimeout: .seconds(120))),
            configuration: .init(
                address: .hostname(host, port: port), serverName: "tessera",
                // Past the connections answered (503 beyond them), accepting waits for one to close.
                availableConnectionsDelegate: MaximumAvailableConnections(budget.accepted, logger: logger)),
            onServerRunning: { channel in
                // One line a supervisor (or a test) can wait for: where to connect.
                let bound = channel.localAddress.map { "\($0.ipAddress ?? host):\($0.port ?? port)" } ?? "\(host):\(port)"
                FileHandle.standardOutput.write(Data("tessera serve: listening on http://\(bound) (data \(dataPath))\n".utf8))
            },
            logger: logger)
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = [.init(service: history)]
        let agents = resolved.agents
        if resolved.clusterBind != nil || agents > 0, let keyFile = resolved.keyFile {
            let keyRing: KeyRing
            do {
                keyRing = try KeyRing.load(path: keyFile)
            } catch {
                FileHandle.standardError.write(Data("tessera serve: --key-file \(keyFile): \(error)\n".utf8))
                throw ExitCode(2)
            }
            var random = SystemRandomNumberGenerator()
            let bind = resolved.clusterBind.flatMap(MemberAddress.init) ?? MemberAddress("127.0.0.1:0") ?? .unknown
            let clusterId = resolved.clusterId
            // The hosts managed sources had before a restart: the new member joins them, so that their agents find it.
            let seeds = NodeSourceManager.journaledAddresses(grid.journal).compactMap(MemberAddress.init)
            var configuration = ClusterMember.Configuration(
                id: Cluster.NodeID.random(using: &random), bind: bind, seeds: seeds, clusterID: clusterId, keyRing: keyRing, seed: random.next())
            if let healInterval = resolved.healInterval { configuration.settings.healInterval = .milliseconds(Int64(healInterval * 1000)) }
            configuration.transport.maxConnections = budget.cluster
            let member = ClusterMember(configuration: configuration, logger: logger)
            let shared = resolved.sharedDir ?? (agents > 0 ? dataPath + "/shared" : nil)
            let source = grid.agentNodeSource(member: member, processes: agents, sharedDirectory: shared)
            services.append(.init(service: member))
            services.append(.init(service: ClusterAnnouncement(member: member, source: source)))
            services.append(.init(service: ManagedNodeSources(
                grid: grid, member: member, keyFile: keyFile, clusterID: clusterId, dataDirectory: dataPath, sharedDirectory: shared,
                taskRoot: settings.isolation?.taskRoot, logLevel: resolved.logLevel, configured: resolved.nodeSources)))
            if agents > 0 {
                services.append(.init(service: AgentProcesses(
                    count: agents, workers: resolved.agentWorkers, member: member, keyFile: keyFile, clusterID: clusterId, dataDirectory: dataPath,
                    sharedDirectory: shared ?? dataPath + "/shared", taskRoot: settings.isolation?.taskRoot, logLevel: resolved.logLevel,
                    logger: logger)))
            }
        }
        let group = ServiceGroup(
            configuration: .init(
                // Shut down in reverse order: the event streams end first (the HTTP server waits for its open
                // requests, and a stream never ends on its own), then the HTTP server stops accepting, then the grid
                // stops (releasing the managed sources' hosts), then agent processes, then the cluster member leaves.
                services: services + [
                    .init(service: GridService(grid: grid, keepDays: keepDays, logger: logger)), .init(service: app), .init(service: streams),
                ],
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger))
        try await group.run()
        logger.info("stopped")
    }
}
