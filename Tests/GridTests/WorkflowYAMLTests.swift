import Foundation
import Grid
import Testing

@Suite struct WorkflowYAMLTests {
    /// The documented example (`Workflow+YAML.swift`), without its comments.
    static let example = """
        name: tiles
        priority: normal
        onTaskError: continueJobExecution
        maxNumberOfExecution: 2
        taskRetryDelay: "00:05"
        restartTaskOnError: elsewhere
        workingDir: /data/run
        variables:
          TILES: 4
          OUT: "/tmp/${TILES}"
          AGAIN: false
        genericInfo: {START_AT: "2026-11-28T12:00:00Z", NODE_ACCESS_TOKEN: gpu}
        tasks:
          split:
            script: {language: bash, code: "echo 4 > $TESSERA_RESULT_FILE", arguments: [a, b]}
            replicate: {runs: "${TILES}"}
          tile:
            depends: [split]
            command: [gdal_translate, "${IN}", out.tif]
            variables: {IN: "${OUT}/in.tif", X: 1, Y: {value: 2, inherited: true}}
            walltime: "01:00"
            outputs: ["tiles/*.tif"]
            selection: {labels: [ssd], token: gpu}
            onTaskError: suspendTask
            maxNumberOfExecution: 3
            taskRetryDelay: 2s
            restartTaskOnError: anywhere
            genericInfo: {NODE_SOURCE: gpus}
          fn:
            depends: [tile]
            function: tiles.mean
            input: {bands: [1, 2], scale: 0.5, label: mean, strict: true}
            block: start
          loopEnd:
            depends: [fn]
            command: [true]
            block: end
            loop: {target: fn, while: "${AGAIN}"}
          cond:
            depends: [loopEnd]
            command: [true]
            if: {target: a, else: b, continuation: c, branch: "if"}
          a:
            script: {language: python3, file: scripts/a.py}
          b:
            command: [echo, b]
          c:
            command: [echo, "${TESSERA_TASK_NAME}"]
        """

    @Test func yaml_completeExampleLoadsIntoTheExactModelValues() throws {
        let workflow = try Workflow(yaml: Self.example, file: "tiles.yaml")
        #expect(workflow.name == "tiles")
        #expect(workflow.priority == .normal)
        #expect(workflow.onTaskError == .continueJobExecution)
        #expect(workflow.maxNumberOfExecution == 2)
        #expect(workflow.taskRetryDelay == .seconds(5))
        #expect(workflow.restartTaskOnError == .elsewhere)
        #expect(workflow.workingDirectory == "/data/run")
        #expect(workflow.variables == [Variable("TILES", "4"), Variable("OUT", "/tmp/${TILES}"), Variable("AGAIN", "false")])
        #expect(workflow.genericInfo == ["START_AT": "2026-11-28T12:00:00Z", "NODE_ACCESS_TOKEN": "gpu"])
        #expect(workflow.tasks.map(\.name) == ["split", "tile", "fn", "loopEnd", "cond", "a", "b", "c"])

        let split = try #require(workflow.task(named: "split"))
        guard case .script(let splitScript) = split.executable else {
            Issue.record("split runs \(split.executable.summary)")
            return
        }
        #expect(splitScript == Script(language: "bash", source: .code("echo 4 > $TESSERA_RESULT_FILE"), arguments: ["a", "b"]))
        #expect(split.flow?.summary == "replicate(value(${TILES}))")
        #expect(split.depends.isEmpty && split.block == .none && split.walltime == nil)

        let tile = try #require(workflow.task(named: "tile"))
        #expect(tile.depends == ["split"])
        #expect(tile.executable.summary == #"command(["gdal_translate", "${IN}", "out.tif"])"#)
        #expect(tile.variables == [Variable("IN", "${OUT}/in.tif"), Variable("X", "1"), Variable("Y", "2", inherited: true)])
        #expect(tile.walltime == .seconds(60))
        #expect(tile.outputs == ["tiles/*.tif"])
        #expect(tile.selection == Selection(labels: ["ssd"], token: "gpu"))
        #expect(tile.onTaskError == .suspendTask)
        #expect(tile.maxNumberOfExecution == 3)
        #expect(tile.taskRetryDelay == .seconds(2))
        #expect(tile.restartTaskOnError == .anywhere)
        #expect(tile.genericInfo == ["NODE_SOURCE": "gpus"])
        #expect(tile.flow == nil)

        let fn = try #require(workflow.task(named: "fn"))
        guard case .function(let function, let input) = fn.executable else {
            Issue.record("fn runs \(fn.executable.summary)")
            return
        }
        #expect(function == "tiles.mean")
        #expect(input == .object(["bands": .array([1, 2]), "scale": 0.5, "label": "mean", "strict": true]))
        #expect(fn.block == .start)

        let loopEnd = try #require(workflow.task(named: "loopEnd"))
        #expect(loopEnd.executable.summary == #"command(["true"])"#)
        #expect(loopEnd.block == .end)
        #expect(loopEnd.flow?.summary == "loop(fn, value(${AGAIN}))")

        let cond = try #require(workflow.task(named: "cond"))
        #expect(cond.flow?.summary == "if(a, else: b, continuation: c, value(if))")

        let a = try #require(workflow.task(named: "a"))
        guard case .script(let aScript) = a.executable else {
            Issue.record("a runs \(a.executable.summary)")
            return
        }
        #expect(aScript == Script(language: "python3", source: .file("scripts/a.py")))

        #expect(workflow.locations["name"] == SourceLocation(line: 1, column: 1))
        #expect(workflow.locations["priority"] == SourceLocation(line: 2, column: 1))
        #expect(workflow.locations["variables.TILES"] == SourceLocation(line: 9, column: 3))
        #expect(workflow.locations["tasks.tile"] == SourceLocation(line: 17, column: 3))
        #expect(workflow.locations["tasks.tile.depends"] == SourceLocation(line: 18, column: 5))
        #expect(workflow.locations["tasks.tile.depends[0]"] == SourceLocation(line: 18, column: 15))
        #expect(workflow.locations["tasks.tile.walltime"] == SourceLocation(line: 21, column: 5))
        #expect(workflow.locations["tasks.tile.variables.Y"] == SourceLocation(line: 20, column: 44))
        #expect(workflow.locations["tasks.split.replicate"] == SourceLocation(line: 16, column: 5))
        #expect(workflow.locations["tasks.loopEnd.loop.target"] == SourceLocation(line: 38, column: 12))
    }

