import Cluster
import Foundation
import Logging
import NIOPosix

/// The node source whose infrastructure is "agents that join" (ProActive's default infrastructure): it follows
/// the cluster's membership and turns members into nodes (reference/gossip.md, "Feeding the grid's resource
/// manager").
///
/// | membership | nodes |
/// |---|---|
/// | `joined` + link handshake + resources announced | one FREE node per agent worker |
/// | `suspect` | DOWN: no new work, running work kept |
/// | `alive` again | FREE (BUSY while it holds work) |
/// | `dead` or `left`, or the link closes | LOST: queued work placed again, running work re-run elsewhere (ProActive's node-failure rule), late results dropped |
/// | back in a later epoch, or a restarted process | a new session with new nodes |
public actor AgentNodeSource {
    /// The source's name (the `source` of its nodes).
    public nonisolated let name: String
    private let grid: Grid
    private let identity: Cluster.NodeID
    private let clusterID: UInt64
    private let keyRing: KeyRing
    private let capacity: Int
    private let sharedDirectory: String?
    private var logger: Logger
    /// The latest view of each active member.
    private var members: [Cluster.NodeID: Member] = [:]
    /// The session of each member with nodes, and the epoch it was made in.
    private var sessions: [Cluster.NodeID: (epoch: UInt64, session: Int)] = [:]
    /// Members being dialled.
    private var dialing: Set<MemberIdentity> = []
    /// Failed dials in a row, per member (back-off).
    private var failures: [Cluster.NodeID: Int] = [:]
    private var nextSession = 1

    init(
        name: String, grid: Grid, identity: Cluster.NodeID, clusterID: UInt64, keyRing: KeyRing, capacity: Int, sharedDirectory: String?,
        logger: Logger
    ) {
        self.sharedDirectory = sharedDirectory
        self.name = name
        self.grid = grid
        self.identity = identity
        self.clusterID = clusterID
        self.keyRing = keyRing
        self.capacity = capacity
        self.logger = logger
        self.logger[metadataKey: "grid.source"] = "\(name)"
    }

    /// Follows membership events until the stream ends.
    public func run(events: AsyncStream<MembershipEvent>) async {
        for await event in events { handle(event) }
    }

    /// Applies one membership event.
    func handle(_ event: MembershipEvent) {
        switch event {
        case .joined(let member), .alive(let member):
            guard member.id != identity else { return }
            members[member.id] = member
            if let current = sessions[member.id] {
                if current.epoch < member.epoch {
                    // Back in a later epoch: the earlier life's session is over.
                    lose(member.id, reason: "member \(member.id.short) came back in epoch \(member.epoch)")
                    connect(member)
                } else {
                    let session = current.session
                    Task { await grid.scheduler.setHostDown(session, false) }
                }
            } else {
                connect(member)
            }
        case .suspect(let member, _):
            guard member.id != identity else { return }
            members[member.id] = member
            if let current = sessions[member.id], current.epoch <= member.epoch {
                let session = current.session
                Task { await grid.scheduler.setHostDown(session, true) }
            }
        case .dead(let member, _), .left(let member):
            guard member.id != identity else { return }
            if let known = members[member.id], known.epoch <= member.epoch { members[member.id] = nil }
            if let current = sessions[member.id], current.epoch <= member.epoch {
                lose(member.id, reason: "member \(member.id.short) \(event.isLeft ? "left" : "was declared dead") in epoch \(member.epoch)")
            }
        case .reincarnated:
            break
        }
    }

    private func lose(_ member: Cluster.NodeID, reason: String) {
        guard let current = sessions.removeValue(forKey: member) else { return }
        let session = current.session
        Task { await grid.scheduler.hostLost(session, reason: reason) }
    }

    private func connect(_ member: Member) {
        guard dialing.insert(member.identity).inserted else { return }
        Task { await dial(member) }
    }

    private func dial(_ member: Member) async {
        let session = nextSession
        nextSession += 1
        let outcome = await Self.open(
            member, session: session, identity: identity, clusterID: clusterID, keyRing: keyRing, grid: grid,
            sharedDirectory: sharedDirectory, logger: logger)
        dialing.remove(member.identity)
        guard let current = members[member.id], current.epoch == member.epoch else {
            if case .success(let host) = outcome { host.close() }
            return
        }
        switch outcome {
        case .failure(let error):
            let count = (failures[member.id] ?? 0) + 1
            failures[member.id] = count
            let delay = Duration.milliseconds(min(30_000, 250 << min(count, 7)))
            logger.warning("cannot link to member", metadata: [
                "grid.member": "\(member.id.short)", "grid.address": "\(member.address)", "grid.error": "\(error)",
                "grid.retry.ms": "\(delay.components.seconds * 1000 + delay.components.attoseconds / 1_000_000_000_000_000)",
            ])
            Task {
                try? await Task.sleep(for: delay)
                self.retry(member)
            }
        case .success(let host):
            failures[member.id] = nil
            sessions[member.id] = (member.epoch, session)
            Task { await host.runWriter() }
            _ = await grid.scheduler.addHost(host, source: name, capacity: capacity)
            Task {
                let reason = await host.link.closed()
                await self.linkClosed(member, session: session, reason: reason)
            }
        }
    }

    private func retry(_ member: Member) {
        guard let current = members[member.id], current.epoch == member.epoch, sessions[member.id] == nil else { return }
        connect(current)
    }

    private func linkClosed(_ member: Member, session: Int, reason: LinkError) async {
        if sessions[member.id]?.session == session {
            lose(member.id, reason: "link closed: \(reason)")
        } else {
            await grid.scheduler.hostLost(session, reason: "link closed: \(reason)")
        }
        // The member may still be there (a dropped connection): a new session, after a pause.
        if let current = members[member.id], current.status == .alive {
            Task {
                try? await Task.sleep(for: .milliseconds(500))
                self.retry(current)
            }
        }
    }

    /// Dials a member, then waits for its resources.
    private static func open(
        _ member: Member, session: Int, identity: Cluster.NodeID, clusterID: UInt64, keyRing: KeyRing, grid: Grid,
        sharedDirectory: String?, logger: Logger
    ) async -> Result<RemoteHost, GridError> {
        let link: Link
        do {
            link = try await Link.dial(
                member.address.host, port: Int(member.address.port), expecting: member.id, identity: identity, clusterID: clusterID,
                keyRing: keyRing, group: MultiThreadedEventLoopGroup.singleton)
        } catch {
            return .failure(.remote("\(error)"))
        }
        let (announcements, announce) = AsyncStream<AgentResources?>.makeStream()
        let runner = grid.runner
        let scheduler = grid.scheduler
        link.start { payload in
            let messages: [RemoteMessage]
            do {
                messages = try RemoteWire.decode(payload)
            } catch {
                logger.warning("bad frame from agent: link closed", metadata: ["grid.session": "\(session)", "grid.error": "\(error)"])
                link.close()
                return
            }
            for message in messages {
                switch message {
                case .announce(let resources):
                    announce.yield(resources)
                case .reports(let reports):
                    await scheduler.onReports(reports.map(Self.readingLargeResults), session: session)
                case .log(let job, let task, let stream, let bytes):
                    let paths = runner.logPaths(job: job, task: task)
                    LogFiles.append(bytes, to: stream == 1 ? paths.out : paths.err)
                case .configure, .assign, .abort, .release, .maySteal:
                    logger.warning("agent sent a scheduler message: link closed", metadata: ["grid.session": "\(session)"])
                    link.close()
                    return
                }
            }
        }
        let timeout = Task {
            try? await Task.sleep(for: .seconds(10))
            announce.yield(nil)
        }
        Task {
            _ = await link.closed()
            announce.yield(nil)
        }
        var resources: AgentResources?
        for await first in announcements {
            resources = first
            break
        }
        timeout.cancel()
        guard let resources else {
            link.close()
            return .failure(.remote("member \(member.id.short) at \(member.address) announced no resources"))
        }
        return .success(RemoteHost(
            session: session, member: member.identity, resources: resources, link: link, sharedDirectory: sharedDirectory,
            reject: { reports in await scheduler.onReports(reports, session: session) }))
    }

    /// A finished report whose result came as a shared file, with the value read back.
    static func readingLargeResults(_ report: NodeReport) -> NodeReport {
        guard case .finished(let job, let index, let attempt, let node, let assigned, let outcome, let ran) = report else { return report }
        switch outcome {
        case .success(.object(let members), _) where members[ResultFiles.referenceKey] != nil,
             .alreadyDone(.object(let members), _, _) where members[ResultFiles.referenceKey] != nil:
            return .finished(
                job: job, index: index, attempt: attempt, node: node, assignedNode: assigned, outcome: ResultFiles.resolve(outcome), ran: ran)
        default:
            return report
        }
    }
}

extension MembershipEvent {
    var isLeft: Bool {
        if case .left = self { return true }
        return false
    }
}

/// Appending streamed log bytes to a task's log file.
enum LogFiles {
    static func append(_ bytes: [UInt8], to path: String) {
        let directory = (path as NSString).deletingLastPathComponent
        try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let fd = open(path, O_WRONLY | O_CREAT | O_APPEND, 0o644)
        guard fd >= 0 else { return }
        defer { close(fd) }
        bytes.withUnsafeBytes { raw in
            guard let base = raw.baseAddress else { return }
            var offset = 0
            while offset < raw.count {
                let written = write(fd, base + offset, raw.count - offset)
                if written <= 0 { break }
                offset += written
            }
        }
    }
}
