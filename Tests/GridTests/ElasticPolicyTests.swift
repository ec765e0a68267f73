import Foundation
import Testing

@testable import Grid

/// The elastic policies as pure cores: snapshots in, directives out, on grid time given by the test.
@Suite struct ElasticPolicyTests {
    static func host(_ id: Int, busy: Int = 0, nodes: Int = 1, idleSince: Duration? = nil, requestedAt: Duration = .zero, phase: ElasticHost.Phase = .up)
        -> ElasticHost
    {
        ElasticHost(id: id, phase: phase, requestedAt: requestedAt, upAt: requestedAt, nodes: nodes, busy: busy, idleSince: busy == 0 ? idleSince ?? requestedAt : nil)
    }

    static func snapshot(
        _ now: Duration, ready: Int = 0, running: Int = 0, upcoming: Int = 0, oldest: Duration? = nil, hosts: [ElasticHost] = [], perHost: Int = 1,
        billing: Billing = Billing(unit: .second, minimum: .zero, pricePerHostHour: 1), spent: Double = 0, wall: Date = Date(timeIntervalSince1970: 0)
    ) -> ElasticSnapshot {
        ElasticSnapshot(
            now: now, demand: ElasticDemand(ready: ready, running: running, upcoming: upcoming, oldestReadySince: oldest ?? (ready > 0 ? now : nil)),
            hosts: hosts, nodesPerHost: perHost, billing: billing, spentToday: spent, wallNow: wall)
    }

    @Test func dynamic_appliesProActivesFormulaAndBounds_inOneDecision() {
        // The shipped defaults.
        let shipped = DynamicPolicy()
        #expect(shipped.minNodes == 0 && shipped.maxNodes == 10 && shipped.loadFactor == 1 && shipped.loadFactorRoundingUp)
        #expect(shipped.refresh == .seconds(30) && shipped.initDelay == .seconds(120) && shipped.minUptime == .seconds(300))

        var policy = DynamicPolicy(maxNodes: 10, initDelay: .zero)
        #expect(policy.decide(Self.snapshot(.zero, ready: 45)) == [.acquire(hosts: 10)], "clamped to maxNodes, reached at once")
        var halved = DynamicPolicy(maxNodes: 100, loadFactor: 2, initDelay: .zero)
        #expect(halved.decide(Self.snapshot(.zero, ready: 5)) == [.acquire(hosts: 3)], "⌈5 / 2⌉")
        var floored = DynamicPolicy(maxNodes: 100, loadFactor: 2, loadFactorRoundingUp: false, initDelay: .zero)
        #expect(floored.decide(Self.snapshot(.zero, ready: 5)) == [.acquire(hosts: 2)], "⌊5 / 2⌋")
        // Busy nodes count: 3 running and 2 ready on 3 hosts want 2 more.
        var busy = DynamicPolicy(maxNodes: 10, initDelay: .zero)
        let three = (0..<3).map { Self.host($0, busy: 1) }
        #expect(busy.decide(Self.snapshot(.zero, ready: 2, running: 3, hosts: three)) == [.acquire(hosts: 2)])
        // minNodes holds with no work, even during initDelay, when nothing else is asked for.
        var floor = DynamicPolicy(minNodes: 3, maxNodes: 10)
        #expect(floor.decide(Self.snapshot(.zero, ready: 50)) == [.acquire(hosts: 3)], "initDelay: only minNodes")
        #expect(floor.decide(Self.snapshot(.seconds(120), ready: 50, hosts: (0..<3).map { Self.host($0) })) == [.acquire(hosts: 7)])
        // Nodes come by the host: 31 tasks on hosts of 30 nodes ask for 2 hosts.
        var wide = DynamicPolicy(maxNodes: 300, initDelay: .zero)
        #expect(wide.decide(Self.snapshot(.zero, ready: 31, perHost: 30)) == [.acquire(hosts: 2)])
    }

