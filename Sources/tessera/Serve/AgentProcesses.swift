import Cluster
import Foundation
import Logging
import ServiceLifecycle

/// The infrastructure of agent processes on this machine (ProActive's local infrastructure, as processes):
/// `count` `tessera agent` processes, each on its own loopback address (127.0.0.2, 127.0.0.3, …), joined to this
/// server's cluster. One that exits is started again after a pause (a new process: a new node). On shutdown
/// they get SIGTERM.
struct AgentProcesses: Service {
    let count: Int
    let workers: Int?
    let member: ClusterMember
    let keyFile: String
    let clusterID: UInt64
    let dataDirectory: String
    let sharedDirectory: String
    /// The server's task root when it isolates users' tasks: each agent's tasks get theirs under it (the data
    /// directory, where the agents keep their own, is the server's alone).
    var taskRoot: String?
    let logLevel: Logger.Level
    let logger: Logger

    func run() async throws {
        let join = await member.listening()
        let executable = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().path
        let running = ProcessList()
        await withGracefulShutdownHandler {
            await withTaskGroup(of: Void.self) { group in
                for index in 0..<count {
                    group.addTask {
                        var restarts = 0
                        while !Task.isShuttingDownGracefully && !Task.isCancelled {
                            let process = Process()
                            process.executableURL = URL(fileURLWithPath: executable)
                            var arguments = [
                                "agent", "--join", join.description, "--bind", "127.0.0.\(index + 2):0", "--key-file", keyFile,
                                "--cluster-id", String(clusterID), "--data", "\(dataDirectory)/agents/\(index + 1)", "--log-level", logLevel.rawValue,
                                "--no-bind", "--exit-with-parent", "--shared-dir", sharedDirectory,
                            ]
                            if let workers { arguments += ["--workers", String(workers)] }
                            if let taskRoot { arguments += ["--task-root", "\(taskRoot)/agents/\(index + 1)"] }
                            process.arguments = arguments
                            process.standardOutput = FileHandle.nullDevice
                            let exited = AsyncStream<Int32>.makeStream()
                            process.terminationHandler = { exited.continuation.yield($0.terminationStatus) }
                            do {
                                try process.run()
                            } catch {
                                logger.error("cannot start an agent process", metadata: ["grid.error": "\(error)"])
                                return
                            }
                            running.add(process)
                            logger.info("agent process started", metadata: ["grid.agent": "\(index + 1)", "grid.pid": "\(process.processIdentifier)"])
                            var status: Int32 = 0
                            for await code in exited.stream {
                                status = code
                                break
                            }
                            running.remove(process)
                            if Task.isShuttingDownGracefully || Task.isCancelled { return }
                            restarts += 1
                            logger.warning("agent process exited: starting a new one", metadata: [
                                "grid.agent": "\(index + 1)", "grid.status": "\(status)", "grid.restarts": "\(restarts)",
                            ])
                            try? await Task.sleep(for: .milliseconds(min(10_000, 500 * restarts)))
                        }
                    }
                }
            }
        } onGracefulShutdown: {
            running.terminateAll()
        }
    }
}

/// The agent processes alive now.
final class ProcessList: @unchecked Sendable {
    private let lock = NSLock()
    private var processes: [Process] = []

    func add(_ process: Process) {
        lock.withLock { processes.append(process) }
    }

    func remove(_ process: Process) {
        lock.withLock { processes.removeAll { $0 === process } }
    }

    func terminateAll() {
        for process in lock.withLock({ processes }) where process.isRunning { process.terminate() }
    }
}
