import Foundation
import CShims
import Grid
import Testing

@Suite(.timeLimit(.minutes(1))) struct SubprocessTaskTests {
    @Test func script_getsVariablesInItsEnvironmentAndReturnsResultAndVariablesThroughFiles() async throws {
        let grid = try await startGrid()
        let workflow = Workflow(name: "scripts", variables: [Variable("GREETING", "hello")], tasks: [
            TaskDefinition("first", .bash("""
                echo "$GREETING from $TESSERA_TASK_NAME of job $TESSERA_JOB_ID in $(pwd)"
                echo "to stderr" >&2
                echo '{"tiles": 4}' > "$TESSERA_RESULT_FILE"
                echo "COUNT=4" >> "$TESSERA_VARIABLES_FILE"
                """)),
            TaskDefinition("second", .command(["sh", "-c", "echo count=$COUNT; cat $TESSERA_PARENT_RESULTS_FILE > $TESSERA_RESULT_FILE"]), depends: ["first"]),
            TaskDefinition("py", .script(Script(language: "python3", source: .code("import os\nprint(os.environ['TESSERA_TASK_NAME'], '${GREETING}')"))), depends: ["first"]),
        ])
        let job = try await grid.submit(workflow)
        let result = try await job.result()
        #expect(result.status == .finished)
        #expect(result.result(of: "first") == ["tiles": 4])
        #expect(result.result(of: "second") == ["first": ["tiles": 4]])
        let firstLog = try job.logs(task: "first")
        #expect(firstLog.contains("hello from first of job \(job.id) in \(grid.settings.workingDirectory)"))
        #expect(firstLog.contains("to stderr"))
        #expect(try job.logs(task: "second").contains("count=4"), "variables written by a parent reach the child's environment")
        #expect(try job.logs(task: "py").contains("py hello"))
        await grid.shutdown()
    }

    @Test func nonZeroExitAndMissingProgram_makeTheTaskFaulty() async throws {
        let grid = try await startGrid()
        let workflow = Workflow(name: "exits", tasks: [
            TaskDefinition("three", .bash("exit 3")),
            TaskDefinition("missing", .command(["no-such-program-tessera"])),
        ])
        let job = try await grid.submit(workflow)
        let result = try await job.result()
        #expect(result.task("three")?.status == .faulty)
        #expect(result.task("three")?.message == "exit code 3")
        #expect(result.task("missing")?.status == .faulty)
        #expect(result.task("missing")?.message == "cannot start 'no-such-program-tessera': No such file or directory")
        #expect(try job.logs(task: "three").contains("[tessera] three (execution 1): exit code 3"))
        await grid.shutdown()
    }

    @Test func walltime_killsTheWholeProcessGroup() async throws {
        let clock = ManualClock()
        let directory = try makeTemporaryDirectory("walltime")
        let grid = try await startGrid(clock: clock, directory: directory)
        let script = """
            sleep 300 &
            echo $! > background.pid
            echo $$ > leader.tmp && mv leader.tmp leader.pid
            sleep 300
            """
        var task = TaskDefinition("slow", .bash(script))
        task.walltime = .seconds(5)
        var stream = grid.events.makeAsyncIterator()
        let job = try await grid.submit(Workflow(name: "walltime", tasks: [task]))
        while let event = await stream.next(), event.taskStatus("slow") != .running {}
        // The watchdog sleeps on the manual clock; the pids are written before the foreground sleep.
        await clock.waitForSleepers()
        try #require(await waitForFile("leader.pid", in: directory), "the script never wrote leader.pid")
        clock.advance(by: .seconds(5))
        let result = try await job.result()
        #expect(result.task("slow")?.status == .faulty)
        #expect(result.task("slow")?.message?.hasPrefix("walltime") == true)
        for file in ["background.pid", "leader.pid"] {
            let text = try String(contentsOfFile: directory + "/" + file, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
            let pid = try #require(Int32(text))
            #expect(processIsGone(pid), "process \(pid) from \(file) outlived the walltime")
        }
        await grid.shutdown()
    }

    @Test func outputPastTheLogQuota_isNotKept_andFailsTheTaskSayingSo() async throws {
        let grid = try await startGrid { $0.limits.logQuota = 1 << 20 }
        let job = try await grid.submit(Workflow(name: "chatty", tasks: [
            TaskDefinition("flood", .bash("head -c 20000000 /dev/zero | tr '\\0' x; echo; echo done >&2")),
            TaskDefinition("quiet", .bash("echo fine")),
        ]))
        let result = try await job.result()
        #expect(result.task("flood")?.status == .faulty)
        #expect(result.task("flood")?.message?.contains("limit logQuota") == true, "\(result.task("flood")?.message ?? "")")
        #expect(result.task("quiet")?.status == .finished)
        let paths = (job.logDirectory + "/flood.out", job.logDirectory + "/flood.err")
        let size = (try FileManager.default.attributesOfItem(atPath: paths.0)[.size] as? NSNumber)?.intValue ?? 0
        #expect(size <= (1 << 20) + 200, "the log holds \(size) bytes")
        #expect(try String(contentsOfFile: paths.0, encoding: .utf8).hasSuffix("(limit logQuota): the rest is not kept\n"))
        #expect(try String(contentsOfFile: paths.1, encoding: .utf8).contains("limit logQuota"), "the task says so in its log too")
        await grid.shutdown()
    }

    @Test func aResultPastTheLimit_failsTheTask_withoutBeingRead() async throws {
        let grid = try await startGrid { $0.limits.resultBytes = 1000 }
        let job = try await grid.submit(Workflow(name: "big", tasks: [
            TaskDefinition("large", .bash("head -c 5000 /dev/zero | tr '\\0' 7 > \"$TESSERA_RESULT_FILE\"")),
            TaskDefinition("small", .bash("echo 42 > \"$TESSERA_RESULT_FILE\"")),
        ]))
        let result = try await job.result()
        #expect(result.task("large")?.status == .faulty)
        #expect(result.task("large")?.message?.contains("limit resultBytes") == true)
        #expect(result.result(of: "small") == 42)
        await grid.shutdown()
    }

    @Test func aQuietTask_leavesNoLogFiles_andSharesItsJobsEmptyParentsFile() async throws {
        let grid = try await startGrid()
        let job = try await grid.submit(Workflow(name: "quiet", tasks: [
            TaskDefinition("silent", .command(["true"])),
            TaskDefinition("parents", .bash("cat \"$TESSERA_PARENT_RESULTS_FILE\"; echo \"$TESSERA_PARENT_RESULTS_FILE\" >&2")),
            TaskDefinition("child", .bash("cat \"$TESSERA_PARENT_RESULTS_FILE\" > \"$TESSERA_RESULT_FILE\""), depends: ["silent"]),
        ]))
        let result = try await job.result()
        #expect(result.status == .finished)
        let logs = result.logDirectory
        let files = (try? FileManager.default.contentsOfDirectory(atPath: logs)) ?? []
        #expect(!files.contains { $0.hasPrefix("silent.") }, "a task that printed nothing made log files: \(files)")
        #expect(try job.logs(task: "silent") == "")
        let parentsLog = try job.logs(task: "parents")
        #expect(parentsLog.hasPrefix("{}"), "a task without parents reads an empty object: \(parentsLog)")
        #expect(parentsLog.contains("/no-parents.json"), "and shares its job's file: \(parentsLog)")
        #expect(result.result(of: "child") == ["silent": nil])
        await grid.shutdown()
    }

    @Test func aResultFileThatIsALink_isNotFollowed_andFailsTheTask() async throws {
        let directory = try makeTemporaryDirectory("result-link")
        let target = directory + "/elsewhere.txt"
        try "\"elsewhere\"".write(toFile: target, atomically: true, encoding: .utf8)
        let grid = try await startGrid()
        let job = try await grid.submit(Workflow(name: "link", tasks: [
            TaskDefinition("link", .bash("ln -s \"\(target)\" \"$TESSERA_RESULT_FILE\"")),
        ]))
        let result = try await job.result()
        #expect(result.task("link")?.status == .faulty)
        #expect(result.task("link")?.message?.contains("not a regular file of its own") == true, "\(result.task("link")?.message ?? "")")
        await grid.shutdown()
    }

    @Test func aBackgroundProcessHoldingTheOutput_doesNotHoldTheTask() async throws {
        let grid = try await startGrid()
        let job = try await grid.submit(Workflow(name: "daemon", tasks: [
            TaskDefinition("leaves", .bash("sleep 300 & echo $! > \"$TESSERA_RESULT_FILE\"; echo left")),
        ]))
        let result = try await job.result()
        #expect(result.task("leaves")?.status == .finished)
        #expect(try job.logs(task: "leaves").contains("left"))
        // What the task left running in its process group ended with it.
        guard case .int(let pid)? = result.result(of: "leaves") else { Issue.record("no pid"); return }
        #expect(processIsGone(Int32(pid)), "the background process \(pid) outlived its task")
        await grid.shutdown()
    }

    @Test func logs_areReadableWhileTheTaskRuns() async throws {
        let directory = try makeTemporaryDirectory("live-logs")
        let grid = try await startGrid(directory: directory)
        let job = try await grid.submit(Workflow(name: "live", tasks: [
            // Output reaches the log through the grid's capture: the script says it is done once its lines are there.
            TaskDefinition("talker", .bash("""
                echo 'tile 1 of 3 done'; echo 'a warning' >&2
                until grep -q 'a warning' "\(grid.settings.dataDirectory)"/jobs/*/logs/talker.err 2>/dev/null; do sleep 0.01; done
                until grep -q 'tile 1' "\(grid.settings.dataDirectory)"/jobs/*/logs/talker.out 2>/dev/null; do sleep 0.01; done
                touch said; exec sleep 300
                """)),
        ]))
        try #require(await waitForFile("said", in: directory), "the script never ran")
        let logs = try job.logs(task: "talker")
        #expect(logs.contains("tile 1 of 3 done"))
        #expect(logs.contains("a warning"))
        #expect(try await job.report().task("talker")?.status == .running)
        try await job.kill()
        #expect(try await job.result().status == .killed)
        await grid.shutdown()
    }

    @Test func killingAJob_abortsItsRunningProcess() async throws {
        let directory = try makeTemporaryDirectory("kill")
        let grid = try await startGrid(directory: directory)
        var stream = grid.events.makeAsyncIterator()
        let job = try await grid.submit(Workflow(name: "kill", tasks: [
            TaskDefinition("sleeper", .bash("echo $$ > sleeper.pid; exec sleep 300")),
            TaskDefinition("after", .function("noop"), depends: ["sleeper"]),
        ]))
        while let event = await stream.next(), event.taskStatus("sleeper") != .running {}
        try await job.kill()
        let result = try await job.result()
        #expect(result.status == .killed)
        #expect(result.task("sleeper")?.status == .aborted)
        #expect(result.task("after")?.status == .notStarted)
        await grid.shutdown()
        if let text = try? String(contentsOfFile: directory + "/sleeper.pid", encoding: .utf8), let pid = Int32(text.trimmingCharacters(in: .whitespacesAndNewlines)) {
            #expect(processIsGone(pid))
        }
        await #expect(throws: GridError.self) { try await job.kill() }
    }

    @Test func selfHealing_skipsATaskWhoseOutputsAndInputsAreUnchanged() async throws {
        let directory = try makeTemporaryDirectory("healing")
        let grid = try await startGrid(directory: directory)
        func workflow(_ size: String) -> Workflow {
            Workflow(name: "heal", variables: [Variable("SIZE", size)], tasks: [
                TaskDefinition("make", .bash("echo ${SIZE} > tile-${SIZE}.txt; echo made"), outputs: ["tile-${SIZE}.txt"]),
            ])
        }
        let first = try await grid.submit(workflow("256")).result()
        #expect(first.task("make")?.alreadyDone == false)
        #expect(first.task("make")?.status == .finished)
        let secondJob = try await grid.submit(workflow("256"))
        let second = try await secondJob.result()
        #expect(second.task("make")?.status == .finished)
        #expect(second.task("make")?.alreadyDone == true)
        #expect(try secondJob.logs(task: "make").contains("already done"))
        #expect(!(try secondJob.logs(task: "make").contains("made")), "it did not run")
        let changed = try await grid.submit(workflow("512")).result()
        #expect(changed.task("make")?.alreadyDone == false, "a changed input runs again")
        try "tampered\n".write(toFile: directory + "/tile-256.txt", atomically: false, encoding: .utf8)
        let tampered = try await grid.submit(workflow("256")).result()
        #expect(tampered.task("make")?.alreadyDone == false, "a changed output runs again")
        await grid.shutdown()
        // The records survive a restart of the grid.
        let restarted = try await startGrid(directory: directory)
        let again = try await restarted.submit(workflow("256")).result()
        #expect(again.task("make")?.alreadyDone == true)
        await restarted.shutdown()
    }
}
