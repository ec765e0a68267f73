@testable import Cluster
import Testing

@Suite("Membership core: SWIM probing")
struct MembershipProbeTests {
    typealias F = CoreFixture

    @Test func ping_isAnsweredWithAnAckOfTheSameSequence() {
        var core = F.core(peers: 3)
        let effects = core.onDatagram(F.datagram(from: 2, .ping(sequence: 42, target: F.id(1))), from: F.address(2),
                                      now: .ms(10))
        let sends = F.sends(effects)
        #expect(sends.count == 1)
        #expect(sends.first?.0.body == .ack(sequence: 42))
        #expect(sends.first?.1 == F.address(2))
    }

    @Test func ping_forAnEarlierProcessAtThisAddress_getsNoAnswer() {
        var core = F.core(peers: 3)
        let effects = core.onDatagram(F.datagram(from: 2, .ping(sequence: 1, target: F.id(99))), from: F.address(2),
                                      now: .ms(10))
        #expect(F.sends(effects).isEmpty)
    }

    @Test func probe_ackedInTime_raisesNoSuspicion() {
        var core = F.core(peers: 4)
        let tick = core.onTimer(.probe, now: .ms(1000))
        let ping = try! #require(F.ping(tick))
        _ = core.onDatagram(F.datagram(from: 2, .ack(sequence: ping.sequence)), from: ping.to, now: .ms(1001))
        let deadline = core.onTimer(.probe, now: .ms(2000))
        #expect(F.events(deadline).isEmpty)
        #expect(core.member(ping.target)?.status == .alive)
    }

    @Test func probe_withoutAck_asksKMembersForIndirectProbesWithNacks() {
        var core = F.core(peers: 6)
        let tick = core.onTimer(.probe, now: .ms(1000))
        let ping = try! #require(F.ping(tick))
        let timers = F.timers(tick)
        #expect(timers.contains { $0.0 == .probeTimeout(sequence: ping.sequence) && $0.1 == .ms(1400) })
        #expect(timers.contains { $0.0 == .probe && $0.1 == .ms(2000) })
        let timeout = core.onTimer(.probeTimeout(sequence: ping.sequence), now: .ms(1400))
        let requests = F.sends(timeout).filter {
            if case .pingRequest(ping.sequence, ping.target, ping.to, true) = $0.0.body { true } else { false }
        }
        #expect(requests.count == 3)
        #expect(Set(requests.map(\.1)).count == 3)
        #expect(!requests.contains { $0.1 == ping.to })
    }

    @Test func probe_failedWithoutAnyAck_suspectsTheTarget() {
        var core = F.core(peers: 6)
        let ping = try! #require(F.ping(core.onTimer(.probe, now: .ms(1000))))
        _ = core.onTimer(.probeTimeout(sequence: ping.sequence), now: .ms(1400))
        let effects = core.onTimer(.probe, now: .ms(2000))
        #expect(F.events(effects).contains { if case .suspect(let m, F.id(1)) = $0 { m.id == ping.target } else { false } })
        #expect(core.member(ping.target)?.status == .suspect)
        #expect(F.timers(effects).contains { $0.0 == .suspicion(ping.target) })
    }

    @Test func indirectAck_relayedByAHelper_savesTheTarget() {
        var core = F.core(peers: 6)
        let ping = try! #require(F.ping(core.onTimer(.probe, now: .ms(1000))))
        _ = core.onTimer(.probeTimeout(sequence: ping.sequence), now: .ms(1400))
        _ = core.onDatagram(F.datagram(from: 5, .ack(sequence: ping.sequence)), from: F.address(5), now: .ms(1500))
        let effects = core.onTimer(.probe, now: .ms(2000))
        #expect(F.events(effects).isEmpty)
        #expect(core.member(ping.target)?.status == .alive)
    }

