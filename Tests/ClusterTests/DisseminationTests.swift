@testable import Cluster
import Testing

private typealias F = CoreFixture

@Suite("Gossip queue: least-sent first, lazy replacement, limits") struct DisseminationTests {
    @Test func leastSentFirst_thenNewestFirst() {
        var queue = Dissemination()
        for n in 1...3 { queue.enqueue(.alive(F.alive(UInt64(n)))) }
        var first: [Update] = []
        // Room for exactly one update: the newest goes first.
        queue.select(budget: WireFormat.size(of: .alive(F.alive(3))), limit: 5, into: &first)
        #expect(first.map(\.subject) == [F.id(3)])
        // Members 2 and 1 have not been sent yet, so they come before 3 (sent once).
        #expect(queue.updates.map(\.subject) == [F.id(2), F.id(1), F.id(3)])
    }

    @Test func replacement_keepsOneUpdatePerSubject_andResetsItsCount() {
        var queue = Dissemination()
        queue.enqueue(.alive(F.alive(1)))
        queue.enqueue(.alive(F.alive(2)))
        var sent: [Update] = []
        queue.select(budget: 1200, limit: 5, into: &sent)
        queue.enqueue(.alive(F.alive(1, incarnation: 4)))
        #expect(queue.count == 2)
        #expect(queue.contains(subject: F.id(1)))
        #expect(queue.updates.map(\.subject) == [F.id(1), F.id(2)])
        var again: [Update] = []
        queue.select(budget: 1200, limit: 5, into: &again)
        #expect(again.map(\.subject) == [F.id(1), F.id(2)])
        #expect(again.first?.incarnation == 4)
    }

    @Test func updatesSentLimitTimes_areDropped_evenWhenTheLimitShrinks() {
        var queue = Dissemination()
        queue.enqueue(.alive(F.alive(1)))
        queue.enqueue(.alive(F.alive(2)))
        for _ in 0..<2 {
            var sent: [Update] = []
            queue.select(budget: 1200, limit: 3, into: &sent)
            #expect(sent.count == 2)
        }
        #expect(queue.count == 2)
        // The cluster shrank: the limit is now 2 and both have been sent twice.
        var sent: [Update] = []
        queue.select(budget: 1200, limit: 2, into: &sent)
        #expect(sent.isEmpty)
        #expect(queue.isEmpty)
        #expect(!queue.contains(subject: F.id(1)))
    }

    @Test func budget_isRespected_andUnsentUpdatesWait() {
        var queue = Dissemination()
        for n in 1...100 { queue.enqueue(.alive(F.alive(UInt64(n)))) }
        var sent: [Update] = []
        queue.select(budget: 1200, limit: 4, into: &sent)
        let bytes = sent.reduce(0) { $0 + WireFormat.size(of: $1) }
        #expect(bytes <= 1200)
        #expect(!sent.isEmpty && sent.count < 100)
        #expect(sent.first?.subject == F.id(100))
        #expect(queue.count == 100)
        // Sent ones go behind the 100 - k never sent.
        #expect(Set(queue.updates.prefix(100 - sent.count).map(\.subject)).isDisjoint(with: sent.map(\.subject)))
    }

    @Test func capacity_dropsTheMostSent() {
        var queue = Dissemination()
        queue.enqueue(.alive(F.alive(0)))
        var sent: [Update] = []
        queue.select(budget: 1200, limit: 10, into: &sent)
        for n in 1...Dissemination.capacity { queue.enqueue(.alive(F.alive(UInt64(n)))) }
        #expect(queue.count == Dissemination.capacity)
        #expect(!queue.contains(subject: F.id(0)))
        #expect(queue.contains(subject: F.id(1)))
    }
}
