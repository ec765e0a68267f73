/// Appends protocol fields to a byte array, big-endian.
public struct WireWriter: Sendable {
    /// The bytes written so far.
    public private(set) var bytes: [UInt8]

    /// A writer with room reserved for `capacity` bytes.
    public init(capacity: Int = 256) {
        bytes = []
        bytes.reserveCapacity(capacity)
    }

    /// Appends one byte.
    public mutating func write(_ value: UInt8) {
        bytes.append(value)
    }

    /// Appends an integer, most significant byte first.
    public mutating func write<T: FixedWidthInteger>(_ value: T) {
        withUnsafeBytes(of: value.bigEndian) { bytes.append(contentsOf: $0) }
    }

    /// Appends raw bytes.
    public mutating func write(bytes other: some Sequence<UInt8>) {
        bytes.append(contentsOf: other)
    }

    /// Appends text: its UTF-8 length (32 bits) and bytes.
    public mutating func write(string: String) {
        var text = string
        text.withUTF8 { utf8 in
            write(UInt32(truncatingIfNeeded: utf8.count))
            bytes.append(contentsOf: utf8)
        }
    }

    /// Appends a node id.
    public mutating func write(_ id: NodeID) {
        write(id.high)
        write(id.low)
    }

    /// Appends an address: family, IP, port.
    public mutating func write(_ address: MemberAddress) {
        write(address.family.rawValue)
        switch address.family {
        case .ipv4: write(UInt32(truncatingIfNeeded: address.low))
        case .ipv6:
            write(address.high)
            write(address.low)
        }
        write(address.port)
    }

    /// Appends a gossip update.
    public mutating func write(_ update: Update) {
        write(update.kind.rawValue | (update.weak ? 0x80 : 0))
        write(update.subject)
        write(update.epoch)
        write(update.incarnation)
        switch update.kind {
        case .alive: write(update.address)
        case .suspect, .dead: write(update.from)
        case .left: break
        }
    }

    /// Appends a member of a state exchange.
    public mutating func write(_ member: Member) {
        write(member.id)
        write(member.epoch)
        write(member.incarnation)
        write(member.status.rawValue)
        write(member.address)
    }
}

/// Reads protocol fields from a byte buffer, checking every length against what is left.
public struct WireReader: ~Copyable {
    private let base: UnsafeRawBufferPointer
    /// The offset of the next unread byte.
    public private(set) var offset: Int

    /// A reader over `buffer`, valid only while the buffer is.
    public init(_ buffer: UnsafeRawBufferPointer) {
        base = buffer
        offset = 0
    }

    /// Bytes not read yet.
    public var remaining: Int { base.count - offset }

    /// Fails unless `count` more bytes are there.
    public func need(_ count: Int) throws(WireError) {
        guard count <= remaining else { throw .truncated(offset: offset, needed: count - remaining) }
    }

    /// Reads one byte.
    public mutating func readByte() throws(WireError) -> UInt8 {
        try need(1)
        defer { offset += 1 }
        return base[offset]
    }

    /// Reads a big-endian integer.
    public mutating func read<T: FixedWidthInteger>(_: T.Type) throws(WireError) -> T {
        let size = MemoryLayout<T>.size
        try need(size)
        var value: T = 0
        for index in 0..<size { value = value << 8 | T(base[offset + index]) }
        offset += size
        return value
    }

    /// Reads `count` raw bytes.
    public mutating func readBytes(_ count: Int) throws(WireError) -> [UInt8] {
        try need(count)
        defer { offset += count }
        return Array(base[offset..<offset + count])
    }

    /// Reads text written by `write(string:)` (invalid UTF-8 is repaired, never trusted).
    public mutating func readString() throws(WireError) -> String {
        let count = Int(try read(UInt32.self))
        try need(count)
        defer { offset += count }
        return String(decoding: UnsafeRawBufferPointer(rebasing: base[offset..<offset + count]), as: UTF8.self)
    }

    /// Reads an element count, refusing one that the bytes left cannot hold (each element takes at least
    /// `minimumBytes`).
    public mutating func readCount(_ field: String, minimumBytes: Int = 1) throws(WireError) -> Int {
        let count = Int(try read(UInt32.self))
        guard count <= remaining / max(1, minimumBytes) else {
            throw .countTooLarge(field: field, count: count, remaining: remaining)
        }
        return count
    }

    /// Reads a node id.
    public mutating func readNodeID() throws(WireError) -> NodeID {
        let high = try read(UInt64.self)
        return NodeID(high: high, low: try read(UInt64.self))
    }

    /// Reads an address.
    public mutating func readAddress() throws(WireError) -> MemberAddress {
        let family = try readByte()
        switch family {
        case MemberAddress.Family.ipv4.rawValue:
            let ip = try read(UInt32.self)
            return MemberAddress(ipv4: ip, port: try read(UInt16.self))
        case MemberAddress.Family.ipv6.rawValue:
            let high = try read(UInt64.self)
            let low = try read(UInt64.self)
            return MemberAddress(ipv6High: high, low: low, port: try read(UInt16.self))
        default:
            throw .invalidValue(field: "address.family", value: UInt64(family))
        }
    }