    @Test func dynamic_releasesOnlyHostsFreeForMinUptime_longestIdleFirst() {
        var policy = DynamicPolicy(maxNodes: 10, initDelay: .zero, minUptime: .seconds(300))
        let hosts = [Self.host(0, idleSince: .seconds(10)), Self.host(1, idleSince: .zero), Self.host(2, busy: 1)]
        #expect(policy.decide(Self.snapshot(.seconds(299), running: 1, hosts: hosts)) == [], "free for 299 s")
        #expect(policy.decide(Self.snapshot(.seconds(300), running: 1, hosts: hosts)) == [.release(host: 1)])
        #expect(policy.decide(Self.snapshot(.seconds(310), running: 1, hosts: hosts)) == [.release(host: 1), .release(host: 0)])
        // Billing-aware: with hourly billing an idle host waits for the end of its hour.
        var billed = DynamicPolicy(maxNodes: 10, initDelay: .zero, minUptime: .seconds(300), billingAware: true)
        let hourly = Billing(unit: .hour, minimum: .seconds(3600), pricePerHostHour: 1)
        #expect(billed.decide(Self.snapshot(.seconds(1800), hosts: [Self.host(0)], billing: hourly)) == [])
        #expect(billed.decide(Self.snapshot(.seconds(3590), hosts: [Self.host(0)], billing: hourly)) == [.release(host: 0)])
    }

    @Test func dynamic_givesATaskThatWaitedPastInitDelayAHost() {
        var policy = DynamicPolicy(maxNodes: 10, initDelay: .seconds(120))
        _ = policy.decide(Self.snapshot(.zero))
        // One ready task on one busy host: the formula asks for 2; a task waiting 121 s gets one more host anyway
        // when the formula would give it none (here 1 running + 1 ready on 2 hosts, one of them deploying).
        let hosts = [Self.host(0, busy: 1), Self.host(1, phase: .deploying)]
        #expect(policy.decide(Self.snapshot(.seconds(121), ready: 1, running: 1, oldest: .zero, hosts: hosts)) == [.acquire(hosts: 1)])
        #expect(policy.decide(Self.snapshot(.seconds(121), ready: 1, running: 1, oldest: .seconds(60), hosts: hosts)) == [])
    }

    /// ProActive #2821: a chain 1 → 1 → 4 → 1 at one task per node started 6 nodes while one task could run.
    @Test func chain2821_startsNoMoreHostsThanCanBeUsed() throws {
        var grid = GridHarness(localNodes: 0)
        let workflow = Workflow(name: "chain", tasks: [
            fn("a"), fn("b", depends: ["a"]), fn("c1", depends: ["b"]), fn("c2", depends: ["b"]), fn("c3", depends: ["b"]), fn("c4", depends: ["b"]),
            fn("d", depends: ["c1", "c2", "c3", "c4"]),
        ])
        try grid.submit(workflow)
        var dynamic = DynamicPolicy(maxNodes: 10, initDelay: .zero)
        let waiting = grid.core.demand(source: "agents", now: .zero)
        #expect(waiting.ready == 1 && waiting.running == 0, "only a can run; the six others wait")
        #expect(dynamic.decide(ElasticSnapshot(now: .zero, demand: waiting, hosts: [], nodesPerHost: 1)) == [.acquire(hosts: 1)])

        let node = try #require(grid.join(session: 1, workers: 1).first)
        grid.start(on: node)
        grid.finish(on: node)
        grid.start(on: node)
        // b runs: the four it releases are the look-ahead (beyond the node b frees), which Tessera's rule boots
        // ahead; the dynamic rule waits for them to be ready. Neither asks for more than the four can use.
        let running = grid.core.demand(source: "agents", now: .zero)
        #expect(running.ready == 0 && running.running == 1 && running.upcoming == 3)
        let one = [Self.host(0, busy: 1)]
        #expect(dynamic.decide(ElasticSnapshot(now: .zero, demand: running, hosts: one, nodesPerHost: 1)) == [])
        #expect(TesseraPolicy(maxHosts: 10).decide(ElasticSnapshot(now: .zero, demand: running, hosts: one, nodesPerHost: 1)) == [.acquire(hosts: 3)])
        grid.finish(on: node)
        let wide = grid.core.demand(source: "agents", now: .zero)
        #expect(wide.ready == 3 && wide.running == 1 && wide.upcoming == 0, "d waits on four: no look-ahead from any one of them")
        #expect(dynamic.decide(ElasticSnapshot(now: .zero, demand: wide, hosts: one, nodesPerHost: 1)) == [.acquire(hosts: 3)])
    }

