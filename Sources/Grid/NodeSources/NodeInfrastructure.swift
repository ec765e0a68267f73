import Foundation
import Glibc

/// How a managed node source gets and gives back hosts: the thin shell around a real infrastructure (processes
/// on this machine, an operator's scripts for VMs, SSH or a cloud's scale sets). ``ElasticSourceCore`` decides;
/// this does.
public protocol NodeInfrastructure: Sendable {
    /// Starts one host whose agent joins with `host.token`; returns what the infrastructure calls it (a pid, a VM
    /// id), or `nil` when it names it by `host.name` alone. `count` is how many hosts the source holds with it.
    func acquire(_ host: ElasticSourceCore.Host, count: Int) async throws(InfrastructureError) -> String?
    /// Stops a host (idempotent: a host already gone is not an error).
    func release(_ host: ElasticSourceCore.Host) async throws(InfrastructureError)
    /// The hosts that exist now, name → handle (empty when it has none), or `nil` when it cannot tell.
    func list() async throws(InfrastructureError) -> [String: String]?
}

/// Why an infrastructure could not do what it was asked.
public enum InfrastructureError: Error, Sendable, Hashable, CustomStringConvertible {
    /// A command exited with a non-zero status.
    case commandFailed(command: String, status: Int32, stderr: String)
    /// A command ran past its time and was killed.
    case commandTimedOut(command: String, after: Duration)
    /// A process could not start.
    case startFailed(String)

    public var description: String {
        switch self {
        case .commandFailed(let command, let status, let stderr):
            "\(command) exited with status \(status)\(stderr.isEmpty ? "" : ": \(stderr)")"
        case .commandTimedOut(let command, let after): "\(command) ran past \(after) and was killed"
        case .startFailed(let why): "cannot start: \(why)"
        }
    }
}

/// What every infrastructure needs to start an agent that joins this grid.
public struct AgentLaunch: Sendable {
    /// The `tessera` executable agents run.
    public var executable: String
    /// The grid's cluster address (`--join`).
    public var join: String
    public var keyFile: String
    public var clusterID: UInt64
    /// Where each source keeps its hosts' folders (`DATA/sources`).
    public var directory: String
    public var sharedDirectory: String?
    /// The grid's task root when it isolates users' tasks.
    public var taskRoot: String?
    public var logLevel: String

    public init(
        executable: String, join: String, keyFile: String, clusterID: UInt64, directory: String, sharedDirectory: String?, taskRoot: String?,
        logLevel: String
    ) {
        self.executable = executable
        self.join = join
        self.keyFile = keyFile
        self.clusterID = clusterID
        self.directory = directory
        self.sharedDirectory = sharedDirectory
        self.taskRoot = taskRoot
        self.logLevel = logLevel
    }

    /// `tessera agent`'s arguments for a host; it stops by itself after `orphanTimeout` without a scheduler link.
    func arguments(source: String, host: ElasticSourceCore.Host, bind: String, workers: Int, orphanTimeout: Duration) -> [String] {
        var arguments = [
            "agent", "--join", join, "--bind", bind, "--key-file", keyFile, "--cluster-id", String(clusterID),
            "--data", "\(directory)/\(source)/\(host.name)", "--workers", String(workers), "--log-level", logLevel, "--no-bind",
            "--exit-when-unlinked", String(max(1, orphanTimeout.components.seconds)),
        ]
        if let sharedDirectory { arguments += ["--shared-dir", sharedDirectory] }
        if let taskRoot { arguments += ["--task-root", "\(taskRoot)/sources/\(source)/\(host.name)"] }
        return arguments
    }
}

/// `processes`: each host is a `tessera agent` process on this machine, on a loopback address of its own, with
/// `nodesPerHost` workers. Its pid is its handle, kept in its folder (`DATA/sources/SOURCE/HOST/pid`); the folder's
/// path is in its command line, so that a pid reused by another program is never taken for it. Agents outlive a
/// killed server (the restart adopts or releases them) and are stopped on release: SIGTERM, then SIGKILL after 10 s.
public struct ProcessesInfrastructure: NodeInfrastructure {
    public let source: String
    public let nodesPerHost: Int
    public let launch: AgentLaunch
    /// An agent stops by itself after this long without a scheduler link: a server killed and not restarted within it
    /// leaves nothing running.
    public let orphanTimeout: Duration

    public init(source: String, nodesPerHost: Int, launch: AgentLaunch, orphanTimeout: Duration = .seconds(600)) {
        self.source = source
        self.nodesPerHost = nodesPerHost
        self.launch = launch
        self.orphanTimeout = orphanTimeout
    }

    private var folder: String { "\(launch.directory)/\(source)" }

    /// A loopback address for the host: 127.X.Y.Z, X from the source's name, Y.Z from the host's number.
    func bindAddress(_ host: ElasticSourceCore.Host) -> String {
        var hash: UInt32 = 2_166_136_261
        for byte in source.utf8 { hash = (hash ^ UInt32(byte)) &* 16_777_619 }
        return "127.\(10 + hash % 200).\(host.id / 250 % 250).\(host.id % 250 + 2):0"
    }

