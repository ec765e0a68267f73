@testable import Cluster
import Crypto
import Testing

@Suite("Authenticated packets: HMAC, key ring, replay window")
struct PacketCodecTests {
    typealias F = CoreFixture

    static func secret(_ byte: UInt8) -> [UInt8] { Array(repeating: byte, count: 32) }

    static func codec(keys: [(UInt8, UInt8)] = [(1, 0xA1)], cluster: UInt64 = 42) -> PacketCodec {
        let ring = try! KeyRing(keys.map { (id: $0.0, secret: secret($0.1)) })
        return PacketCodec(clusterID: cluster, keyRing: ring)
    }

    static let ping = Datagram(sender: MemberIdentity(id: F.id(1), epoch: 2), body: .ping(sequence: 5, target: F.id(2)),
                               updates: [.alive(F.alive(3))])

    @Test func sealedPackets_openToWhatWasSent() {
        var sender = Self.codec()
        var receiver = Self.codec()
        let bytes = sender.seal(Self.ping)
        #expect(bytes.count == WireFormat.size(of: Self.ping))
        #expect(receiver.open(bytes, stream: false) == .success(.datagram(Self.ping)))
        let sync = SyncMessage(sender: MemberIdentity(id: F.id(1), epoch: 2), join: true, members: [F.alive(1), F.alive(2)])
        #expect(receiver.open(sender.seal(sync, reply: true), stream: true) == .success(.syncReply(sync)))
    }

    @Test func everyKindOfBadPacket_isRefusedWithItsReason() {
        var sender = Self.codec()
        var receiver = Self.codec()
        let good = sender.seal(Self.ping)
        func reason(_ bytes: [UInt8], stream: Bool = false) -> Rejection? {
            if case .failure(let rejection) = receiver.open(bytes, stream: stream) { rejection } else { nil }
        }
        #expect(reason(Array(good.prefix(40))) == .truncated)
        #expect(reason(good + Array(repeating: 0, count: 1500)) == .oversized)
        var bad = good
        bad[0] = 0
        #expect(reason(bad) == .badMagic)
        bad = good
        bad[2] = 9
        #expect(reason(bad) == .unknownVersion)
        bad = good
        bad[3] = 99
        #expect(reason(bad) == .unknownType)
        #expect(reason(good, stream: true) == .wrongChannel)
        var otherCluster = Self.codec(cluster: 43)
        #expect(reason(otherCluster.seal(Self.ping)) == .wrongCluster)
        var otherKey = Self.codec(keys: [(9, 0xB2)])
        #expect(reason(otherKey.seal(Self.ping)) == .unknownKey)
        var forged = Self.codec(keys: [(1, 0xFF)])
        #expect(reason(forged.seal(Self.ping)) == .badMAC)
        bad = good
        bad[good.count - 20] ^= 1
        #expect(reason(bad) == .badMAC)
        #expect(receiver.open(good, stream: false) == .success(.datagram(Self.ping)))
        #expect(reason(good) == .replayed)
        // A payload that authenticates but does not decode.
        var liar = PacketCodec(clusterID: 42, keyRing: try! KeyRing([(id: 1, secret: Self.secret(0xA1))]),
                               firstSequence: 1000)
        var garbage = liar.seal(Self.ping)
        garbage[WireFormat.headerBytes + 21] = 77
        let tagStart = garbage.count - 16
        let tag = Array(garbage[0..<tagStart]).withUnsafeBytes { liar.keyRing.primary.keyed.tag($0) }
        tag.withUnsafeBytes { for index in 0..<16 { garbage[tagStart + index] = $0[index] } }
        #expect(reason(garbage) == .malformed)
    }

    @Test func keyRotation_acceptsEveryKeyInTheRing_andSignsWithThePrimary() {
        var old = Self.codec(keys: [(1, 0xA1)])
        var transitional = Self.codec(keys: [(2, 0xB2), (1, 0xA1)])
        var new = Self.codec(keys: [(2, 0xB2)])
        let fromOld = old.seal(Self.ping)
        let fromTransitional = transitional.seal(Self.ping)
        #expect(fromTransitional[12] == 2)
        var receiver = Self.codec(keys: [(1, 0xA1), (2, 0xB2)])
        #expect((try? receiver.open(fromOld, stream: false).get()) != nil)
        #expect((try? new.open(fromTransitional, stream: false).get()) != nil)
        #expect(new.open(fromOld, stream: false) == .failure(.unknownKey))
    }

