import Cluster

/// The decisions of the node source whose infrastructure is "agents that join": the membership → node-state
/// table, dialling with back-off, re-linking and the announce timeout (reference/gossip.md, "Feeding the grid's
/// resource manager").
///
/// | membership | directive |
/// |---|---|
/// | `joined` (or `alive`) with no session | ``Directive/dial(_:session:)``, then ``Directive/addHost(session:)`` once its resources are announced |
/// | `suspect` | ``Directive/hostDown(session:)``: no new work, running work kept |
/// | `alive` again | ``Directive/hostUp(session:)`` |
/// | `dead` or `left`, or the link closes | ``Directive/hostLost(session:reason:)`` |
/// | back in a later epoch | the old session lost, a new one dialled |
///
/// A pure value: it never dials, sleeps or reads a clock. ``AgentNodeSource`` performs its directives in order.
public struct AgentSourceCore: Sendable {
    /// The source's timings, each with its default.
    public struct Settings: Sendable {
        /// How long a linked agent has to announce its resources before its link is closed and dialled again.
        public var announceTimeout: Duration = .seconds(10)
        /// The pause before a new session with a member whose link closed while it stays alive.
        public var relinkDelay: Duration = .milliseconds(500)
        /// The delay after the first failed dial; each failure in a row doubles it (up to 2⁷ times).
        public var firstRetryDelay: Duration = .milliseconds(250)
        /// The longest delay between dials.
        public var longestRetryDelay: Duration = .seconds(30)

        /// The defaults.
        public init() {}
    }

    /// What the shell must do, in order.
    public enum Directive: Sendable, Equatable {
        /// Dial `member` on a new session; report ``LinkEvent/linked(session:)`` or ``LinkEvent/failed(session:error:)``,
        /// then ``LinkEvent/announced(session:)`` and, when it ends, ``LinkEvent/closed(session:reason:)``.
        case dial(Member, session: Int)
        /// The session's agent announced its resources: its nodes join the scheduler.
        case addHost(session: Int)
        /// The session's member is suspected: its nodes are DOWN.
        case hostDown(session: Int)
        /// The session's member answers again: its nodes take work again.
        case hostUp(session: Int)
        /// The session is over: its nodes are LOST.
        case hostLost(session: Int, reason: String)
        /// Close the session's link: nobody wants it (the member went away, or it announced nothing in time).
        case closeLink(session: Int, reason: String)
        /// A dial of `member` failed: it is tried again after `retryIn` (for the operator's log).
        case dialFailed(Member, error: String, retryIn: Duration)
        /// Call ``AgentSourceCore/onTick(now:)`` at this time (sooner wakes replace later ones).
        case wake(at: Duration)
    }

    /// What happened to a session's link.
    public enum LinkEvent: Sendable, Equatable {
        /// The link is up (the handshake passed); the agent's announce is awaited.
        case linked(session: Int)
        /// The dial failed.
        case failed(session: Int, error: String)
        /// The agent announced its resources.
        case announced(session: Int)
        /// The link closed.
        case closed(session: Int, reason: String)
    }

    /// A session being dialled or awaiting its announce.
    private struct Opening: Sendable {
        var member: Member
        var announceBy: Duration?
    }

    private let identity: Cluster.NodeID
    private let settings: Settings
    /// The latest view of each active member.
    private var members: [Cluster.NodeID: Member] = [:]
    /// The session with nodes of each member, and the epoch it was made in.
    private var sessions: [Cluster.NodeID: (epoch: UInt64, session: Int)] = [:]
    /// The member of every session that has nodes (kept after the session ends, for its link's close).
    private var sessionMembers: [Int: Member] = [:]
    private var opening: [Int: Opening] = [:]
    /// Failed dials in a row, per member.
    private var failures: [Cluster.NodeID: Int] = [:]
    /// Dials to try again: the member as it was, and when.
    private var retries: [(at: Duration, member: Member)] = []
    private var nextSession = 1
    private var armed: Duration?
    private var out: [Directive] = []

    /// A source for the grid whose own member is `identity` (its own membership events are ignored).
    public init(identity: Cluster.NodeID, settings: Settings = Settings()) {
        precondition(settings.announceTimeout > .zero && settings.firstRetryDelay > .zero, "the source's timings must be positive")
        self.identity = identity
        self.settings = settings
    }

