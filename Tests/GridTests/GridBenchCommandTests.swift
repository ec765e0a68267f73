import Foundation
import Testing
import TesseraTestSupport

/// `tessera bench grid` and the tiling functions it runs (also callable from workflows).
@Suite(.timeLimit(.minutes(1)))
struct GridBenchCommandTests {
    @Test func benchGrid_printsTheIssueFigures_forSmallTiles() async throws {
        // The bench checks the DAG's result against the serial run itself: a status of 0 means they agreed.
        let result = try await runTessera(
            ["bench", "grid", "--json", "--repeats", "1", "--noop-tasks", "50", "--noop-sizes", "20", "--tiles", "8",
             "--tile-side", "16", "--tiling-rounds", "1", "--script-tasks", "2", "--skip-journal"],
            in: try makeTemporaryDirectory("bench-grid"))
        #expect(result.status == 0, "stderr: \(result.err)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(result.out.utf8)) as? [String: Any])
        for key in ["noopTasksPerSecond", "tilingSpeedup", "replicate2000Ms", "scriptTasksPerSecond", "startupMs", "startupRSSMB"] {
            #expect(((object[key] as? Double) ?? 0) > 0, "\(key): \(String(describing: object[key]))")
        }
        #expect(object["reportIntervalMs"] as? Double == 30, "2 nodes: the grid's choice")
        #expect(object["tileSide"] as? Int == 16)
        #expect(object["tiles"] as? Int == 8)
        #expect(((object["tilingTileMicros"] as? Double) ?? 0) > 0)
    }

    @Test func benchGrid_tracesTheTilingPhases_whenAsked() async throws {
        let result = try await runTessera(
            ["bench", "grid", "--json", "--repeats", "1", "--noop-tasks", "10", "--noop-sizes", "10", "--tiles", "8",
             "--tile-side", "16", "--tiling-rounds", "2", "--script-tasks", "1", "--skip-journal", "--report-interval-ms", "5"],
            in: try makeTemporaryDirectory("bench-grid-phases"), environment: ["TESSERA_BENCH_TRACE": "phases"])
        #expect(result.status == 0, "stderr: \(result.err)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(result.out.utf8)) as? [String: Any])
        #expect(object["reportIntervalMs"] as? Double == 5)
        let phases = result.err.split(separator: "\n").filter { $0.hasPrefix("phases ms: ") }
        #expect(phases.count == 2, "\(result.err)")
        for line in phases {
            #expect(line.contains("tiles' ends reached the scheduler from "), "\(line)")
            #expect(line.contains("of 2 × wall"), "\(line)")
            // 1 root, 8 tiles and 7 adds ran on the 2 nodes.
            #expect(line.hasSuffix(" of the 16 tasks"), "\(line)")
        }
    }

    @Test(arguments: [["--tile-side", "1"], ["--tile-side", "4097"], ["--tile-side", "x"], ["--report-interval-ms", "0"],
                      ["--report-interval-ms", "20000"], ["--report-interval-ms", "nan"]])
    func benchGrid_refusesBadValues(arguments: [String]) async throws {
        let result = try await runTessera(["bench", "grid"] + arguments, in: try makeTemporaryDirectory("bench-grid-bad"))
        #expect(result.status == 64)
        #expect(result.err.contains(arguments[0].dropFirst(2)), "\(result.err)")
    }

    @Test func tilingFunctions_runFromAWorkflow_andRefuseABadSide() async throws {
        let directory = try makeTemporaryDirectory("tiling-functions")
        func workflow(rootInput: String) -> String {
            """
            name: small-tiling
            onTaskError: cancelJob
            maxNumberOfExecution: 1
            tasks:
              root:
                function: tiling.root
                input: \(rootInput)
              t0:
                depends: [root]
                function: tiling.tile
                input: 0
              t1:
                depends: [root]
                function: tiling.tile
                input: 1
              sum:
                depends: [t0, t1]
                function: tiling.add

            """
        }
        try workflow(rootInput: "8").write(toFile: directory + "/good.yaml", atomically: true, encoding: .utf8)
        try workflow(rootInput: "5000").write(toFile: directory + "/big.yaml", atomically: true, encoding: .utf8)
        try workflow(rootInput: "eight").write(toFile: directory + "/text.yaml", atomically: true, encoding: .utf8)

        let good = try await runTessera(["run", "good.yaml", "--json"], in: directory)
        #expect(good.status == 0, "stderr: \(good.err)")
        let report = try #require(try JSONSerialization.jsonObject(with: Data(good.out.utf8)) as? [String: Any])
        #expect(report["state"] as? String == "FINISHED")
        for name in ["big.yaml", "text.yaml"] {
            let bad = try await runTessera(["run", name, "--json"], in: directory)
            #expect(bad.status != 0, "\(name) must not finish")
            let failed = try #require(try JSONSerialization.jsonObject(with: Data(bad.out.utf8)) as? [String: Any])
            let tasks = try #require(failed["tasks"] as? [[String: Any]])
            #expect(tasks.first { $0["name"] as? String == "root" }?["state"] as? String == "FAULTY", "\(name): \(tasks)")
        }
    }
}