    @Test func yaml_omittedOrResultDecidersLeaveTheDecisionToTheResult() throws {
        let workflow = try Workflow(yaml: """
            name: deciders
            tasks:
              fan:
                command: [fan]
                replicate:
              leaf:
                depends: [fan]
                command: [leaf]
                loop: {target: leaf, while: result}
              pick:
                command: [pick]
                if: {target: x, else: y}
              x: {command: [x]}
              y: {command: [y]}
            """)
        #expect(workflow.task(named: "fan")?.flow?.summary == "replicate(result)")
        #expect(workflow.task(named: "leaf")?.flow?.summary == "loop(leaf, result)")
        #expect(workflow.task(named: "pick")?.flow?.summary == "if(x, else: y, continuation: -, result)")
    }

    @Test func yaml_schedulingAttributesReferToJobVariables_andSubmissionValuesWin() throws {
        let text = """
            name: tuned
            variables: {PRIO: low, RUNS: 3, POLICY: suspendTask, DELAY: 5s, WHERE: elsewhere}
            priority: "${PRIO}"
            onTaskError: "${POLICY}"
            maxNumberOfExecution: "${RUNS}"
            taskRetryDelay: "${DELAY}"
            restartTaskOnError: "${WHERE}"
            tasks:
              a:
                command: [true]
                maxNumberOfExecution: "${RUNS}"
                onTaskError: "${POLICY}"
            """
        let defaults = try Workflow(yaml: text)
        #expect(defaults.priority == .low)
        #expect(defaults.onTaskError == .suspendTask)
        #expect(defaults.maxNumberOfExecution == 3)
        #expect(defaults.taskRetryDelay == .seconds(5))
        #expect(defaults.restartTaskOnError == .elsewhere)
        #expect(defaults.tasks.first?.maxNumberOfExecution == 3)
        #expect(defaults.tasks.first?.onTaskError == .suspendTask)
        let overridden = try Workflow(yaml: text, variables: ["RUNS": "5", "PRIO": "idle"])
        #expect(overridden.maxNumberOfExecution == 5 && overridden.tasks.first?.maxNumberOfExecution == 5)
        #expect(overridden.priority == .idle)
        #expect(throws: WorkflowError.self) { try Workflow(yaml: text.replacingOccurrences(of: "\"${RUNS}\"", with: "\"${NOPE}\"")) }
    }

    @Test func yaml_priorityTakesNamesInAnyCaseOrNumbers() throws {
        for (text, priority) in [("HIGH", JobPriority.high), ("lowest", .lowest), ("0", .idle), ("5", .highest)] {
            let workflow = try Workflow(yaml: "name: pri\npriority: \(text)\ntasks: {t: {command: [x]}}")
            #expect(workflow.priority == priority)
        }
    }

