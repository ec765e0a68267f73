@testable import Cluster
import Testing

@Suite("Wire codec")
struct WireCodecTests {
    typealias F = CoreFixture

    static let v6 = MemberAddress("[fd00::1:2]:7946")!

    static let bodies: [DatagramBody] = [
        .ping(sequence: 1, target: F.id(3)),
        .ack(sequence: .max),
        .nack(sequence: 0),
        .pingRequest(sequence: 9, target: F.id(4), address: F.address(4), wantsNack: true),
        .pingRequest(sequence: 9, target: F.id(4), address: v6, wantsNack: false),
        .gossip,
    ]

    static let updates: [Update] = [
        .alive(F.alive(5, epoch: 2, incarnation: 7)),
        .alive(Member(id: F.id(6), epoch: 0, incarnation: 1, address: v6, status: .alive)),
        F.suspect(7, from: 8, incarnation: 3, weak: true),
        F.dead(9, from: 10, incarnation: .max, epoch: .max),
        Update(kind: .left, subject: F.id(11), epoch: 1, incarnation: 2, from: F.id(11)),
    ]

    func roundTrip(_ datagram: Datagram) throws -> Datagram {
        var writer = WireWriter()
        WireFormat.encodePayload(datagram, into: &writer)
        #expect(writer.bytes.count + WireFormat.envelopeBytes == WireFormat.size(of: datagram))
        return try writer.bytes.withUnsafeBytes { raw in
            try WireFormat.decodePayload(type: WireFormat.messageType(of: datagram.body), sender: datagram.sender, raw)
        }
    }

    @Test(arguments: bodies)
    func datagram_roundTripsAndItsSizeIsExact(body: DatagramBody) throws {
        let datagram = Datagram(sender: MemberIdentity(id: F.id(1), epoch: 3), body: body, updates: Self.updates)
        #expect(try roundTrip(datagram) == datagram)
    }

    @Test func sync_roundTripsAndItsSizeIsExact() throws {
        var dead = F.alive(3)
        dead.status = .dead
        let sync = SyncMessage(sender: MemberIdentity(id: F.id(1)), join: true,
                               members: [F.alive(1), dead, Member(id: F.id(4), epoch: 1, incarnation: 2,
                                                                  address: Self.v6, status: .suspect)])
        var writer = WireWriter()
        WireFormat.encodePayload(sync, into: &writer)
        #expect(writer.bytes.count + WireFormat.envelopeBytes + 4 == WireFormat.size(of: sync))
        let decoded = try writer.bytes.withUnsafeBytes { try WireFormat.decodeSync(sender: sync.sender, $0) }
        #expect(decoded == sync)
    }

    @Test func everyTruncation_isATypedError() {
        let datagram = Datagram(sender: MemberIdentity(id: F.id(1)),
                                body: .pingRequest(sequence: 9, target: F.id(4), address: Self.v6, wantsNack: true),
                                updates: Self.updates)
        var writer = WireWriter()
        WireFormat.encodePayload(datagram, into: &writer)
        for length in 0..<writer.bytes.count {
            let prefix = Array(writer.bytes.prefix(length))
            #expect(throws: WireError.self) {
                try prefix.withUnsafeBytes { try WireFormat.decodePayload(type: .pingRequest, sender: datagram.sender, $0) }
            }
        }
        var longer = writer.bytes
        longer.append(0)
        #expect(throws: WireError.trailingBytes(count: 1)) {
            try longer.withUnsafeBytes { try WireFormat.decodePayload(type: .pingRequest, sender: datagram.sender, $0) }
        }
    }

    @Test func counts_areCheckedBeforeAnythingIsAllocated() {
        // A gossip payload announcing 255 updates with 10 bytes behind it.
        let gossip: [UInt8] = [255] + Array(repeating: 0, count: 10)
        #expect(throws: WireError.countTooLarge(field: "updates", count: 255, remaining: 10)) {
            try gossip.withUnsafeBytes { try WireFormat.decodePayload(type: .gossip, sender: MemberIdentity(id: F.id(1)), $0) }
        }
        // A state exchange announcing four billion members.
        let sync: [UInt8] = [0, 0xFF, 0xFF, 0xFF, 0xFF, 1, 2, 3]
        #expect(throws: WireError.self) {
            try sync.withUnsafeBytes { try WireFormat.decodeSync(sender: MemberIdentity(id: F.id(1)), $0) }
        }
    }

    @Test func unknownValues_areRejected() {
        let badKind: [UInt8] = [1, 9] + Array(repeating: 0, count: 40)
        #expect(throws: WireError.invalidValue(field: "update.kind", value: 9)) {
            try badKind.withUnsafeBytes { try WireFormat.decodePayload(type: .gossip, sender: MemberIdentity(id: F.id(1)), $0) }
        }
        #expect(throws: WireError.invalidValue(field: "datagram.type", value: 6)) {
            try [UInt8]().withUnsafeBytes {
                try WireFormat.decodePayload(type: .syncRequest, sender: MemberIdentity(id: F.id(1)), $0)
            }
        }
    }

    @Test func randomBytes_neverTrap() {
        var rng = Xoshiro256(seed: 2026)
        var decoded = 0
        for _ in 0..<20_000 {
            let length = rng.below(200)
            let bytes = (0..<length).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            let type = WireFormat.MessageType.allCases[rng.below(WireFormat.MessageType.allCases.count)]
            let outcome = try? bytes.withUnsafeBytes { raw -> Bool in
                if type == .syncRequest || type == .syncReply {
                    _ = try WireFormat.decodeSync(sender: MemberIdentity(id: F.id(1)), raw)
                } else {
                    _ = try WireFormat.decodePayload(type: type, sender: MemberIdentity(id: F.id(1)), raw)
                }
                return true
            }
            if outcome == true { decoded += 1 }
        }
        // Almost every random payload is malformed; the point is that none trapped.
        #expect(decoded < 20_000)
    }

    @Test func addresses_parseAndPrint() {
        #expect(MemberAddress("10.1.2.3:7946")?.description == "10.1.2.3:7946")
        #expect(MemberAddress("[::1]:80")?.description == "[::1]:80")
        #expect(Self.v6.description == "[fd00::1:2]:7946")
        #expect(MemberAddress("10.1.2:7946") == nil)
        #expect(MemberAddress("10.1.2.300:7946") == nil)
        #expect(MemberAddress("10.1.2.3") == nil)
        #expect(MemberAddress("[::1]") == nil)
        #expect(NodeID(hex: F.id(5).description) == F.id(5))
        #expect(NodeID(hex: "xyz") == nil)
    }
}

