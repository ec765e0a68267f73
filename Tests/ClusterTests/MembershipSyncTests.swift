@testable import Cluster
import Testing

@Suite("Membership core: dissemination, push-pull and healing")
struct MembershipSyncTests {
    typealias F = CoreFixture

    @Test func datagrams_stayWithinTheirByteBudget_leastSentFirst() {
        var core = F.core(peers: 200)
        for n in 2..<202 as Range<UInt64> {
            _ = core.onDatagram(F.datagram(from: 2, .gossip, [.alive(F.alive(n, incarnation: 1))]),
                                from: F.address(2), now: .ms(0))
        }
        let sends = F.sends(core.onTimer(.gossip, now: .ms(200)))
        #expect(sends.count == 3)
        for (datagram, _) in sends {
            #expect(WireFormat.size(of: datagram) <= 1200)
            #expect(WireFormat.size(of: datagram) > 1200 - 40)
        }
        // Three datagrams of 28 updates: the 84 newest, each sent once.
        let sent = sends.flatMap { $0.0.updates.map(\.subject) }
        #expect(Set(sent).count == sent.count)
    }

    @Test func updates_areDroppedAfterTheirRetransmitLimit() {
        var core = F.core(peers: 9)
        _ = core.onDatagram(F.datagram(from: 2, .gossip, [.alive(F.alive(2, incarnation: 1))]), from: F.address(2),
                            now: .ms(0))
        let limit = MembershipSettings.tessera.retransmitLimit(members: 10)
        #expect(limit == 8)
        var carried = 0
        for round in 1...10 {
            for (datagram, _) in F.sends(core.onTimer(.gossip, now: .ms(Int64(round) * 200))) {
                carried += datagram.updates.count
            }
        }
        #expect(carried == limit)
        #expect(core.pendingGossip == 0)
    }

    @Test func join_exchangesFullStateBothWays() {
        var seed = F.core(peers: 4)
        var joiner = MembershipCore(id: F.id(50), address: F.address(50), seed: 3)
        let start = joiner.start(seeds: [F.address(1), F.address(50)], now: .ms(0))
        let request = try! #require(F.syncs(start).first)
        #expect(F.syncs(start).count == 1)
        #expect(request.1 == F.address(1))
        #expect(request.0.join)
        let (reply, effects) = seed.onSyncRequest(request.0, now: .ms(1))
        #expect(F.events(effects).contains { if case .joined(let m) = $0 { m.id == F.id(50) } else { false } })
        let joined = joiner.onSyncReply(reply, now: .ms(2))
        #expect(F.events(joined).count == 5)
        #expect(joiner.activeCount == 5)
        #expect(seed.activeCount == 5)
    }

    @Test func remoteTombstone_ofAMemberAliveHere_isNotAppliedButToldToIt() {
        var core = F.core(peers: 4)
        var dead2 = F.alive(2)
        dead2.status = .dead
        let remote = SyncMessage(sender: MemberIdentity(id: F.id(9)), join: false,
                                 members: [F.alive(9), dead2])
        let effects = core.onSyncReply(remote, now: .ms(0))
        #expect(core.member(F.id(2))?.status == .alive)
        let told = F.sends(effects).filter { $0.1 == F.address(2) }
        #expect(told.count == 1)
        #expect(told.first?.0.updates.first?.kind == .dead)
    }

    @Test func remoteAlive_ofAMemberDeadHere_isToldItIsDead() {
        var core = F.core(peers: 4)
        _ = core.onDatagram(F.datagram(from: 3, .gossip, [F.dead(2, from: 3)]), from: F.address(3), now: .ms(0))
        let remote = SyncMessage(sender: MemberIdentity(id: F.id(9)), join: false, members: [F.alive(9), F.alive(2)])
        let effects = core.onSyncReply(remote, now: .ms(10))
        #expect(core.member(F.id(2))?.status == .dead)
        #expect(F.sends(effects).contains { $0.1 == F.address(2) && $0.0.updates.first?.kind == .dead })
    }