    @Test func pingRequest_relaysTheAckToTheRequester_orANackAfterTheTimeout() {
        var helper = F.core(peers: 4)
        let request = F.datagram(from: 2, .pingRequest(sequence: 77, target: F.id(3), address: F.address(3),
                                                        wantsNack: true))
        let relayed = helper.onDatagram(request, from: F.address(2), now: .ms(100))
        let ping = try! #require(F.ping(relayed))
        #expect(ping.target == F.id(3))
        #expect(ping.to == F.address(3))
        let acked = helper.onDatagram(F.datagram(from: 3, .ack(sequence: ping.sequence)), from: F.address(3),
                                      now: .ms(101))
        #expect(F.sends(acked).map(\.0.body) == [.ack(sequence: 77)])
        #expect(F.sends(acked).first?.1 == F.address(2))

        let silent = helper.onDatagram(request, from: F.address(2), now: .ms(200))
        let second = try! #require(F.ping(silent))
        let nack = helper.onTimer(.relay(sequence: second.sequence), now: .ms(600))
        #expect(F.sends(nack).map(\.0.body) == [.nack(sequence: 77)])
    }

    @Test func localHealth_growsWithMissedNacks_andStretchesTheProbePeriod() {
        var core = F.core(peers: 6)
        #expect(core.localHealth == 0)
        let ping = try! #require(F.ping(core.onTimer(.probe, now: .ms(1000))))
        _ = core.onTimer(.probeTimeout(sequence: ping.sequence), now: .ms(1400))
        // One of the three helpers nacks: two nacks missing.
        _ = core.onDatagram(F.datagram(from: 4, .nack(sequence: ping.sequence)), from: F.address(4), now: .ms(1700))
        let next = core.onTimer(.probe, now: .ms(2000))
        #expect(core.localHealth == 2)
        #expect(F.timers(next).contains { $0.0 == .probe && $0.1 == .ms(5000) })
        let timeoutAt = F.timers(next).first { if case .probeTimeout = $0.0 { true } else { false } }?.1
        #expect(timeoutAt == .ms(3200))
    }

    @Test func localHealth_fallsWithEachAck() {
        var core = F.core(peers: 6)
        core.localHealth = 3
        let ping = try! #require(F.ping(core.onTimer(.probe, now: .ms(1000))))
        _ = core.onDatagram(F.datagram(from: 2, .ack(sequence: ping.sequence)), from: ping.to, now: .ms(1001))
        #expect(core.localHealth == 2)
    }

    @Test func buddySystem_aProbeOfASuspectCarriesItsSuspicionFirst() {
        var core = F.core(peers: 2)
        _ = core.onDatagram(F.datagram(from: 3, .gossip, [F.suspect(2, from: 3)]), from: F.address(3), now: .ms(10))
        var found: (UInt32, NodeID, MemberAddress, [Update])?
        var now: Int64 = 1000
        while found == nil, now < 10_000 {
            if let ping = F.ping(core.onTimer(.probe, now: .ms(now))), ping.target == F.id(2) { found = ping }
            now += 1000
        }
        let updates = try! #require(found).3
        #expect(updates.first?.kind == .suspect)
        #expect(updates.first?.subject == F.id(2))
    }

    @Test func roundRobin_probesEveryActiveMemberOncePerRound() {
        var core = F.core(peers: 9)
        var targets: [NodeID] = []
        for period in 1...9 {
            let effects = core.onTimer(.probe, now: .ms(Int64(period) * 1000))
            let ping = try! #require(F.ping(effects))
            targets.append(ping.target)
            _ = core.onDatagram(F.datagram(from: 2, .ack(sequence: ping.sequence)), from: ping.to,
                                now: .ms(Int64(period) * 1000 + 1))
        }
        #expect(Set(targets).count == 9)
    }

    @Test func sameSeedAndInputs_giveTheSameEffects() {
        func run(seed: UInt64) -> [MembershipEffect] {
            var core = F.core(peers: 20, seed: seed)
            var all: [MembershipEffect] = []
            for period in 1...30 {
                all += core.onTimer(.probe, now: .ms(Int64(period) * 1000))
                all += core.onTimer(.gossip, now: .ms(Int64(period) * 1000 + 200))
            }
            return all
        }
        #expect(run(seed: 11) == run(seed: 11))
        #expect(run(seed: 11) != run(seed: 12))
    }
}
