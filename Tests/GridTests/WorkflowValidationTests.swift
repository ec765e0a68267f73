import Grid
import Testing

@Suite struct WorkflowValidationTests {
    static let broken = """
        name: broken
        priority: urgent
        maxNumberOfExecution: 0
        variables:
          OUT: "/tmp/${MISSING}"
        tasks:
          split:
            command: [split, "${OUT"]
            replicate: {runs: 4}
          tile:
            depends: [split, nowhere]
            command: [tile]
            walltime: 5 minutes
            output: [x]
          a:
            depends: [b]
            command: [a]
          b:
            depends: [a]
            command: [b]
          tile:
            command: [again]
          looper:
            command: [loop]
            loop: {target: tile, while: "true"}
          fanout:
            command: [fan]
            replicate: {}
        """

    @Test func validation_brokenYAMLReportsEachProblemOnItsLine() {
        let error = problems { () throws(WorkflowError) in _ = try Workflow(yaml: Self.broken, file: "broken.yaml") }
        #expect(error.codesAndLines == [
            "invalidValue@2", "invalidExecutionCount@3", "unknownVariable@5", "malformedVariableReference@8",
            "unknownDependency@11", "invalidValue@13", "unknownKey@14", "dependencyCycle@16", "duplicateTask@21",
            "loopTargetNotAncestor@25", "replicateWithoutChild@28",
        ])
        #expect(error.problems.map(\.location?.line) == error.problems.map(\.location?.line).sorted { ($0 ?? 0) < ($1 ?? 0) })
        #expect(error.problems(.unknownKey).first?.message.contains("did you mean `outputs`?") == true)
        #expect(error.problems(.dependencyCycle).first?.message.contains("a → b → a") == true)
        #expect(error.problems(.unknownDependency).first?.path == "tasks.tile.depends[1]")
        #expect(error.problems(.malformedVariableReference).first?.location == SourceLocation(line: 8, column: 22))
        let lines = error.description.split(separator: "\n")
        #expect(lines.count == error.problems.count)
        #expect(lines.first?.hasPrefix("broken.yaml:2:11: ") == true)
    }

    @Test func validation_builderWorkflowReportsTheSameProblemsWithoutLocations() {
        let workflow = Workflow(
            name: "broken", maxNumberOfExecution: 0, variables: [Variable("OUT", "/tmp/${MISSING}")],
            tasks: [
                TaskDefinition("split", .command(["split", "${OUT"])).replicate(runs: .value("4")),
                TaskDefinition("tile", .command(["tile"]), depends: ["split", "nowhere"], walltime: .zero),
                TaskDefinition("a", .command(["a"]), depends: ["b"]),
                TaskDefinition("b", .command(["b"]), depends: ["a"]),
                TaskDefinition("tile", .command(["again"])),
                TaskDefinition("looper", .command(["loop"])).loop(target: "tile", while: .value("true")),
                TaskDefinition("fanout", .command(["fan"])).replicate(runs: .result),
            ]
        )
        let error = problems { () throws(WorkflowError) in try workflow.validate() }
        #expect(error.codesAndLines == [
            "invalidExecutionCount@-", "unknownVariable@-", "malformedVariableReference@-", "unknownDependency@-",
            "invalidWalltime@-", "dependencyCycle@-", "duplicateTask@-", "loopTargetNotAncestor@-",
            "replicateWithoutChild@-",
        ])
        #expect(error.problems(.unknownVariable).first?.path == "variables.OUT")
    }

    @Test func unknownDependency_neverSuggestsTheTaskItself() {
        let workflow = Workflow(name: "self", tasks: [TaskDefinition("a", .command(["true"]), depends: ["b"])])
        let error = problems { () throws(WorkflowError) in try workflow.validate() }
        #expect(error.problems(.unknownDependency).first?.message == "task `a` depends on `b`, which is not a task")
    }

    @Test func aCycleThroughTheImplicitEdgesOfAnIf_isReported() {
        // `decide` runs `yes` or `no` after it; depending on `yes` closes a circle nobody wrote down.
        let workflow = Workflow(name: "circle", tasks: [
            TaskDefinition("decide", .command(["true"]), depends: ["yes"]).branch(if: "yes", else: "no", decider: .value("if")),
            TaskDefinition("yes", .command(["true"])),
            TaskDefinition("no", .command(["true"])),
        ])
        let error = problems { () throws(WorkflowError) in try workflow.validate() }
        #expect(error.problems(.dependencyCycle).count == 1)
    }

    @Test func aReplicatedTask_mayDependOnItsInitiatorOnly() {
        let workflow = Workflow(name: "rep", tasks: [
            TaskDefinition("other", .command(["true"])),
            TaskDefinition("split", .command(["true"])).replicate(runs: .value("2")),
            TaskDefinition("tile", .command(["true"]), depends: ["split", "other"]),
        ])
        let error = problems { () throws(WorkflowError) in try workflow.validate() }
        #expect(error.problems(.replicatedTaskHasOtherParents).first?.message
            == "task `tile` is replicated by `split`, so it may depend on `split` only; it also depends on `other`")
        #expect(error.problems(.replicatedTaskHasOtherParents).first?.path == "tasks.tile.depends")
    }

    @Test func aLoopBackToAnEarlierTask_needsABlockFromItsTargetToIt() {
        let workflow = Workflow(name: "loops", tasks: [
            TaskDefinition("a", .command(["true"])),
            TaskDefinition("b", .command(["true"]), depends: ["a"]).loop(target: "a", while: .value("false")),
            TaskDefinition("c", .command(["true"])).block(.start),
            TaskDefinition("d", .command(["true"]), depends: ["c"]).block(.end).loop(target: "c", while: .value("false")),
            TaskDefinition("e", .command(["true"])).loop(target: "e", while: .value("false")),
        ])
        let error = problems { () throws(WorkflowError) in try workflow.validate() }
        #expect(error.problems(.loopTargetNotBlockStart).map(\.path) == ["tasks.b.loop.target"], "c…d is a block, and e loops on itself")
    }

    @Test func validation_withAContinuationEachIfBranchMustBeABlock() {
        let workflow = Workflow(name: "branches", tasks: [
            TaskDefinition("cond", .command(["true"])).branch(if: "yes", else: "no", continuation: "join", decider: .value("if")),
            TaskDefinition("yes", .command(["true"])),
            TaskDefinition("after", .command(["true"]), depends: ["yes"]),  // hangs off the if branch: not a block
            TaskDefinition("no", .command(["true"])).block(.start),
            TaskDefinition("no2", .command(["true"]), depends: ["no"]).block(.end),
            TaskDefinition("join", .command(["true"])),
        ])
        let error = problems { () throws(WorkflowError) in try workflow.validate() }
        let found = error.problems(.branchNotBlock)
        #expect(found.map(\.path) == ["tasks.cond.if.target"], "the else branch no…no2 is a block")
        #expect(found.first?.message.contains("`after` depends on `yes`") == true, "\(found)")
        // Without a continuation the same shape is fine: nothing joins the branches.
        let open = Workflow(name: "open", tasks: [
            TaskDefinition("cond", .command(["true"])).branch(if: "yes", else: "no", decider: .value("if")),
            TaskDefinition("yes", .command(["true"])),
            TaskDefinition("after", .command(["true"]), depends: ["yes"]),
            TaskDefinition("no", .command(["true"])),
        ])
        #expect(throws: Never.self) { try open.validate() }
    }

    @Test func validation_validWorkflowsPass() throws {
        try Workflow(yaml: WorkflowYAMLTests.example).validate()
        try Workflow(name: "ok", tasks: [TaskDefinition("t", .function("f"))]).validate()
    }

    @Test func validation_namesAndLimitsAreChecked() {
        let workflow = Workflow(
            name: "x", taskRetryDelay: .seconds(-1),
            tasks: [
                TaskDefinition("", .command(["a"])),
                TaskDefinition("t#1", .command(["a"])),
                TaskDefinition("a b", .command(["a"])),
                TaskDefinition(String(repeating: "n", count: 256), .command(["a"])),
                TaskDefinition("ok", .command([]), variables: [Variable("V", "1"), Variable("V", "2"), Variable("1x", "")],
                    maxNumberOfExecution: 0, taskRetryDelay: .seconds(-2)),
                TaskDefinition("self", .command(["s"]), depends: ["self", "ok", "ok"]),
            ]
        )
        let codes = problems { () throws(WorkflowError) in try workflow.validate() }.problems.map(\.code)
        #expect(codes.count { $0 == .invalidTaskName } == 4)
        #expect(Set(codes) == [
            .invalidJobName, .invalidTaskName, .emptyCommand, .duplicateVariable, .invalidVariableName,
            .invalidExecutionCount, .invalidRetryDelay, .selfDependency, .duplicateDependency,
        ])
        let empty = problems { () throws(WorkflowError) in try Workflow(name: "", tasks: []).validate() }
        #expect(Set(empty.problems.map(\.code)) == [.invalidJobName, .noTasks])
    }

    @Test func validation_cycleReportsOneCirclePerGroup() {
        let workflow = Workflow(name: "cycles", tasks: [
            TaskDefinition("a", .command(["a"]), depends: ["c"]),
            TaskDefinition("b", .command(["b"]), depends: ["a"]),
            TaskDefinition("c", .command(["c"]), depends: ["b"]),
            TaskDefinition("d", .command(["d"]), depends: ["e"]),
            TaskDefinition("e", .command(["e"]), depends: ["d"]),
        ])
        let cycles = problems { () throws(WorkflowError) in try workflow.validate() }.problems(.dependencyCycle)
        #expect(cycles.map(\.path) == ["tasks.a.depends", "tasks.d.depends"])
        #expect(cycles.first?.message.contains("a → c → b → a") == true)
        #expect(cycles.last?.message.contains("d → e → d") == true)
    }

    @Test func validation_cyclesAmongADAGAreFoundWhateverLiesAroundThem() {
        // A wide DAG upstream (a root and 200 tiles), a cycle fed by it, a long chain downstream of the cycle
        // and a second DAG beside it: only the cycle is reported (the DAG parts peel off before the search).
        var tasks = [TaskDefinition("root", .command(["r"]))]
        tasks += (0..<200).map { TaskDefinition("tile\($0)", .command(["t"]), depends: ["root"]) }
        tasks.append(TaskDefinition("x", .command(["x"]), depends: (0..<200).map { "tile\($0)" } + ["z"]))
        tasks.append(TaskDefinition("y", .command(["y"]), depends: ["x"]))
        tasks.append(TaskDefinition("z", .command(["z"]), depends: ["y"]))
        tasks += (0..<50).map { TaskDefinition("after\($0)", .command(["a"]), depends: [$0 == 0 ? "z" : "after\($0 - 1)"]) }
        tasks += (0..<50).map { TaskDefinition("beside\($0)", .command(["b"]), depends: $0 == 0 ? [] : ["beside\($0 - 1)", "root"]) }
        let cycles = problems { () throws(WorkflowError) in try Workflow(name: "mixed", tasks: tasks).validate() }.problems(.dependencyCycle)
        #expect(cycles.map(\.path) == ["tasks.x.depends"])
        #expect(cycles.first?.message.contains("x → z → y → x") == true, "\(cycles)")
        // Without the back edge it is a DAG: no problem at all.
        tasks[201] = TaskDefinition("x", .command(["x"]), depends: (0..<200).map { "tile\($0)" })
        #expect(throws: Never.self) { try Workflow(name: "mixed", tasks: tasks).validate() }
        // Listed bottom-up, every task before the tasks it depends on (the search that proves a DAG listed in
        // order has no circle does not apply): still no problem; with the back edge, the same circle.
        #expect(throws: Never.self) { try Workflow(name: "reversed", tasks: tasks.reversed()).validate() }
        tasks[201] = TaskDefinition("x", .command(["x"]), depends: (0..<200).map { "tile\($0)" } + ["z"])
        let reversed = problems { () throws(WorkflowError) in try Workflow(name: "reversed", tasks: tasks.reversed()).validate() }
        #expect(reversed.problems(.dependencyCycle).count == 1)
        // The circle starts from its first task in definition order, now z.
        #expect(reversed.problems(.dependencyCycle).first?.message.contains("z → y → x → z") == true, "\(reversed)")
    }

    @Test func validation_blocksMustNestAlongDependencies() {
        func blockProblems(_ tasks: [TaskDefinition]) -> [String] {
            problems { () throws(WorkflowError) in try Workflow(name: "blocks", tasks: tasks).validate() }
                .problems(.unmatchedBlock).map(\.path)
        }
        let nested = [
            TaskDefinition("s1", .command(["x"])).block(.start),
            TaskDefinition("s2", .command(["x"]), depends: ["s1"]).block(.start),
            TaskDefinition("e2", .command(["x"]), depends: ["s2"]).block(.end),
            TaskDefinition("side", .command(["x"]), depends: ["s1"]),
            TaskDefinition("e1", .command(["x"]), depends: ["e2", "side"]).block(.end),
        ]
        #expect(blockProblems(nested).isEmpty)
        #expect(blockProblems([TaskDefinition("s", .command(["x"])).block(.start)]) == ["tasks.s.block"])
        #expect(blockProblems([TaskDefinition("e", .command(["x"])).block(.end)]) == ["tasks.e.block"])
        let twoEnds = [
            TaskDefinition("s", .command(["x"])).block(.start),
            TaskDefinition("e1", .command(["x"]), depends: ["s"]).block(.end),
            TaskDefinition("e2", .command(["x"]), depends: ["s"]).block(.end),
        ]
        #expect(blockProblems(twoEnds) == ["tasks.s.block"])
    }

    @Test func validation_ifTargetsMustExistDifferAndNotDependOnTheInitiator() {
        let workflow = Workflow(name: "branches", tasks: [
            TaskDefinition("pick", .command(["p"])).branch(if: "yes", else: "yes", continuation: "join", decider: .value("maybe")),
            TaskDefinition("yes", .command(["y"]), depends: ["pick"]),
            TaskDefinition("join", .command(["j"])),
            TaskDefinition("again", .command(["a"])).branch(if: "yes", else: "nope", decider: .result),
        ])
        let found = problems { () throws(WorkflowError) in try workflow.validate() }
        #expect(found.codesAndLines == [
            "branchTargetDependsOnInitiator@-", "branchTargetsEqual@-", "invalidDecider@-", "unknownFlowTarget@-",
            "branchTargetShared@-",
        ])
        #expect(found.problems(.unknownFlowTarget).first?.path == "tasks.again.if.else")
    }

    @Test func validation_fixedDecidersAreOneReferenceOrALiteralOfTheirKind() {
        func deciderProblems(_ flow: (TaskDefinition) -> TaskDefinition) -> Int {
            let workflow = Workflow(name: "deciders", variables: [Variable("V", "1")], tasks: [
                flow(TaskDefinition("t", .command(["x"]))),
                TaskDefinition("child", .command(["x"]), depends: ["t"]),
                TaskDefinition("a", .command(["x"])), TaskDefinition("b", .command(["x"])),
            ])
            return problems { () throws(WorkflowError) in try workflow.validate() }.problems(.invalidDecider).count
        }
        #expect(deciderProblems { $0.replicate(runs: .value("0")) } == 0)
        #expect(deciderProblems { $0.replicate(runs: .value("${V}")) } == 0)
        #expect(deciderProblems { $0.replicate(runs: .value("-1")) } == 1)
        #expect(deciderProblems { $0.replicate(runs: .value("${V}${V}")) } == 1)
        #expect(deciderProblems { $0.loop(target: "t", while: .value("FALSE")) } == 0)
        #expect(deciderProblems { $0.loop(target: "t", while: .value("yes")) } == 1)
        #expect(deciderProblems { $0.branch(if: "a", else: "b", decider: .value("Else")) } == 0)
        #expect(deciderProblems { $0.branch(if: "a", else: "b", decider: .value("then")) } == 1)
    }

    @Test func validation_referencesResolveToJobTaskUpstreamOrSystemVariables() {
        let workflow = Workflow(name: "scopes", variables: [Variable("JOB", "j")], tasks: [
            TaskDefinition("up", .command(["x"]), variables: [Variable("UP", "u")]),
            TaskDefinition(
                "down", .bash("echo ${JOB} ${UP} ${OWN} ${TESSERA_JOB_ID} $HOME $$ ${SIDE} ${HOME}", arguments: ["${JOB"]),
                depends: ["up"], variables: [Variable("OWN", "${UP}")], outputs: ["${bad name}/x"]
            ),
            TaskDefinition("side", .command(["${UP}"]), variables: [Variable("SIDE", "s")]),
            TaskDefinition("pick", .command(["x"])).branch(if: "yes", else: "no", continuation: "join", decider: .result),
            TaskDefinition("yes", .command(["x"]), variables: [Variable("FROM_YES", "1")]),
            TaskDefinition("no", .command(["${PICKED}"])),
            TaskDefinition("join", .command(["${FROM_YES}"])),
        ])
        let found = problems { () throws(WorkflowError) in try workflow.validate() }
        let unknown = found.problems(.unknownVariable).map { "\($0.path): \($0.message.prefix(while: { $0 != " " }))" }
        #expect(unknown == [
            "tasks.down.script.code: `${SIDE}`", "tasks.down.script.code: `${HOME}`", "tasks.side.command[0]: `${UP}`",
            "tasks.no.command[0]: `${PICKED}`",
        ])
        #expect(found.problems(.unknownVariable).contains { $0.message.contains("a shell variable is written `$HOME`") })
        #expect(found.problems(.malformedVariableReference).map(\.path) == ["tasks.down.script.arguments[0]", "tasks.down.outputs[0]"])
    }

    // MARK: Substitution

    @Test func substitution_replacesKnownNamesAndLeavesTheRest() {
        let values = ["A": "1", "B.c": "two", "EMPTY": ""]
        let substitute = { (text: String) in VariableSubstitution.substitute(text) { values[$0] } }
        #expect(substitute("${A}/${B.c}/${EMPTY}x") == "1/two/x")
        #expect(substitute("${UNKNOWN} ${A}") == "${UNKNOWN} 1")
        #expect(substitute("$A $$ ${ ${} ${A") == "$A $$ ${ ${} ${A")
        #expect(substitute("$${A}") == "$${A}")
        #expect(substitute("é${A}ü") == "é1ü")
        #expect(substitute("${A}${A}") == "11")
    }

    @Test func substitution_insertsValuesWithoutScanningThemAgain() {
        #expect(VariableSubstitution.substitute("${A}") { $0 == "A" ? "${B}" : "no" } == "${B}")
    }

    @Test func substitution_returnsTextsWithoutDollarAsTheyAre() {
        var calls = 0
        #expect(VariableSubstitution.substitute("plain text, no references") { _ in calls += 1; return "x" } == "plain text, no references")
        #expect(calls == 0)
    }

    @Test func references_classifyEachOccurrence() {
        let found = VariableSubstitution.references(in: "${A} ${} ${1x} $B $$ ${C.d_1} ${open\n${")
        #expect(found.map(\.kind) == [.variable, .empty, .invalidName, .variable, .unterminated, .unterminated])
        #expect(found.compactMap(\.name) == ["A", "C.d_1"])
        #expect(found.map(\.text) == ["A", "${}", "${1x}", "C.d_1", "${", "${"])
        #expect(VariableSubstitution.singleReference(in: "${RUNS}") == "RUNS")
        #expect(VariableSubstitution.singleReference(in: " ${RUNS}") == nil)
        #expect(SystemVariables.systemVariableNames.count == 9)
        #expect(SystemVariables.systemVariableNames.contains("TESSERA_RESULT_FILE"))
    }
}
