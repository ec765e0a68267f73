import Foundation
import Testing

@testable import Grid

/// A managed source's decisions (``ElasticSourceCore``) on a manual clock, its spec's reading, and the scheduler's
/// rules between sources (rank, `NODE_SOURCE`, users).
@Suite struct ElasticSourceCoreTests {
    static let seed: UInt64 = 0x5EED_0029
    static let wall = Date(timeIntervalSince1970: 1_796_644_800)  // Monday 2026-12-07 12:00 UTC

    static func spec(_ text: String) throws -> NodeSourceSpec {
        try NodeSourceSpec(text: text)
    }

    static let dynamic = """
        {"name": "burst", "infrastructure": {"type": "processes", "nodesPerHost": 2, "pricePerHostHour": 1.0},
         "policy": {"type": "dynamic", "minNodes": 0, "maxNodes": 4, "refreshTime": "1s", "minUptime": "10s", "initDelay": "0s"},
         "deploymentTimeout": "30s", "drainTimeout": "20s"}
        """

    static func acquired(_ directives: [ElasticSourceCore.Directive]) -> [ElasticSourceCore.Host] {
        directives.compactMap { if case .acquire(let host, _, _) = $0 { host } else { nil } }
    }

    static func released(_ directives: [ElasticSourceCore.Directive]) -> [(host: ElasticSourceCore.Host, reason: String, failure: Bool)] {
        directives.compactMap { if case .release(let host, let reason, let failure) = $0 { (host, reason, failure) } else { nil } }
    }

    func tick(_ core: inout ElasticSourceCore, _ seconds: Double, ready: Int = 0, busy: [Int: Int] = [:]) -> [ElasticSourceCore.Directive] {
        core.onTick(
            now: .milliseconds(Int64(seconds * 1000)), wallNow: Self.wall.addingTimeInterval(seconds), demand: ElasticDemand(ready: ready),
            busy: busy, meanTaskSeconds: nil)
    }

    @Test func hostsGoDeployingConfiguringUp_andATokenServesOneAgentOnly() throws {
        print("seed \(Self.seed)")
        var core = ElasticSourceCore(spec: try Self.spec(Self.dynamic), seed: Self.seed)
        let first = Self.acquired(tick(&core, 0, ready: 10))
        #expect(first.count == 2, "4 nodes at most, 2 per host")
        #expect(core.hosts.map(\.phase) == [.deploying, .deploying])
        #expect(Set(first.map(\.token)).count == 2 && first.allSatisfy { $0.token.count == 32 })
        #expect(first.map(\.name) == ["burst-1", "burst-2"])
        _ = core.onAcquired(host: first[0].id, handle: "4242", now: .seconds(1))
        #expect(core.hosts[0].phase == .configuring && core.hosts[0].handle == "4242")
        #expect(core.nodes(in: .configuring) == 2 && core.nodes(in: .deploying) == 2)

        let (joined, _) = core.onJoined(token: first[0].token, session: 7, address: "127.0.0.9:4000", now: .seconds(2))
        #expect(joined?.name == "burst-1" && core.hosts[0].phase == .up)
        let (twice, _) = core.onJoined(token: first[0].token, session: 8, address: "127.0.0.10:4000", now: .seconds(2))
        #expect(twice == nil, "a second agent with a used token is refused")
        let (stranger, _) = core.onJoined(token: "feed", session: 9, address: "127.0.0.11:4000", now: .seconds(2))
        #expect(stranger == nil)
        #expect(core.usage.outcomes.joined == 1 && core.usage.readySeconds == [2])
        #expect(core.usage.steps.filter { $0.host == "burst-1" }.map(\.state) == ["DEPLOYING", "CONFIGURING", "FREE"])
        // The policy's bound holds however long the demand stays.
        #expect(Self.acquired(tick(&core, 5, ready: 50, busy: [7: 2])).isEmpty)
    }

