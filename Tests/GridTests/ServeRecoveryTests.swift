import Foundation
import Grid
import Testing
import TesseraTestSupport

/// SplitMix64: the seeded randomness of these tests (the seed is printed; `TESSERA_TEST_SEED` replays one).
struct SeededRandom: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    static func seeded(_ test: String) -> SeededRandom {
        let seed = ProcessInfo.processInfo.environment["TESSERA_TEST_SEED"].flatMap(UInt64.init) ?? UInt64.random(in: 1...999_999)
        print("\(test): seed \(seed) (TESSERA_TEST_SEED=\(seed) replays it)")
        return SeededRandom(state: seed)
    }
}

@Suite("tessera serve: kill -9 and restart", .timeLimit(.minutes(5)))
struct ServeRecoveryTests {
    /// 10,000 tasks: 100 bash scripts, 9,898 in-process functions (each after one script), a task that fails
    /// three times (retries) and one that stops In-Error. Every execution appends its name to a file.
    static func workflow(record: String) -> (yaml: String, names: [String]) {
        var yaml = "name: recover-10k\nvariables:\n  RECORD_FILE: \(record)\ntasks:\n"
        var names: [String] = []
        for group in 0..<100 {
            yaml += "  s\(group):\n    script:\n      language: bash\n      code: echo \"$TESSERA_TASK_NAME\" >> \"$RECORD_FILE\"\n"
            names.append("s\(group)")
        }
        for index in 0..<9898 {
            yaml += "  f\(index):\n    depends: [s\(index % 100)]\n    function: tessera.record\n"
            names.append("f\(index)")
        }
        yaml += """
              flaky:
                maxNumberOfExecution: 3
                taskRetryDelay: 200ms
                script:
                  language: bash
                  code: echo "$TESSERA_TASK_NAME" >> "$RECORD_FILE"; exit 1
              stuck:
                onTaskError: suspendTask
                script:
                  language: bash
                  code: echo "$TESSERA_TASK_NAME" >> "$RECORD_FILE"; exit 3

            """
        names += ["flaky", "stuck"]
        return (yaml, names)
    }

    /// The job's progress, from the cheap listing.
    static func progress(_ server: ServerProcess) async throws -> (state: String, done: Int, total: Int, running: Int) {
        let (_, page) = try await server.object("GET", "/api/v1/jobs?limit=1")
        let job = (page["jobs"] as? [[String: Any]])?.first ?? [:]
        let progress = job["progress"] as? [String: Int] ?? [:]
        return (job["state"] as? String ?? "", progress["done"] ?? 0, progress["total"] ?? 0, progress["running"] ?? 0)
    }

    /// Reads the job's progress until `done` holds: once when its event stream has opened, then once after each
    /// chunk the server sends (``ServerProcess/waitJob(_:token:until:)``'s wait, on the cheap listing). Returns the
    /// last read.
    @discardableResult
    static func waitProgress(
        _ server: ServerProcess, until done: ((state: String, done: Int, total: Int, running: Int)) -> Bool
    ) async throws -> (state: String, done: Int, total: Int, running: Int) {
        let chunks = server.eventChunks(path: "/api/v1/events?job=1", token: nil)
        defer { chunks.stop() }
        for await _ in chunks.stream {
            let now = try await progress(server)
            if done(now) { return now }
        }
        return try await progress(server)
    }

