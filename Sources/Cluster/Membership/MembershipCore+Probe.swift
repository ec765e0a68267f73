extension MembershipCore {
    /// Starts a protocol period: close the previous probe (suspecting its target unless an ack came), then probe
    /// the next member of the round-robin (or a suspect to verify). The end of one probe is the start of the
    /// next period, so one timer serves both.
    mutating func onProbeTick(now: ClusterTime, into out: inout [MembershipEffect]) {
        if probe != nil { finishProbe(now: now, into: &out) }
        let period = scaled(settings.probeInterval)
        out.append(.setTimer(.probe, at: now + period))
        guard !leaving, let slot = nextProbeTarget(), let record = table[slot] else { return }
        let target = record.member
        let sequence = takeSequence()
        probe = Probe(sequence: sequence, target: target.id, epoch: target.epoch, incarnation: target.incarnation,
                      address: target.address, deadline: now + period)
        var first: Update?
        if settings.buddy, target.status == .suspect {
            // Lifeguard's buddy system: the suspect hears of its suspicion in the probe itself.
            first = Update(kind: .suspect, subject: target.id, epoch: target.epoch, incarnation: target.incarnation,
                           from: me.id, weak: isWeak)
        }
        send(.ping(sequence: sequence, target: target.id), to: target.address, first: first, into: &out)
        out.append(.setTimer(.probeTimeout(sequence: sequence), at: now + scaled(settings.probeTimeout)))
    }

    /// The direct probe got no ack in time: ask K other members to probe the target.
    mutating func onProbeTimeout(sequence: UInt32, now: ClusterTime, into out: inout [MembershipEffect]) {
        guard let current = probe, current.sequence == sequence else { return }
        let helpers = randomActiveSlots(count: settings.indirectProbes, excluding: current.target)
        for slot in helpers {
            guard let helper = table[slot]?.member else { continue }
            send(.pingRequest(sequence: sequence, target: current.target, address: current.address,
                              wantsNack: settings.nacks),
                 to: helper.address, into: &out)
        }
        if settings.nacks { probe?.expectedNacks = helpers.count }
    }

    /// The period is over without an ack: adjust local health (Lifeguard) and suspect the target.
    mutating func finishProbe(now: ClusterTime, into out: inout [MembershipEffect]) {
        guard let failed = probe else { return }
        probe = nil
        if firedLate(due: failed.deadline, now: now) {
            // This member was paused past the end of the period: the ack may be unread in its socket. The probe
            // proves nothing about the target, only about this member's own health.
            changeHealth(by: 1)
            return
        }
        // Missing nacks mean this member cannot hear its peers either: the failure is likely its own.
        if failed.expectedNacks > 0 {
            changeHealth(by: failed.expectedNacks - failed.nacks)
        } else {
            changeHealth(by: 1)
        }
        guard let slot = table.slot(of: failed.target), let record = table[slot],
              record.member.status.isActive, record.member.epoch == failed.epoch else { return }
        let suspicion = Update(kind: .suspect, subject: failed.target, epoch: failed.epoch,
                               incarnation: record.member.incarnation, from: me.id, weak: isWeak)
        apply(suspicion, now: now, into: &out)
    }

    mutating func onAck(sequence: UInt32, into out: inout [MembershipEffect]) {
        if probe?.sequence == sequence {
            probe = nil
            changeHealth(by: -1)
        } else if let relay = relays.removeValue(forKey: sequence) {
            send(.ack(sequence: relay.originSequence), to: relay.origin, into: &out)
        }
    }

    /// Whether this member's suspicions are weak evidence right now.
    var isWeak: Bool {
        settings.suspicion.weakEvidence && localHealth > 0
    }

    /// Sends a datagram with as much queued gossip as fits its byte budget.
    mutating func send(_ body: DatagramBody, to address: MemberAddress, first: Update? = nil,
                       into out: inout [MembershipEffect]) {
        var updates: [Update] = []
        var budget = settings.maxDatagramBytes - WireFormat.envelopeBytes - WireFormat.size(of: body)
        if let first {
            updates.append(first)
            budget -= WireFormat.size(of: first)
        }
        queue.select(budget: budget, limit: settings.retransmitLimit(members: clusterSize), into: &updates)
        out.append(.send(Datagram(sender: me.identity, body: body, updates: updates), to: address))
    }

    /// The next member to probe: a suspect to verify first, then the round-robin.
    ///
    /// A round visits every slot once in the order `(a·k + b) mod 2^m` for k = 0, 1, …, with a random odd `a`
    /// and a random `b` drawn per round: a different order for every member and every round, and no array of
    /// N slots per member (the simulator runs 10,000 members). Members added during a round are visited in it
    /// if their slot is still ahead, otherwise in the next one.
    mutating func nextProbeTarget() -> Int? {
        while let id = verifications.popLast() {
            if let slot = table.slot(of: id), table[slot]?.member.status == .suspect,
               probe?.target != id { return slot }
        }
        guard table.activeCount > 0 else { return nil }
        var scanned = 0
        while scanned <= 2 * round.modulus {
            if round.step >= round.modulus { newRound() }
            let slot = (round.multiplier &* round.step &+ round.offset) & (round.modulus - 1)
            round.step += 1
            scanned += 1
            if slot < table.slotCount, let record = table[slot], record.member.status.isActive { return slot }
        }
        return nil
    }

    /// Draws the order of the next round.
    mutating func newRound() {
        var modulus = 1
        while modulus < table.slotCount { modulus <<= 1 }
        round = ProbeRound(multiplier: Int(truncatingIfNeeded: rng.next() | 1) & (modulus - 1) | 1,
                           offset: rng.below(modulus), modulus: modulus, step: 0)
    }

    /// Up to `count` distinct active members other than `excluding`, chosen at random.
    mutating func randomActiveSlots(count: Int, excluding: NodeID? = nil, includeRecentlyDead: ClusterTime? = nil)
        -> [Int] {
        let total = table.slotCount
        guard count > 0, total > 0 else { return [] }
        var chosen: [Int] = []
        var attempts = 0
        while chosen.count < count, attempts < 3 * total + 8 {
            attempts += 1
            let slot = rng.below(total)
            guard let record = table[slot], !chosen.contains(slot), record.member.id != excluding else { continue }
            if record.member.status.isActive {
                chosen.append(slot)
            } else if let since = includeRecentlyDead, record.member.status == .dead,
                      record.changedAt >= since, record.member.address != .unknown {
                chosen.append(slot)
            }
        }
        return chosen
    }
}
