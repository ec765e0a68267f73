import Foundation
@testable import Grid
import Testing

/// Every bound of ``InputLimits``: refused at submission with the limit named, or failing the task that would pass
/// it at run time, never the process (issue 27, items 2 – 5, 8 and 11).
@Suite struct InputLimitsTests {
    static func codes(_ yaml: String, limits: InputLimits = .default) -> [WorkflowProblem.Code] {
        do {
            _ = try Workflow(yaml: yaml, file: "request", limits: limits)
            return []
        } catch {
            return error.problems.map(\.code)
        }
    }

    static func messages(_ yaml: String, limits: InputLimits = .default) -> String {
        do {
            _ = try Workflow(yaml: yaml, file: "request", limits: limits)
            return ""
        } catch {
            return error.description
        }
    }

    @Test func durationsPastTheLongest_areRefusedAtSubmission_namingTheLimit() {
        let huge = "9223372036854775807"
        let walltime = "name: big\ntasks:\n  a:\n    script: {language: bash, code: 'true'}\n    walltime: \(huge)\n"
        #expect(Self.codes(walltime) == [.limitExceeded])
        #expect(Self.messages(walltime).contains("limit longestDuration"))
        let info = "name: big\ngenericInfo: {WALLTIME: \"\(huge)\"}\ntasks:\n  a:\n    script: {language: bash, code: 'true'}\n"
        #expect(Self.codes(info) == [.limitExceeded])
        let taskInfo = "name: big\ntasks:\n  a:\n    script: {language: bash, code: 'true'}\n    genericInfo: {WALLTIME: \"\(huge)\"}\n"
        #expect(Self.codes(taskInfo) == [.limitExceeded])
        let delay = "name: big\ntaskRetryDelay: \(huge)\ntasks:\n  a:\n    script: {language: bash, code: 'true'}\n"
        #expect(Self.codes(delay) == [.limitExceeded])
        let garbage = "name: big\ngenericInfo: {WALLTIME: \"soon\"}\ntasks:\n  a:\n    script: {language: bash, code: 'true'}\n"
        #expect(Self.codes(garbage) == [.invalidWalltime])
        // A day is fine; the limit itself can be raised or lowered.
        let day = "name: day\ntasks:\n  a:\n    script: {language: bash, code: 'true'}\n    walltime: 24:00:00\n"
        #expect(Self.codes(day).isEmpty)
        var tight = InputLimits()
        tight.longestDuration = .seconds(3600)
        #expect(Self.codes(day, limits: tight) == [.limitExceeded])
    }

    @Test func startAtFarAhead_isRefusedWithTheLimit_notAnOverflow() throws {
        let wallNow = Date(timeIntervalSince1970: 1_800_000_000)
        let far = Workflow(name: "later", genericInfo: ["START_AT": "9999-12-31T00:00:00Z"], tasks: [fn("a")])
        #expect(throws: GridError.self) { _ = try JobHarness(far, wallNow: wallNow) }
        do {
            _ = try JobHarness(far, wallNow: wallNow)
        } catch let error as GridError {
            guard case .limitExceeded(let message) = error else { Issue.record("got \(error)"); return }
            #expect(message.contains("longestDuration"))
        }
        let soon = Workflow(name: "later", genericInfo: ["START_AT": "2027-01-15T08:00:00Z"], tasks: [fn("a")])
        _ = try JobHarness(soon, wallNow: wallNow)
    }

    @Test func deepFunctionInput_isRefusedAtSubmission_andDeepJSONNeverDecodes() throws {
        let nested = { (levels: Int) in String(repeating: "[", count: levels) + String(repeating: "]", count: levels) }
        let yaml = { (levels: Int) in "name: deep\ntasks:\n  a:\n    function: noop\n    input: \(nested(levels))\n" }
        #expect(Self.codes(yaml(600)) == [.limitExceeded])  // past what YAML may nest at all
        #expect(Self.codes(yaml(70)) == [.limitExceeded])  // past nestingDepth (64)
        #expect(Self.messages(yaml(70)).contains("limit nestingDepth"))
        #expect(Self.codes(yaml(60)).isEmpty)
        // The JSON codecs (REST, wire, journal) refuse a value deeper than Value.maximumDepth with a typed error.
        #expect(throws: DecodingError.self) { _ = try JSONDecoder().decode(Value.self, from: Data(nested(600).utf8)) }
        let fine = try JSONDecoder().decode(Value.self, from: Data(nested(100).utf8))
        #expect(fine.depth(upTo: 200) == 100)
        // A script's result that deep is kept as text, not as a value the journal could not read back.
        #expect(Value(parsingResult: nested(600)) == .string(nested(600)))
    }

