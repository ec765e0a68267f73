extension Simulator {
    /// Performs a member's effects: sends through the network model, timers on the agenda, events into the
    /// measurements, and every effect into the trace hash.
    mutating func perform(_ effects: [MembershipEffect], host: Int32) {
        for effect in effects {
            switch effect {
            case .send(let datagram, let address):
                let size = WireFormat.size(of: datagram)
                udpBytes += size
                report.datagrams += 1
                report.largestDatagramBytes = max(report.largestDatagramBytes, size)
                mix(UInt64(WireFormat.messageType(of: datagram.body).rawValue), host: host)
                mix(address.low ^ UInt64(datagram.updates.count) << 40)
                guard let target = Self.host(at: address), target < hosts.count else { continue }
                send(datagram, from: host, to: Int32(target))
            case .sync(let message, let address):
                report.syncs += 1
                tcpBytes += WireFormat.size(of: message)
                mix(0x5C, host: host)
                mix(address.low)
                guard let target = Self.host(at: address), target < hosts.count else { continue }
                let generation = hosts[Int(host)].generation
                if reachable(from: host, to: Int32(target)) {
                    agenda.push(.syncRequest(to: Int32(target), message, from: host, generation: generation),
                                at: now + scenario.network.latency(using: &rng))
                } else {
                    agenda.push(.syncFailed(to: host, generation: generation, address),
                                at: now + scenario.network.connectTimeout.nanoseconds)
                }
            case .setTimer(let timer, let at):
                let drift = hosts[Int(host)].drift
                let due = drift == 1 ? at.nanoseconds : Int64(Double(at.nanoseconds) / drift)
                agenda.push(.timer(host, generation: hosts[Int(host)].generation, timer), at: max(due, now))
                mix(0x7100 | UInt64(truncatingIfNeeded: due), host: host)
            case .event(let event):
                observe(event, at: host)
            }
        }
    }

    mutating func send(_ datagram: Datagram, from: Int32, to: Int32) {
        let network = scenario.network
        if network.loss > 0, rng.unit() < network.loss { return }
        guard reachable(from: from, to: to) else { return }
        var delay = network.latency(using: &rng)
        if network.reordering > 0, rng.unit() < network.reordering {
            delay += Int64(rng.unit() * Double(network.reorderDelay.nanoseconds))
        }
        let sender = hosts[Int(from)].address
        agenda.push(.deliver(to: to, datagram, from: sender), at: now + delay)
        if network.duplication > 0, rng.unit() < network.duplication {
            agenda.push(.deliver(to: to, datagram, from: sender), at: now + delay + network.latency(using: &rng))
        }
    }

    /// Counts what the figures need from a member's events.
    mutating func observe(_ event: MembershipEvent, at host: Int32) {
        switch event {
        case .dead(let member, let by):
            mix(0xDE, host: host)
            mix(member.id.low)
            if var crash = crashes[member.id] {
                crash.observers += 1
                crash.declared = true
                if !crash.detected, crash.observers >= crash.threshold {
                    crash.detected = true
                    report.detections.append(Double(now - crash.time) / 1e9)
                }
                crashes[member.id] = crash
            } else if by == hosts[Int(host)].core.me.id, let subject = hostOf[member.id],
                      hosts[Int(subject)].up, hosts[Int(subject)].core.me.id == member.id {
                if reachable(from: subject, to: host), reachable(from: host, to: subject) {
                    report.falseDead += 1
                } else {
                    report.partitionedDead += 1
                }
            }
        case .joined(let member), .alive(let member):
            mix(0xA1, host: host)
            mix(member.id.low ^ member.epoch)
            if let crash = crashes[member.id], crash.declared { report.resurrections += 1 }
            if case .joined = event, member.id == joinProbe {
                if joinOrigin == nil { joinOrigin = now }
                joinSeen += 1
                let others = hosts.reduce(0) { $0 + ($1.up ? 1 : 0) } - 1
                let rounds = roundsSinceJoin()
                if report.rounds9999 == nil, Double(joinSeen) >= 0.9999 * Double(others) {
                    report.rounds9999 = rounds
                }
                if report.rounds100 == nil, joinSeen >= others { report.rounds100 = rounds }
            }
        case .suspect(let member, _):
            mix(0x5E, host: host)
            mix(member.id.low)
        case .left(let member):
            mix(0x1E, host: host)
            mix(member.id.low)
        case .reincarnated(let identity):
            mix(0x8E, host: host)
            mix(identity.epoch)
        }
    }

    func roundsSinceJoin() -> Int {
        guard let origin = joinOrigin else { return 0 }
        let interval = scenario.settings.gossipInterval.nanoseconds
        return Int((now - origin + interval - 1) / interval)
    }

    /// How one live member sees the live members: alive in their current epoch, suspect, or wrong (dead, an
    /// older epoch, or missing). Walks the observer's table once against a shared index of the live members.
    func view(of observer: Int, live: NodeIndex, liveCount: Int) -> (alive: Int, suspect: Int, wrong: Int) {
        let table = hosts[observer].core.table
        var alive = 0
        var suspect = 0
        for slot in 0..<table.slotCount {
            guard let record = table[slot], let host = live[record.member.id],
                  record.member.epoch == hosts[Int(host)].core.me.epoch else { continue }
            switch record.member.status {
            case .alive: alive += 1
            case .suspect: suspect += 1
            case .dead, .left: break
            }
        }
        return (alive, suspect, liveCount - 1 - alive - suspect)
    }

    /// The live members, indexed by id.
    func liveIndex() -> (index: NodeIndex, count: Int) {
        var index = NodeIndex(salt: 0x9E37_79B9_7F4A_7C15)
        var count = 0
        for host in hosts.indices where hosts[host].up {
            index[hosts[host].core.me.id] = Int32(host)
            count += 1
        }
        return (index, count)
    }

    /// Whether every live member sees exactly the live members as active, and nothing else.
    func singleView() -> Bool {
        let (live, count) = liveIndex()
        for observer in hosts.indices where hosts[observer].up {
            guard hosts[observer].core.activeCount == count - 1 else { return false }
            let seen = view(of: observer, live: live, liveCount: count)
            if seen.alive != count - 1 { return false }
        }
        return true
    }

    /// After a partition or a mass restart: has the cluster come back to a single view?
    mutating func check() {
        if singleView() {
            if let end = lastPartitionEnd, report.healSeconds == nil, now >= end {
                report.healSeconds = Double(now - end) / 1e9
            }
            if let end = restartWindowEnd, report.restartConvergedSeconds == nil, now >= end {
                report.restartConvergedSeconds = Double(now - end) / 1e9
            }
        }
        let waiting = (lastPartitionEnd != nil && report.healSeconds == nil)
            || (restartWindowEnd != nil && report.restartConvergedSeconds == nil)
        if waiting { agenda.push(.check, at: now + 500_000_000) }
    }

    /// Final figures: undetected crashes, stuck views, rates and the trace hash.
    mutating func finish() {
        report.undetected = crashes.values.filter { !$0.detected }.count
        let (live, count) = liveIndex()
        for observer in hosts.indices where hosts[observer].up {
            let seen = view(of: observer, live: live, liveCount: count)
            report.stuckDead += seen.wrong
            report.stuckSuspect += seen.suspect
        }
        let seconds = max(scenario.duration.seconds, 1e-9)
        let members = Double(max(scenario.members, 1))
        report.falseDeadPerMemberHour = Double(report.falseDead) / (members * seconds / 3600)
        report.bytesPerMemberPerSecond = Double(udpBytes + tcpBytes) / (members * seconds)
        report.udpBytesPerMemberPerSecond = Double(udpBytes) / (members * seconds)
        let digits = String(trace, radix: 16)
        report.traceHash = String(repeating: "0", count: 16 - digits.count) + digits
    }

    /// Folds a value into the FNV-1a trace hash, with the time and the member that produced it.
    mutating func mix(_ value: UInt64, host: Int32) {
        mix(UInt64(bitPattern: now))
        mix(UInt64(UInt32(bitPattern: host)))
        mix(value)
    }

    mutating func mix(_ value: UInt64) {
        var bits = value
        for _ in 0..<8 {
            trace ^= bits & 0xFF
            trace = trace &* 0x0000_0100_0000_01B3
            bits >>= 8
        }
    }
}