    @Test func yaml_durationsAcceptProActiveFieldsAndUnits() {
        #expect(Duration(workflowText: "90") == .seconds(90))
        #expect(Duration(workflowText: "01:30") == .seconds(90))
        #expect(Duration(workflowText: "02:00:05") == .seconds(7205))
        #expect(Duration(workflowText: " 500ms ") == .milliseconds(500))
        #expect(Duration(workflowText: "2s") == .seconds(2))
        #expect(Duration(workflowText: "3m") == .seconds(180))
        #expect(Duration(workflowText: "1h") == .seconds(3600))
        for bad in ["", "-5", "1:60", "1:2:3:4", "5 minutes", "1.5s", "2d", "::", "99999999999999999999s"] {
            #expect(Duration(workflowText: bad) == nil, "\(bad) parsed")
        }
    }

    @Test func yaml_syntaxErrorIsOneProblemAtYamsLocation() {
        let error = problems { () throws(WorkflowError) in
            _ = try Workflow(yaml: "name: xx\ntasks:\n  a: {command: [a]}\n b: {command: [b]}\n", file: "bad.yaml")
        }
        #expect(error.problems.count == 1)
        #expect(error.problems.first?.code == .yamlSyntax)
        #expect(error.problems.first?.location?.line == 4)
        #expect(error.description.hasPrefix("bad.yaml:4:"))
    }

    @Test func yaml_wrongTypesAndUnknownKeysAreAllCollected() {
        let error = problems { () throws(WorkflowError) in
            _ = try Workflow(yaml: """
                name: shapes
                maxNumberOfExecution: many
                prority: high
                variables: [A, B]
                tasks:
                  t:
                    command: echo hi
                    depends: {a: 1}
                    selection: {labels: [ssd], tokn: gpu}
                    onTaskError: explode
                  u:
                    script: {language: bash}
                    input: 3
                  v:
                    command: [x]
                    function: f
                """)
        }
        #expect(error.codesAndLines == [
            "wrongType@2", "unknownKey@3", "wrongType@4", "wrongType@7", "wrongType@8", "unknownKey@9",
            "invalidValue@10", "missingField@12", "conflictingFields@13", "conflictingFields@16",
        ])
        let unknown = error.problems(.unknownKey).map(\.message)
        #expect(unknown.contains { $0.contains("`prority`") && $0.contains("did you mean `priority`?") })
        #expect(unknown.contains { $0.contains("`tokn`") && $0.contains("did you mean `token`?") })
        #expect(error.problems(.invalidValue).first?.message.contains("continueJobExecution") == true)
    }

    @Test func yaml_repeatedKeysAreReportedAtTheRepetitionAndLoadingGoesOn() {
        let error = problems { () throws(WorkflowError) in
            _ = try Workflow(yaml: """
                name: twice
                tasks:
                  a: {command: [a], walltime: "00:00:00"}
                  b:
                    command: [b]
                    command: [c]
                  a: {command: [a2], bogus: 1}
                variables:
                  X: 1
                  "X": 2
                """)
        }
        #expect(error.codesAndLines == ["invalidWalltime@3", "duplicateKey@6", "duplicateTask@7", "duplicateKey@10"])
        let duplicate = error.problems(.duplicateTask).first
        #expect(duplicate?.location == SourceLocation(line: 7, column: 3))
        #expect(duplicate?.message.contains("first at line 3") == true)
    }

    @Test func yaml_neverCrashesOnOddInput() {
        let inputs = [
            "", "   \n", "[]", "- a\n- b", "just text", ":", "{", "}", "name: x\ntasks:", "name: x\ntasks: [1, 2]",
            "name: x\ntasks: {a: {command: [a]}, a: {command: [b]}}", "name: [x]\ntasks: {a: null}",
            "a: &anchor {command: [x]}\nname: ok\ntasks: {t: *anchor, u: *anchor}", "name: x\ntasks: {t: {command: []}}",
            "name: x\ntasks:\n  t:\n    command: [x]\n    loop: {}\n    if: []\n    replicate: 3",
            "name: x\ntasks: {t: {command: [x], input: {a: [1, {b: ~}]}, variables: {V: [1]}}}",
            String(repeating: "[", count: 500), "\u{0}\u{1}", "name: \"\\xZZ\"",
            "name: x\n---\nname: y",
        ]
        for input in inputs {
            let error = problems { () throws(WorkflowError) in _ = try Workflow(yaml: input) }
            #expect(!error.problems.isEmpty, "accepted: \(input)")
        }
    }

    @Test func yaml_unreadableFileIsAProblemNamingTheFile() {
        let path = "/nonexistent/tessera/workflow.yaml"
        let error = problems { () throws(WorkflowError) in _ = try Workflow(contentsOfFile: path) }
        #expect(error.problems.map(\.code) == [.unreadableFile])
        #expect(error.description.hasPrefix(path))
    }
}
