extension MembershipCore {
    /// Applies one piece of gossip, from a datagram or a state exchange.
    mutating func apply(_ update: Update, now: ClusterTime, into out: inout [MembershipEffect]) {
        if update.subject == me.id {
            applyAboutSelf(update, now: now, into: &out)
            return
        }
        switch update.kind {
        case .alive: applyAlive(update, now: now, into: &out)
        case .suspect: applySuspect(update, now: now, into: &out)
        case .dead, .left: applyDeath(update, now: now, into: &out)
        }
    }

    /// Gossip about this member: refute suspicions, rejoin in a new epoch after a declared death.
    private mutating func applyAboutSelf(_ update: Update, now: ClusterTime, into out: inout [MembershipEffect]) {
        guard !leaving, update.epoch == me.epoch else { return }
        switch update.kind {
        case .alive, .left:
            return
        case .suspect:
            guard update.incarnation >= me.incarnation else { return }
            me.incarnation = update.incarnation + 1
            changeHealth(by: 1)
        case .dead:
            me.epoch += 1
            me.incarnation = 0
            changeHealth(by: 1)
            out.append(.event(.reincarnated(me.identity)))
        }
        enqueue(.alive(me), now: now, into: &out)
        gossipEagerly(now: now, into: &out)
    }

    private mutating func applyAlive(_ update: Update, now: ClusterTime, into out: inout [MembershipEffect]) {
        let incoming = Member(id: update.subject, epoch: update.epoch, incarnation: update.incarnation,
                              address: update.address, status: .alive)
        guard let slot = table.slot(of: update.subject), let record = table[slot] else {
            _ = table.insert(incoming, at: now)
            out.append(.event(.joined(incoming)))
            enqueue(update, now: now, into: &out)
            return
        }
        let known = record.member
        if update.epoch > known.epoch {
            // A newer life: after a death this member saw, a join; otherwise the member refuted a death declared
            // elsewhere and this member simply follows it.
            table.update(slot, to: incoming, at: now)
            suspicions[update.subject] = nil
            out.append(.event(known.status.isActive ? .alive(incoming) : .joined(incoming)))
            enqueue(update, now: now, into: &out)
        } else if update.epoch == known.epoch, known.status.isActive, update.incarnation > known.incarnation {
            table.update(slot, to: incoming, at: now)
            enqueue(update, now: now, into: &out)
            if known.status == .suspect {
                suspicions[update.subject] = nil
                out.append(.event(.alive(incoming)))
                gossipEagerly(now: now, into: &out)
            }
        }
        // Anything else is stale; in particular a dead epoch is never revived.
    }

    private mutating func applySuspect(_ update: Update, now: ClusterTime, into out: inout [MembershipEffect]) {
        guard let slot = table.slot(of: update.subject), let record = table[slot] else { return }
        var known = record.member
        guard known.status.isActive, update.epoch == known.epoch, update.incarnation >= known.incarnation else {
            return
        }
        let strong = !update.weak || !settings.suspicion.weakEvidence
        if known.status == .suspect, update.incarnation == known.incarnation,
           var suspicion = suspicions[update.subject] {
            guard strong, suspicion.confirm(by: update.from) else { return }
            suspicions[update.subject] = suspicion
            out.append(.setTimer(.suspicion(update.subject), at: suspicion.deadline))
            // Others count confirmations too, so a new one is gossiped on.
            enqueue(update, now: now, into: &out)
            return
        }
        known.status = .suspect
        known.incarnation = update.incarnation
        table.update(slot, to: known, at: now)
        let size = clusterSize
        let minimum = settings.minimumSuspicion(members: size)
        let maximum = minimum.scaled(by: max(1, settings.suspicion.maximumMultiplier))
        var needed = settings.suspicion.confirmations
        if size - 2 < needed { needed = 0 }
        let suspicion = Suspicion(epoch: update.epoch, incarnation: update.incarnation, start: now,
                                  minimum: minimum, maximum: maximum, needed: needed, raisedBy: update.from,
                                  strong: strong)
        suspicions[update.subject] = suspicion
        out.append(.setTimer(.suspicion(update.subject), at: suspicion.deadline))
        out.append(.event(.suspect(known, by: update.from)))
        enqueue(update, now: now, into: &out)
        if update.from != me.id, settings.suspicion.verificationProbes > 0,
           rng.below(size) < settings.suspicion.verificationProbes {
            verifications.append(update.subject)
        }
    }