extension DatagramBody: CustomTestStringConvertible {
    public var testDescription: String { "\(WireFormat.messageType(of: self))" }
}

@Suite("Node index")
struct NodeIndexTests {
    @Test func behavesLikeADictionary_underRandomInsertsAndRemovals() {
        let seed: UInt64 = 77
        var rng = Xoshiro256(seed: seed)
        var index = NodeIndex(salt: rng.next())
        var reference: [NodeID: Int32] = [:]
        var known: [NodeID] = []
        for step in 0..<20_000 {
            let choice = rng.below(10)
            if choice < 5 || known.isEmpty {
                // Ids that share their low bits collide in the index's home slots on purpose.
                let id = NodeID(high: rng.next(), low: UInt64(rng.below(64)))
                index[id] = Int32(step)
                reference[id] = Int32(step)
                known.append(id)
            } else if choice < 8 {
                let id = known[rng.below(known.count)]
                index[id] = nil
                reference[id] = nil
            } else {
                let id = known[rng.below(known.count)]
                #expect(index[id] == reference[id], "seed \(seed), step \(step)")
            }
        }
        #expect(index.count == reference.count)
        for id in known { #expect(index[id] == reference[id]) }
    }
}

@Suite("Wire codec properties")
struct WireCodecPropertyTests {
    static func randomID(_ rng: inout Xoshiro256) -> NodeID { NodeID(high: rng.next(), low: rng.next()) }

    static func randomAddress(_ rng: inout Xoshiro256) -> MemberAddress {
        rng.below(2) == 0
            ? MemberAddress(ipv4: UInt32(truncatingIfNeeded: rng.next()), port: UInt16(truncatingIfNeeded: rng.next()))
            : MemberAddress(ipv6High: rng.next(), low: rng.next(), port: UInt16(truncatingIfNeeded: rng.next()))
    }

    static func randomUpdate(_ rng: inout Xoshiro256) -> Update {
        let kind = Update.Kind(rawValue: UInt8(1 + rng.below(4)))!
        let subject = randomID(&rng)
        switch kind {
        case .alive:
            return Update(kind: .alive, subject: subject, epoch: rng.next(), incarnation: rng.next(),
                          address: randomAddress(&rng), from: subject, weak: rng.below(2) == 0)
        case .suspect, .dead:
            return Update(kind: kind, subject: subject, epoch: rng.next(), incarnation: rng.next(),
                          from: randomID(&rng), weak: rng.below(2) == 0)
        case .left:
            return Update(kind: .left, subject: subject, epoch: rng.next(), incarnation: rng.next(), from: subject)
        }
    }

    @Test func randomDatagramsAndStates_roundTripWithExactSizes() throws {
        let seed: UInt64 = 4242
        var rng = Xoshiro256(seed: seed)
        for round in 0..<2000 {
            let sequence = UInt32(truncatingIfNeeded: rng.next())
            let body: DatagramBody = switch rng.below(5) {
            case 0: .ping(sequence: sequence, target: Self.randomID(&rng))
            case 1: .ack(sequence: sequence)
            case 2: .nack(sequence: sequence)
            case 3: .pingRequest(sequence: sequence, target: Self.randomID(&rng), address: Self.randomAddress(&rng),
                                 wantsNack: rng.below(2) == 0)
            default: .gossip
            }
            let updates = (0..<rng.below(30)).map { _ in Self.randomUpdate(&rng) }
            let datagram = Datagram(sender: MemberIdentity(id: Self.randomID(&rng), epoch: rng.next()), body: body,
                                    updates: updates)
            var writer = WireWriter()
            WireFormat.encodePayload(datagram, into: &writer)
            #expect(writer.bytes.count + WireFormat.envelopeBytes == WireFormat.size(of: datagram), "seed \(seed), round \(round)")
            let decoded = try writer.bytes.withUnsafeBytes {
                try WireFormat.decodePayload(type: WireFormat.messageType(of: body), sender: datagram.sender, $0)
            }
            #expect(decoded == datagram, "seed \(seed), round \(round)")

            let members = (0..<rng.below(20)).map { _ in
                Member(id: Self.randomID(&rng), epoch: rng.next(), incarnation: rng.next(),
                       address: Self.randomAddress(&rng), status: MemberStatus(rawValue: UInt8(rng.below(4)))!)
            }
            let sync = SyncMessage(sender: datagram.sender, join: rng.below(2) == 0, members: members)
            var syncWriter = WireWriter()
            WireFormat.encodePayload(sync, into: &syncWriter)
            #expect(syncWriter.bytes.count + WireFormat.envelopeBytes + 4 == WireFormat.size(of: sync))
            let back = try syncWriter.bytes.withUnsafeBytes { try WireFormat.decodeSync(sender: sync.sender, $0) }
            #expect(back == sync, "seed \(seed), round \(round)")
        }
    }
}
