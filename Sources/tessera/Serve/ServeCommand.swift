import ArgumentParser
import Foundation
import Grid
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle
import UnixSignals

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

    @Option(help: "The data directory (journal, logs, results).")
    var data: String = ServeCommand.defaultDataDirectory

    @Option(help: "Address and port to listen on (port 0 picks a free one).")
    var listen: String = "127.0.0.1:8080"

    @Option(help: "The users file: one 'NAME ROLE TOKEN' per line, ROLE user or admin.")
    var users: String?

    @Option(help: "Local nodes (default: one per core, one core kept for the grid when there are more than 2).")
    var nodes: Int?

    @Option(help: "Seconds an ended job stays in memory (it stays queryable from the journal).")
    var keepInMemory: Int = 60

    @Option(help: "Days an ended job stays in the journal.")
    var keepDays: Int = 30

    @Option(help: "normal (survives a killed process) or full (also a power loss: an fsync per commit).")
    var durability: String = "normal"

    @Option(help: "trace, debug, info, notice, warning, error or critical.")
    var logLevel: String = "info"

    static var defaultDataDirectory: String {
        let base = ProcessInfo.processInfo.environment["XDG_DATA_HOME"]
            ?? (FileManager.default.homeDirectoryForCurrentUser.path + "/.local/share")
        return base + "/tessera"
    }

    func validate() throws {
        _ = try address()
        if let nodes, nodes < 1 { throw ValidationError("--nodes must be at least 1") }
        guard keepInMemory >= 0, keepDays >= 1 else { throw ValidationError("--keep-in-memory must be ≥ 0 and --keep-days ≥ 1") }
        guard Journal.Durability(rawValue: durability) != nil else { throw ValidationError("--durability is normal or full") }
        guard Logger.Level(rawValue: logLevel) != nil else { throw ValidationError("unknown --log-level '\(logLevel)'") }
    }

    /// The host and port of `--listen`.
    func address() throws -> (host: String, port: Int) {
        guard let colon = listen.lastIndex(of: ":"), let port = Int(listen[listen.index(after: colon)...]), (0...65535).contains(port) else {
            throw ValidationError("--listen expects HOST:PORT, got '\(listen)'")
        }
        var host = String(listen[..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard !host.isEmpty else { throw ValidationError("--listen expects HOST:PORT, got '\(listen)'") }
        return (host, port)
    }

    func run() async throws {
        var logger = Logger(label: "tessera.serve")
        logger.logLevel = Logger.Level(rawValue: logLevel) ?? .info
        let (host, port) = try address()
        let userList: Users?
        if let users {
            do {
                userList = try Users(contentsOfFile: users)
            } catch {
                FileHandle.standardError.write(Data("tessera serve: \(error)\n".utf8))
                throw ExitCode(2)
            }
        } else {
            guard ["127.0.0.1", "::1", "localhost"].contains(host) else {
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
        settings.dataDirectory = URL(fileURLWithPath: data).standardizedFileURL.path
        settings.workingDirectory = settings.dataDirectory + "/work"
        settings.journal = true
        settings.journalDurability = Journal.Durability(rawValue: durability) ?? .normal
        settings.removeEndedJobsAfter = .seconds(keepInMemory)
        settings.logger = logger
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
            "grid.recovered": "\(recovered)", "grid.start.ms": "\((ContinuousClock.now - started).components.attoseconds / 1_000_000_000_000_000)",
        ])
        let purged = (try? grid.journal?.purge(endedBefore: Date().addingTimeInterval(-Double(keepDays) * 86_400))) ?? 0
        if purged > 0 { logger.info("journal purged", metadata: ["grid.jobs": "\(purged)"]) }

        let api = RESTAPI(grid: grid, users: userList, metrics: metrics)
        let dataPath = settings.dataDirectory
        let app = Application(
            router: api.router(),
            configuration: .init(address: .hostname(host, port: port), serverName: "tessera"),
            onServerRunning: { channel in
                // One line a supervisor (or a test) can wait for: where to connect.
                let bound = channel.localAddress.map { "\($0.ipAddress ?? host):\($0.port ?? port)" } ?? "\(host):\(port)"
                FileHandle.standardOutput.write(Data("tessera serve: listening on http://\(bound) (data \(dataPath))\n".utf8))
            },
            logger: logger)
        let group = ServiceGroup(
            configuration: .init(
                // Shut down in reverse order: the HTTP server stops accepting first, then the grid stops.
                services: [.init(service: GridService(grid: grid, keepDays: keepDays, logger: logger)), .init(service: app)],
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger))
        try await group.run()
        logger.info("stopped")
    }
}

/// The grid as a service: it runs until the group shuts down, purging old ended jobs once a day, then stops
/// the grid (running tasks are stopped and queued again on the next start; the journal is flushed).
struct GridService: Service {
    let grid: Grid
    let keepDays: Int
    let logger: Logger

    func run() async throws {
        let grid = self.grid
        let keepDays = self.keepDays
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            do {
                try await cancelWhenGracefulShutdown { try await Task.sleep(for: .seconds(86_400)) }
            } catch {
                break
            }
            _ = try? grid.journal?.purge(endedBefore: Date().addingTimeInterval(-Double(keepDays) * 86_400))
        }
        logger.info("stopping the grid")
        await grid.shutdown()
    }
}
