@testable import Cluster
import Testing

/// Small versions of gossip.md §5's targets, each a seeded, deterministic simulation.
@Suite("Simulator")
struct SimulatorTests {
    func scenario(_ members: Int, seconds: Int64, seed: UInt64 = 1, _ configure: (inout Scenario) -> Void = { _ in })
        -> Scenario {
        var scenario = Scenario(members: members, seed: seed)
        scenario.duration = .seconds(seconds)
        configure(&scenario)
        return scenario
    }

    @Test func sameSeed_sameTrace_otherSeed_otherTrace() {
        let lossy = scenario(40, seconds: 40) {
            $0.network.loss = 0.05
            $0.crashes = 2
        }
        let first = Simulator(lossy).run()
        let again = Simulator(lossy).run()
        var other = lossy
        other.seed = 2
        #expect(first.traceHash == again.traceHash)
        #expect(first == again)
        #expect(Simulator(other).run().traceHash != first.traceHash)
    }

    @Test func crashes_areDetectedByEveryone_withinTenSeconds_atFivePercentLoss() {
        let report = Simulator(scenario(60, seconds: 120, seed: 3) {
            $0.network.loss = 0.05
            $0.crashes = 4
        }).run()
        print("seed 3: detections \(report.detections)")
        #expect(report.detections.count == 4)
        #expect(report.undetected == 0)
        #expect((report.detections.max() ?? 99) < 10)
        #expect(report.falseDead == 0)
        #expect(report.resurrections == 0)
        #expect(report.stuckDead == 0)
    }

    @Test func starvedMembers_lifeguardDeclaresFewerHealthyMembersDead_thanSWIMClassic() {
        func run(_ settings: MembershipSettings) -> SimulationReport {
            Simulator(scenario(100, seconds: 300, seed: 4) {
                $0.settings = settings
                $0.starvedFraction = 0.2
                $0.network.loss = 0.01
            }).run()
        }
        let tessera = run(.tessera)
        let classic = run(.swimClassic)
        print("seed 4: false dead tessera \(tessera.falseDead), swim-classic \(classic.falseDead)")
        #expect(classic.falseDead > 0)
        #expect(tessera.falseDead * 10 <= classic.falseDead)
    }

    @Test func partition_healsWithoutAManualJoin() {
        let split = scenario(40, seconds: 150, seed: 5) {
            $0.partitions = [PartitionPlan(start: .seconds(10), end: .seconds(60), shape: .split(fraction: 0.5))]
        }
        let report = Simulator(split).run()
        print("seed 5: healed in \(report.healSeconds ?? -1) s, \(report.partitionedDead) declarations across it")
        #expect(report.partitionedDead > 0)
        #expect((report.healSeconds ?? 999) <= 60)
        #expect(report.stuckDead == 0)
        #expect(report.falseDead == 0)

        var memberlist = split
        memberlist.settings = .memberlistDefaults
        let never = Simulator(memberlist).run()
        #expect(never.healSeconds == nil)
        #expect(never.stuckDead > 0)
    }

    @Test func oneWayPartition_declaresNobodyDead() {
        let report = Simulator(scenario(40, seconds: 90, seed: 6) {
            $0.partitions = [PartitionPlan(start: .seconds(5), end: .seconds(80), shape: .oneWay)]
        }).run()
        #expect(report.falseDead == 0)
        #expect(report.partitionedDead == 0)
        #expect(report.stuckDead == 0)
    }

    @Test func massRestart_convergesWithNoMemberStuckDead() {
        let report = Simulator(scenario(30, seconds: 90, seed: 7) {
            $0.massRestart = 10...20
        }).run()
        print("seed 7: converged \(report.restartConvergedSeconds ?? -1) s after the restarts")
        #expect((report.restartConvergedSeconds ?? 999) <= 30)
        #expect(report.stuckDead == 0)
    }

    @Test func joiningOneByOne_throughASeed_convergesToOneView() {
        let report = Simulator(scenario(30, seconds: 40, seed: 8) { $0.startConverged = false }).run()
        #expect(report.stuckDead == 0)
        #expect(report.stuckSuspect == 0)
        #expect(report.syncs >= 29)
    }

    @Test func aJoin_reachesEveryMemberInFewRounds_andDatagramsStaySmall() {
        let report = Simulator(scenario(300, seconds: 30, seed: 9) {
            $0.network.loss = 0.01
            $0.joinAt = 10
        }).run()
        #expect((report.rounds9999 ?? 99) <= 15)
        #expect((report.rounds100 ?? 99) <= 25)
        #expect(report.largestDatagramBytes <= 1200)
    }

    @Test func crashedMembers_areNeverSeenAliveAgain() {
        let report = Simulator(scenario(100, seconds: 200, seed: 10) {
            $0.crashes = 10
            $0.network.loss = 0.02
            $0.settings.pushPullInterval = .seconds(5)
        }).run()
        #expect(report.undetected == 0)
        #expect(report.resurrections == 0)
    }

    @Test func duplicatedReorderedDelayedDatagrams_andDriftingClocks_causeNoFalseDeath() {
        let report = Simulator(scenario(50, seconds: 120, seed: 11) {
            $0.network.loss = 0.02
            $0.network.duplication = 0.1
            $0.network.reordering = 0.1
            $0.network.latencyMedian = .milliseconds(5)
            $0.clockDriftPPM = 500
        }).run()
        #expect(report.falseDead == 0)
        #expect(report.stuckDead == 0)
    }

    @Test func steadyState_staysUnderTwoKilobytesPerMemberPerSecond() {
        let report = Simulator(scenario(200, seconds: 120, seed: 12)).run()
        #expect(report.bytesPerMemberPerSecond < 2000)
        #expect(report.largestDatagramBytes <= 1200)
    }
}
