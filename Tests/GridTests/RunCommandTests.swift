import Foundation
import Testing
import TesseraTestSupport

@Suite(.timeLimit(.minutes(1)))
struct RunCommandTests {
    static let example = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("examples/tiles.yaml").path

    struct Report: Decodable {
        struct Task: Decodable {
            var name: String
            var state: String
            var executions: Int
            var alreadyDone: Bool
            var duration: Double?
        }
        var job: Int
        var state: String
        var tasks: [Task]
    }

    @Test func runsTheExample_asJSON_thenHealsOnTheSecondRun() async throws {
        let directory = try makeTemporaryDirectory("cli")
        let arguments = ["run", Self.example, "--var", "TILES=3", "--json", "--nodes", "2"]
        let first = try await runTessera(arguments, in: directory)
        #expect(first.status == 0, "stderr: \(first.err)")
        let report = try JSONDecoder().decode(Report.self, from: Data(first.out.utf8))
        #expect(report.state == "FINISHED")
        #expect(report.tasks.filter { $0.name.hasPrefix("tile") }.map(\.name).sorted() == ["tile", "tile*1", "tile*2"])
        #expect(report.tasks.allSatisfy { !$0.alreadyDone })
        #expect(report.tasks.filter { $0.state == "FINISHED" }.allSatisfy { ($0.duration ?? -1) >= 0 }, "every task that ran has a duration")
        #expect(report.tasks.first { $0.name == "archive" }?.state == "SKIPPED")

        let second = try await runTessera(arguments, in: directory)
        #expect(second.status == 0, "stderr: \(second.err)")
        let again = try JSONDecoder().decode(Report.self, from: Data(second.out.utf8))
        let tiles = again.tasks.filter { $0.name.hasPrefix("tile") }
        #expect(tiles.count == 3 && tiles.allSatisfy { $0.alreadyDone }, "the tiles are already done")
    }

    @Test func badInput_exits2ForAWorkflow_and64ForArguments() async throws {
        let directory = try makeTemporaryDirectory("cli-bad")
        try "name: x\ntasks:\n  a:\n    depends: [b]\n    command: []\n".write(toFile: directory + "/bad.yaml", atomically: true, encoding: .utf8)
        let bad = try await runTessera(["run", "bad.yaml"], in: directory)
        #expect(bad.status == 2)
        #expect(bad.err.contains("bad.yaml:1:1: the workflow's name `x` is too short"))
        #expect(bad.err.contains("bad.yaml:4:15: task `a` depends on `b`, which is not a task"))
        #expect(bad.err.contains("bad.yaml:5:5: task `a` has a command with no program"))
        let missing = try await runTessera(["run", "missing.yaml"], in: directory)
        #expect(missing.status == 2)
        let usage = try await runTessera(["run", Self.example, "--var", "TILES"], in: directory)
        #expect(usage.status == 64)
        #expect(usage.err.contains("--var expects NAME=VALUE, got 'TILES'"))
    }
}