    /// Reads a gossip update.
    public mutating func readUpdate() throws(WireError) -> Update {
        let tag = try readByte()
        guard let kind = Update.Kind(rawValue: tag & 0x7F) else {
            throw .invalidValue(field: "update.kind", value: UInt64(tag))
        }
        let subject = try readNodeID()
        let epoch = try read(UInt64.self)
        let incarnation = try read(UInt64.self)
        switch kind {
        case .alive:
            let address = try readAddress()
            return Update(kind: kind, subject: subject, epoch: epoch, incarnation: incarnation, address: address,
                          from: subject, weak: tag & 0x80 != 0)
        case .suspect, .dead:
            let from = try readNodeID()
            return Update(kind: kind, subject: subject, epoch: epoch, incarnation: incarnation, from: from,
                          weak: tag & 0x80 != 0)
        case .left:
            return Update(kind: kind, subject: subject, epoch: epoch, incarnation: incarnation, from: subject)
        }
    }

    /// Reads a member of a state exchange.
    public mutating func readMember() throws(WireError) -> Member {
        let id = try readNodeID()
        let epoch = try read(UInt64.self)
        let incarnation = try read(UInt64.self)
        let rawStatus = try readByte()
        guard let status = MemberStatus(rawValue: rawStatus) else {
            throw .invalidValue(field: "member.status", value: UInt64(rawStatus))
        }
        return Member(id: id, epoch: epoch, incarnation: incarnation, address: try readAddress(), status: status)
    }

    /// Fails if bytes are left over.
    public func finish() throws(WireError) {
        guard remaining == 0 else { throw .trailingBytes(count: remaining) }
    }
}

extension WireFormat {
    /// Encodes a datagram's payload (body and updates; the envelope carries the type and the sender).
    public static func encodePayload(_ datagram: Datagram, into writer: inout WireWriter) {
        switch datagram.body {
        case .ping(let sequence, let target):
            writer.write(sequence)
            writer.write(target)
        case .ack(let sequence), .nack(let sequence):
            writer.write(sequence)
        case .pingRequest(let sequence, let target, let address, let wantsNack):
            writer.write(sequence)
            writer.write(target)
            writer.write(address)
            writer.write(UInt8(wantsNack ? 1 : 0))
        case .gossip:
            break
        }
        let count = min(datagram.updates.count, maxUpdates)
        writer.write(UInt8(count))
        for update in datagram.updates.prefix(count) { writer.write(update) }
    }

    /// Decodes a datagram's payload of the given type.
    ///
    /// - Throws: `WireError` for anything short, long, or out of range; never traps.
    public static func decodePayload(type: MessageType, sender: MemberIdentity,
                                     _ payload: UnsafeRawBufferPointer) throws(WireError) -> Datagram {
        var reader = WireReader(payload)
        let body: DatagramBody
        switch type {
        case .ping:
            let sequence = try reader.read(UInt32.self)
            body = .ping(sequence: sequence, target: try reader.readNodeID())
        case .ack:
            body = .ack(sequence: try reader.read(UInt32.self))
        case .nack:
            body = .nack(sequence: try reader.read(UInt32.self))
        case .pingRequest:
            let sequence = try reader.read(UInt32.self)
            let target = try reader.readNodeID()
            let address = try reader.readAddress()
            let flag = try reader.readByte()
            guard flag <= 1 else { throw .invalidValue(field: "pingRequest.wantsNack", value: UInt64(flag)) }
            body = .pingRequest(sequence: sequence, target: target, address: address, wantsNack: flag == 1)
        case .gossip:
            body = .gossip
        case .syncRequest, .syncReply:
            throw .invalidValue(field: "datagram.type", value: UInt64(type.rawValue))
        }
        let count = Int(try reader.readByte())
        // The smallest update is 33 bytes: a count the remaining bytes cannot hold is rejected before any
        // allocation sized by it.
        guard count * 33 <= reader.remaining else {
            throw .countTooLarge(field: "updates", count: count, remaining: reader.remaining)
        }
        var updates: [Update] = []
        updates.reserveCapacity(count)
        for _ in 0..<count { updates.append(try reader.readUpdate()) }
        try reader.finish()
        return Datagram(sender: sender, body: body, updates: updates)
    }

    /// Encodes a state exchange's payload: join flag, member count, members.
    public static func encodePayload(_ sync: SyncMessage, into writer: inout WireWriter) {
        writer.write(UInt8(sync.join ? 1 : 0))
        writer.write(sync.digest)
        writer.write(UInt32(sync.members.count))
        for member in sync.members { writer.write(member) }
    }

    /// Decodes a state exchange's payload. The digest is taken as sent: a wrong one only costs the receiver a
    /// merge it could have skipped, or skips one whose content it already has.
    ///
    /// - Throws: `WireError`; a member count larger than the bytes can hold is rejected before allocating.
    public static func decodeSync(sender: MemberIdentity, _ payload: UnsafeRawBufferPointer) throws(WireError)
        -> SyncMessage {
        var reader = WireReader(payload)
        let flag = try reader.readByte()
        guard flag <= 1 else { throw .invalidValue(field: "sync.join", value: UInt64(flag)) }
        let digest = try reader.read(UInt64.self)
        let count = Int(try reader.read(UInt32.self))
        guard count * 40 <= reader.remaining else {
            throw .countTooLarge(field: "members", count: count, remaining: reader.remaining)
        }
        var members: [Member] = []
        members.reserveCapacity(count)
        for _ in 0..<count { members.append(try reader.readMember()) }
        try reader.finish()
        return SyncMessage(sender: sender, join: flag == 1, members: members, digest: digest)
    }
}
