import Crypto

/// Why an incoming packet was dropped. Every drop is silent (no reply, so a member cannot be used as a
/// reflector or an oracle) and counted by reason.
public enum Rejection: String, Error, Sendable, Hashable, CaseIterable, Codable {
    /// Shorter than an envelope.
    case truncated
    /// Longer than the largest datagram or frame accepted.
    case oversized
    /// Not this protocol.
    case badMagic
    /// A version this member does not speak.
    case unknownVersion
    /// A message type this member does not know.
    case unknownType
    /// Another cluster's packet.
    case wrongCluster
    /// Signed with a key this member does not hold.
    case unknownKey
    /// The HMAC does not match: forged or corrupted.
    case badMAC
    /// A sequence number this sender already used, or older than the replay window.
    case replayed
    /// From an earlier epoch of a sender already heard in a later one.
    case staleEpoch
    /// Authenticated, but its payload does not decode.
    case malformed
    /// A datagram type on a stream, or a stream type in a datagram.
    case wrongChannel
}

/// Seals and opens the protocol's packets: `[header][payload][HMAC-SHA256/128]`, with a per-sender replay window.
///
/// Opening never traps and never trusts a length it has not checked; a packet is authenticated before its
/// payload is decoded.
public struct PacketCodec: Sendable {
    /// "TS".
    public static let magic: UInt16 = 0x5453
    /// The protocol version this member speaks.
    public static let version: UInt8 = 1
    /// The largest datagram accepted (a little above the 1,200 B sent, for peers configured larger).
    public static let maxDatagramBytes = 1500
    /// The largest stream frame accepted (a state exchange of about 200,000 members).
    public static let maxFrameBytes = 8 << 20

    /// What an opened packet held.
    public enum Message: Sendable, Hashable {
        /// A UDP datagram.
        case datagram(Datagram)
        /// A push-pull request (TCP).
        case syncRequest(SyncMessage)
        /// A push-pull reply (TCP).
        case syncReply(SyncMessage)
    }

    /// The cluster's id: packets of another cluster are refused even under the same key.
    public let clusterID: UInt64
    /// The keys.
    public var keyRing: KeyRing
    private var replay = ReplayWindow()
    private var nextSequence: UInt64

    /// A codec for `clusterID` under `keyRing`.
    ///
    /// - Parameter firstSequence: where this sender's sequence numbers start (any value; they only grow).
    public init(clusterID: UInt64, keyRing: KeyRing, firstSequence: UInt64 = 1) {
        self.clusterID = clusterID
        self.keyRing = keyRing
        nextSequence = firstSequence
    }

    /// Seals a datagram for UDP.
    public mutating func seal(_ datagram: Datagram) -> [UInt8] {
        seal(type: WireFormat.messageType(of: datagram.body), sender: datagram.sender) { writer in
            WireFormat.encodePayload(datagram, into: &writer)
        }
    }

    /// Seals a push-pull request or reply for a TCP frame (the 4-byte length prefix is the framer's).
    public mutating func seal(_ sync: SyncMessage, reply: Bool) -> [UInt8] {
        seal(type: reply ? .syncReply : .syncRequest, sender: sync.sender) { writer in
            WireFormat.encodePayload(sync, into: &writer)
        }
    }

    private mutating func seal(type: WireFormat.MessageType, sender: MemberIdentity,
                               payload: (inout WireWriter) -> Void) -> [UInt8] {
        var writer = WireWriter(capacity: 256)
        writer.write(Self.magic)
        writer.write(Self.version)
        writer.write(type.rawValue)
        writer.write(clusterID)
        writer.write(keyRing.primary.id)
        writer.write(sender.id)
        writer.write(sender.epoch)
        writer.write(nextSequence)
        nextSequence &+= 1
        payload(&writer)
        let tag = writer.bytes.withUnsafeBytes { keyRing.primary.keyed.tag($0) }
        tag.withUnsafeBytes { writer.write(bytes: $0.prefix(WireFormat.tagBytes)) }
        return writer.bytes
    }

    /// Opens a packet received on UDP (`stream: false`) or as a TCP frame (`stream: true`).
    ///
    /// - Returns: the message, or why it was refused.
    public mutating func open(_ bytes: UnsafeRawBufferPointer, stream: Bool) -> Result<Message, Rejection> {
        let limit = stream ? Self.maxFrameBytes : Self.maxDatagramBytes
        guard bytes.count >= WireFormat.envelopeBytes else { return .failure(.truncated) }
        guard bytes.count <= limit else { return .failure(.oversized) }
        let header: Header
        do {
            var reader = WireReader(UnsafeRawBufferPointer(rebasing: bytes[0..<WireFormat.headerBytes]))
            header = try Header(&reader)
        } catch {
            return .failure(.truncated)
        }
        guard header.magic == Self.magic else { return .failure(.badMagic) }
        guard header.version == Self.version else { return .failure(.unknownVersion) }
        guard let type = WireFormat.MessageType(rawValue: header.type) else { return .failure(.unknownType) }
        let isStreamType = type == .syncRequest || type == .syncReply
        guard isStreamType == stream else { return .failure(.wrongChannel) }
        guard header.cluster == clusterID else { return .failure(.wrongCluster) }
        guard let key = keyRing.key(id: header.key) else { return .failure(.unknownKey) }
        switch replay.check(sender: header.sender, epoch: header.epoch, sequence: header.sequence) {
        case .fresh: break
        case .replayed: return .failure(.replayed)
        case .staleEpoch: return .failure(.staleEpoch)
        }
        let tagStart = bytes.count - WireFormat.tagBytes
        let expected = key.keyed.tag(UnsafeRawBufferPointer(rebasing: bytes[0..<tagStart]))
        let matches = expected.withUnsafeBytes { computed in
            var difference: UInt8 = 0
            for index in 0..<WireFormat.tagBytes { difference |= computed[index] ^ bytes[tagStart + index] }
            return difference == 0
        }
        guard matches else { return .failure(.badMAC) }
        let sender = MemberIdentity(id: header.sender, epoch: header.epoch)
        let payload = UnsafeRawBufferPointer(rebasing: bytes[WireFormat.headerBytes..<tagStart])
        let message: Message
        do {
            switch type {
            case .syncRequest: message = .syncRequest(try WireFormat.decodeSync(sender: sender, payload))
            case .syncReply: message = .syncReply(try WireFormat.decodeSync(sender: sender, payload))
            default: message = .datagram(try WireFormat.decodePayload(type: type, sender: sender, payload))
            }
        } catch {
            return .failure(.malformed)
        }
        replay.commit(sender: header.sender, epoch: header.epoch, sequence: header.sequence)
        return .success(message)
    }

    /// Opens a packet held in an array.
    public mutating func open(_ bytes: [UInt8], stream: Bool) -> Result<Message, Rejection> {
        bytes.withUnsafeBytes { open($0, stream: stream) }
    }

    private struct Header {
        let magic: UInt16
        let version: UInt8
        let type: UInt8
        let cluster: UInt64
        let key: UInt8
        let sender: NodeID
        let epoch: UInt64
        let sequence: UInt64

        init(_ reader: inout WireReader) throws(WireError) {
            magic = try reader.read(UInt16.self)
            version = try reader.readByte()
            type = try reader.readByte()
            cluster = try reader.read(UInt64.self)
            key = try reader.readByte()
            sender = try reader.readNodeID()
            epoch = try reader.read(UInt64.self)
            sequence = try reader.read(UInt64.self)
        }
    }
}