    @Test func aHostNotJoinedInTime_isReleasedAndCounted_andAcquisitionsBackOff() throws {
        var core = ElasticSourceCore(spec: try Self.spec(Self.dynamic), seed: Self.seed)
        _ = tick(&core, 0, ready: 2)
        #expect(core.hosts.count == 1)
        #expect(Self.released(tick(&core, 29, ready: 2)).isEmpty)
        let timedOut = tick(&core, 30, ready: 2)
        #expect(Self.released(timedOut).map(\.host.name) == ["burst-1"])
        #expect(core.usage.outcomes.timedOut == 1 && core.failuresInRow == 1)
        #expect(core.lastFailure?.contains("did not join within") == true)
        #expect(Self.acquired(timedOut).isEmpty, "no acquisition during the back-off")
        #expect(core.acquireNotBefore == .seconds(31))
        #expect(Self.acquired(tick(&core, 31, ready: 2)).count == 1)
        // Failures in a row double the wait: 1 s, 2 s, 4 s…
        let id = try #require(core.hosts.first?.id)
        _ = core.onAcquireFailed(host: id, error: "exit 3", now: .seconds(32))
        #expect(core.failuresInRow == 2 && core.acquireNotBefore == .seconds(34) && core.usage.outcomes.failed == 1)
        #expect(core.hosts.isEmpty)
        #expect(Self.acquired(tick(&core, 33, ready: 2)).isEmpty)
        let retried = Self.acquired(tick(&core, 34, ready: 2))
        #expect(retried.count == 1)
        // A join resets the count.
        _ = core.onJoined(token: retried[0].token, session: 3, address: "a:1", now: .seconds(35))
        #expect(core.failuresInRow == 0 && core.lastFailure == nil)
    }

    @Test func undeploying_drainsTheHostsThatWork_releasesThemWhenIdle_orPastTheDrainTimeout() throws {
        var core = ElasticSourceCore(spec: try Self.spec(Self.dynamic), seed: Self.seed)
        let hosts = Self.acquired(tick(&core, 0, ready: 10))
        _ = core.onJoined(token: hosts[0].token, session: 1, address: "a:1", now: .seconds(1))
        _ = core.onJoined(token: hosts[1].token, session: 2, address: "b:1", now: .seconds(1))
        _ = tick(&core, 2, ready: 6, busy: [1: 2, 2: 1])
        let undeployed = core.setDeployed(false, now: .seconds(3))
        #expect(undeployed.contains(.drain(session: 1, true)) && undeployed.contains(.drain(session: 2, true)))
        #expect(core.hosts.allSatisfy { $0.phase == .draining })
        // Host 2's work ends: it goes. Host 1's runs on past the drain timeout: it goes too, its work queued again.
        let idle = tick(&core, 4, busy: [1: 2, 2: 0])
        #expect(Self.released(idle).map(\.host.name) == ["burst-2"])
        #expect(Self.released(tick(&core, 22, busy: [1: 2])).isEmpty)
        let late = Self.released(tick(&core, 23, busy: [1: 2]))
        #expect(late.map(\.host.name) == ["burst-1"] && late[0].reason.contains("drain timeout") && !late[0].failure)
        #expect(Self.acquired(tick(&core, 30, ready: 10)).isEmpty, "an undeployed source acquires nothing")
        #expect(Self.acquired(core.setDeployed(true, now: .seconds(31)) + tick(&core, 31, ready: 10)).count == 2)
    }

