@testable import Cluster
import Testing

@Suite("Membership core: suspicion, refutation, epochs and tombstones")
struct MembershipGossipTests {
    typealias F = CoreFixture

    @Test func suspicion_becomesDeadWhenItTimesOut_andTheDeclarationIsGossiped() {
        var core = F.core(peers: 20)
        let effects = core.onDatagram(F.datagram(from: 3, .gossip, [F.suspect(2, from: 3)]), from: F.address(3),
                                      now: .ms(0))
        let deadline = try! #require(F.timers(effects).first { $0.0 == .suspicion(F.id(2)) }?.1)
        // N = 21: minimum 1.5 × log10(21) ≈ 1.98 s, maximum 4×: no confirmations yet → maximum.
        let minimum = MembershipSettings.tessera.minimumSuspicion(members: 21)
        #expect(deadline == ClusterTime.zero + minimum.scaled(by: 4))
        _ = core.onDatagram(F.datagram(from: 4, .gossip), from: F.address(4), now: deadline + .milliseconds(-50))
        let expired = core.onTimer(.suspicion(F.id(2)), now: deadline)
        #expect(F.events(expired).contains { if case .dead(let m, F.id(1)) = $0 { m.id == F.id(2) } else { false } })
        #expect(core.member(F.id(2))?.status == .dead)
        #expect(core.queue.contains(subject: F.id(2)))
    }

    @Test func independentConfirmations_shortenTheSuspicionToItsMinimum() {
        var core = F.core(peers: 20)
        _ = core.onDatagram(F.datagram(from: 3, .gossip, [F.suspect(2, from: 3)]), from: F.address(3), now: .ms(0))
        var deadlines: [ClusterTime] = []
        for confirmer in [4, 5, 6] as [UInt64] {
            let effects = core.onDatagram(F.datagram(from: confirmer, .gossip, [F.suspect(2, from: confirmer)]),
                                          from: F.address(Int(confirmer)), now: .ms(100))
            deadlines += F.timers(effects).filter { $0.0 == .suspicion(F.id(2)) }.map(\.1)
        }
        #expect(deadlines.count == 3)
        #expect(deadlines == deadlines.sorted(by: >))
        #expect(deadlines.last == ClusterTime.zero + MembershipSettings.tessera.minimumSuspicion(members: 21))
        // The same confirmer twice is not independent.
        let again = core.onDatagram(F.datagram(from: 4, .gossip, [F.suspect(2, from: 4)]), from: F.address(4),
                                    now: .ms(200))
        #expect(F.timers(again).filter { $0.0 == .suspicion(F.id(2)) }.isEmpty)
    }

    @Test func dynamicTimeout_followsLifeguardsFormula() {
        let minimum = Duration.seconds(2)
        let maximum = Duration.seconds(8)
        #expect(Suspicion.timeout(confirmations: 0, needed: 3, minimum: minimum, maximum: maximum) == maximum)
        #expect(Suspicion.timeout(confirmations: 3, needed: 3, minimum: minimum, maximum: maximum) == minimum)
        #expect(Suspicion.timeout(confirmations: 5, needed: 3, minimum: minimum, maximum: maximum) == minimum)
        #expect(Suspicion.timeout(confirmations: 1, needed: 0, minimum: minimum, maximum: maximum) == minimum)
        // 8 − 6 · log 2 / log 4 = 5 s.
        #expect(Suspicion.timeout(confirmations: 1, needed: 3, minimum: minimum, maximum: maximum) == .seconds(5))
    }

    @Test func weakEvidence_neitherShortensNorConfirms() {
        var core = F.core(peers: 20)
        _ = core.onDatagram(F.datagram(from: 3, .gossip, [F.suspect(2, from: 3, weak: true)]), from: F.address(3),
                            now: .ms(0))
        let weak = core.onDatagram(F.datagram(from: 4, .gossip, [F.suspect(2, from: 4, weak: true)]),
                                   from: F.address(4), now: .ms(10))
        #expect(F.timers(weak).filter { $0.0 == .suspicion(F.id(2)) }.isEmpty)
        let strong = core.onDatagram(F.datagram(from: 5, .gossip, [F.suspect(2, from: 5)]), from: F.address(5),
                                     now: .ms(20))
        #expect(F.timers(strong).contains { $0.0 == .suspicion(F.id(2)) })
    }

