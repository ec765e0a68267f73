import Foundation
import Grid
import Testing

@Suite(.timeLimit(.minutes(1))) struct ExampleWorkflowTests {
    /// `examples/tiles.yaml`, found from this file's path.
    static let example = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("examples/tiles.yaml").path

    @Test func exampleWorkflow_runsEveryFlowControlAndHealsOnTheSecondRun() async throws {
        let directory = try makeTemporaryDirectory("example")
        let grid = try await startGrid(directory: directory)
        let workflow = try Workflow(contentsOfFile: Self.example)
        let result = try await grid.submit(workflow, variables: ["TILES": "3"]).result()
        #expect(result.status == .finished)
        let states = Dictionary(uniqueKeysWithValues: result.tasks.map { ($0.name.description, $0.status) })
        #expect(states == [
            "prepare": .finished, "tile": .finished, "tile*1": .finished, "tile*2": .finished, "mosaic": .finished,
            "refine": .finished, "check": .finished, "refine#1": .finished, "check#1": .finished,
            "decide": .finished, "publish": .finished, "archive": .skipped, "done": .finished,
        ])
        #expect(result.result(of: "mosaic") == ["tiles": 3])
        #expect(FileManager.default.fileExists(atPath: directory + "/out/tiles/tile-2.txt"))
        let second = try await grid.submit(workflow, variables: ["TILES": "3"]).result()
        #expect(second.tasks.filter(\.alreadyDone).map(\.name.description).sorted() == ["tile", "tile*1", "tile*2"])
        await grid.shutdown()
    }

    @Test func brokenYAML_isRejectedAtSubmissionWithEveryProblem() async throws {
        let yaml = """
            name: broken
            tasks:
              a:
                command: [echo, "${NOPE}"]
                depends: [ghost]
              b:
                command: [true]
                maxNumberOfExecution: 0
            """
        #expect(throws: WorkflowError.self) { try Workflow(yaml: yaml) }
        do {
            _ = try Workflow(yaml: yaml)
        } catch {
            #expect(error.problems.count == 3)
            #expect(error.problems.allSatisfy { $0.location != nil })
        }
        let grid = try await startGrid()
        let invalid = Workflow(name: "x", tasks: [TaskDefinition("a", .function("noop"), depends: ["a"])])
        await #expect(throws: GridError.self) { try await grid.submit(invalid) }
        await grid.shutdown()
    }
}