    @Test func aRestart_adoptsTheHostsTheInfrastructureStillHolds_forgetsTheGone_andReleasesStrangers() throws {
        var before = ElasticSourceCore(spec: try Self.spec(Self.dynamic), seed: Self.seed)
        let hosts = Self.acquired(tick(&before, 0, ready: 10))
        _ = before.onAcquired(host: hosts[0].id, handle: "100", now: .seconds(1))
        _ = before.onAcquired(host: hosts[1].id, handle: "101", now: .seconds(1))
        _ = before.onJoined(token: hosts[0].token, session: 1, address: "a:1", now: .seconds(2))
        let stored = try JSONDecoder().decode(ElasticSourceCore.StoredState.self, from: JSONEncoder().encode(before.stored))

        var after = ElasticSourceCore(
            spec: try Self.spec(Self.dynamic), seed: Self.seed + 1, restoring: stored.hosts, usage: stored.usage, deployed: stored.deployed)
        let reconciled = after.reconcile(listed: ["burst-1": "100", "burst-9": "999"], now: .seconds(100), wallNow: Self.wall)
        #expect(after.hosts.map(\.name) == ["burst-1"] && after.hosts[0].adopting && after.hosts[0].phase == .configuring)
        #expect(Self.released(reconciled).map(\.host.name) == ["burst-9"], "a host the journal does not know")
        let (adopted, _) = after.onJoined(token: hosts[0].token, session: 5, address: "a:1", now: .seconds(101))
        #expect(adopted?.name == "burst-1" && after.usage.outcomes.adopted == 1 && after.usage.outcomes.joined == 1)
        // Its next host is numbered after the journal's.
        #expect(Self.acquired(tick(&after, 102, ready: 10, busy: [5: 2])).map(\.name) == ["burst-3"])

        // Hosts that do not come back within the deployment timeout are released.
        var lonely = ElasticSourceCore(spec: try Self.spec(Self.dynamic), seed: 3, restoring: stored.hosts, usage: stored.usage, deployed: true)
        _ = lonely.reconcile(listed: ["burst-1": "100", "burst-2": "101"], now: .seconds(100), wallNow: Self.wall)
        #expect(Self.released(tick(&lonely, 129)).isEmpty)
        #expect(Set(Self.released(tick(&lonely, 130)).map(\.host.name)) == ["burst-1", "burst-2"])
        #expect(lonely.failuresInRow == 0, "a host lost to a crash is not an acquisition failure")
    }

    @Test func theBudget_isNeverExceeded_andCostFollowsTheBilling() throws {
        let spec = try Self.spec("""
            {"name": "cloud", "infrastructure": {"type": "processes", "pricePerHostHour": 6.0},
             "policy": {"type": "static", "hosts": 10}, "budget": 0.35, "billing": {"unit": "minute", "minimum": "1m"}}
            """)
        var core = ElasticSourceCore(spec: spec, seed: Self.seed)
        let hosts = Self.acquired(tick(&core, 0))
        // 6 per hour billed by the minute is 0.1 a minute: the first minute of 3 hosts fits in 0.35, a 4th does not.
        #expect(hosts.count == 3)
        #expect(abs(core.cost(now: .seconds(30)) - 0.3) < 1e-9)
        for (index, host) in hosts.enumerated() { _ = core.onJoined(token: host.token, session: index, address: "h\(index)", now: .seconds(1)) }
        #expect(Self.acquired(tick(&core, 61, busy: [0: 1, 1: 1, 2: 1])).isEmpty, "a second minute of each is already past the budget")
        #expect(abs(core.hostSeconds(now: .seconds(61)) - 183) < 1e-9)
    }

    @Test func anEviction_queuesTheWorkAgain_asANodeFailureOnlyWhenTheSourceSaysSo() throws {
        for counts in [false, true] {
            var spec = try Self.spec(Self.dynamic)
            spec.evictionCountsAsFailure = counts
            var core = ElasticSourceCore(spec: spec, seed: Self.seed)
            let host = try #require(Self.acquired(tick(&core, 0, ready: 1)).first)
            _ = core.onJoined(token: host.token, session: 4, address: "a:1", now: .seconds(1))
            let evicted = Self.released(core.onSessionLost(session: 4, reason: "spot reclaimed", evicted: true, now: .seconds(5)))
            #expect(evicted.count == 1 && evicted[0].failure == counts && evicted[0].reason.contains("spot reclaimed"))
            #expect(core.usage.steps.last?.state == "RELEASED")
        }
    }

    @Test func aHostTheInfrastructureNoLongerLists_isEvicted_butNotOneStartedAfterTheListBegan() throws {
        var core = ElasticSourceCore(spec: try Self.spec(Self.dynamic), seed: Self.seed)
        let hosts = Self.acquired(tick(&core, 0, ready: 10))
        _ = core.onAcquired(host: hosts[0].id, handle: "vm-1", now: .seconds(1))
        _ = core.onJoined(token: hosts[0].token, session: 1, address: "a:1", now: .seconds(2))
        _ = core.onAcquired(host: hosts[1].id, handle: "vm-2", now: .seconds(5))
        // A list begun at 4 s shows neither: the first was taken back, the second came after the list began.
        let evicted = Self.released(core.onListed([:], since: .seconds(4), now: .seconds(6)))
        #expect(evicted.map(\.host.name) == ["burst-1"] && !evicted[0].failure && evicted[0].reason.hasPrefix("evicted"))
        #expect(core.usage.outcomes.evicted == 1 && core.hosts.map(\.name) == ["burst-2"])
        #expect(Self.released(core.onListed(["burst-2": "vm-2"], since: .seconds(7), now: .seconds(8))).isEmpty)
    }

