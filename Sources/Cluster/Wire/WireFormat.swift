/// The binary layout of the protocol's messages (big-endian, no self-describing framing inside a payload).
///
/// A datagram or frame is `[envelope header 45 B][payload][HMAC-SHA256 truncated to 16 B]`; the header
/// carries the message type, so a payload starts with the body. Sizes are computed here without encoding, so the
/// core can budget each datagram in bytes and the simulator can count them.
public enum WireFormat {
    /// Envelope header: magic 2, version 1, type 1, cluster 8, key 1, sender 16, epoch 8, sequence 8.
    public static let headerBytes = 45
    /// The truncated HMAC-SHA256 tag.
    public static let tagBytes = 16
    /// Header and tag together: what every datagram and frame carries besides its payload.
    public static let envelopeBytes = headerBytes + tagBytes
    /// Most updates one datagram may carry (the count is one byte).
    public static let maxUpdates = 255

    /// The message types of the envelope's type byte.
    public enum MessageType: UInt8, Sendable, CaseIterable {
        /// `DatagramBody.ping`.
        case ping = 1
        /// `DatagramBody.ack`.
        case ack = 2
        /// `DatagramBody.nack`.
        case nack = 3
        /// `DatagramBody.pingRequest`.
        case pingRequest = 4
        /// `DatagramBody.gossip`.
        case gossip = 5
        /// A push-pull request over TCP.
        case syncRequest = 6
        /// A push-pull reply over TCP.
        case syncReply = 7
    }

    /// Bytes of an address: family 1, IP 4 or 16, port 2.
    public static func size(of address: MemberAddress) -> Int {
        address.family == .ipv4 ? 7 : 19
    }

    /// Bytes of one update: kind 1, subject 16, epoch 8, incarnation 8, then the address (alive) or the
    /// suspecter (suspect and dead).
    public static func size(of update: Update) -> Int {
        switch update.kind {
        case .alive: 33 + size(of: update.address)
        case .suspect, .dead: 49
        case .left: 33
        }
    }

    /// Bytes of a datagram body, the update count byte included.
    public static func size(of body: DatagramBody) -> Int {
        switch body {
        case .ping: 1 + 4 + 16
        case .ack, .nack: 1 + 4
        case .pingRequest(_, _, let address, _): 1 + 4 + 16 + size(of: address) + 1
        case .gossip: 1
        }
    }

    /// Bytes of a whole datagram on the wire, envelope included.
    public static func size(of datagram: Datagram) -> Int {
        var total = envelopeBytes + size(of: datagram.body)
        for update in datagram.updates { total += size(of: update) }
        return total
    }

    /// Bytes of one member in a state exchange: id 16, epoch 8, incarnation 8, status 1, address.
    public static func size(of member: Member) -> Int {
        33 + size(of: member.address)
    }

    /// Bytes of a whole state-exchange frame, envelope and 4-byte length prefix included: join flag, digest,
    /// member count, members.
    public static func size(of sync: SyncMessage) -> Int {
        var total = 4 + envelopeBytes + 1 + 8 + 4
        for member in sync.members { total += size(of: member) }
        return total
    }

    /// The envelope type of a datagram body.
    public static func messageType(of body: DatagramBody) -> MessageType {
        switch body {
        case .ping: .ping
        case .ack: .ack
        case .nack: .nack
        case .pingRequest: .pingRequest
        case .gossip: .gossip
        }
    }
}

/// Why a payload could not be decoded. Decoding never traps: every length is checked against what is left.
public enum WireError: Error, Sendable, Hashable {
    /// The payload ended `needed` bytes short at `offset`.
    case truncated(offset: Int, needed: Int)
    /// Bytes were left over after the payload's last field.
    case trailingBytes(count: Int)
    /// A field held a value the format does not define.
    case invalidValue(field: String, value: UInt64)
    /// A count announced more elements than the bytes left can hold.
    case countTooLarge(field: String, count: Int, remaining: Int)
}
