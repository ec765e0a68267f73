import Testing
@testable import Grid

@Suite struct FlowControlTests {
    @Test func replicate_copiesTheChildAndTheMergeWaitsForEveryReplica() throws {
        let workflow = Workflow(name: "rep", tasks: [
            fn("split").replicate(runs: .result),
            fn("tile", depends: ["split"]),
            fn("merge", depends: ["tile"]),
        ])
        var job = try JobHarness(workflow)
        job.run { $0.name.task == "split" ? .success(result: 3, variables: nil) : .success(result: .int($0.name.replication), variables: nil) }
        #expect(job.assignments.map(\.name.description) == ["split", "tile", "tile*1", "tile*2", "merge"])
        let merge = try #require(job.assignments.last)
        #expect(merge.parentResults.map(\.value) == [0, 1, 2])
        #expect(job.core.status == .finished)
        #expect(job.core.progress.total == 5)
    }

    @Test func replicate_copiesWholeBlocksAndReplicaIndexesReachTheTasks() throws {
        let workflow = Workflow(name: "blocks", variables: [Variable("N", "2")], tasks: [
            fn("split").replicate(runs: .value("${N}")),
            fn("a", depends: ["split"]).block(.start),
            TaskDefinition("b", .command(["echo", "${TESSERA_TASK_REPLICATION}"]), depends: ["a"]).block(.end),
            fn("merge", depends: ["b"]),
        ])
        var job = try JobHarness(workflow)
        job.run()
        #expect(job.assignments.map(\.name.description) == ["split", "a", "a*1", "b", "b*1", "merge"])
        let echoes = job.assignments.compactMap { assignment -> [String]? in
            if case .command(let argv) = assignment.executable { argv } else { nil }
        }
        #expect(echoes == [["echo", "0"], ["echo", "1"]])
        #expect(job.core.status == .finished)
    }

    @Test func replicate_perReplicaVariablesFromTheResultReachEachReplicaAndItsBlock() throws {
        let workflow = Workflow(name: "tiles", tasks: [
            fn("split").replicate(runs: .result),
            fn("a", depends: ["split"]).block(.start),
            TaskDefinition("b", .command(["echo", "${TILE}"]), depends: ["a"]).block(.end),
            fn("merge", depends: ["b"]),
        ])
        var job = try JobHarness(workflow)
        let decision: Value = ["runs": 2, "variables": [["TILE": "48QXH"], ["TILE": "48QYH"]]]
        job.run { $0.name.task == "split" ? .success(result: decision, variables: nil) : .success(result: .null, variables: nil) }
        let echoes = job.assignments.compactMap { assignment -> [String]? in
            if case .command(let argv) = assignment.executable { argv } else { nil }
        }
        #expect(echoes == [["echo", "48QXH"], ["echo", "48QYH"]])
        let a = job.assignments.filter { $0.name.task == "a" }.map { $0.variables["TILE"] }
        #expect(a == ["48QXH", "48QYH"])
        #expect(job.core.status == .finished)
    }

    @Test func replicate_variablesThatDoNotMatchRunsFailTheInitiator() throws {
        let workflow = Workflow(name: "bad", tasks: [fn("split").replicate(runs: .result), fn("t", depends: ["split"])])
        var job = try JobHarness(workflow)
        let decision: Value = ["runs": 3, "variables": [["TILE": "x"]]]
        job.run { $0.name.task == "split" ? .success(result: decision, variables: nil) : .success(result: .null, variables: nil) }
        #expect(job.status("split") == .faulty)
        #expect(job.core.instances[0].message?.contains("variables must be an array of 3 objects") == true)
    }

    @Test func replicate_twoThousandReplicasAreNamedAndMerged() throws {
        let workflow = Workflow(name: "wide", tasks: [
            fn("split").replicate(runs: .value("2000")), fn("t", depends: ["split"]), fn("merge", depends: ["t"]),
        ])
        var job = try JobHarness(workflow)
        job.run()
        #expect(job.core.progress == JobProgress(done: 2002, total: 2002, running: 0, failed: 0))
        #expect(job.assignments.last?.parentResults.count == 2000)
        #expect(job.core.index(of: TaskInstanceName(task: "t", replication: 1999)) != nil)
    }

