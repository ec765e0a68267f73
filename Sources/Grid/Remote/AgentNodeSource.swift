import Cluster
import Foundation
import Logging
import NIOPosix
import Synchronization

/// The node source whose infrastructure is "agents that join" (ProActive's default infrastructure): it follows
/// the cluster's membership and turns members into nodes, as ``AgentSourceCore`` decides (its table is
/// reference/gossip.md's "Feeding the grid's resource manager").
///
/// The shell: one loop feeds the core its inputs (membership events, link events, ticks) and performs the
/// directives in order, awaiting each call to the scheduler, so that a host going DOWN, UP or LOST reaches the
/// scheduler in the order it happened. Dials, links and timers are child tasks of one task group, on the grid's
/// clock; the group ends with the membership stream.
public actor AgentNodeSource {
    /// The source's name (the `source` of its nodes).
    public nonisolated let name: String
    private let grid: Grid
    private let identity: Cluster.NodeID
    private let clusterID: UInt64
    private let keyRing: KeyRing
    private let capacity: Int
    private let sharedDirectory: String?
    private let clock: any GridClock
    private var logger: Logger
    private var core: AgentSourceCore
    /// The links that are up, by session.
    private var links: [Int: Link] = [:]
    /// Agents that announced, until their host joins the scheduler.
    private var announced: [Int: RemoteHost] = [:]
    /// Sessions whose hosts a managed node source claimed by their join tokens.
    private var claimed: Set<Int> = []
    private let inputs: AsyncStream<Input>
    private let input: AsyncStream<Input>.Continuation

    /// What the loop feeds the core.
    enum Input: Sendable {
        case membership(MembershipEvent)
        case link(AgentSourceCore.LinkEvent, link: Link? = nil, host: RemoteHost? = nil)
        case tick
        case end
    }

    init(
        name: String, grid: Grid, identity: Cluster.NodeID, clusterID: UInt64, keyRing: KeyRing, capacity: Int, sharedDirectory: String?,
        settings: AgentSourceCore.Settings = .init(), logger: Logger
    ) {
        self.sharedDirectory = sharedDirectory
        self.name = name
        self.grid = grid
        self.identity = identity
        self.clusterID = clusterID
        self.keyRing = keyRing
        self.capacity = capacity
        self.clock = grid.settings.clock
        self.core = AgentSourceCore(identity: identity, settings: settings)
        self.logger = logger
        self.logger[metadataKey: "grid.source"] = "\(name)"
        (inputs, input) = AsyncStream<Input>.makeStream()
    }

    /// Follows membership events until the stream ends; then closes the links it made.
    public func run(events: AsyncStream<MembershipEvent>) async {
        let input = self.input
        await withDiscardingTaskGroup { group in
            group.addTask {
                for await event in events { input.yield(.membership(event)) }
                input.yield(.end)
            }
            loop: for await next in inputs {
                let now = clock.now
                let directives: [AgentSourceCore.Directive]
                switch next {
                case .membership(let event):
                    directives = core.onMembershipEvent(event, now: now)
                case .link(let event, let link, let host):
                    switch event {
                    case .linked(let session): links[session] = link
                    case .announced(let session): announced[session] = host
                    case .closed(let session, _):
                        links[session] = nil
                        announced[session] = nil
                    case .failed: break
                    }
                    directives = core.onLinkEvent(event, now: now)
                case .tick:
                    directives = core.onTick(now: now)
                case .end:
                    break loop
                }
                for directive in directives { await perform(directive, in: &group) }
            }
            for link in links.values { link.close() }
            for host in announced.values { host.close() }
            group.cancelAll()
        }
    }

    private func perform(_ directive: AgentSourceCore.Directive, in group: inout DiscardingTaskGroup) async {
        switch directive {
        case .dial(let member, let session):
            let context = DialContext(
                identity: identity, clusterID: clusterID, keyRing: keyRing, grid: grid, sharedDirectory: sharedDirectory, logger: logger)
            let input = self.input
            group.addTask { await Self.session(with: member, session: session, context: context, input: input) }
        case .addHost(let session):
            guard let host = announced.removeValue(forKey: session) else { return }
            if let token = host.resources.joinToken {
                // A host a managed source acquired: its nodes are that source's.
                guard let claim = await grid.nodeSourceManager.claim(token: token, session: session, address: host.resources.address) else {
                    logger.warning("agent refused: no node source waits for its join token", metadata: [
                        "grid.session": "\(session)", "grid.address": "\(host.resources.address)",
                    ])
                    host.close()
                    links.removeValue(forKey: session)?.close()
                    return
                }
                claimed.insert(session)
                group.addTask { await host.runWriter() }
                await grid.scheduler.addHost(host, source: claim.source, capacity: capacity, rank: claim.rank, users: claim.users)
                return
            }
            group.addTask { await host.runWriter() }
            await grid.scheduler.addHost(host, source: name, capacity: capacity)
        case .hostDown(let session):
            await grid.scheduler.setHostDown(session, true)
        case .hostUp(let session):
            await grid.scheduler.setHostDown(session, false)
        case .hostLost(let session, let reason):
            await grid.scheduler.hostLost(session, reason: reason)
            if claimed.remove(session) != nil { await grid.nodeSourceManager.sessionLost(session, reason: reason) }
        case .closeLink(let session, let reason):
            logger.warning("agent link closed", metadata: ["grid.session": "\(session)", "grid.reason": "\(reason)"])
            announced.removeValue(forKey: session)?.close()
            links.removeValue(forKey: session)?.close()
        case .dialFailed(let member, let error, let delay):
            logger.warning("cannot link to member", metadata: [
                "grid.member": "\(member.id.short)", "grid.address": "\(member.address)", "grid.error": "\(error)",
                "grid.retry.ms": "\(delay.nanoseconds / 1_000_000)",
            ])
        case .wake(let deadline):
            let (clock, input) = (self.clock, self.input)
            group.addTask {
                do {
                    try await clock.sleep(until: deadline)
                    input.yield(.tick)
                } catch {}
            }
        }
    }

    /// What a session's task needs from the source.
    private struct DialContext: Sendable {
        var identity: Cluster.NodeID
        var clusterID: UInt64
        var keyRing: KeyRing
        var grid: Grid
        var sharedDirectory: String?
        var logger: Logger
    }

    /// One session's life: dials the member, hands the link and its announce to the loop, serves its frames, and
    /// says when it closes.
    private static func session(with member: Member, session: Int, context: DialContext, input: AsyncStream<Input>.Continuation) async {
        let link: Link
        do {
            link = try await Link.dial(
                member.address.host, port: Int(member.address.port), expecting: member.id, identity: context.identity,
                clusterID: context.clusterID, keyRing: context.keyRing, group: MultiThreadedEventLoopGroup.singleton)
        } catch {
            input.yield(.link(.failed(session: session, error: "\(error)")))
            return
        }
        input.yield(.link(.linked(session: session), link: link))
        let runner = context.grid.runner
        let scheduler = context.grid.scheduler
        let (logger, sharedDirectory) = (context.logger, context.sharedDirectory)
        let first = FirstAnnounce()
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
                    // Only the first announce of a link counts.
                    guard first.take() else { continue }
                    let host = RemoteHost(
                        session: session, member: member.identity, resources: resources, link: link, sharedDirectory: sharedDirectory,
                        reject: { reports in await scheduler.onReports(reports, session: session) })
                    input.yield(.link(.announced(session: session), host: host))
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
        let reason = await link.closed()
        input.yield(.link(.closed(session: session, reason: "\(reason)")))
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

/// Whether a link's first announce was taken.
private final class FirstAnnounce: Sendable {
    private let taken = Atomic<Bool>(false)

    /// `true` the first time only.
    func take() -> Bool { !taken.exchange(true, ordering: .relaxed) }
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