    public func acquire(_ host: ElasticSourceCore.Host, count: Int) async throws(InfrastructureError) -> String? {
        let directory = "\(folder)/\(host.name)"
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw .startFailed("cannot make \(directory): \(error)")
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: launch.executable)
        process.arguments = launch.arguments(
            source: source, host: host, bind: bindAddress(host), workers: nodesPerHost, orphanTimeout: orphanTimeout)
        var environment = ProcessInfo.processInfo.environment
        // The token in the environment, not on the command line that every local user can read.
        environment["TESSERA_JOIN_TOKEN"] = host.token
        process.environment = environment
        process.standardOutput = FileHandle.nullDevice
        _ = FileManager.default.createFile(atPath: directory + "/agent.log", contents: nil)
        let log = FileHandle(forWritingAtPath: directory + "/agent.log")
        process.standardError = log ?? FileHandle.nullDevice
        do {
            try process.run()
        } catch {
            throw .startFailed("\(launch.executable): \(error)")
        }
        let pid = process.processIdentifier
        try? String(pid).write(toFile: directory + "/pid", atomically: true, encoding: .utf8)
        return String(pid)
    }

    public func release(_ host: ElasticSourceCore.Host) async throws(InfrastructureError) {
        let directory = "\(folder)/\(host.name)"
        let pid = host.handle.flatMap { Int32($0) } ?? (try? String(contentsOfFile: directory + "/pid", encoding: .utf8)).flatMap { Int32($0) }
        if let pid, Self.isAgent(pid, folder: directory) {
            kill(pid, SIGTERM)
            // A graceful stop takes well under a second; past 10 s (by the clock, however loaded the machine) it is
            // killed.
            let deadline = ContinuousClock.now + .seconds(10)
            while Self.isAgent(pid, folder: directory) && ContinuousClock.now < deadline { try? await Task.sleep(for: .milliseconds(50)) }
            if Self.isAgent(pid, folder: directory) { kill(pid, SIGKILL) }
        }
        try? FileManager.default.removeItem(atPath: directory)
    }

    public func list() async throws(InfrastructureError) -> [String: String]? {
        // The agents running now, found by their command lines (a pid file may not be written yet when the server
        // died right after starting one).
        var hosts: [String: String] = [:]
        let prefix = folder + "/"
        for entry in (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? [] {
            guard let pid = Int32(entry), let data = FileManager.default.contents(atPath: "/proc/\(entry)/cmdline") else { continue }
            let arguments = data.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
            guard arguments.count > 1, arguments[1] == "agent", let index = arguments.firstIndex(of: "--data"), index + 1 < arguments.count,
                arguments[index + 1].hasPrefix(prefix), Self.isAgent(pid, folder: arguments[index + 1])
            else { continue }
            let name = String(arguments[index + 1].dropFirst(prefix.count))
            // An agent's reaper is a fork of it with the same command line: the lowest pid is the agent.
            if let known = hosts[name].flatMap(Int32.init), known < pid { continue }
            hosts[name] = String(pid)
        }
        // Folders of agents that are gone go with them (not one made in the last minute: its agent may be starting).
        let now = Date()
        for name in (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? [] where hosts[name] == nil {
            let path = "\(folder)/\(name)"
            let made = (try? FileManager.default.attributesOfItem(atPath: path)[.modificationDate] as? Date) ?? now
            if now.timeIntervalSince(made) > 60 { try? FileManager.default.removeItem(atPath: path) }
        }
        return hosts
    }

    /// Whether `pid` is alive and is the agent whose folder is `folder` (its command line names it), not a zombie.
    static func isAgent(_ pid: Int32, folder: String) -> Bool {
        guard pid > 0, let data = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline") else { return false }
        if let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = stat.lastIndex(of: ")"), stat[stat.index(after: close)...].trimmingCharacters(in: .whitespaces).hasPrefix("Z")
        {
            return false
        }
        let arguments = data.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
        return arguments.contains(folder)
    }
}

/// `command`: an operator's commands, run by `/bin/sh -c` with placeholders replaced by shell-quoted values.
///
/// - `acquire` starts one host whose agent joins with `{join}`, `{token}` (also `$TESSERA_JOIN_TOKEN`), `{keyFile}` and
///   `{nodesPerHost}` workers; `{name}` is the host's name, `{count}` the hosts the source holds with it (a scale
///   set's new capacity). The first line it prints, if any, is the host's handle. What it starts in the background
///   outlives it (a command that runs past its timeout has its whole process group killed); a local agent should
///   get a session of its own (`setsid`), so that the server's own stop signals do not reach it.
/// - `release` stops `{name}` (its handle is `{handle}`); a host already gone is not an error for it.
/// - `list` prints one line per host that exists: `NAME [HANDLE]`.
///
/// Each command has `timeout` to end (default: the source's deployment timeout), then its process group is killed.
public struct CommandInfrastructure: NodeInfrastructure {
    public let source: String
    public let acquireCommand: String
    public let releaseCommand: String
    public let listCommand: String?
    public let nodesPerHost: Int
    public let launch: AgentLaunch
    public let timeout: Duration
    public let clock: any GridClock

    public init(
        source: String, acquire: String, release: String, list: String?, nodesPerHost: Int, launch: AgentLaunch, timeout: Duration,
        clock: any GridClock
    ) {
        self.source = source
        self.acquireCommand = acquire
        self.releaseCommand = release
        self.listCommand = list
        self.nodesPerHost = nodesPerHost
        self.launch = launch
        self.timeout = timeout
        self.clock = clock
    }

    private var folder: String { "\(launch.directory)/\(source)" }

    /// `command` with its placeholders replaced, each value in single quotes.
    func expand(_ command: String, host: ElasticSourceCore.Host?, count: Int) -> String {
        let values: [String: String] = [
            "name": host?.name ?? "", "count": String(count), "join": launch.join, "token": host?.token ?? "", "keyFile": launch.keyFile,
            "nodesPerHost": String(nodesPerHost), "handle": host?.handle ?? "", "source": source,
        ]
        var result = ""
        var rest = Substring(command)
        while let open = rest.firstIndex(of: "{") {
            result += rest[..<open]
            let shell = open > rest.startIndex && rest[rest.index(before: open)] == "$"
            guard !shell, let close = rest[open...].firstIndex(of: "}"), let value = values[String(rest[rest.index(after: open)..<close])] else {
                result.append("{")
                rest = rest[rest.index(after: open)...]
                continue
            }
            result += "'" + value.replacingOccurrences(of: "'", with: "'\\''") + "'"
            rest = rest[rest.index(after: close)...]
        }
        return result + rest
    }

    public func acquire(_ host: ElasticSourceCore.Host, count: Int) async throws(InfrastructureError) -> String? {
        let output = try await run("acquire", acquireCommand, host: host, count: count, timeout: timeout)
        return output.split(separator: "\n").first.map { $0.trimmingCharacters(in: .whitespaces) }.flatMap { $0.isEmpty ? nil : $0 }
    }

    public func release(_ host: ElasticSourceCore.Host) async throws(InfrastructureError) {
        _ = try await run("release", releaseCommand, host: host, count: 0, timeout: max(timeout, Self.longestCall))
    }

    /// Release and list take up to this (or the deployment timeout, when longer).
    public static let longestCall: Duration = .seconds(120)

    public func list() async throws(InfrastructureError) -> [String: String]? {
        guard let listCommand else { return nil }
        let output = try await run("list", listCommand, host: nil, count: 0, timeout: max(timeout, Self.longestCall))
        var hosts: [String: String] = [:]
        for line in output.split(separator: "\n").prefix(100_000) {
            let fields = line.split(separator: " ", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            // This source's hosts only (`SOURCE-N`): a shared script may list other sources' hosts too.
            guard let name = fields.first, name.hasPrefix(source + "-"), name.dropFirst(source.count + 1).allSatisfy(\.isNumber),
                name.count > source.count + 1
            else { continue }
            hosts[name] = fields.count > 1 ? fields[1] : ""
        }
        return hosts
    }

    private func run(
        _ what: String, _ command: String, host: ElasticSourceCore.Host?, count: Int, timeout: Duration
    ) async throws(InfrastructureError) -> String {
        try? FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let stamp = UInt64.random(in: 0...UInt64.max)
        let out = "\(folder)/.\(what)-\(stamp).out"
        let err = "\(folder)/.\(what)-\(stamp).err"
        defer {
            try? FileManager.default.removeItem(atPath: out)
            try? FileManager.default.removeItem(atPath: err)
        }
        var environment = ProcessInfo.processInfo.environment
        environment["TESSERA_JOIN_TOKEN"] = host?.token ?? ""
        environment["TESSERA_SOURCE"] = source
        // The command goes in a file only this account reads, not on a command line every local user (and every
        // user's task) can read: it may hold an operator's secrets, and the join token.
        let script = "\(folder)/.\(what)-\(stamp).sh"
        defer { try? FileManager.default.removeItem(atPath: script) }
        guard FileManager.default.createFile(atPath: script, contents: Data(expand(command, host: host, count: count).utf8), attributes: [.posixPermissions: 0o600])
        else { throw .startFailed("cannot write \(script)") }
        let run = await ProcessLauncher.run(
            ["/bin/sh", script], environment: environment, workingDirectory: folder, stdout: out, stderr: err, walltime: timeout,
            clock: clock, logQuota: 1 << 20, keepsLeftovers: true, started: { _ in })
        let stdout = (try? String(contentsOfFile: out, encoding: .utf8)) ?? ""
        let stderr = String(((try? String(contentsOfFile: err, encoding: .utf8)) ?? "").suffix(2000)).trimmingCharacters(in: .whitespacesAndNewlines)
        switch run.exit {
        case .exited(0): return stdout
        case .exited(let status): throw .commandFailed(command: "the \(what) command", status: status, stderr: stderr)
        case .walltimeExceeded: throw .commandTimedOut(command: "the \(what) command", after: timeout)
        case .spawnFailed(let errno): throw .startFailed("/bin/sh: errno \(errno)")
        case .confinementFailed(let why): throw .startFailed(why)
        }
    }
}
