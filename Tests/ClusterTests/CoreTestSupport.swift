@testable import Cluster

/// Builds cores and reads their effects in tests.
enum CoreFixture {
    static func id(_ n: UInt64) -> NodeID { NodeID(high: n, low: n &* 0x9E37_79B9) }

    static func address(_ n: Int) -> MemberAddress { MemberAddress(ipv4: 0x7F00_0001 &+ UInt32(n), port: 7946) }

    static func alive(_ n: UInt64, epoch: UInt64 = 0, incarnation: UInt64 = 0) -> Member {
        Member(id: id(n), epoch: epoch, incarnation: incarnation, address: address(Int(n)), status: .alive)
    }

    /// A started core (id 1) that already knows members 2…`peers + 1`, its queue emptied.
    static func core(peers: Int, settings: MembershipSettings = .tessera, seed: UInt64 = 7) -> MembershipCore {
        var core = MembershipCore(id: id(1), address: address(1), settings: settings, seed: seed)
        _ = core.bootstrap(peers: (0..<peers).map { alive(UInt64($0 + 2)) }, now: .zero)
        return core
    }

    static func sends(_ effects: [MembershipEffect]) -> [(Datagram, MemberAddress)] {
        effects.compactMap { if case .send(let datagram, let to) = $0 { (datagram, to) } else { nil } }
    }

    static func events(_ effects: [MembershipEffect]) -> [MembershipEvent] {
        effects.compactMap { if case .event(let event) = $0 { event } else { nil } }
    }

    static func timers(_ effects: [MembershipEffect]) -> [(MembershipTimer, ClusterTime)] {
        effects.compactMap { if case .setTimer(let timer, let at) = $0 { (timer, at) } else { nil } }
    }

    static func syncs(_ effects: [MembershipEffect]) -> [(SyncMessage, MemberAddress)] {
        effects.compactMap { if case .sync(let message, let to) = $0 { (message, to) } else { nil } }
    }

    /// The first ping in `effects`: its sequence, target and the address it went to.
    static func ping(_ effects: [MembershipEffect]) -> (sequence: UInt32, target: NodeID, to: MemberAddress,
                                                         updates: [Update])? {
        for (datagram, to) in sends(effects) {
            if case .ping(let sequence, let target) = datagram.body { return (sequence, target, to, datagram.updates) }
        }
        return nil
    }

    static func datagram(from n: UInt64, epoch: UInt64 = 0, _ body: DatagramBody, _ updates: [Update] = [])
        -> Datagram {
        Datagram(sender: MemberIdentity(id: id(n), epoch: epoch), body: body, updates: updates)
    }

    static func suspect(_ n: UInt64, from: UInt64, incarnation: UInt64 = 0, epoch: UInt64 = 0, weak: Bool = false)
        -> Update {
        Update(kind: .suspect, subject: id(n), epoch: epoch, incarnation: incarnation, from: id(from), weak: weak)
    }

    static func dead(_ n: UInt64, from: UInt64, incarnation: UInt64 = 0, epoch: UInt64 = 0) -> Update {
        Update(kind: .dead, subject: id(n), epoch: epoch, incarnation: incarnation, from: id(from))
    }
}

extension ClusterTime {
    static func ms(_ value: Int64) -> ClusterTime { ClusterTime(nanoseconds: value * 1_000_000) }
}
