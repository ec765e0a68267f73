import Cluster
import Testing

@testable import Grid

/// The agents' node source decides in ``AgentSourceCore``: membership and link events in, directives out,
/// on times the test chooses.
@Suite struct AgentSourceCoreTests {
    static let grid = Cluster.NodeID(high: 1, low: 1)
    static let agentID = Cluster.NodeID(high: 2, low: 2)
    static func agent(epoch: UInt64 = 0, status: MemberStatus = .alive) -> Member {
        Member(id: agentID, epoch: epoch, incarnation: 0, address: MemberAddress("127.0.0.2:7000") ?? .unknown, status: status)
    }

    /// The core, with a member linked and announced on session 1.
    static func linked() -> AgentSourceCore {
        var core = AgentSourceCore(identity: grid)
        _ = core.onMembershipEvent(.joined(agent()), now: .zero)
        _ = core.onLinkEvent(.linked(session: 1), now: .zero)
        _ = core.onLinkEvent(.announced(session: 1), now: .zero)
        return core
    }

    @Test func theMembershipTable_joinedSuspectAliveDead() {
        var core = AgentSourceCore(identity: Self.grid)
        #expect(core.onMembershipEvent(.joined(Self.agent()), now: .zero) == [.dial(Self.agent(), session: 1)])
        #expect(core.onLinkEvent(.linked(session: 1), now: .zero) == [.wake(at: .seconds(10))], "the announce is awaited 10 s")
        #expect(core.onLinkEvent(.announced(session: 1), now: .seconds(1)) == [.addHost(session: 1)])
        #expect(core.onMembershipEvent(.suspect(Self.agent(status: .suspect), by: Self.grid), now: .seconds(2)) == [.hostDown(session: 1)])
        #expect(core.onMembershipEvent(.alive(Self.agent()), now: .seconds(3)) == [.hostUp(session: 1)])
        #expect(core.onMembershipEvent(.dead(Self.agent(status: .dead), by: Self.grid), now: .seconds(4)) == [
            .hostLost(session: 1, reason: "member \(Self.agentID.short) was declared dead in epoch 0")
        ])
        // Its link then closes: nothing more (the member is gone, no re-link).
        #expect(core.onLinkEvent(.closed(session: 1, reason: "eof"), now: .seconds(5)).isEmpty)
        #expect(core.onTick(now: .seconds(10)).isEmpty, "the announce deadline of a session that announced is no timeout")
    }

    @Test func ownEventsAndStaleEpochs_changeNothing() {
        var core = Self.linked()
        let me = Member(id: Self.grid, epoch: 0, incarnation: 0, address: .unknown, status: .alive)
        #expect(core.onMembershipEvent(.joined(me), now: .zero).isEmpty)
        #expect(core.onMembershipEvent(.dead(me, by: Self.agentID), now: .zero).isEmpty)
        // A later epoch ends the old session and dials a new one; the old epoch's death then changes nothing.
        #expect(core.onMembershipEvent(.joined(Self.agent(epoch: 1)), now: .seconds(1)) == [
            .hostLost(session: 1, reason: "member \(Self.agentID.short) came back in epoch 1"), .dial(Self.agent(epoch: 1), session: 2),
        ])
        #expect(core.onMembershipEvent(.dead(Self.agent(epoch: 0, status: .dead), by: Self.grid), now: .seconds(2)).isEmpty)
    }

    @Test func failedDials_backOffDoubling_upToThirtySeconds_andStopWhenTheMemberGoes() {
        var core = AgentSourceCore(identity: Self.grid)
        var now = Duration.zero
        _ = core.onMembershipEvent(.joined(Self.agent()), now: now)
        var session = 1
        var delays: [Duration] = []
        for _ in 0..<9 {
            let failed = core.onLinkEvent(.failed(session: session, error: "refused"), now: now)
            guard case .dialFailed(_, "refused", let delay)? = failed.first else {
                Issue.record("no retry: \(failed)")
                return
            }
            delays.append(delay)
            #expect(failed.last == .wake(at: now + delay))
            #expect(core.onTick(now: now + delay - .milliseconds(1)).allSatisfy { if case .wake = $0 { true } else { false } })
            now += delay
            session += 1
            #expect(core.onTick(now: now) == [.dial(Self.agent(), session: session)])
        }
        #expect(delays == [0.5, 1, 2, 4, 8, 16, 30, 30, 30].map { Duration.milliseconds(Int64($0 * 1000)) })
        // The member leaves while its retry waits: no dial.
        _ = core.onLinkEvent(.failed(session: session, error: "refused"), now: now)
        _ = core.onMembershipEvent(.left(Self.agent(status: .left)), now: now)
        #expect(core.onTick(now: now + .seconds(60)).isEmpty)
    }

    @Test func anAgentThatAnnouncesNothing_isDroppedAtTheTimeout_andDialledAgainLater() {
        var core = AgentSourceCore(identity: Self.grid)
        _ = core.onMembershipEvent(.joined(Self.agent()), now: .zero)
        _ = core.onLinkEvent(.linked(session: 1), now: .zero)
        #expect(core.onTick(now: .seconds(9)) == [.wake(at: .seconds(10))], "an early tick asks again")
        let timedOut = core.onTick(now: .seconds(10))
        #expect(timedOut.first == .closeLink(session: 1, reason: "announced no resources within 10.0 seconds"))
        #expect(timedOut.contains(.wake(at: .seconds(10) + .milliseconds(500))))
        // A late announce on the closed session is refused.
        #expect(core.onLinkEvent(.announced(session: 1), now: .seconds(10)) == [.closeLink(session: 1, reason: "its announce came too late")])
        #expect(core.onTick(now: .milliseconds(10_500)) == [.dial(Self.agent(), session: 2)])
    }

    @Test func aDroppedLink_ofALiveMember_isLost_thenLinkedAgainAfterAPause() {
        var core = Self.linked()
        #expect(core.onLinkEvent(.closed(session: 1, reason: "reset"), now: .seconds(3)) == [
            .hostLost(session: 1, reason: "link closed: reset"), .wake(at: .milliseconds(3500)),
        ])
        #expect(core.onTick(now: .milliseconds(3500)) == [.dial(Self.agent(), session: 2)])
    }

    @Test func aDialThatEndsAfterTheMemberLeft_closesItsLink() {
        var core = AgentSourceCore(identity: Self.grid)
        _ = core.onMembershipEvent(.joined(Self.agent()), now: .zero)
        _ = core.onLinkEvent(.linked(session: 1), now: .zero)
        _ = core.onMembershipEvent(.left(Self.agent(status: .left)), now: .seconds(1))
        #expect(core.onLinkEvent(.announced(session: 1), now: .seconds(2)) == [
            .closeLink(session: 1, reason: "member \(Self.agentID.short) is gone")
        ])
    }
}
