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

/// The agents' node source as a service: it prints where agents join, then follows the membership.
struct ClusterAnnouncement: Service {
    let member: ClusterMember
    let source: AgentNodeSource

    func run() async throws {
        let address = await member.listening()
        FileHandle.standardOutput.write(Data("tessera serve: cluster on \(address) (agents join with --join \(address))\n".utf8))
        await cancelWhenGracefulShutdown { await source.run(events: member.events) }
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
                try await cancelWhenGracefulShutdown { try await grid.settings.clock.sleep(for: .seconds(86_400)) }
            } catch {
                break
            }
            _ = try? grid.journal?.purge(endedBefore: grid.settings.wallClock().addingTimeInterval(-Double(keepDays) * 86_400))
        }
        logger.info("stopping the grid")
        await grid.shutdown()
    }
}

/// The managed node sources as a service: once the cluster listens, the grid's ``NodeSourceManager`` may build
/// infrastructures whose agents join it; the journal's sources are rebuilt and reconciled, and the configured ones
/// added. Their hosts are released when the grid stops (``Grid/shutdown()``).
struct ManagedNodeSources: Service {
    let grid: Grid
    let member: ClusterMember
    let keyFile: String
    let clusterID: UInt64
    let dataDirectory: String
    let sharedDirectory: String?
    let taskRoot: String?
    let logLevel: Logger.Level
    let configured: [NodeSourceSpec]

    func run() async throws {
        let join = await member.listening()
        let launch = AgentLaunch(
            executable: URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().path, join: join.description,
            keyFile: URL(fileURLWithPath: keyFile).standardizedFileURL.path, clusterID: clusterID, directory: dataDirectory + "/sources",
            sharedDirectory: sharedDirectory, taskRoot: taskRoot, logLevel: logLevel.rawValue)
        let clock = grid.settings.clock
        await grid.nodeSourceManager.enable(make: { spec in
            switch spec.infrastructure {
            case .processes(_, _, let orphanTimeout):
                ProcessesInfrastructure(source: spec.name, nodesPerHost: spec.nodesPerHost, launch: launch, orphanTimeout: orphanTimeout)
            case .command(let acquire, let release, let list):
                CommandInfrastructure(
                    source: spec.name, acquire: acquire, release: release, list: list, nodesPerHost: spec.nodesPerHost, launch: launch,
                    timeout: spec.deploymentTimeout, clock: clock)
            }
        }, configured: configured)
        try? await gracefulShutdown()
    }
}
