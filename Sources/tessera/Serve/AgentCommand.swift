import ArgumentParser
import Cluster
import Foundation
import Glibc
import Grid
import GridWorkloads
import Logging
import ServiceLifecycle
import UnixSignals

/// `tessera agent`: a host of the grid. It joins the cluster, offers its cores as nodes, and runs the tasks the
/// scheduler sends it.
struct AgentCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "agent",
        abstract: "Join a grid's cluster and run its tasks on this host's cores.",
        discussion: """
            The scheduler (`tessera serve --cluster-bind …`) links to the agent once it has joined, over TCP on the \
            agent's cluster port, authenticated with the cluster's key ring. Functions are called by name: the \
            agent is the same binary, so it has the same built-in functions. When the link closes, the agent kills \
            what it was running (the scheduler runs it again elsewhere). SIGTERM or SIGINT: leave the cluster and exit.
            """
    )

    @Option(help: "The scheduler's cluster address (its --cluster-bind), HOST:PORT.") var join: String
    @Option(help: "Address to listen on and announce, HOST:PORT (port 0 picks one); default: the address that reaches --join, port 0.")
    var bind: String?
    @Option(help: "Key file: one `ID HEX64` per line, the first one signs (the same ring as the scheduler's).") var keyFile: String
    @Option(help: "Nodes to offer (default: one per core).") var workers: Int?
    @Option(help: "Labels tasks may select, k=v,… (or plain names).") var labels: String?
    @Option(help: "A node access token: only tasks with this token run here.") var token: String?
    @Option(help: "Where task logs and per-execution files go; default a directory under /tmp.") var data: String?
    @Option(help: "The cluster's id (must match the scheduler's).") var clusterId: UInt64 = ServeCommand.defaultClusterID
    @Option(help: "trace, debug, info (the default), notice, warning, error or critical.") var logLevel: Logger.Level = .info
    @Option(help: "A directory every host shares (same path): values over 1 MiB between hosts travel as files there.")
    var sharedDir: String?
    @Option(help: "With a multi-user scheduler (run as root): where its users' tasks get their private folders (default DATA.tasks; every folder above it must be o+x).")
    var taskRoot: String?
    @Flag(help: "Do not pin worker threads to cores (several agents on one machine).") var noBind = false
    @Flag(help: .hidden) var exitWithParent = false
    @Option(help: "Stop (gracefully) after this many seconds without a scheduler link: a node source's agent whose server died and never came back leaves nothing running for long.")
    var exitWhenUnlinked: Double?
    @Option(help: "Seconds between the membership's partition-healing exchanges (default 30).") var healInterval: Double?
    @Option(help: "Seconds to wait for an answer from the cluster before giving up (a wrong key or cluster id goes unanswered); default 10.")
    var joinTimeout: Double = 10

    func validate() throws {
        guard MemberAddress(join) != nil else { throw ValidationError("--join \(join): expected HOST:PORT with a numeric IP") }
        if let bind, MemberAddress(bind) == nil { throw ValidationError("--bind \(bind): expected HOST:PORT with a numeric IP") }
        if let workers, !(1...4096).contains(workers) { throw ValidationError("--workers must be in 1…4096") }
        if let healInterval, healInterval <= 0 { throw ValidationError("--heal-interval must be positive") }
        guard joinTimeout > 0, joinTimeout <= 3600 else { throw ValidationError("--join-timeout must be in (0, 3600] seconds") }
        if let exitWhenUnlinked, !(exitWhenUnlinked > 0 && exitWhenUnlinked <= 86_400) {
            throw ValidationError("--exit-when-unlinked must be in (0, 86400] seconds")
        }
    }

    func run() async throws {
        let keyRing = try loadKeyRing(keyFile)
        ProcessReaper.start()
        var logger = Logger(label: "tessera.agent")
        logger.logLevel = logLevel
        guard let seed = MemberAddress(join) else { throw ValidationError("--join \(join): expected HOST:PORT") }
        let bindAddress: MemberAddress
        if let bind, let parsed = MemberAddress(bind) {
            bindAddress = parsed
        } else if let local = Self.localAddress(reaching: seed) {
            bindAddress = local
        } else {
            throw ValidationError("cannot tell which local address reaches \(join): give --bind HOST:PORT")
        }
        var random = SystemRandomNumberGenerator()
        let id = NodeID.random(using: &random)
        let links = LinkAcceptor(identity: id, clusterID: clusterId, keyRing: keyRing, logger: logger)
        var configuration = ClusterMember.Configuration(
            id: id, bind: bindAddress, seeds: [seed], clusterID: clusterId, keyRing: keyRing, seed: random.next())
        configuration.links = links
        if let healInterval { configuration.settings.healInterval = .milliseconds(Int64(healInterval * 1000)) }
        let member = ClusterMember(configuration: configuration, logger: logger)

        var settings = AgentSettings()
        settings.workers = workers
        settings.labels = Set((labels ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty })
        settings.token = token
        // A managed node source passes its token in the environment (not on the command line, which others can read).
        settings.joinToken = ProcessInfo.processInfo.environment["TESSERA_JOIN_TOKEN"].flatMap { $0.isEmpty ? nil : $0 }
        // Read once, then out of the environment: the tasks this agent runs never see it.
        unsetenv("TESSERA_JOIN_TOKEN")
        settings.bindThreads = !noBind
        settings.dataDirectory = data ?? (FileManager.default.temporaryDirectory.path + "/tessera-agent-\(ProcessInfo.processInfo.processIdentifier)")
        settings.workingDirectory = settings.dataDirectory + "/work"
        settings.sharedDirectory = sharedDir
        settings.taskRoot = taskRoot
        settings.logger = logger
        try FileManager.default.createDirectory(atPath: settings.workingDirectory, withIntermediateDirectories: true)
        // A folder the agent made for itself goes with it (one given with --data is the operator's).
        let ownFolder = data == nil ? settings.dataDirectory : nil
        defer {
            if let ownFolder {
                try? FileManager.default.removeItem(atPath: ownFolder)
                try? FileManager.default.removeItem(atPath: ownFolder + ".tasks")
            }
        }
        let functions = FunctionRegistry()
        BuiltinFunctions.register(in: functions)
        if exitWithParent { Self.exitWithParent() }
        Self.giveUpUnanswered(member, join: join, after: joinTimeout, ownFolder: ownFolder)
        var service = AgentService(member: member, links: links, settings: settings, functions: functions, logger: logger)
        service.exitWhenUnlinked = exitWhenUnlinked
        let group = ServiceGroup(configuration: .init(
            services: [.init(service: member), .init(service: service)], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
    }

    /// Stops the agent (SIGTERM to itself, a graceful stop) once the process that started it is gone: an agent
    /// process started by `tessera serve --agents` never outlives its server, even one killed with SIGKILL.
    static func exitWithParent() {
        let parent = getppid()
        Task.detached {
            while getppid() == parent { try? await Task.sleep(for: .milliseconds(250)) }
            kill(getpid(), SIGTERM)
        }
    }

    /// Exits with status 3 when, `seconds` after the start, no other member of the cluster has answered: a key ring or
    /// a cluster id that differs from the scheduler's makes every packet go unanswered (they are refused unread), and
    /// an agent that only says "listening" would wait for ever.
    static func giveUpUnanswered(_ member: ClusterMember, join: String, after seconds: Double, ownFolder: String?) {
        let own = member.configuration.id
        Task.detached {
            try? await Task.sleep(for: .milliseconds(Int64(seconds * 1000)))
            let others = await member.view().filter { $0.id != own && ($0.status == .alive || $0.status == .suspect) }
            guard others.isEmpty else { return }
            let message = "tessera agent: no member of the cluster at \(join) answered in \(seconds) s: the key file or "
                + "--cluster-id probably differs from the scheduler's (its packets are refused unread), or \(join) is not reachable\n"
            FileHandle.standardError.write(Data(message.utf8))
            if let ownFolder { try? FileManager.default.removeItem(atPath: ownFolder) }
            Glibc.exit(3)
        }
    }

    /// The local address the system would use to reach `target` (a UDP socket connected to it, never sending).
    static func localAddress(reaching target: MemberAddress) -> MemberAddress? {
        guard target.family == .ipv4 else { return nil }
        let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var remote = sockaddr_in()
        remote.sin_family = sa_family_t(AF_INET)
        remote.sin_port = target.port.bigEndian
        remote.sin_addr.s_addr = UInt32(truncatingIfNeeded: target.low).bigEndian
        let connected = withUnsafePointer(to: &remote) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { return nil }
        var local = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let named = withUnsafeMutablePointer(to: &local) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        guard named == 0 else { return nil }
        return MemberAddress(ipv4: UInt32(bigEndian: local.sin_addr.s_addr), port: 0)
    }
}

/// The agent's workers as a service: starts them once the member listens, serves the scheduler's links, and
/// on shutdown closes them (running tasks are killed; the scheduler re-runs them elsewhere).
struct AgentService: Service {
    let member: ClusterMember
    let links: LinkAcceptor
    let settings: AgentSettings
    let functions: FunctionRegistry
    let logger: Logger
    /// Stop after this long without a scheduler link (`--exit-when-unlinked`).
    var exitWhenUnlinked: Double?

    func run() async throws {
        let address = await member.listening()
        var settings = self.settings
        settings.address = address.description
        let agent: GridAgent
        do {
            agent = try GridAgent(settings: settings, functions: functions)
        } catch {
            FileHandle.standardError.write(Data("tessera agent: \(error)\n".utf8))
            throw ExitCode(1)
        }
        // One line a supervisor (or a test) can wait for.
        FileHandle.standardOutput.write(Data(
            "tessera agent: \(member.configuration.id) listening on \(address), \(agent.resources.workers) workers (data \(settings.dataDirectory))\n".utf8))
        let links = self.links
        if let exitWhenUnlinked {
            let logger = self.logger
            Task.detached {
                // Wall-clock seconds: the server it served is gone, nothing else to wait on.
                var unlinked = 0.0
                while true {
                    try? await Task.sleep(for: .seconds(1))
                    unlinked = agent.linkedSessions == 0 ? unlinked + 1 : 0
                    if unlinked >= exitWhenUnlinked {
                        logger.notice("no scheduler link: stopping", metadata: ["agent.unlinked.seconds": "\(Int(unlinked))"])
                        kill(getpid(), SIGTERM)
                        return
                    }
                }
            }
        }
        await withGracefulShutdownHandler {
            await agent.serve(links.links)
        } onGracefulShutdown: {
            links.finish()
            agent.shutdown()
        }
        agent.shutdown()
        logger.info("agent stopped")
    }
}
