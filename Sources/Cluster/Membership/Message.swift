/// A piece of gossip about one member.
public struct Update: Hashable, Sendable {
    /// What the gossip says.
    public enum Kind: UInt8, Sendable, Hashable {
        /// The subject is alive at `incarnation` and listens at `address`.
        case alive = 1
        /// `from` failed to reach the subject at `incarnation`.
        case suspect = 2
        /// `from` declared the subject dead at `incarnation`.
        case dead = 3
        /// The subject left the cluster.
        case left = 4
    }

    /// Alive, suspect, dead or left.
    public var kind: Kind
    /// The member the gossip is about.
    public var subject: NodeID
    /// The subject's epoch the gossip is about.
    public var epoch: UInt64
    /// The subject's incarnation the gossip is about.
    public var incarnation: UInt64
    /// The subject's address (alive only; `.unknown` otherwise).
    public var address: MemberAddress
    /// Who suspected or declared (suspect and dead; the subject itself otherwise).
    public var from: NodeID
    /// A suspicion raised by a member whose own local health multiplier was above 0: Lifeguard's weak evidence,
    /// which neither shortens a suspicion nor counts as a confirmation.
    public var weak: Bool

    /// Gossip as described.
    public init(kind: Kind, subject: NodeID, epoch: UInt64, incarnation: UInt64,
                address: MemberAddress = .unknown, from: NodeID, weak: Bool = false) {
        self.kind = kind
        self.subject = subject
        self.epoch = epoch
        self.incarnation = incarnation
        self.address = address
        self.from = from
        self.weak = weak
    }

    /// "I am alive": what a member says of itself when it joins or refutes.
    public static func alive(_ member: Member) -> Update {
        Update(kind: .alive, subject: member.id, epoch: member.epoch, incarnation: member.incarnation,
               address: member.address, from: member.id)
    }
}

/// The protocol part of a datagram (the part that is not piggybacked gossip).
public enum DatagramBody: Hashable, Sendable {
    /// Are you `target`? Answer with `ack(sequence)`.
    case ping(sequence: UInt32, target: NodeID)
    /// The answer to a ping, direct or relayed by an indirect prober.
    case ack(sequence: UInt32)
    /// An indirect prober could not reach the target in time (Lifeguard): the requester is healthy enough to
    /// hear from its peers, so its failed probe is less its own fault.
    case nack(sequence: UInt32)
    /// Please ping `target` at `address` for me and relay its ack (and a nack if `wantsNack` and it stays silent).
    case pingRequest(sequence: UInt32, target: NodeID, address: MemberAddress, wantsNack: Bool)
    /// Gossip only.
    case gossip
}

/// One UDP datagram of the protocol, before authentication.
public struct Datagram: Hashable, Sendable {
    /// The sender in its current epoch (carried by the authenticated envelope on the wire).
    public var sender: MemberIdentity
    /// The protocol message.
    public var body: DatagramBody
    /// Piggybacked gossip, within the datagram's byte budget.
    public var updates: [Update]

    /// A datagram as described.
    public init(sender: MemberIdentity, body: DatagramBody, updates: [Update] = []) {
        self.sender = sender
        self.body = body
        self.updates = updates
    }
}

/// A push-pull exchange over TCP: the full state of one member, sent on join, periodically (anti-entropy)
/// and to dead members and seeds to heal partitions.
public struct SyncMessage: Hashable, Sendable {
    /// The sender in its current epoch.
    public var sender: MemberIdentity
    /// Whether this is the first exchange of a member that is joining.
    public var join: Bool
    /// Every member the sender knows, tombstones included, itself first.
    public var members: [Member]
    /// A digest of `members` (XOR of one 64-bit hash per member): a receiver whose own view has the same
    /// digest has nothing to merge.
    public var digest: UInt64

    /// A state exchange as described; the digest is computed from the members.
    public init(sender: MemberIdentity, join: Bool, members: [Member]) {
        self.sender = sender
        self.join = join
        self.members = members
        digest = members.reduce(0) { $0 ^ MemberTable.digest(of: $1) }
    }

    /// A state exchange with a digest already computed (the sender keeps it up to date incrementally).
    init(sender: MemberIdentity, join: Bool, members: [Member], digest: UInt64) {
        self.sender = sender
        self.join = join
        self.members = members
        self.digest = digest
    }
}