    /// A change in the cluster's membership.
    public mutating func onMembershipEvent(_ event: MembershipEvent, now: Duration) -> [Directive] {
        switch event {
        case .joined(let member), .alive(let member):
            guard member.id != identity else { break }
            members[member.id] = member
            if let current = sessions[member.id] {
                if current.epoch < member.epoch {
                    // Back in a later epoch: the earlier life's session is over.
                    lose(member.id, reason: "member \(member.id.short) came back in epoch \(member.epoch)")
                    connect(member)
                } else {
                    out.append(.hostUp(session: current.session))
                }
            } else {
                connect(member)
            }
        case .suspect(let member, _):
            guard member.id != identity else { break }
            members[member.id] = member
            if let current = sessions[member.id], current.epoch <= member.epoch { out.append(.hostDown(session: current.session)) }
        case .dead(let member, _), .left(let member):
            guard member.id != identity else { break }
            if let known = members[member.id], known.epoch <= member.epoch { members[member.id] = nil }
            if let current = sessions[member.id], current.epoch <= member.epoch {
                let how = if case .left = event { "left" } else { "was declared dead" }
                lose(member.id, reason: "member \(member.id.short) \(how) in epoch \(member.epoch)")
            }
        case .reincarnated:
            break
        }
        return take()
    }

    /// A change in a session's link.
    public mutating func onLinkEvent(_ event: LinkEvent, now: Duration) -> [Directive] {
        switch event {
        case .linked(let session):
            guard opening[session] != nil else { break }
            let deadline = now + settings.announceTimeout
            opening[session]?.announceBy = deadline
            wake(at: deadline)
        case .failed(let session, let error):
            guard let open = opening.removeValue(forKey: session) else { break }
            failed(open.member, error: error, now: now)
        case .announced(let session):
            guard let open = opening.removeValue(forKey: session) else {
                out.append(.closeLink(session: session, reason: "its announce came too late"))
                break
            }
            guard let current = members[open.member.id], current.epoch == open.member.epoch else {
                out.append(.closeLink(session: session, reason: "member \(open.member.id.short) is gone"))
                break
            }
            failures[open.member.id] = nil
            sessions[open.member.id] = (open.member.epoch, session)
            sessionMembers[session] = open.member
            out.append(.addHost(session: session))
        case .closed(let session, let reason):
            if let open = opening.removeValue(forKey: session) {
                failed(open.member, error: "the link closed before the agent announced itself: \(reason)", now: now)
                break
            }
            guard let member = sessionMembers.removeValue(forKey: session) else { break }
            if sessions[member.id]?.session == session { lose(member.id, reason: "link closed: \(reason)") }
            // The member may still be there (a dropped connection): a new session, after a pause.
            if let current = members[member.id], current.status == .alive { retry(current, at: now + settings.relinkDelay) }
        }
        return take()
    }

    /// The time of a ``Directive/wake(at:)`` came: agents that announced nothing in time are dropped and dialled
    /// again later; due retries are dialled.
    public mutating func onTick(now: Duration) -> [Directive] {
        armed = nil
        for (session, open) in opening.sorted(by: { $0.key < $1.key }) {
            guard let deadline = open.announceBy, deadline <= now else { continue }
            opening[session] = nil
            out.append(.closeLink(session: session, reason: "announced no resources within \(settings.announceTimeout)"))
            failed(open.member, error: "member \(open.member.id.short) at \(open.member.address) announced no resources", now: now)
        }
        let due = retries.filter { $0.at <= now }
        retries.removeAll { $0.at <= now }
        for retry in due {
            guard let current = members[retry.member.id], current.epoch == retry.member.epoch, sessions[current.id] == nil else { continue }
            connect(current)
        }
        let next = (opening.values.compactMap(\.announceBy) + retries.map(\.at)).min()
        if let next { wake(at: next) }
        return take()
    }

    // MARK: - Decisions

    private mutating func connect(_ member: Member) {
        guard !opening.values.contains(where: { $0.member.identity == member.identity }) else { return }
        let session = nextSession
        nextSession += 1
        opening[session] = Opening(member: member)
        out.append(.dial(member, session: session))
    }

    private mutating func lose(_ member: Cluster.NodeID, reason: String) {
        guard let current = sessions.removeValue(forKey: member) else { return }
        out.append(.hostLost(session: current.session, reason: reason))
    }

    /// A dial or an announce failed: the member is dialled again after a delay that doubles with each failure in
    /// a row, while it is still the same member.
    private mutating func failed(_ member: Member, error: String, now: Duration) {
        guard let current = members[member.id], current.epoch == member.epoch else { return }
        let count = (failures[member.id] ?? 0) + 1
        failures[member.id] = count
        let delay = min(settings.longestRetryDelay, settings.firstRetryDelay * (1 << min(count, 7)))
        out.append(.dialFailed(member, error: error, retryIn: delay))
        retry(member, at: now + delay)
    }

    private mutating func retry(_ member: Member, at time: Duration) {
        retries.append((time, member))
        wake(at: time)
    }

    private mutating func wake(at deadline: Duration) {
        if let armed, armed <= deadline { return }
        armed = deadline
        out.append(.wake(at: deadline))
    }

    private mutating func take() -> [Directive] {
        var taken: [Directive] = []
        swap(&taken, &out)
        return taken
    }
}
