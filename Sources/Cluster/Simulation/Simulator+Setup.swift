import Foundation

extension Simulator {
    mutating func setUp() {
        let count = scenario.members
        let extra = scenario.joinAt == nil ? 0 : 1
        let starvedCount = Int((scenario.starvedFraction * Double(count)).rounded())
        var order = Array(0..<count)
        order.shuffle(using: &rng)
        var starved = Set(order.prefix(starvedCount))
        for index in 0..<(count + extra) {
            let id = NodeID.random(using: &rng)
            var host = Host(core: MembershipCore(id: id, address: Self.address(of: index), settings: scenario.settings,
                                                 seed: rng.next()),
                            address: Self.address(of: index))
            if scenario.clockDriftPPM > 0 {
                host.drift = 1 + (rng.unit() * 2 - 1) * scenario.clockDriftPPM / 1e6
            }
            if starved.remove(index) != nil { host.starved = true }
            hostOf[id] = Int32(index)
            hosts.append(host)
        }
        seedAddresses = (0..<min(3, count)).map { Self.address(of: $0) }
        if scenario.startConverged {
            // One converged table shared by every member until each changes it (copy-on-write chunks).
            var converged = MemberTable(salt: rng.next())
            for index in 0..<count { _ = converged.insert(hosts[index].core.me, at: .zero) }
            for index in 0..<count {
                hosts[index].up = true
                let effects = hosts[index].core.bootstrap(converged: converged, now: coreTime(index))
                perform(effects, host: Int32(index))
            }
        } else {
            // Members start 20 ms apart and join through the first member.
            for index in 0..<count {
                agenda.push(.start(Int32(index)), at: Int64(index) * 20_000_000)
            }
        }
        for index in 0..<count where hosts[index].starved {
            schedulePause(Int32(index))
        }
        scheduleCrashes()
        schedulePartitions()
        if let window = scenario.massRestart {
            for index in 0..<count {
                let at = window.lowerBound + rng.unit() * (window.upperBound - window.lowerBound)
                agenda.push(.restart(Int32(index)), at: Int64(at * 1e9))
            }
            restartWindowEnd = Int64(window.upperBound * 1e9)
            agenda.push(.check, at: Int64(window.upperBound * 1e9))
        }
        if let joinAt = scenario.joinAt {
            joinProbe = hosts[count].core.me.id
            agenda.push(.start(Int32(count)), at: Int64(joinAt * 1e9))
        }
    }

    mutating func scheduleCrashes() {
        guard scenario.crashes > 0 else { return }
        let total = scenario.duration.seconds
        let window = scenario.crashWindow ?? min(10, total / 3)...max(min(10, total / 3), total - 30)
        var victims = Array(0..<scenario.members)
        victims.shuffle(using: &rng)
        let count = min(scenario.crashes, scenario.members - 1)
        for (order, victim) in victims.prefix(count).enumerated() {
            let fraction = count == 1 ? 0.5 : Double(order) / Double(count - 1)
            let at = window.lowerBound + fraction * (window.upperBound - window.lowerBound)
            agenda.push(.crash(Int32(victim)), at: Int64(at * 1e9))
        }
    }

    mutating func schedulePartitions() {
        for (index, plan) in scenario.partitions.enumerated() {
            switch plan.shape {
            case .split(let fraction):
                var order = Array(0..<scenario.members)
                order.shuffle(using: &rng)
                let side = Set(order.prefix(Int((fraction * Double(scenario.members)).rounded())))
                for member in side { hosts[member].group |= 1 << UInt8(index % 8) }
            case .oneWay:
                let a = rng.below(scenario.members)
                var b = rng.below(scenario.members - 1)
                if b >= a { b += 1 }
                oneWay.append((index, Int32(a), Int32(b)))
            }
            lastPartitionEnd = max(lastPartitionEnd ?? 0, plan.end.nanoseconds)
        }
        if let end = lastPartitionEnd { agenda.push(.check, at: end) }
    }

    mutating func schedulePause(_ host: Int32) {
        let mean = scenario.runBetweenPauses
        let wait = -mean * log(max(1 - rng.unit(), 1e-12))
        agenda.push(.pause(host), at: now + Int64(wait * 1e9))
    }
}
