/// What a member believes about another member.
public enum MemberStatus: UInt8, Sendable, Hashable, CustomStringConvertible {
    /// Answers probes (or has not been caught failing one).
    case alive = 0
    /// Failed a probe; declared dead when its suspicion times out unless it refutes first.
    case suspect = 1
    /// Declared dead: a tombstone for this epoch, which no gossip can revive.
    case dead = 2
    /// Left gracefully: a tombstone like `dead`, announced by the member itself.
    case left = 3

    public var description: String {
        switch self {
        case .alive: "alive"
        case .suspect: "suspect"
        case .dead: "dead"
        case .left: "left"
        }
    }

    /// Whether the member is in the cluster (alive or suspect).
    public var isActive: Bool { self == .alive || self == .suspect }
}

/// One member as another member sees it.
public struct Member: Hashable, Sendable, CustomStringConvertible {
    /// Its process identity.
    public var id: NodeID
    /// Its current life.
    public var epoch: UInt64
    /// Its incarnation within that life: only the member itself raises it, to refute a suspicion.
    public var incarnation: UInt64
    /// Where it listens.
    public var address: MemberAddress
    /// Alive, suspect, dead or left.
    public var status: MemberStatus

    /// A member as described.
    public init(id: NodeID, epoch: UInt64, incarnation: UInt64, address: MemberAddress, status: MemberStatus) {
        self.id = id
        self.epoch = epoch
        self.incarnation = incarnation
        self.address = address
        self.status = status
    }

    /// Its identity in this epoch.
    public var identity: MemberIdentity { MemberIdentity(id: id, epoch: epoch) }

    public var description: String {
        "\(id.short)/\(epoch)#\(incarnation)@\(address) \(status)"
    }
}

/// A change in the membership, as the grid's resource manager consumes it.
public enum MembershipEvent: Hashable, Sendable {
    /// A member this one had not seen (or had seen dead in an earlier epoch) is alive.
    case joined(Member)
    /// A member failed a probe; `by` raised or confirmed the suspicion. No work should be placed on it.
    case suspect(Member, by: NodeID)
    /// A suspect member refuted (or came back in a newer epoch this member had not seen die).
    case alive(Member)
    /// A member is dead in this epoch: `by` is the member whose suspicion timed out (this member's own id when
    /// it declared it). Its work is to be re-run, and anything it sends in this epoch is fenced.
    case dead(Member, by: NodeID)
    /// A member left gracefully.
    case left(Member)
    /// This member learnt that it was declared dead and rejoined in a new epoch (`identity.epoch`).
    case reincarnated(MemberIdentity)

    /// The member the event is about (this member's own record for `.reincarnated`).
    public var subject: NodeID {
        switch self {
        case .joined(let member), .suspect(let member, _), .alive(let member), .dead(let member, _),
             .left(let member):
            member.id
        case .reincarnated(let identity):
            identity.id
        }
    }
}