    @Test func suspicionOfItself_isRefutedWithAHigherIncarnation() {
        var core = F.core(peers: 5)
        let effects = core.onDatagram(F.datagram(from: 3, .gossip, [F.suspect(1, from: 3, incarnation: 0)]),
                                      from: F.address(3), now: .ms(0))
        #expect(core.me.incarnation == 1)
        #expect(core.localHealth == 1)
        #expect(core.queue.updates.contains { $0.kind == .alive && $0.subject == F.id(1)
            && $0.incarnation == 1 })
        #expect(F.events(effects).isEmpty)
        // A suspicion of an incarnation already refuted changes nothing.
        _ = core.onDatagram(F.datagram(from: 4, .gossip, [F.suspect(1, from: 4, incarnation: 0)]),
                            from: F.address(4), now: .ms(10))
        #expect(core.me.incarnation == 1)
    }

    @Test func refutation_clearsTheSuspicionElsewhere() {
        var core = F.core(peers: 5)
        _ = core.onDatagram(F.datagram(from: 3, .gossip, [F.suspect(2, from: 3)]), from: F.address(3), now: .ms(0))
        let effects = core.onDatagram(F.datagram(from: 2, .gossip, [.alive(F.alive(2, incarnation: 1))]),
                                      from: F.address(2), now: .ms(500))
        #expect(F.events(effects) == [.alive(F.alive(2, incarnation: 1))])
        #expect(core.member(F.id(2))?.status == .alive)
        // The old suspicion timer fires and finds nothing to declare.
        #expect(F.events(core.onTimer(.suspicion(F.id(2)), now: .ms(60_000))).isEmpty)
    }

    @Test func declaredDead_itRejoinsInANewEpoch() {
        var core = F.core(peers: 5)
        let effects = core.onDatagram(F.datagram(from: 3, .gossip, [F.dead(1, from: 3)]), from: F.address(3),
                                      now: .ms(0))
        #expect(core.me.epoch == 1)
        #expect(core.me.incarnation == 0)
        #expect(F.events(effects) == [.reincarnated(MemberIdentity(id: F.id(1), epoch: 1))])
        #expect(core.queue.updates.contains { $0.kind == .alive && $0.epoch == 1 })
    }

    @Test func tombstone_isNeverRevivedByStaleGossip_butANewEpochJoins() {
        var core = F.core(peers: 5)
        _ = core.onDatagram(F.datagram(from: 3, .gossip, [F.dead(2, from: 3)]), from: F.address(3), now: .ms(0))
        #expect(core.member(F.id(2))?.status == .dead)
        let stale = core.onDatagram(F.datagram(from: 4, .gossip, [.alive(F.alive(2, incarnation: 9))]),
                                    from: F.address(4), now: .ms(10))
        #expect(F.events(stale).isEmpty)
        #expect(core.member(F.id(2))?.status == .dead)
        let reborn = core.onDatagram(F.datagram(from: 2, epoch: 1, .gossip, [.alive(F.alive(2, epoch: 1))]),
                                     from: F.address(2), now: .ms(20))
        #expect(F.events(reborn) == [.joined(F.alive(2, epoch: 1))])
    }

    @Test func deathOfAMemberNeverSeen_leavesATombstone() {
        var core = F.core(peers: 3)
        _ = core.onDatagram(F.datagram(from: 3, .gossip, [F.dead(50, from: 3)]), from: F.address(3), now: .ms(0))
        let stale = core.onDatagram(F.datagram(from: 4, .gossip, [.alive(F.alive(50))]), from: F.address(4),
                                    now: .ms(10))
        #expect(F.events(stale).isEmpty)
        #expect(core.member(F.id(50))?.status == .dead)
    }

    @Test func staleDeclaration_ofARefutedIncarnation_isIgnored() {
        var core = F.core(peers: 5)
        _ = core.onDatagram(F.datagram(from: 2, .gossip, [.alive(F.alive(2, incarnation: 3))]), from: F.address(2),
                            now: .ms(0))
        let effects = core.onDatagram(F.datagram(from: 3, .gossip, [F.dead(2, from: 3, incarnation: 2)]),
                                      from: F.address(3), now: .ms(10))
        #expect(F.events(effects).isEmpty)
        #expect(core.member(F.id(2))?.status == .alive)
    }

    @Test func aMemberHeldDead_thatStillTalks_isToldSo() {
        var core = F.core(peers: 5)
        _ = core.onDatagram(F.datagram(from: 3, .gossip, [F.dead(2, from: 3)]), from: F.address(3), now: .ms(0))
        let effects = core.onDatagram(F.datagram(from: 2, .ping(sequence: 5, target: F.id(1))), from: F.address(2),
                                      now: .ms(100))
        let sends = F.sends(effects)
        #expect(sends.count == 1)
        #expect(sends.first?.1 == F.address(2))
        #expect(sends.first?.0.updates.first?.kind == .dead)
        #expect(sends.first?.0.updates.first?.subject == F.id(2))
    }

    @Test func restartedProcess_isANewMember() {
        var core = F.core(peers: 3)
        let newcomer = Member(id: F.id(77), epoch: 0, incarnation: 0, address: F.address(2), status: .alive)
        let effects = core.onDatagram(F.datagram(from: 77, .gossip, [.alive(newcomer)]), from: F.address(2),
                                      now: .ms(0))
        #expect(F.events(effects) == [.joined(newcomer)])
        #expect(core.member(F.id(2))?.status == .alive)
        #expect(core.activeCount == 4)
    }

    @Test func leave_isGossipedAndEndsProbing() {
        var core = F.core(peers: 4)
        let effects = core.leave(now: .ms(0))
        let gossip = F.sends(effects)
        #expect(!gossip.isEmpty)
        #expect(gossip.allSatisfy { $0.0.updates.contains { $0.kind == .left && $0.subject == F.id(1) } })
        #expect(F.ping(core.onTimer(.probe, now: .ms(1000))) == nil)
        var other = F.core(peers: 4)
        let left = other.onDatagram(gossip[0].0, from: F.address(1), now: .ms(5))
        _ = left
        var observer = MembershipCore(id: F.id(9), address: F.address(9), seed: 1)
        _ = observer.bootstrap(peers: [F.alive(1), F.alive(2)], now: .zero)
        let seen = observer.onDatagram(gossip[0].0, from: F.address(1), now: .ms(5))
        #expect(F.events(seen).contains { if case .left(let m) = $0 { m.id == F.id(1) } else { false } })
    }

    @Test func lateTimers_ofAPausedMember_neitherSuspectNorDeclare() {
        var core = F.core(peers: 6)
        let ping = try! #require(F.ping(core.onTimer(.probe, now: .ms(1000))))
        // Paused for 2 s: the deadline (2 s) fires at 4 s.
        let late = core.onTimer(.probe, now: .ms(4000))
        #expect(F.events(late).isEmpty)
        #expect(core.member(ping.target)?.status == .alive)
        #expect(core.localHealth == 1)

        _ = core.onDatagram(F.datagram(from: 3, .gossip, [F.suspect(2, from: 3)]), from: F.address(3), now: .ms(5000))
        let deadline = core.suspicions[F.id(2)]!.deadline
        let postponed = core.onTimer(.suspicion(F.id(2)), now: deadline + .seconds(2))
        #expect(F.events(postponed).isEmpty)
        let retry = try! #require(F.timers(postponed).first { $0.0 == .suspicion(F.id(2)) }?.1)
        // The backlog holds the refutation.
        _ = core.onDatagram(F.datagram(from: 2, .gossip, [.alive(F.alive(2, incarnation: 1))]), from: F.address(2),
                            now: deadline + .seconds(2))
        #expect(F.events(core.onTimer(.suspicion(F.id(2)), now: retry)).isEmpty)
        #expect(core.member(F.id(2))?.status == .alive)
    }

    @Test func reap_forgetsTombstonesAfterTheirLifetime() {
        var core = F.core(peers: 3)
        _ = core.onDatagram(F.datagram(from: 3, .gossip, [F.dead(2, from: 3)]), from: F.address(3), now: .ms(0))
        _ = core.onTimer(.reap, now: .ms(60_000))
        #expect(core.member(F.id(2)) != nil)
        _ = core.onTimer(.reap, now: .ms(3_660_000))
        #expect(core.member(F.id(2)) == nil)
    }
}