    @Test func keyRing_rejectsBadKeysAndParsesKeyFiles() throws {
        #expect(throws: KeyRingError.empty) { try KeyRing([]) }
        #expect(throws: KeyRingError.badSecretLength(id: 1, length: 3)) { try KeyRing([(1, [1, 2, 3])]) }
        #expect(throws: KeyRingError.duplicateID(1)) { try KeyRing([(1, Self.secret(1)), (1, Self.secret(2))]) }
        #expect(throws: KeyRingError.tooManyKeys(6)) {
            try KeyRing((0..<6).map { (UInt8($0), Self.secret(UInt8($0))) })
        }
        let hex = String(repeating: "ab", count: 32)
        let ring = try KeyRing.parse("# cluster keys\n\n3 \(hex)\n4 \(String(repeating: "cd", count: 32))\n")
        #expect(ring.primary.id == 3)
        #expect(ring.keys.map(\.id) == [3, 4])
        #expect(throws: KeyRingError.badLine(2)) { try KeyRing.parse("1 \(hex)\nnot a key\n") }
        #expect(throws: KeyRingError.unreadable("/nonexistent/keys")) { try KeyRing.load(path: "/nonexistent/keys") }
    }

    @Test func replayWindow_acceptsEachSequenceOnce_withinAWindowOf1024() {
        var window = ReplayWindow()
        let a = F.id(1)
        for sequence in [10, 12, 11, 2000, 1500] as [UInt64] {
            #expect(window.check(sender: a, epoch: 0, sequence: sequence) == .fresh)
            window.commit(sender: a, epoch: 0, sequence: sequence)
            #expect(window.check(sender: a, epoch: 0, sequence: sequence) == .replayed)
        }
        #expect(window.check(sender: a, epoch: 0, sequence: 977) == .fresh)
        #expect(window.check(sender: a, epoch: 0, sequence: 976) == .replayed)
        #expect(window.check(sender: a, epoch: 0, sequence: 12) == .replayed)
        #expect(window.check(sender: a, epoch: 1, sequence: 1) == .fresh)
        window.commit(sender: a, epoch: 1, sequence: 1)
        #expect(window.check(sender: a, epoch: 0, sequence: 3000) == .staleEpoch)
        #expect(window.check(sender: a, epoch: 1, sequence: 1) == .replayed)
    }

    @Test func replayWindow_forgetsTheLeastRecentSenderWhenFull() {
        var window = ReplayWindow(capacity: 2)
        window.commit(sender: F.id(1), epoch: 0, sequence: 1)
        window.commit(sender: F.id(2), epoch: 0, sequence: 1)
        window.commit(sender: F.id(1), epoch: 0, sequence: 2)
        window.commit(sender: F.id(3), epoch: 0, sequence: 1)
        #expect(window.count == 2)
        #expect(window.check(sender: F.id(1), epoch: 0, sequence: 2) == .replayed)
        #expect(window.check(sender: F.id(2), epoch: 0, sequence: 1) == .fresh)
    }

    /// Seeded fuzzing: random bytes, truncations, bit flips, forgeries under another key and replays.
    @Test func fuzz_noneTraps_andNoneButTheGenuineIsAccepted() {
        let seed: UInt64 = 20_261_129
        var rng = Xoshiro256(seed: seed)
        var sender = Self.codec()
        var forger = Self.codec(keys: [(1, 0x66)])
        var receiver = Self.codec()
        var captured: [[UInt8]] = []
        var genuine = Set<[UInt8]>()
        var accepted: [[UInt8]] = []
        var reasons: [Rejection: Int] = [:]
        for round in 0..<30_000 {
            var bytes: [UInt8]
            switch round % 6 {
            case 0:
                bytes = sender.seal(Datagram(sender: Self.ping.sender, body: .ack(sequence: UInt32(round))))
                captured.append(bytes)
                genuine.insert(bytes)
            case 1:
                bytes = (0..<rng.below(1600)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            case 2:
                let base = captured[rng.below(captured.count)]
                bytes = Array(base.prefix(rng.below(base.count)))
            case 3:
                bytes = captured[rng.below(captured.count)]
                bytes[rng.below(bytes.count)] ^= UInt8(1 << rng.below(8))
            case 4:
                bytes = forger.seal(Self.ping)
            default:
                bytes = captured[rng.below(captured.count)]
            }
            switch receiver.open(bytes, stream: rng.below(8) == 0) {
            case .success: accepted.append(bytes)
            case .failure(let reason): reasons[reason, default: 0] += 1
            }
        }
        print("fuzz seed \(seed): accepted \(accepted.count) of \(genuine.count) genuine, rejected \(reasons)")
        // Only genuine packets, each at most once (a genuine packet first offered on the wrong channel may be
        // accepted when replayed on the right one: that is its first acceptance).
        #expect(accepted.allSatisfy { genuine.contains($0) })
        #expect(Set(accepted).count == accepted.count)
        #expect(accepted.count > genuine.count / 2)
        #expect((reasons[.replayed] ?? 0) > 0)
        #expect((reasons[.badMAC] ?? 0) > 0)
    }
}

extension PacketCodec.Message: CustomTestStringConvertible {
    public var testDescription: String { "\(self)" }
}
