import Crypto

/// Why a link was refused, failed or closed.
public enum LinkError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The handshake was refused (bad magic, another cluster, an unknown key, a forged MAC…).
    case refused(Rejection)
    /// The peer answered with another identity than the member dialled.
    case unexpectedPeer(expected: NodeID, got: NodeID)
    /// A frame after the handshake failed authentication, or was too large to send or receive.
    case badFrame(Rejection)
    /// The peer did not finish the handshake in time.
    case timedOut
    /// The connection could not be opened.
    case connectFailed(String)
    /// The link is closed.
    case closed

    public var description: String {
        switch self {
        case .refused(let reason): "link refused: \(reason.rawValue)"
        case .unexpectedPeer(let expected, let got): "link peer is \(got.short), expected \(expected.short)"
        case .badFrame(let reason): "bad link frame: \(reason.rawValue)"
        case .timedOut: "link handshake timed out"
        case .connectFailed(let why): "link connection failed: \(why)"
        case .closed: "link closed"
        }
    }
}

/// The authentication of a link: a handshake that proves both ends hold a key of the cluster's ring and
/// derives one session key per direction from fresh nonces, then a MAC over every frame chained by its
/// sequence number (TCP keeps order, so any replayed, dropped, reordered or forged frame fails).
///
/// Hello (dialer) and welcome (acceptor) are `[magic "TL"][version][kind][cluster][key id][node id][nonce 16]
/// [HMAC-SHA256/128]`; the welcome's MAC also covers the hello's nonce, so it answers that hello only.
public enum LinkHandshake {
    /// "TL".
    public static let magic: UInt16 = 0x544C
    /// The version this member speaks.
    public static let version: UInt8 = 1
    /// Bytes of a hello or welcome.
    public static let messageBytes = 2 + 1 + 1 + 8 + 1 + 16 + 16 + tagBytes
    /// Bytes of every MAC.
    public static let tagBytes = 16
    /// The largest frame a link sends or accepts (payload and MAC).
    public static let maxFrameBytes = PacketCodec.maxFrameBytes

    enum Kind: UInt8 {
        case hello = 1
        case welcome = 2
    }

    /// A parsed and authenticated hello or welcome.
    struct Message {
        let sender: NodeID
        let nonce: [UInt8]
        let key: KeyRing.Key
    }

    static func seal(_ kind: Kind, clusterID: UInt64, key: KeyRing.Key, sender: NodeID, nonce: [UInt8], answering: [UInt8] = []) -> [UInt8] {
        var writer = WireWriter(capacity: messageBytes)
        writer.write(magic)
        writer.write(version)
        writer.write(kind.rawValue)
        writer.write(clusterID)
        writer.write(key.id)
        writer.write(sender)
        writer.write(bytes: nonce)
        let tag = (writer.bytes + answering).withUnsafeBytes { key.keyed.tag($0) }
        tag.withUnsafeBytes { writer.write(bytes: $0.prefix(tagBytes)) }
        return writer.bytes
    }

    static func open(_ bytes: UnsafeRawBufferPointer, kind: Kind, clusterID: UInt64, keyRing: KeyRing, answering: [UInt8] = []) -> Result<Message, Rejection> {
        guard bytes.count >= messageBytes else { return .failure(bytes.count >= 2 && bytes.load(as: UInt16.self).bigEndian != magic ? .badMagic : .truncated) }
        guard bytes.count == messageBytes else { return .failure(.oversized) }
        var reader = WireReader(bytes)
        do {
            guard try reader.read(UInt16.self) == magic else { return .failure(.badMagic) }
            guard try reader.readByte() == version else { return .failure(.unknownVersion) }
            guard try reader.readByte() == kind.rawValue else { return .failure(.unknownType) }
            guard try reader.read(UInt64.self) == clusterID else { return .failure(.wrongCluster) }
            guard let key = keyRing.key(id: try reader.readByte()) else { return .failure(.unknownKey) }
            let sender = try reader.readNodeID()
            let nonce = try reader.readBytes(16)
            let signed = Array(bytes[0..<(messageBytes - tagBytes)]) + answering
            let expected = signed.withUnsafeBytes { key.keyed.tag($0) }
            guard constantTimeEqual(expected, bytes, at: messageBytes - tagBytes) else { return .failure(.badMAC) }
            return .success(Message(sender: sender, nonce: nonce, key: key))
        } catch {
            return .failure(.truncated)
        }
    }

    static func constantTimeEqual(_ tag: HashedAuthenticationCode<SHA256>, _ bytes: UnsafeRawBufferPointer, at start: Int) -> Bool {
        tag.withUnsafeBytes { computed in
            var difference: UInt8 = 0
            for index in 0..<tagBytes { difference |= computed[index] ^ bytes[start + index] }
            return difference == 0
        }
    }

    /// A fresh nonce.
    static func nonce() -> [UInt8] {
        var random = SystemRandomNumberGenerator()
        return (0..<16).map { _ in UInt8.random(in: .min ... .max, using: &random) }
    }

    /// The session key of one direction (0: dialer to acceptor, 1: acceptor to dialer).
    static func sessionKey(_ key: KeyRing.Key, hello: [UInt8], welcome: [UInt8], direction: UInt8) -> FrameMAC {
        let label = Array("tessera link v1".utf8)
        let material = (label + hello + welcome + [direction]).withUnsafeBytes { key.keyed.tag($0) }
        return FrameMAC(secret: Array(material))
    }
}

/// Seals or opens the frames of one direction of a link: `[payload][HMAC(seq ‖ payload)/128]`.
///
/// `@unchecked Sendable`: the keyed HMAC state is a copy-on-write value only ever copied (see ``KeyRing``),
/// and each direction's counter is used by one loop only.
struct FrameMAC: @unchecked Sendable {
    private let state: HMAC<SHA256>
    private var sequence: UInt64 = 0

    init(secret: [UInt8]) {
        state = HMAC<SHA256>(key: SymmetricKey(data: secret))
    }

    private func tag(_ payload: UnsafeRawBufferPointer, sequence: UInt64) -> HashedAuthenticationCode<SHA256> {
        var mac = state
        withUnsafeBytes(of: sequence.bigEndian) { mac.update(data: $0) }
        mac.update(data: payload)
        return mac.finalize()
    }

    /// The frame for `payload` (the next in sequence).
    mutating func seal(_ payload: [UInt8]) -> [UInt8] {
        var frame = payload
        let tag = payload.withUnsafeBytes { self.tag($0, sequence: sequence) }
        sequence &+= 1
        tag.withUnsafeBytes { frame.append(contentsOf: $0.prefix(LinkHandshake.tagBytes)) }
        return frame
    }

    /// The payload of the next frame in sequence, or why it is refused.
    mutating func open(_ frame: UnsafeRawBufferPointer) -> Result<[UInt8], Rejection> {
        guard frame.count >= LinkHandshake.tagBytes else { return .failure(.truncated) }
        let end = frame.count - LinkHandshake.tagBytes
        let payload = UnsafeRawBufferPointer(rebasing: frame[0..<end])
        let expected = tag(payload, sequence: sequence)
        guard LinkHandshake.constantTimeEqual(expected, frame, at: end) else { return .failure(.badMAC) }
        sequence &+= 1
        return .success(Array(payload))
    }
}