    @Test func stateHoldingItselfDead_makesTheMemberRejoinInANewEpoch() {
        var core = F.core(peers: 4)
        var me = F.alive(1)
        me.status = .dead
        let effects = core.onSyncReply(SyncMessage(sender: MemberIdentity(id: F.id(9)), join: false,
                                                   members: [F.alive(9), me]), now: .ms(0))
        #expect(core.me.epoch == 1)
        #expect(F.events(effects).contains(.reincarnated(MemberIdentity(id: F.id(1), epoch: 1))))
    }

    @Test func heal_exchangesStateWithADeadMember_orASeedWhenAlone() {
        var core = F.core(peers: 3)
        _ = core.onDatagram(F.datagram(from: 3, .gossip, [F.dead(2, from: 3)]), from: F.address(3), now: .ms(0))
        let heal = core.onTimer(.heal, now: .ms(30_000))
        #expect(F.syncs(heal).map(\.1) == [F.address(2)])
        #expect(F.timers(heal).contains { $0.0 == .heal && $0.1 == .ms(60_000) })

        var alone = MembershipCore(id: F.id(1), address: F.address(1), seed: 5)
        _ = alone.start(seeds: [F.address(7)], now: .zero)
        #expect(F.syncs(alone.onTimer(.heal, now: .ms(30_000))).map(\.1) == [F.address(7)])
    }

    @Test func memberlistProfile_neverHeals() {
        var core = F.core(peers: 3, settings: .memberlistDefaults)
        _ = core.onDatagram(F.datagram(from: 3, .gossip, [F.dead(2, from: 3)]), from: F.address(3), now: .ms(0))
        #expect(F.syncs(core.onTimer(.heal, now: .ms(30_000))).isEmpty)
    }

    @Test func pushPull_exchangesWithOneRandomActiveMember_atTheScaledPeriod() {
        var core = F.core(peers: 99)
        let effects = core.onTimer(.pushPull, now: .ms(0))
        #expect(F.syncs(effects).count == 1)
        #expect(F.syncs(effects).first?.0.members.count == 100)
        // N = 100: log2(100) − log2(32) → 2 more steps: 3 × 30 s.
        #expect(F.timers(effects).contains { $0.0 == .pushPull && $0.1 == .ms(90_000) })
    }

    @Test func profiles_differWhereTheyShould() {
        #expect(MembershipSettings.profile(named: "tessera") == .tessera)
        #expect(MembershipSettings.profile(named: "nope") == nil)
        #expect(MembershipSettings.memberlistDefaults.minimumSuspicion(members: 1000) == .seconds(12))
        #expect(MembershipSettings.memberlistDefaults.retransmitLimit(members: 1000) == 16)
        #expect(!MembershipSettings.swimClassic.nacks)
        #expect(MembershipSettings.swimClassic.minimumSuspicion(members: 1000)
            == MembershipSettings.tessera.minimumSuspicion(members: 1000))
    }
}

@Suite("Membership core: joining")
struct MembershipJoinTests {
    typealias F = CoreFixture

    @Test func failedJoin_isRetriedWithADoublingBackoff_untilASeedAnswers() {
        var core = MembershipCore(id: F.id(1), address: F.address(1), seed: 3)
        _ = core.start(seeds: [F.address(2)], now: .zero)
        var waits: [ClusterTime] = []
        var now = ClusterTime.zero
        for _ in 0..<8 {
            let failed = core.onSyncFailed(to: F.address(2), now: now)
            let retry = try! #require(F.timers(failed).first { $0.0 == .join }?.1)
            waits.append(retry)
            now = retry
            #expect(F.syncs(core.onTimer(.join, now: now)).map(\.1) == [F.address(2)])
        }
        let gaps = zip(waits, [ClusterTime.zero] + waits).map { ($0 - $1) }
        #expect(gaps.prefix(4) == [.milliseconds(500), .seconds(1), .seconds(2), .seconds(4)])
        #expect(gaps.last == .seconds(30))
        // Once the seed answered, a failure elsewhere schedules nothing.
        var seed = F.core(peers: 2)
        let (reply, _) = seed.onSyncRequest(core.syncState(join: true), now: now)
        _ = core.onSyncReply(reply, now: now)
        #expect(F.timers(core.onSyncFailed(to: F.address(2), now: now)).isEmpty)
    }
}