    @Test func replicateInsideALoop_eachIterationReplicatesAnew() throws {
        let workflow = Workflow(name: "nested", tasks: [
            fn("split").block(.start).replicate(runs: .result),
            fn("tile", depends: ["split"]),
            fn("merge", depends: ["tile"]).block(.end).loop(target: "split", while: .closure { .bool($0.iteration < 1) }),
            fn("after", depends: ["merge"]),
        ])
        var job = try JobHarness(workflow)
        // Iteration 0 replicates into 3, iteration 1 into 2.
        job.run { $0.name.task == "split" ? .success(result: .int(3 - $0.name.iteration), variables: nil) : .success(result: .string($0.name.description), variables: nil) }
        #expect(job.assignments.map(\.name.description) == [
            "split", "tile", "tile*1", "tile*2", "merge", "split#1", "tile#1", "tile#1*1", "merge#1", "after",
        ])
        let merge1 = try #require(job.assignments.first { $0.name.description == "merge#1" })
        #expect(merge1.parentResults.map(\.value) == ["tile#1", "tile#1*1"])
        #expect(job.core.status == .finished)
        #expect(job.core.progress.total == 10)
    }

    @Test func pauseAndResume_whileTasksWaitInTheReadyQueue_runsEachOnce() throws {
        var job = try JobHarness(Workflow(name: "pause", tasks: [fn("a"), fn("b"), fn("c")]))
        _ = try job.core.pause(now: job.now)
        _ = try job.core.resume(now: job.now)
        #expect(job.core.takeReady(limit: 10).count == 3, "each instance is queued once")
    }

    @Test func loop_runsTheBlockAgainWithIterationNamesThenTheSuccessor() throws {
        let workflow = Workflow(name: "loop", tasks: [
            fn("init"),
            fn("start", depends: ["init"]).block(.start),
            fn("end", depends: ["start"]).block(.end).loop(target: "start", while: .closure { .bool($0.iteration < 2) }),
            fn("after", depends: ["end"]),
        ])
        var job = try JobHarness(workflow)
        job.run { .success(result: .int($0.name.iteration), variables: nil) }
        #expect(job.assignments.map(\.name.description) == ["init", "start", "end", "start#1", "end#1", "start#2", "end#2", "after"])
        #expect(job.assignments.first { $0.name.description == "start#1" }?.parentResults.map(\.name.description) == ["end"])
        #expect(job.assignments.last?.parentResults.map(\.name.description) == ["end#2"])
        #expect(job.core.status == .finished)
    }

    @Test func loop_onItselfDecidedByTheResult() throws {
        let workflow = Workflow(name: "poll", tasks: [fn("wait").loop(target: "wait", while: .result), fn("next", depends: ["wait"])])
        var job = try JobHarness(workflow)
        job.run { .success(result: ["loop": .bool($0.name.iteration < 3)], variables: nil) }
        #expect(job.assignments.map(\.name.description) == ["wait", "wait#1", "wait#2", "wait#3", "next"])
    }

    @Test func branch_skipsTheBranchNotTakenAndRunsTheContinuation() throws {
        let workflow = Workflow(name: "if", tasks: [
            fn("cond").branch(if: "yes", else: "no", continuation: "join", decider: .result),
            fn("yes"),
            fn("no").block(.start),
            fn("no2", depends: ["no"]).block(.end),
            fn("join"),
        ])
        var job = try JobHarness(workflow)
        job.run { $0.name.task == "cond" ? .success(result: "else", variables: nil) : .success(result: .null, variables: nil) }
        #expect(job.states == ["cond": .finished, "yes": .skipped, "no": .finished, "no2": .finished, "join": .finished])
        var other = try JobHarness(workflow)
        other.run { $0.name.task == "cond" ? .success(result: ["branch": "IF"], variables: nil) : .success(result: .null, variables: nil) }
        #expect(other.states == ["cond": .finished, "yes": .finished, "no": .skipped, "no2": .skipped, "join": .finished])
    }

    @Test func badFlowDecision_failsTheTask() throws {
        let workflow = Workflow(name: "bad", tasks: [fn("split").replicate(runs: .result), fn("t", depends: ["split"])])
        var job = try JobHarness(workflow)
        job.run { _ in .success(result: "many", variables: nil) }
        #expect(job.status("split") == .faulty)
        #expect(job.core.instances[0].message?.contains("runs") == true)
    }
}
