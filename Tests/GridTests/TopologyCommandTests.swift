import Foundation
import Testing
import TesseraTestSupport

/// `taskset` from util-linux, and more than one CPU to bind a part of.
private let canBindToPart = ProcessInfo.processInfo.activeProcessorCount >= 2
    && ["/usr/bin/taskset", "/bin/taskset"].contains { FileManager.default.isExecutableFile(atPath: $0) }

/// `tessera topology` on the real machine: the placement stays inside the CPUs the process is bound to.
@Suite(
    .enabled(if: canBindToPart, "needs taskset (util-linux) and at least 2 CPUs"), .timeLimit(.minutes(1)))
struct TopologyCommandTests {
    private struct Plan: Decodable {
        struct Worker: Decodable {
            var core: Int
            var processingUnits: [Int]
        }
        var cores: Int
        var processingUnits: Int
        var workers: [Worker]
    }

    private func plan(_ arguments: [String], launcher: [String] = []) async throws -> Plan {
        let result = try await runTessera(arguments + ["--json"], in: try makeTemporaryDirectory("topology"), launcher: launcher)
        #expect(result.status == 0, "stderr: \(result.err)")
        return try JSONDecoder().decode(Plan.self, from: Data(result.out.utf8))
    }

    @Test func aProcessBoundToSomeCPUs_placesItsWorkersOnThoseAlone() async throws {
        let whole = try await plan(["topology"])
        let units = whole.workers.compactMap(\.processingUnits.first)
        let last = try #require(whole.workers.last?.processingUnits.last)
        // Bound to the last core's last PU, the machine has one core, and the worker sits on that PU.
        let bound = try await plan(["topology"], launcher: ["taskset", "-c", String(last)])
        #expect(bound.cores == 1)
        #expect(bound.processingUnits == 1)
        #expect(bound.workers.map(\.processingUnits) == [[last]])

        // Asking for more workers than the binding holds is refused, or shares the bound core when allowed.
        let refused = try await runTessera(["topology", "--workers", "2"], in: try makeTemporaryDirectory("topology"),
                                           launcher: ["taskset", "-c", String(last)])
        #expect(refused.status != 0)
        #expect(refused.err.contains("only 1 slot is free"), "\(refused.err)")
        let shared = try await plan(["topology", "--workers", "2", "--oversubscribe"], launcher: ["taskset", "-c", String(last)])
        #expect(shared.workers.map(\.processingUnits) == [[last], [last]])

        // Bound to the first two cores' first PUs, the plan holds exactly those two (where there are two cores).
        guard units.count >= 2 else { return }
        let pair = try await plan(["topology"], launcher: ["taskset", "-c", "\(units[0]),\(units[1])"])
        #expect(pair.cores == 2)
        #expect(pair.workers.map(\.processingUnits) == [[units[0]], [units[1]]])
    }
}
