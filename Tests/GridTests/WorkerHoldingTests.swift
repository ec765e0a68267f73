import Dispatch
import Testing

@testable import Grid

/// Functions that hold their worker thread without ever suspending (CPU-bound code, blocking calls) must still
/// show RUNNING: only the report pump, which runs off the pinned pool, can say they started.
///
/// The functions block their thread on a semaphore instead of spinning: the worker is held exactly as by a
/// busy loop, but the test does not take both cores away from the tests that run beside it (a spinning
/// version once starved the whole test process for 50 s on a loaded 2-core CI machine).
@Suite("Functions that hold their worker", .timeLimit(.minutes(3)))
struct WorkerHoldingTests {
    /// Blocks the calling thread (not the task: it never suspends) until `semaphore` is signalled or
    /// `seconds` pass; says whether it was signalled.
    static func holdThread(on semaphore: DispatchSemaphore, seconds: Int) -> Bool {
        semaphore.wait(timeout: .now() + .seconds(seconds)) == .success
    }

    @Test func functionsHoldingEveryWorker_stillShowRunning() async throws {
        let grid = try await startGrid()
        let release = DispatchSemaphore(value: 0)
        grid.functions.register("hold") { (_: inout TaskContext) in
            // The timeout is a safety net, not a wait: the test signals as soon as both starts are seen.
            .bool(WorkerHoldingTests.holdThread(on: release, seconds: 150))
        }
        var stream = grid.events.makeAsyncIterator()
        let job = try await grid.submit(Workflow(name: "hold", tasks: [
            TaskDefinition("a", .function("hold")), TaskDefinition("b", .function("hold")),
        ]))
        var running: Set<String> = []
        while running.count < 2, let event = await stream.next() {
            if case .task(let name, .running, _, _, _) = event.change { running.insert(name.description) }
        }
        release.signal()
        release.signal()
        let result = try await job.result()
        #expect(running == ["a", "b"])
        #expect(result.result(of: "a") == .bool(true) && result.result(of: "b") == .bool(true), "released, not timed out")
        await grid.shutdown()
    }
}
