extension MembershipCore {
    /// This member's full state for a push-pull exchange: itself first, then every member it knows.
    func syncState(join: Bool) -> SyncMessage {
        var members = [me]
        members.reserveCapacity(table.count + 1)
        for slot in 0..<table.slotCount {
            if let record = table[slot] { members.append(record.member) }
        }
        return SyncMessage(sender: me.identity, join: join, members: members, digest: viewDigest)
    }

    /// The digest of this member's whole view, itself included (what `SyncMessage.digest` of its state is).
    var viewDigest: UInt64 {
        table.digest ^ MemberTable.digest(of: me)
    }

    /// Another member opened a state exchange: answer with this member's state, then merge theirs.
    ///
    /// - Returns: the reply to send back on the same connection, and the effects of the merge.
    public mutating func onSyncRequest(_ request: SyncMessage, now: ClusterTime)
        -> (reply: SyncMessage, effects: [MembershipEffect]) {
        let reply = syncState(join: false)
        var out: [MembershipEffect] = []
        lastInput = now
        merge(request, now: now, into: &out)
        return (reply, out)
    }

    /// The answer to a state exchange this member opened.
    public mutating func onSyncReply(_ reply: SyncMessage, now: ClusterTime) -> [MembershipEffect] {
        var out: [MembershipEffect] = []
        lastInput = now
        merge(reply, now: now, into: &out)
        return out
    }

    /// A state exchange this member opened failed (refused, timed out, or the peer is unreachable). Nothing to
    /// undo: the next anti-entropy or healing round tries another member. A join that failed while this member
    /// knows nobody is tried again after a back-off that doubles up to the heal interval.
    public mutating func onSyncFailed(to address: MemberAddress, now: ClusterTime) -> [MembershipEffect] {
        guard let backoff = joinBackoff, seeds.contains(address), table.activeCount == 0, !leaving else { return [] }
        let ceiling = settings.healInterval ?? settings.pushPullInterval
        joinBackoff = min(backoff * 2, ceiling)
        return [.setTimer(.join, at: now + backoff)]
    }

    /// Anti-entropy: a full exchange with one random active member.
    mutating func onPushPullTick(now: ClusterTime, into out: inout [MembershipEffect]) {
        out.append(.setTimer(.pushPull, at: now + settings.pushPullPeriod(members: clusterSize)))
        guard !leaving, let slot = randomActiveSlots(count: 1).first, let peer = table[slot]?.member else { return }
        out.append(.sync(syncState(join: false), to: peer.address))
    }

    /// Partition healing: a full exchange with a member this one holds dead, or with a seed when it knows no
    /// live member. If the other side is reachable again, the exchange tells each side who the other holds dead
    /// and both rejoin into one view, with no manual join.
    mutating func onHealTick(now: ClusterTime, into out: inout [MembershipEffect]) {
        guard let interval = settings.healInterval else { return }
        out.append(.setTimer(.heal, at: now + interval))
        guard !leaving else { return }
        var candidates: [MemberAddress] = []
        for slot in table.tombstones.sorted() {
            guard let record = table[Int(slot)], record.member.status == .dead, record.member.address != .unknown
            else { continue }
            candidates.append(record.member.address)
        }
        if candidates.isEmpty, table.activeCount == 0 { candidates = seeds }
        guard !candidates.isEmpty else { return }
        out.append(.sync(syncState(join: false), to: candidates[rng.below(candidates.count)]))
    }

    /// Merges another member's state into this one.
    ///
    /// A remote tombstone for a member this one holds alive in the same epoch is not applied: the remote may be
    /// on the other side of a healed partition. The member is told instead and rejoins in a new epoch, which
    /// every member accepts. Likewise a member alive remotely but dead here is told it is dead here.
    mutating func merge(_ sync: SyncMessage, now: ClusterTime, into out: inout [MembershipEffect]) {
        // Identical views: nothing to learn.
        guard sync.digest != viewDigest else { return }
        for remote in sync.members {
            if remote.id == me.id {
                switch remote.status {
                case .alive, .left: break
                case .suspect:
                    apply(Update(kind: .suspect, subject: me.id, epoch: remote.epoch, incarnation: remote.incarnation,
                                 from: sync.sender.id), now: now, into: &out)
                case .dead:
                    apply(Update(kind: .dead, subject: me.id, epoch: remote.epoch, incarnation: remote.incarnation,
                                 from: sync.sender.id), now: now, into: &out)
                }
                continue
            }
            let local = member(remote.id)
            if let local, local.epoch == remote.epoch, local.incarnation == remote.incarnation,
               local.status == remote.status { continue }
            switch remote.status {
            case .alive:
                if let local, local.status == .dead, local.epoch == remote.epoch {
                    tellDead(Member(id: local.id, epoch: local.epoch, incarnation: local.incarnation,
                                    address: remote.address, status: .dead), now: now, into: &out)
                } else {
                    apply(.alive(remote), now: now, into: &out)
                }
            case .suspect:
                // Known first as alive, then suspected by the remote.
                if local == nil || local.map({ remote.epoch > $0.epoch }) == true {
                    var alive = remote
                    alive.status = .alive
                    apply(.alive(alive), now: now, into: &out)
                }
                apply(Update(kind: .suspect, subject: remote.id, epoch: remote.epoch, incarnation: remote.incarnation,
                             from: sync.sender.id), now: now, into: &out)
            case .dead:
                if let local, local.status.isActive, local.epoch == remote.epoch {
                    tellDead(Member(id: local.id, epoch: local.epoch, incarnation: remote.incarnation,
                                    address: local.address, status: .dead), now: now, into: &out)
                } else {
                    apply(Update(kind: .dead, subject: remote.id, epoch: remote.epoch,
                                 incarnation: remote.incarnation, from: sync.sender.id), now: now, into: &out)
                }
            case .left:
                apply(Update(kind: .left, subject: remote.id, epoch: remote.epoch, incarnation: remote.incarnation,
                             from: remote.id), now: now, into: &out)
            }
        }
    }
}
