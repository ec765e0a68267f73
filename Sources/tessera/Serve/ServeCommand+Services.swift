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