    @Test func yamlAliasBomb_isRefusedBeforeItIsExpanded() {
        var lines = ["name: bomb", "genericInfo:", "  L0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
        for level in 1...9 {
            let aliases = Array(repeating: "*l\(level - 1)", count: 10).joined(separator: ", ")
            lines.append("  L\(level): &l\(level) [\(aliases)]")
        }
        lines += ["tasks:", "  a:", "    script: {language: bash, code: 'true'}"]
        let bomb = lines.joined(separator: "\n")
        let started = ContinuousClock.now
        #expect(Self.codes(bomb) == [.limitExceeded])
        #expect(Self.messages(bomb).contains("limit yamlNodes"))
        // Counting uses each anchor's size once: a billion expanded nodes cost a few hundred visits.
        #expect(ContinuousClock.now - started < .seconds(5), "refusing took \(ContinuousClock.now - started)")
        var few = InputLimits()
        few.yamlAliases = 5
        let six = "name: six\nvariables:\n  A: &a x\n" + (1...6).map { "  B\($0): *a" }.joined(separator: "\n")
            + "\ntasks:\n  a:\n    script: {language: bash, code: 'true'}\n"
        #expect(Self.codes(six, limits: few) == [.limitExceeded])
        #expect(Self.messages(six, limits: few).contains("limit yamlAliases"))
        #expect(Self.codes(six).isEmpty)
    }

    @Test func aLargeDocumentWithoutAliases_isWithinTheLimits() {
        var yaml = "name: wide\ntasks:\n"
        for index in 0..<5_000 { yaml += "  t\(index):\n    script: {language: bash, code: 'echo \(index)'}\n" }
        #expect(Self.codes(yaml).isEmpty)
    }

    @Test func replicateRunsPastTheLimit_areRefusedWhenFixed_andFailTheTaskWhenDecided() throws {
        let fixed = """
            name: wide
            tasks:
              split:
                script: {language: bash, code: 'true'}
                replicate: {runs: 100000000}
              tile:
                depends: [split]
                script: {language: bash, code: 'true'}
            """
        #expect(Self.codes(fixed) == [.limitExceeded])
        #expect(Self.messages(fixed).contains("limit replicateRuns"))
        var limits = InputLimits()
        limits.replicateRuns = 100
        let decided = Workflow(name: "wide", tasks: [
            fn("split").replicate(runs: .result), fn("tile", depends: ["split"]),
        ])
        var harness = try JobHarness(decided, limits: limits)
        harness.run { $0.name.task == "split" ? .success(result: .int(101), variables: nil) : .success(result: .null, variables: nil) }
        #expect(harness.status("split") == .faulty || harness.status("split") == .failed)
        let split = try #require(harness.core.instances.first { $0.name.task == "split" })
        #expect(split.message?.contains("limit replicateRuns") == true, "\(split.message ?? "no message")")
        #expect(harness.core.instances.count == 2)
        // The instances of a job are bounded too, whatever the runs.
        var few = InputLimits()
        few.instancesPerJob = 50
        var small = try JobHarness(decided, limits: few)
        small.run { $0.name.task == "split" ? .success(result: .int(60), variables: nil) : .success(result: .null, variables: nil) }
        let capped = try #require(small.core.instances.first { $0.name.task == "split" })
        #expect(capped.message?.contains("limit instancesPerJob") == true, "\(capped.message ?? "no message")")
    }

    @Test func loopThatNeverEnds_failsItsTaskAtTheIterationLimit() throws {
        var limits = InputLimits()
        limits.loopIterations = 5
        let forever = Workflow(name: "forever", tasks: [fn("a").loop(target: "a", while: .value("true"))])
        var harness = try JobHarness(forever, limits: limits)
        harness.run()
        #expect(harness.core.instances.count == 5)
        let last = try #require(harness.core.instances.last)
        #expect(last.name.iteration == 4)
        #expect(last.message?.contains("limit loopIterations") == true, "\(last.message ?? "no message")")
        #expect(!harness.core.status.isAlive)
    }

    @Test func namesWithControlCharactersOrPastTheLength_areRefused() {
        let nul = Workflow(name: "spoof", tasks: [TaskDefinition("x.out\u{0}spoof", .bash("true"))])
        #expect(nul.validationProblems().map(\.code) == [.invalidTaskName])
        #expect(nul.validationProblems().first?.message.contains("\\0") == true)
        let newline = Workflow(name: "line\nforged", tasks: [TaskDefinition("a", .bash("true"))])
        #expect(newline.validationProblems().map(\.code) == [.invalidJobName])
        let long = Workflow(name: String(repeating: "j", count: 1_000_000), tasks: [TaskDefinition("a", .bash("true"))])
        let problems = long.validationProblems()
        #expect(problems.map(\.code) == [.invalidJobName])
        #expect(problems.first?.message.contains("limit nameLength") == true)
        #expect((problems.first?.message.count ?? 0) < 200, "the refusal does not echo the whole name back")
        let variable = Workflow(name: "vars", variables: [Variable(String(repeating: "V", count: 300), "1")], tasks: [TaskDefinition("a", .bash("true"))])
        #expect(variable.validationProblems().map(\.code) == [.limitExceeded])
        let fine = Workflow(name: "fine", tasks: [TaskDefinition(String(repeating: "t", count: 255), .bash("true"))])
        #expect(fine.validationProblems().isEmpty)
    }
}

/// Outputs are matched by a bounded walk, confined on a multi-user server, and self-healing records belong to
/// their owner (issue 27, items 6 and 13).
@Suite struct OutputConfinementTests {
    static func directory() throws -> String {
        let path = FileManager.default.temporaryDirectory.path + "/tessera-outputs-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: path + "/tiles", withIntermediateDirectories: true)
        for index in 0..<5 { FileManager.default.createFile(atPath: path + "/tiles/t\(index).tif", contents: Data([1])) }
        return path
    }