    @Test func killedThreeTimes_theJobFinishes_andFinishedTasksNeverRunAgain() async throws {
        var random = SeededRandom.seeded("kill -9")
        let root = try makeTemporaryDirectory("serve-kill")
        let data = root + "/data"
        let record = root + "/record.txt"
        let (yaml, names) = Self.workflow(record: record)
        #expect(names.count == 10_000)

        var server = try await ServerProcess.start(data: data)
        let (status, answer) = try await server.call("POST", "/api/v1/jobs", body: Data(yaml.utf8), contentType: "application/yaml")
        #expect(status == 201, "\(String(decoding: answer, as: UTF8.self))")
        let thresholds = (0..<3).map { _ in Int.random(in: 300...9_000, using: &random) }.sorted()
        // Per kill: the tasks the journal held finished, and how many executions the record file held then.
        var kills: [(finished: Set<String>, lines: Int)] = []
        for threshold in thresholds {
            // Kill at a random point: once this many tasks are done (or the job is over).
            try await Self.waitProgress(server) { now in
                now.done >= threshold || !["PENDING", "RUNNING", "STALLED", "IN_ERROR"].contains(now.state)
            }
            await server.kill9()
            // What the journal held at the kill: those tasks must never run again.
            let journal = try Journal(directory: data)
            let recovery = try journal.recover()
            var stuckFailed = false
            var finished: Set<String> = []
            for record in recovery.jobs.first?.records ?? [] {
                if case .finished(_, let index, _, _, let outcome, _, _) = record {
                    if case .success = outcome { finished.insert(names[index]) }
                    if names[index] == "stuck" { stuckFailed = true }
                }
            }
            let lines = (try? String(contentsOfFile: record, encoding: .utf8))?.split(separator: "\n").count ?? 0
            kills.append((finished, lines))
            server = try await ServerProcess.start(data: data)
            if stuckFailed {
                let (_, task) = try await server.object("GET", "/api/v1/jobs/1/tasks/stuck")
                #expect(task["state"] as? String == "IN_ERROR", "an IN_ERROR task stays In-Error across a restart")
            }
        }
        // Everything but the In-Error task ends; then the user marks it finished.
        let last = try await Self.waitProgress(server) { now in
            (now.done == now.total - 1 && now.running == 0 && now.state == "IN_ERROR")
                || !["PENDING", "RUNNING", "STALLED", "IN_ERROR"].contains(now.state)
        }
        #expect(last.state == "IN_ERROR" && last.done == last.total - 1 && last.running == 0, "\(last)")
        guard last.state == "IN_ERROR" else { return }
        let (finishStatus, _) = try await server.call("PUT", "/api/v1/jobs/1/tasks/stuck/finish-in-error")
        #expect(finishStatus == 200)
        let (_, results) = try await server.object("GET", "/api/v1/jobs/1/result")
        #expect(results["state"] as? String == "FINISHED")
        let values = results["results"] as? [String: Any] ?? [:]
        let missing = names.filter { $0.hasPrefix("f") && $0 != "flaky" && values[$0] as? String != $0 }
        #expect(missing.isEmpty, "results missing for \(missing.prefix(5))")
        let (_, flaky) = try await server.object("GET", "/api/v1/jobs/1/tasks/flaky")
        #expect(flaky["state"] as? String == "FAULTY")

        // Each execution left a line. A task the journal held finished at a kill never ran after it (the first
        // kill's ran exactly once); a task ran at most once more per kill (those running or not yet journaled).
        let lines = try String(contentsOfFile: record, encoding: .utf8).split(separator: "\n").map(String.init)
        var counts: [String: Int] = [:]
        for line in lines { counts[line, default: 0] += 1 }
        for name in names where name != "flaky" && name != "stuck" {
            #expect((1...(1 + kills.count)).contains(counts[name] ?? 0), "\(name) ran \(counts[name] ?? 0) times")
        }
        for (number, kill) in kills.enumerated() {
            let again = Set(lines[kill.lines...]).intersection(kill.finished)
            #expect(again.isEmpty, "\(again.count) tasks journaled finished at kill \(number + 1) ran after it: \(again.sorted().prefix(5))")
        }
        let once = kills.first.map { $0.finished.filter { counts[$0] != 1 } } ?? []
        #expect(once.isEmpty, "tasks finished before the first kill ran more than once: \(once.sorted().prefix(5))")
        #expect((3...(3 + kills.count)).contains(counts["flaky"] ?? 0), "flaky failed \(counts["flaky"] ?? 0) times: retries reset?")
        #expect(kills.first.map { !$0.finished.isEmpty } ?? false)
        print("kill -9: \(kills.count) kills at \(thresholds) tasks done; journaled finished at each kill \(kills.map(\.finished.count)); \(lines.count) executions for \(names.count) tasks")
        #expect(await server.terminate() == 0, "SIGTERM stops the server cleanly")
    }
}