    @Test func onlyItsOwnHostNames_areReleasedWhenListedButNotHeld_andHandlelessHostsGoByName() throws {
        var core = ElasticSourceCore(spec: try Self.spec(Self.dynamic), seed: Self.seed)
        let hosts = Self.acquired(tick(&core, 0, ready: 10))
        // Another source's hosts share the prefix: never touched.
        let listed = ["burst-7": "h7", "burst-gpu-3": "x", "burstx-1": "y", "burst-": "z", hosts[0].name: ""]
        let released = Self.released(core.onListed(listed, since: .seconds(1), releasing: [], now: .seconds(2)))
        #expect(released.map(\.host.name) == ["burst-7"] && released[0].host.handle == "h7")
        #expect(Self.released(core.onListed(["burst-7": "h7"], since: .seconds(3), releasing: ["burst-7"], now: .seconds(4))).isEmpty,
            "not while its release is under way")
        // Undeployed while booting, then acquired without a handle: released by its name.
        _ = core.setDeployed(false, now: .seconds(5))
        let late = Self.released(core.onAcquired(host: hosts[1].id, handle: nil, now: .seconds(6)))
        #expect(late.map(\.host.name) == [hosts[1].name] && late[0].host.handle == nil)
    }

    @Test func aRestartWithoutAList_waitsForEveryHost_andAnUndeployedSourceDrainsTheOnesThatJoin() throws {
        var before = ElasticSourceCore(spec: try Self.spec(Self.dynamic), seed: Self.seed)
        let hosts = Self.acquired(tick(&before, 0, ready: 10))
        _ = before.onJoined(token: hosts[0].token, session: 1, address: "a:1", now: .seconds(1))
        _ = before.setDeployed(false, now: .seconds(2))
        let stored = before.stored
        #expect(stored.hosts.count == 1 && stored.hosts[0].phase == .draining, "the joined host drains; the other was let go")
        // The next process: its clock starts again near zero, 600 s of wall time later.
        var after = ElasticSourceCore(
            spec: try Self.spec(Self.dynamic), seed: 9, restoring: stored.hosts, usage: stored.usage, deployed: stored.deployed)
        #expect(after.hosts.allSatisfy { $0.session == nil }, "the old process's sessions mean nothing")
        _ = after.reconcile(listed: nil, now: .seconds(3), wallNow: Self.wall.addingTimeInterval(600))
        #expect(after.hosts.map(\.name) == [hosts[0].name] && after.hosts[0].adopting)
        #expect(after.hosts[0].requestedAt == .seconds(3) - .seconds(600), "billing goes on from the request")
        #expect(abs(after.hostSeconds(now: .seconds(3)) - (600 + 2)) < 1e-6)
        let (adopted, directives) = after.onJoined(token: hosts[0].token, session: 8, address: "a:1", now: .seconds(4))
        #expect(adopted != nil && directives.contains(.drain(session: 8, true)), "an undeployed source drains what comes back")
    }

    @Test func anEmptyDrainingHost_staysUntilItsPaidMinuteEnds_soThatTesserasRuleCanKeepIt() throws {
        let spec = try Self.spec(#"{"name": "t", "infrastructure": {"type": "processes", "pricePerHostHour": 1.0}, "policy": {"type": "tessera", "maxHosts": 2, "minUptime": "0s"}}"#)
        var core = ElasticSourceCore(spec: spec, seed: Self.seed)
        let hosts = Self.acquired(tick(&core, 0, ready: 2))
        #expect(hosts.count == 2)
        for (index, host) in hosts.enumerated() { _ = core.onJoined(token: host.token, session: index + 1, address: "h\(index)", now: .seconds(1)) }
        // The work shrinks to one task: one host drains; once it is empty it stays for the minute already paid.
        let drained = tick(&core, 10, busy: [1: 1, 2: 1]).contains { if case .drain(_, true) = $0 { true } else { false } }
        #expect(drained)
        let draining = try #require(core.hosts.first { $0.phase == .draining })
        let session = try #require(draining.session)
        let other = session == 1 ? 2 : 1
        #expect(Self.released(tick(&core, 30, busy: [session: 0, other: 1])).isEmpty)
        // Work comes back within the minute: the draining host is kept rather than a new one acquired.
        let back = tick(&core, 40, ready: 1, busy: [session: 0, other: 1])
        #expect(back.contains(.drain(session: session, false)) && Self.acquired(back).isEmpty)
        // Idle again and beyond the target, it goes at the end of its first paid minute.
        _ = tick(&core, 45, busy: [session: 0, other: 1])
        #expect(Self.released(tick(&core, 59, busy: [session: 0, other: 1])).map(\.host.name) == [draining.name])
    }

    @Test func anEdit_takesEffectAtTheNextDecision() throws {
        var core = ElasticSourceCore(spec: try Self.spec(Self.dynamic), seed: Self.seed)
        #expect(Self.acquired(tick(&core, 0, ready: 20)).count == 2)
        _ = core.edit(try Self.spec(Self.dynamic.replacingOccurrences(of: "\"maxNodes\": 4", with: "\"maxNodes\": 8")), now: .seconds(1))
        #expect(Self.acquired(tick(&core, 1, ready: 20)).count == 2, "up to 4 hosts of 2 nodes now")
        #expect(core.hosts.count == 4)
    }

    // MARK: - The spec

    @Test func aSpec_readsItsFieldsWithTheirDefaults_andWritesItselfBack() throws {
        let spec = try Self.spec("""
            name: onprem-burst
            rank: 20
            users: [s1tiling]
            infrastructure: {type: command, acquire: "az vmss scale --new-capacity {count}", release: "az vm delete {name} {handle}", list: "az vm list", nodesPerHost: 30, pricePerHostHour: 1.5}
            policy: {type: scheduled, windows: ["Mon-Fri 08:00-20:00"], hosts: 10}
            deploymentTimeout: 5m
            drainTimeout: 90s
            budget: 100
            billing: {unit: hour}
            """)
        #expect(spec.rank == 20 && spec.users == ["s1tiling"] && spec.nodesPerHost == 30 && spec.maxHosts == 10)
        #expect(spec.deploymentTimeout == .seconds(300) && spec.drainTimeout == .seconds(90) && spec.budgetPerDay == 100)
        #expect(spec.billing == Billing(unit: .hour, minimum: .seconds(3600), pricePerHostHour: 1.5))
        let again = try NodeSourceSpec(parsing: spec.json)
        #expect(again.json as NSDictionary == spec.json as NSDictionary)
        let shell = try Self.spec(#"{"name": "s", "infrastructure": {"type": "command", "acquire": "up ${HOME}/{name}", "release": "down {name}"}, "policy": {"type": "dynamic", "globalScope": false}}"#)
        #expect(!shell.globalScope, "${HOME} is the shell's, not a placeholder")
        let defaults = try Self.spec(#"{"name": "d", "infrastructure": {"type": "processes"}, "policy": {"type": "dynamic"}}"#)
        guard case .dynamic(let policy) = defaults.policy else { Issue.record("not dynamic"); return }
        #expect(policy.refresh == .seconds(30) && policy.minUptime == .seconds(300) && policy.loadFactor == 1 && policy.maxNodes == 10)
        #expect(defaults.rank == 10 && defaults.users == nil && defaults.deploymentTimeout == .seconds(120))
    }

    /// Nine levels of nine aliases: 9⁹ strings once expanded, from under a kilobyte.
    static var aliasBomb: String {
        var lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x]"]
        for level in 1...9 { lines.append("a\(level): &a\(level) [" + Array(repeating: "*a\(level - 1)", count: 9).joined(separator: ", ") + "]") }
        return lines.joined(separator: "\n") + "\nname: x\ninfrastructure: {type: processes}\npolicy: {type: static}\n"
    }

    @Test func aBadSpec_namesTheField() {
        let cases: [(String, String)] = [
            (#"{"name": "a b", "infrastructure": {"type": "processes"}, "policy": {"type": "static"}}"#, "name"),
            (#"{"name": "..", "infrastructure": {"type": "processes"}, "policy": {"type": "static"}}"#, "name"),
            (#"{"name": ".hidden", "infrastructure": {"type": "processes"}, "policy": {"type": "static"}}"#, "name"),
            (#"{"name": "-rf", "infrastructure": {"type": "processes"}, "policy": {"type": "static"}}"#, "name"),
            (Self.aliasBomb, "(body)"),
            (#"{"name": "a", "infrastructure": {"type": "processes", "nodesPerHost": 0}, "policy": {"type": "static"}}"#, "infrastructure.nodesPerHost"),
            (#"{"name": "a", "infrastructure": {"type": "processes", "bootDelay": "2s-1s"}, "policy": {"type": "static"}}"#, "infrastructure.bootDelay"),
            (#"{"name": "a", "infrastructure": {"type": "processes"}, "policy": {"type": "static", "maxNodes": 3}}"#, "policy.maxNodes"),
            (#"{"name": "a", "infrastructure": {"type": "processes"}, "policy": {"type": "dynamic", "refreshTime": "1ms"}}"#, "policy.refreshTime"),
            (#"{"name": "a", "infrastructure": {"type": "processes"}, "policy": {"type": "dynamic", "loadFactorRoundingUp": 1}}"#, "policy.loadFactorRoundingUp"),
            (#"{"name": "a", "infrastructure": {"type": "processes"}, "policy": {"type": "scheduled", "windows": ["Mon 25:00-26:00"]}}"#, "policy.windows[0]"),
            (#"{"name": "a", "infrastructure": {"type": "processes"}, "policy": {"type": "tessera", "minHosts": 3, "maxHosts": 1}}"#, "policy.minHosts"),
            (#"{"name": "a", "infrastructure": {"type": "processes"}, "policy": {"type": "static"}, "billing": {"unit": "day"}}"#, "billing.unit"),
            (#"{"name": "a", "infrastructure": {"type": "processes"}, "policy": {"type": "static"}, "budget": -1}"#, "budget"),
            (#"{"name": "a", "infrastructure": {"type": "command", "acquire": "x", "release": "y", "bootDelay": "1s"}, "policy": {"type": "static"}}"#, "infrastructure.bootDelay"),
            (#"{"name": "a", "infrastructure": {"type": "command", "acquire": " ", "release": "y"}, "policy": {"type": "static"}}"#, "infrastructure.acquire"),
            (#"{"name": "a", "policy": {"type": "static"}}"#, "infrastructure"),
            (#"[1, 2]"#, "(body)"),
            (#"{"name": "a", "infrastructure": {"type": "agents"}, "policy": {"type": "static"}}"#, "infrastructure.type"),
            (#"{"name": "a", "infrastructure": {"type": "processes", "bootDelay": "3m"}, "policy": {"type": "static"}}"#, "infrastructure.bootDelay"),
            (#"{"name": "a", "infrastructure": {"type": "processes"}, "policy": {"type": "static", "globalScope": false}}"#, "policy.globalScope"),
        ]
        for (text, field) in cases {
            do {
                _ = try NodeSourceSpec(text: text)
                Issue.record("accepted: \(text)")
            } catch {
                guard case .invalid(let named, _) = error else { continue }
                #expect(named == field, "\(text): \(error)")
            }
        }
    }

    @Test func aCommand_getsItsPlaceholdersShellQuoted() {
        let launch = AgentLaunch(
            executable: "/bin/tessera", join: "10.0.0.1:7946", keyFile: "/etc/tessera/keys", clusterID: 1, directory: "/tmp/s", sharedDirectory: nil,
            taskRoot: nil, logLevel: "info")
        let infrastructure = CommandInfrastructure(
            source: "az", acquire: "", release: "", list: nil, nodesPerHost: 30, launch: launch, timeout: .seconds(5), clock: ManualClock())
        let host = ElasticSourceCore.Host(
            id: 3, name: "az-3", token: "t'ok", phase: .deploying, requestedAt: .zero, requestedWall: Self.wall, handle: "vm 3")
        #expect(infrastructure.expand("up {name} {count} {join} {token} {keyFile} {nodesPerHost} {handle} {source} {other} ${name} {", host: host, count: 4)
            == #"up 'az-3' '4' '10.0.0.1:7946' 't'\''ok' '/etc/tessera/keys' '30' 'vm 3' 'az' {other} ${name} {"#)
    }

    // MARK: - Between sources

    @Test func placement_fillsLowerRanksFirst_honoursNodeSource_andASourcesUsers() throws {
        var grid = GridHarness(localNodes: 1)
        let burst = grid.join(session: 1, workers: 2, source: "burst", rank: 10)
        let private_ = grid.join(session: 2, workers: 1, source: "s1", rank: 5, users: ["s1tiling"])
        // Rank first: the local node (rank 0) takes the first task, then the burst source; the users-only source
        // is not open to alice.
        let job = try grid.submit(Workflow(name: "ranked", tasks: [fn("a"), fn("b"), fn("c")]), owner: "alice")
        #expect(grid.names[NodeID(0)] == ["\(job.rawValue)/a"])
        #expect(Set(burst.flatMap { grid.names[$0] ?? [] }) == ["\(job.rawValue)/b", "\(job.rawValue)/c"])
        #expect((grid.names[private_[0]] ?? []).isEmpty)
        // s1tiling's job lands on its own source before the burst one (rank 5 < 10).
        grid.runAll()
        let own = try grid.submit(Workflow(name: "own", tasks: [fn("x"), fn("y")]), owner: "s1tiling")
        #expect(grid.names[NodeID(0)]?.last == "\(own.rawValue)/x")
        #expect(grid.names[private_[0]]?.last == "\(own.rawValue)/y")
        #expect(burst.allSatisfy { grid.names[$0]?.contains { $0.hasPrefix("\(own.rawValue)/") } != true })
        grid.runAll()
        // A busy low-ranked node does not queue work while a higher-ranked one idles.
        grid.runAll()
        let busyFirst = try grid.submit(Workflow(name: "spill", tasks: [fn("s1"), fn("s2"), fn("s3")]), owner: "alice")
        #expect(grid.names[NodeID(0)]?.last == "\(busyFirst.rawValue)/s1")
        #expect(Set(burst.compactMap { grid.names[$0]?.last }) == ["\(busyFirst.rawValue)/s2", "\(busyFirst.rawValue)/s3"])
        grid.runAll()
        // NODE_SOURCE: only that source's nodes, and only its demand.
        var targeted = fn("t")
        targeted.genericInfo = ["NODE_SOURCE": "burst"]
        let pinned = try grid.submit(Workflow(name: "pinned", tasks: [targeted]), owner: "alice")
        #expect(burst.contains { grid.names[$0]?.contains("\(pinned.rawValue)/t") == true })
        #expect(grid.core.demand(source: "other", now: grid.now).running == 0)
        #expect(grid.core.demand(source: "burst", now: grid.now).running == 1)
        // A users-only source counts only its users' work.
        grid.runAll()
        try grid.submit(Workflow(name: "alice's", tasks: [fn("p"), fn("q"), fn("r"), fn("s")]), owner: "alice")
        #expect(grid.core.demand(source: "s1", users: ["s1tiling"], now: grid.now).ready == 0)
        #expect(grid.core.demand(source: "burst", now: grid.now).ready == 1, "one of the four waits: the users-only node is not alice's")
        // Tasks a managed source's hosts could never take (a node access token, labels) are not its demand; with
        // globalScope false only the tasks that name it are.
        grid.runAll()
        var tokened = fn("tok")
        tokened.selection = Selection(token: "gpu")
        var labelled = fn("lab")
        labelled.selection = Selection(labels: ["ssd"])
        try grid.submit(Workflow(name: "special", tasks: [tokened, labelled]), owner: "alice")
        #expect(grid.core.demand(source: "burst", now: grid.now).ready == 0)
        try grid.submit(Workflow(name: "plain", tasks: [fn("u"), fn("v"), fn("w"), fn("x2"), fn("y2")]), owner: "alice")
        #expect(grid.core.demand(source: "burst", now: grid.now).ready == 2)
        #expect(grid.core.demand(source: "burst", targetedOnly: true, now: grid.now).ready == 0)
    }
}