    @Test func confinedOutputs_stayInTheWorkingDirectory_andNeverEnterALink() throws {
        let root = try Self.directory()
        defer { try? FileManager.default.removeItem(atPath: root) }
        try FileManager.default.createSymbolicLink(atPath: root + "/escape", withDestinationPath: "/")
        let glob = OutputGlob(confined: true, limits: .default)
        #expect(try glob.matches(["tiles/*.tif"], in: root).count == 5)
        #expect(throws: OutputGlob.Problem.outsideWorkingDirectory("/*/*/*/*/*/*/*")) { try glob.matches(["/*/*/*/*/*/*/*"], in: root) }
        #expect(throws: OutputGlob.Problem.outsideWorkingDirectory("../x")) { try glob.matches(["../x"], in: root) }
        #expect(try glob.matches(["escape/*", "escape/etc/passwd"], in: root).isEmpty)
        // The link itself may be an output (it is stamped, not entered).
        #expect(try glob.matches(["escape"], in: root) == [root + "/escape"])
    }

    @Test func matchingOutputs_isChargedToTheWalltime_andStopsOnceItPasses() throws {
        let root = try Self.directory()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let clock = ManualClock()
        let glob = OutputGlob(confined: true, limits: .default).charged(until: .seconds(60), on: clock)
        #expect(try glob.matches(["tiles/*.tif"], in: root).count == 5)
        clock.advance(to: .seconds(61))
        #expect(throws: OutputGlob.Problem.walltimeExceeded) { try glob.matches(["tiles/*.tif"], in: root) }
        // A literal path costs no walk; without a walltime nothing is charged.
        #expect(try glob.matches(["tiles/t1.tif"], in: root).count == 1)
        #expect(try glob.charged(until: nil, on: clock).matches(["tiles/*.tif"], in: root).count == 5)
    }

    @Test func aGridThatConfinesOutputs_refusesOutsideOnesAtSubmission() async throws {
        let grid = try await startGrid { $0.confineOutputs = true }
        let escaping = Workflow(name: "walk", tasks: [TaskDefinition("a", .bash("true"), outputs: ["/*/*/*/*/*/*/*"])])
        await #expect(throws: GridError.self) { _ = try await grid.submit(escaping) }
        let up = Workflow(name: "walk", tasks: [TaskDefinition("a", .bash("true"), outputs: ["../../etc/*"])])
        await #expect(throws: GridError.self) { _ = try await grid.submit(up) }
        let inside = Workflow(name: "walk", tasks: [TaskDefinition("a", .bash("touch out.txt"), outputs: ["out.txt"])])
        #expect(try await grid.submit(inside).result().status == .finished)
        await grid.shutdown()
    }

    @Test func outputsThatWalkTheFileSystem_stopAtTheEntryLimit() throws {
        var limits = InputLimits()
        limits.outputEntries = 1_000
        let started = ContinuousClock.now
        #expect(throws: OutputGlob.Problem.tooManyEntries(1_000)) {
            try OutputGlob(confined: false, limits: limits).matches(["/*/*/*/*/*/*/*"], in: "/")
        }
        #expect(ContinuousClock.now - started < .seconds(5))
        var few = InputLimits()
        few.outputMatches = 3
        let root = try Self.directory()
        defer { try? FileManager.default.removeItem(atPath: root) }
        #expect(throws: OutputGlob.Problem.tooManyMatches(3)) { try OutputGlob(confined: true, limits: few).matches(["tiles/*"], in: root) }
    }

    @Test func healingRecords_ofOneOwner_areNeverSeenByAnother() throws {
        let root = try Self.directory()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let store = HealingStore(path: nil)
        let task = TaskInstanceName(task: "tile")
        let alice = HealingStore.key(owner: "alice", workflow: "tiles", task: task)
        let bob = HealingStore.key(owner: "bob", workflow: "tiles", task: task)
        #expect(alice != bob)
        try store.record(key: alice, fingerprint: 42, outputs: ["tiles/*.tif"], in: root, result: .string("alice's secret"), variables: nil)
        guard case .alreadyDone(let record) = store.check(key: alice, fingerprint: 42, outputs: ["tiles/*.tif"], in: root) else {
            Issue.record("alice's own record is not found")
            return
        }
        #expect(record.result == .string("alice's secret"))
        guard case .mustRun = store.check(key: bob, fingerprint: 42, outputs: ["tiles/*.tif"], in: root) else {
            Issue.record("bob's task was skipped on alice's record")
            return
        }
    }
}