    /// ProActive #2820: 10 tasks depending on 1 — it scaled up once, then only down.
    @Test func fanOut2820_scalesUpAgainAfterTheFirstTask() throws {
        var grid = GridHarness(localNodes: 0)
        try grid.submit(Workflow(name: "fan", tasks: [fn("root")] + (0..<10).map { fn("t\($0)", depends: ["root"]) }))
        var policy = DynamicPolicy(maxNodes: 20, initDelay: .zero, minUptime: .seconds(30))
        let node = try #require(grid.join(session: 1, workers: 1).first)
        grid.start(on: node)
        grid.now = .seconds(10)
        let busy = grid.core.demand(source: "agents", now: grid.now)
        #expect(policy.decide(ElasticSnapshot(now: grid.now, demand: busy, hosts: [Self.host(0, busy: 1)], nodesPerHost: 1)) == [])
        grid.finish(on: node)
        let after = grid.core.demand(source: "agents", now: grid.now)
        #expect(after.ready == 9 && after.running == 1)
        #expect(policy.decide(ElasticSnapshot(now: grid.now, demand: after, hosts: [Self.host(0, busy: 1)], nodesPerHost: 1)) == [.acquire(hosts: 9)])
    }

    @Test func billing_roundsUpToTheUnit_withAMinimum() {
        let minute = Billing(unit: .minute, minimum: .seconds(60), pricePerHostHour: 1.2)
        #expect(minute.billed(.zero) == .seconds(60) && minute.billed(.seconds(61)) == .seconds(120) && minute.billed(.seconds(120)) == .seconds(120))
        #expect(abs(minute.cost(.seconds(61)) - 0.04) < 1e-9)
        #expect(minute.paidAhead(.seconds(59)) == .seconds(1) && minute.paidAhead(.seconds(120)) == .zero)
        let hour = Billing(unit: .hour, minimum: .seconds(3600), pricePerHostHour: 1)
        #expect(hour.cost(.seconds(1)) == 1 && hour.cost(.seconds(3601)) == 2)
        let second = Billing(unit: .second, minimum: .zero, pricePerHostHour: 3600)
        #expect(second.cost(.milliseconds(1500)) == 2)
    }

    @Test func tessera_releasesIdleHostsAtTheEndOfTheirPaidMinute_afterMinUptime() {
        let policy = TesseraPolicy(maxHosts: 10, minUptime: .seconds(60), releaseWithin: .seconds(2))
        let minute = Billing(unit: .minute, minimum: .seconds(60), pricePerHostHour: 1)
        let idle = [Self.host(0, idleSince: .seconds(5))]
        #expect(policy.decide(Self.snapshot(.seconds(30), hosts: idle, billing: minute)) == [], "paid until 60 s: kept, and serving")
        #expect(policy.decide(Self.snapshot(.seconds(59), hosts: idle, billing: minute)) == [], "within minUptime")
        #expect(policy.decide(Self.snapshot(.seconds(118), hosts: idle, billing: minute)) == [.release(host: 0)], "2 s before its second minute ends")
    }