    private mutating func applyDeath(_ update: Update, now: ClusterTime, into out: inout [MembershipEffect]) {
        let status: MemberStatus = update.kind == .left ? .left : .dead
        guard let slot = table.slot(of: update.subject), let record = table[slot] else {
            // A tombstone for a member never seen, so stale gossip of that life cannot add it later.
            _ = table.insert(Member(id: update.subject, epoch: update.epoch, incarnation: update.incarnation,
                                    address: .unknown, status: status), at: now)
            return
        }
        var known = record.member
        guard update.epoch >= known.epoch else { return }
        if update.epoch == known.epoch {
            guard known.status.isActive, update.incarnation >= known.incarnation else { return }
        }
        known.epoch = update.epoch
        known.incarnation = update.incarnation
        known.status = status
        table.update(slot, to: known, at: now)
        suspicions[update.subject] = nil
        out.append(.event(status == .left ? .left(known) : .dead(known, by: update.from)))
        enqueue(update, now: now, into: &out)
        gossipEagerly(now: now, into: &out)
    }

    /// Sends a gossip round now rather than at the next interval, unless one went out less than
    /// `eagerGossipSpacing` ago (the regular round then carries it).
    mutating func gossipEagerly(now: ClusterTime, into out: inout [MembershipEffect]) {
        guard let spacing = settings.eagerGossipSpacing else { return }
        if let last = lastEagerGossip, now < last + spacing { return }
        lastEagerGossip = now
        gossipRound(now: now, into: &out)
    }

    /// A suspicion ran out without a refutation: declare the member dead.
    mutating func onSuspicionTimeout(_ id: NodeID, now: ClusterTime, into out: inout [MembershipEffect]) {
        guard let suspicion = suspicions[id], now >= suspicion.deadline,
              let slot = table.slot(of: id), let record = table[slot], record.member.status == .suspect,
              record.member.epoch == suspicion.epoch, record.member.incarnation == suspicion.incarnation
        else { return }
        let late = firedLate(due: suspicion.deadline, now: now)
        let silent = !suspicion.deferred && firedLate(due: lastInput, now: now)
        if late || silent {
            // Paused past the deadline (every time it happens), or silent for a while (once): read what may have
            // queued up, perhaps the refutation, before declaring anything.
            suspicions[id]?.deferred = true
            if late { changeHealth(by: 1) }
            let retry = now + (settings.lateTimerTolerance ?? .zero)
            suspicions[id]?.postpone(to: retry)
            out.append(.setTimer(.suspicion(id), at: retry))
            return
        }
        let declaration = Update(kind: .dead, subject: id, epoch: suspicion.epoch,
                                 incarnation: suspicion.incarnation, from: me.id)
        applyDeath(declaration, now: now, into: &out)
    }

    /// Tells a member that this member holds it dead in its current epoch (at most once a period), so that it
    /// rejoins in a new epoch instead of staying invisible.
    mutating func tellDead(_ member: Member, now: ClusterTime, into out: inout [MembershipEffect]) {
        guard member.address != .unknown, member.status == .dead else { return }
        if let last = toldDead[member.id], now < last + settings.probeInterval { return }
        toldDead[member.id] = now
        let news = Update(kind: .dead, subject: member.id, epoch: member.epoch, incarnation: member.incarnation,
                          from: me.id)
        out.append(.send(Datagram(sender: me.identity, body: .gossip, updates: [news]), to: member.address))
    }

    /// Queues an update for gossip and makes sure a gossip round is coming.
    mutating func enqueue(_ update: Update, now: ClusterTime, into out: inout [MembershipEffect]) {
        queue.enqueue(update)
        armGossip(now: now, into: &out)
    }

    mutating func armGossip(now: ClusterTime, into out: inout [MembershipEffect]) {
        guard !gossipArmed else { return }
        gossipArmed = true
        out.append(.setTimer(.gossip, at: now + settings.gossipInterval))
    }

    /// Sends queued gossip to `gossipFanout` random members (and members recently declared dead, so they can
    /// learn it).
    mutating func gossipRound(now: ClusterTime, into out: inout [MembershipEffect]) {
        guard !queue.isEmpty else { return }
        let since = ClusterTime(nanoseconds: now.nanoseconds - settings.gossipToTheDead.nanoseconds)
        let targets = randomActiveSlots(count: settings.gossipFanout, includeRecentlyDead: since)
        for slot in targets {
            guard let target = table[slot]?.member, !queue.isEmpty else { break }
            send(.gossip, to: target.address, into: &out)
        }
    }

    /// Forgets tombstones past their lifetime.
    mutating func reap(now: ClusterTime) {
        let lifetime = settings.tombstoneLifetime
        for slot in table.tombstones.sorted() {
            guard let record = table[Int(slot)], now - record.changedAt > lifetime else { continue }
            table.remove(Int(slot))
            toldDead[record.member.id] = nil
        }
    }
}
