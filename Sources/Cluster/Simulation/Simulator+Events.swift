extension Simulator {
    mutating func handle(_ event: Event) {
        switch event {
        case .deliver(let to, _, _), .syncRequest(let to, _, _, _):
            guard hosts[Int(to)].up else {
                if case .syncRequest(_, _, let from, let generation) = event {
                    let target = hosts[Int(to)].address
                    agenda.push(.syncFailed(to: from, generation: generation, target),
                                at: now + scenario.network.connectTimeout.nanoseconds)
                }
                return
            }
            if hosts[Int(to)].pausedUntil > now { hosts[Int(to)].backlog.append(event); return }
            run(event)
        case .timer(let host, let generation, _), .syncReply(let host, let generation, _),
             .syncFailed(let host, let generation, _):
            guard hosts[Int(host)].up, hosts[Int(host)].generation == generation else { return }
            if hosts[Int(host)].pausedUntil > now { hosts[Int(host)].backlog.append(event); return }
            run(event)
        case .crash(let host):
            crash(host)
        case .restart(let host):
            restart(host)
        case .start(let host):
            hosts[Int(host)].up = true
            let seeds = host == 0 ? [] : [Self.address(of: 0)]
            let effects = hosts[Int(host)].core.start(seeds: seeds, now: coreTime(Int(host)))
            perform(effects, host: host)
        case .pause(let host):
            guard hosts[Int(host)].up else { return }
            let length = scenario.pause.lowerBound + rng.unit() * (scenario.pause.upperBound - scenario.pause.lowerBound)
            hosts[Int(host)].pausedUntil = now + Int64(length * 1e9)
            agenda.push(.resume(host), at: hosts[Int(host)].pausedUntil)
        case .resume(let host):
            resume(host)
        case .check:
            check()
        }
    }

    /// Runs a member's input and performs its effects.
    mutating func run(_ event: Event) {
        switch event {
        case .deliver(let to, let datagram, let from):
            let effects = hosts[Int(to)].core.onDatagram(datagram, from: from, now: coreTime(Int(to)))
            perform(effects, host: to)
        case .timer(let host, _, let timer):
            let effects = hosts[Int(host)].core.onTimer(timer, now: coreTime(Int(host)))
            perform(effects, host: host)
        case .syncRequest(let to, let request, let from, let generation):
            let (reply, effects) = hosts[Int(to)].core.onSyncRequest(request, now: coreTime(Int(to)))
            perform(effects, host: to)
            tcpBytes += WireFormat.size(of: reply)
            if reachable(from: to, to: from) {
                agenda.push(.syncReply(to: from, generation: generation, reply),
                            at: now + scenario.network.latency(using: &rng))
            } else {
                agenda.push(.syncFailed(to: from, generation: generation, hosts[Int(to)].address),
                            at: now + scenario.network.connectTimeout.nanoseconds)
            }
        case .syncReply(let host, _, let reply):
            let effects = hosts[Int(host)].core.onSyncReply(reply, now: coreTime(Int(host)))
            perform(effects, host: host)
        case .syncFailed(let host, _, let address):
            let effects = hosts[Int(host)].core.onSyncFailed(to: address, now: coreTime(Int(host)))
            perform(effects, host: host)
        default:
            break
        }
    }

    /// A starved member wakes up: the timers that fell due first (its event loop checks them on waking), then
    /// the datagrams and exchanges that queued up, all at the wake-up time.
    mutating func resume(_ host: Int32) {
        guard hosts[Int(host)].up else { return }
        hosts[Int(host)].pausedUntil = 0
        let backlog = hosts[Int(host)].backlog
        hosts[Int(host)].backlog = []
        for event in backlog {
            if case .timer(_, let generation, _) = event, generation == hosts[Int(host)].generation { run(event) }
        }
        for event in backlog {
            switch event {
            case .timer: continue
            case .syncReply(_, let generation, _), .syncFailed(_, let generation, _):
                if generation == hosts[Int(host)].generation { run(event) }
            default: run(event)
            }
        }
        schedulePause(host)
    }

    mutating func crash(_ host: Int32) {
        guard hosts[Int(host)].up else { return }
        hosts[Int(host)].up = false
        hosts[Int(host)].backlog = []
        let live = hosts.reduce(0) { $0 + ($1.up ? 1 : 0) }
        let threshold = max(1, Int((0.99 * Double(live)).rounded(.up)))
        crashes[hosts[Int(host)].core.me.id] = Crash(time: now, threshold: threshold)
        mix(0xC0, host: host)
    }

    /// A member restarts as a new process: a new identity, joining through the seeds.
    mutating func restart(_ host: Int32) {
        let index = Int(host)
        let id = NodeID.random(using: &rng)
        hostOf[id] = host
        hosts[index].core = MembershipCore(id: id, address: hosts[index].address, settings: scenario.settings,
                                           seed: rng.next())
        hosts[index].generation &+= 1
        hosts[index].up = true
        hosts[index].backlog = []
        hosts[index].pausedUntil = 0
        let seeds = seedAddresses.filter { $0 != hosts[index].address }
        let effects = hosts[index].core.start(seeds: seeds, now: coreTime(index))
        perform(effects, host: host)
    }

    /// The member's own clock at the current simulated time (drifting members run fast or slow).
    func coreTime(_ host: Int) -> ClusterTime {
        let drift = hosts[host].drift
        return ClusterTime(nanoseconds: drift == 1 ? now : Int64(Double(now) * drift))
    }

    /// Whether a datagram from `from` reaches `to` at the current time (partitions only; loss is separate).
    func reachable(from: Int32, to: Int32) -> Bool {
        for (index, plan) in scenario.partitions.enumerated()
        where plan.start.nanoseconds <= now && now < plan.end.nanoseconds {
            switch plan.shape {
            case .split:
                let bit = UInt8(1) << UInt8(index % 8)
                if hosts[Int(from)].group & bit != hosts[Int(to)].group & bit { return false }
            case .oneWay:
                for pair in oneWay where pair.plan == index && pair.speaker == from && pair.listener == to {
                    return false
                }
            }
        }
        return true
    }
}