    @Test func tessera_drainsTheLeastBusySurplusHost_andKeepsItBeforeAskingForANewOne() {
        let policy = TesseraPolicy(maxHosts: 10)
        let hosts = [Self.host(0, busy: 30, nodes: 30), Self.host(1, busy: 5, nodes: 30), Self.host(2, busy: 3, nodes: 30)]
        #expect(policy.decide(Self.snapshot(.seconds(100), running: 38, hosts: hosts, perHost: 30)) == [.drain(host: 2)])
        var draining = hosts
        draining[2].phase = .draining
        #expect(policy.decide(Self.snapshot(.seconds(105), running: 38, hosts: draining, perHost: 30)) == [])
        #expect(
            policy.decide(Self.snapshot(.seconds(110), ready: 70, running: 38, hosts: draining, perHost: 30)) == [.keep(host: 2), .acquire(hosts: 1)],
            "108 tasks want 4 hosts: the draining one first, then one new")
        // A drained host that emptied goes at the end of its paid period.
        draining[2].busy = 0
        draining[2].idleSince = .seconds(200)
        let minute = Billing(unit: .minute, minimum: .seconds(60), pricePerHostHour: 1)
        #expect(policy.decide(Self.snapshot(.seconds(239), running: 35, hosts: draining, perHost: 30, billing: minute)) == [.release(host: 2)])
    }

    @Test func budget_cutsAcquisitions_andDrainsWhenTheNextUnitWouldPassIt() {
        let minute = Billing(unit: .minute, minimum: .seconds(60), pricePerHostHour: 1)
        var policy = BudgetedPolicy(StaticPolicy(hosts: 10), perDay: 5)
        #expect(policy.decide(Self.snapshot(.zero, billing: minute, spent: 4.95)) == [.acquire(hosts: 2)], "each new host costs at least 1/60")
        #expect(policy.decide(Self.snapshot(.zero, billing: minute, spent: 5)) == [], "nothing left")
        let hosts = [Self.host(0, busy: 1), Self.host(1, phase: .deploying)]
        #expect(policy.decide(Self.snapshot(.seconds(60), hosts: hosts, billing: minute, spent: 4.99)) == [.drain(host: 0), .release(host: 1)])
        #expect(policy.name == "static+budget")
    }

    @Test func ray_launchesAtMostMax5OrItsSize_andRemovesHostsIdleForFiveMinutes() {
        let ray = RayAutoscalerPolicy(maxWorkers: 100)
        #expect(ray.decide(Self.snapshot(.zero, ready: 1000)) == [.acquire(hosts: 5)])
        let ten = (0..<10).map { Self.host($0, busy: 1) }
        #expect(ray.decide(Self.snapshot(.zero, ready: 1000, running: 10, hosts: ten)) == [.acquire(hosts: 10)], "upscaling_speed 1")
        let idle = [Self.host(0, idleSince: .zero)]
        #expect(ray.decide(Self.snapshot(.seconds(299), hosts: idle)) == [])
        #expect(ray.decide(Self.snapshot(.seconds(300), hosts: idle)) == [.release(host: 0)])
    }

    @Test func dask_scalesOnExpectedWork_andRetiresAfterThreeProposalsInARow() {
        var dask = DaskAdaptivePolicy(maximumHosts: 50)
        var snapshot = Self.snapshot(.zero, ready: 4)
        snapshot.meanTaskSeconds = 10
        #expect(dask.decide(snapshot) == [.acquire(hosts: 8)], "40 s of work / 5 s")
        let idle = [Self.host(0), Self.host(1, busy: 1)]
        var quiet = Self.snapshot(.seconds(1), running: 1, hosts: idle)
        quiet.meanTaskSeconds = 1
        #expect(dask.decide(quiet) == [])
        #expect(dask.decide(quiet) == [])
        #expect(dask.decide(quiet) == [.release(host: 0)], "the third proposal in a row")
    }

    @Test func scheduled_keepsHostsInItsWindowsOnly_andWindowsParseOrSayWhy() throws {
        let window = try CalendarWindow(parsing: "Mon-Fri 08:00-20:00")
        let monday9 = Date(timeIntervalSince1970: 1_796_601_600 + 9 * 3600)  // 2026-12-07 is a Monday
        #expect(window.contains(monday9))
        #expect(!window.contains(monday9.addingTimeInterval(11 * 3600)), "20:00 is outside")
        #expect(!window.contains(monday9.addingTimeInterval(5 * 86_400)), "Saturday")
        let night = try CalendarWindow(parsing: "Fri 22:00-06:00")
        #expect(night.contains(monday9.addingTimeInterval(4 * 86_400 + 14 * 3600)), "Friday 23:00")
        #expect(night.contains(monday9.addingTimeInterval(4 * 86_400 + 18 * 3600)), "Saturday 03:00")
        #expect(!night.contains(monday9.addingTimeInterval(18 * 3600)), "Tuesday 03:00")
        #expect(window.description == "Mon,Tue,Wed,Thu,Fri 08:00-20:00")
        for bad in ["Mon-Fri", "Xyz 08:00-09:00", "Mon 25:00-26:00", "Mon 08:00", "Mon 8-9"] {
            #expect(throws: ElasticConfigError.self, "\(bad)") { try CalendarWindow(parsing: bad) }
        }

        let policy = ScheduledPolicy(windows: [window], hosts: 3)
        #expect(policy.decide(Self.snapshot(.zero, wall: monday9)) == [.acquire(hosts: 3)])
        let hosts = [Self.host(0, busy: 1), Self.host(1), Self.host(2, phase: .deploying)]
        #expect(
            policy.decide(Self.snapshot(.zero, hosts: hosts, wall: monday9.addingTimeInterval(12 * 3600)))
                == [.drain(host: 0), .release(host: 1), .release(host: 2)])
    }

    @Test func oneHostPerCycle_asksForOneHostAtATime() {
        let policy = OneHostPerCyclePolicy(maxHosts: 10)
        #expect(policy.decide(Self.snapshot(.zero, ready: 100)) == [.acquire(hosts: 1)])
        #expect(policy.decide(Self.snapshot(.seconds(30), ready: 100, hosts: [Self.host(0, phase: .deploying)])) == [], "one outstanding")
    }
}
