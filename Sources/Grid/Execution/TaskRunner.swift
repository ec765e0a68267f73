import Foundation
import Glibc

/// Runs one execution: self-healing check, then an in-process function or a subprocess.
struct TaskRunner: Sendable {
    let functions: FunctionRegistry
    let healing: HealingStore
    let clock: any GridClock
    /// Where job logs and per-execution files go (`jobs/<id>/logs`, `jobs/<id>/run`).
    let dataDirectory: String
    /// The working directory of subprocesses when the workflow sets none.
    let workingDirectory: String
    /// How `outputs` are matched: bounded, and confined to the working directory on a multi-user server.
    var outputGlob: OutputGlob = .unconfined
    /// The bounds on what a task may write: its logs and its result.
    var limits: InputLimits = .default
    /// The accounts, folders and limits of subprocess tasks on a multi-user grid; `nil` runs them as the grid's
    /// own account with its environment (a single user's grid).
    var isolation: TaskIsolation?

    /// The working directory of an execution: the workflow's, else (isolated) its job's own folder, else the grid's.
    func directory(for assignment: TaskAssignment) -> String {
        if let directory = assignment.workingDirectory { return directory }
        if let isolation { return ProcessLayout.workFolder(job: assignment.job, isolation) }
        return workingDirectory
    }

    /// The directory of a job's log files.
    func logDirectory(job: JobID) -> String { "\(dataDirectory)/jobs/\(job)/logs" }

    /// The stdout and stderr log paths of a task instance.
    func logPaths(job: JobID, task: TaskInstanceName) -> (out: String, err: String) {
        let base = "\(logDirectory(job: job))/\(task)"
        return (base + ".out", base + ".err")
    }

    /// Runs `assignment` on `node`; `started` receives the pid of a subprocess (for aborts).
    ///
    /// - Parameter function: the function of an in-process task, when the caller looked it up already (nodes
    ///   keep the last one); `nil` looks it up by name.
    nonisolated(nonsending) func run(
        _ assignment: TaskAssignment, on node: NodeID, function: FunctionRegistry.Function? = nil, started: (Int32) -> Void
    ) async -> TaskOutcome {
        let directory = directory(for: assignment)
        // Matching the outputs, before and after the run, is charged to the task's walltime.
        let outputGlob = self.outputGlob.charged(until: assignment.walltime.map { clock.now + $0 }, on: clock)
        // Only self-healing tasks (with outputs, so with a fingerprint) need their key.
        let healingKey = assignment.fingerprint == nil ? "" : HealingStore.key(owner: assignment.owner, workflow: assignment.jobName, task: assignment.name)
        if let fingerprint = assignment.fingerprint {
            switch healing.check(key: healingKey, fingerprint: fingerprint, outputs: assignment.outputs, in: directory, glob: outputGlob) {
            case .alreadyDone(let record):
                let reason = "already done: inputs fingerprint \(String(fingerprint, radix: 16)) matches the last run and its "
                    + "\(record.outputs.count) output file(s) are unchanged (\(record.outputs.map(\.path).joined(separator: ", ")))"
                note(reason, assignment)
                return .alreadyDone(result: record.result, variables: record.variables, reason: reason)
            case .mustRun(let why):
                note("runs: \(why)", assignment)
            }
        }
        var outcome: TaskOutcome
        switch assignment.executable {
        case .function(let name, let input):
            outcome = await runFunction(name, input: input, assignment, node: node, function: function)
        case .script, .command:
            outcome = await runProcess(assignment, in: directory, started: started)
        }
        if let fingerprint = assignment.fingerprint, case .success(let result, let variables) = outcome {
            do {
                let recorded = try healing.record(
                    key: healingKey, fingerprint: fingerprint, outputs: assignment.outputs, in: directory, result: result,
                    variables: variables, glob: outputGlob)
                if recorded.isEmpty { note("no output matched \(assignment.outputs); nothing recorded for self-healing", assignment) }
            } catch {
                outcome = .failure(message: "\(error)")
            }
        }
        if case .failure(let message) = outcome {
            note("failed: \(message)", assignment)
        }
        return outcome
    }

    private nonisolated(nonsending) func runFunction(
        _ name: String, input: Value, _ assignment: TaskAssignment, node: NodeID, function: FunctionRegistry.Function?
    ) async -> TaskOutcome {
        guard let function = function ?? functions.function(named: name) else {
            return .failure(message: "no function registered as '\(name)'")
        }
        let context = TaskContext(
            job: assignment.job, task: assignment.name, node: node, input: input, parentResults: assignment.parentResults,
            variables: assignment.variables)
        guard let walltime = assignment.walltime else {
            return await TaskRunner.call(function, name: name, context: context, declared: assignment.variables)
        }
        // In-process code cannot be killed: past its walltime the function is cancelled (it should check
        // `Task.isCancelled` or use cancellable awaits), and its task fails with the walltime once it returns.
        let deadline = clock.now + walltime
        let clock = self.clock
        return await withTaskGroup(of: TaskOutcome?.self) { group in
            group.addTask { await TaskRunner.call(function, name: name, context: context, declared: assignment.variables) }
            group.addTask {
                do {
                    try await clock.sleep(until: deadline)
                } catch {
                    return nil  // the function ended first
                }
                let message = "walltime \(walltime) exceeded: the function was cancelled"
                self.note(message, assignment)
                return .failure(message: message)
            }
            let first = await group.next() ?? nil
            group.cancelAll()
            return first ?? .failure(message: "walltime \(walltime) exceeded")
        }
    }

    private nonisolated(nonsending) static func call(_ function: FunctionRegistry.Function, name: String, context: TaskContext, declared: [String: String]) async -> TaskOutcome {
        var context = context
        do {
            let result = try await function(&context)
            // The journal and the REST API decode no deeper than this: such a result would be stored but never read back.
            if result.depth(upTo: Value.maximumDepth) > Value.maximumDepth {
                return .failure(message: "\(name) returned a value nested deeper than \(Value.maximumDepth) levels")
            }
            return .success(result: result, variables: context.variables == declared ? nil : context.variables)
        } catch {
            return .failure(message: "\(name) threw: \(error)")
        }
    }

    private nonisolated(nonsending) func runProcess(_ assignment: TaskAssignment, in directory: String, started: (Int32) -> Void) async -> TaskOutcome {
        let logs = logPaths(job: assignment.job, task: assignment.name)
        let layout: ProcessLayout
        do {
            try FileManager.default.createDirectory(atPath: logDirectory(job: assignment.job), withIntermediateDirectories: true)
            if let isolation {
                layout = try ProcessLayout.isolated(assignment, in: directory, isolation)
            } else {
                layout = try ProcessLayout.unconfined(assignment, jobFolder: "\(dataDirectory)/jobs/\(assignment.job)")
            }
        } catch let error as ProcessLayout.Failure {
            return .failure(message: error.description)
        } catch {
            return .failure(message: "cannot create the folders of \(assignment.name): \(error)")
        }
        let runDirectory = layout.run
        let resultFile = runDirectory + "/result"
        let variablesFile = runDirectory + "/variables"
        var argv: [String]
        switch assignment.executable {
        case .command(let command):
            argv = command
        case .script(let script):
            let program = TaskRunner.interpreter(for: script.language)
            switch script.source {
            case .code(let code):
                let path = runDirectory + "/script"
                guard layout.write(Data(code.utf8), to: path) else {
                    return .failure(message: "cannot write the script to \(path)")
                }
                argv = [program, path] + script.arguments
            case .file(let file):
                argv = [program, file] + script.arguments
            }
        case .function:
            return .failure(message: "not a subprocess task")
        }
        var parents: [String: Value] = [:]
        for parent in assignment.parentResults { parents[parent.name.description] = parent.value }
        guard let parentsFile = layout.parentsFile(parents) else {
            return .failure(message: "cannot write the parents' results for \(assignment.name) in \(runDirectory)")
        }
        guard layout.handOver() else {
            return .failure(message: "cannot give \(runDirectory) to the task's account: \(String(cString: strerror(errno)))")
        }
        var environment = layout.environment
        for (name, value) in assignment.variables where TaskRunner.isEnvironmentName(name) {
            environment[name] = value
            environment["variables_" + name] = value
        }
        for (name, value) in assignment.system.all { environment[name] = value }
        environment[SystemVariables.resultFile] = resultFile
        environment[SystemVariables.variablesFile] = variablesFile
        environment[SystemVariables.parentResultsFile] = parentsFile
        environment[SystemVariables.workDirectory] = directory
        if assignment.attempt > 1 { note("execution \(assignment.attempt)", assignment) }
        let run = await ProcessLauncher.run(
            argv, environment: environment, workingDirectory: directory, stdout: logs.out, stderr: logs.err,
            walltime: assignment.walltime, clock: clock, logQuota: limits.logQuota, confinement: layout.confinement, started: started)
        if run.logError != 0, case .exited(0) = run.exit {
            let message = "its output could not be written to its log: \(String(cString: strerror(run.logError)))"
            note(message, assignment)
            return .failure(message: message)
        }
        if run.logTruncated, case .exited(0) = run.exit {
            // The task did its work, but what it said is not all kept: it must not pass for a clean run.
            let message = "its output passed the log quota of \(limits.logQuota) bytes (limit logQuota); the rest was not kept"
            note(message, assignment)
            return .failure(message: message)
        }
        switch run.exit {
        case .exited(0):
            let resultText: String?
            let variablesText: String?
            do {
                resultText = try readOutput(resultFile, "result", layout).get()
                variablesText = try readOutput(variablesFile, "variables", layout).get()
            } catch {
                note(error.message, assignment)
                return .failure(message: error.message)
            }
            let result = resultText.map { Value(parsingResult: $0) } ?? .null
            var variables: [String: String]?
            if let text = variablesText, !text.isEmpty {
                var updated = assignment.variables
                for line in text.split(whereSeparator: \.isNewline) {
                    guard let equals = line.firstIndex(of: "=") else { continue }
                    let name = String(line[..<equals]).trimmingCharacters(in: .whitespaces)
                    guard !name.isEmpty else { continue }
                    updated[name] = String(line[line.index(after: equals)...])
                }
                variables = updated
            }
            return .success(result: result, variables: variables)
        case .exited(let code):
            var message = code > 128 ? "killed by signal \(code - 128)" : "exit code \(code)"
            if run.usage.oomKills > 0, let memory = layout.confinement?.resources.memory {
                message += ": the task passed its memory limit of \(memory) bytes (limit memoryBytes), the kernel killed \(run.usage.oomKills) of its processes"
            }
            if run.usage.forksRefused > 0, let processes = layout.confinement?.resources.processesPerTask {
                message += "; \(run.usage.forksRefused) fork(s) refused at its limit of \(processes) processes (limit processesPerTask)"
            }
            note(message, assignment)
            return .failure(message: message)
        case .walltimeExceeded:
            let message = "walltime \(assignment.walltime.map { "\($0)" } ?? "") exceeded: process group killed"
            note(message, assignment)
            return .failure(message: message)
        case .spawnFailed(let code):
            let message = "cannot start '\(argv.first ?? "")': \(String(cString: strerror(code)))"
            note(message, assignment)
            return .failure(message: message)
        case .confinementFailed(let why):
            let message = "cannot confine '\(argv.first ?? "")': \(why)"
            note(message, assignment)
            return .failure(message: message)
        }
    }

    /// Why a file the task wrote is not read for it.
    struct OutputRefusal: Error {
        var message: String
    }

    /// The text of the task's `kind` file ("result", "variables"), `nil` when it wrote none; the task's failure when
    /// it is too large or not a regular file of the task's own account.
    private func readOutput(_ path: String, _ kind: String, _ layout: ProcessLayout) -> Result<String?, OutputRefusal> {
        switch TaskRunner.readBounded(path, limit: limits.resultBytes, owner: layout.outputOwner) {
        case .missing: .success(nil)
        case .text(let text): .success(text)
        case .tooLarge: .failure(OutputRefusal(message: "its \(kind) file is larger than \(limits.resultBytes) bytes (limit resultBytes)"))
        case .refused:
            .failure(OutputRefusal(message: "its \(kind) file is not a regular file of its own (a link, or another account's file): not read"))
        }
    }

    /// What a bounded read of a task's file found.
    enum BoundedRead: Equatable {
        /// No such file.
        case missing
        /// Not a regular file of the expected owner (a link, a folder, another account's file): not read.
        case refused
        /// Its text.
        case text(String)
        /// More bytes than the limit: nothing was read past it.
        case tooLarge
    }

    /// Reads at most `limit` bytes of a file the task wrote, refusing links, anything but a regular file, and (with
    /// `owner`) a file of another account: a task's hard link to a file it could not read is never read for it.
    static func readBounded(_ path: String, limit: Int, owner: uid_t? = nil) -> BoundedRead {
        let fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK)
        guard fd >= 0 else { return errno == ENOENT ? .missing : .refused }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else { return .refused }
        if let owner, info.st_uid != owner { return .refused }
        guard info.st_size <= limit else { return .tooLarge }
        var bytes = [UInt8](repeating: 0, count: Int(info.st_size) + 1)
        var count = 0
        while count < bytes.count {
            let got = bytes.withUnsafeMutableBytes { read(fd, $0.baseAddress.map { $0 + count }, $0.count - count) }
            if got < 0 && errno == EINTR { continue }
            if got <= 0 { break }
            count += got
        }
        guard count <= limit else { return .tooLarge }  // it grew while it was read
        return .text(String(decoding: bytes[..<count], as: UTF8.self))
    }

    /// Appends a `[tessera]` line to the task's stderr log.
    func note(_ message: String, _ assignment: TaskAssignment) {
        let path = logPaths(job: assignment.job, task: assignment.name).err
        try? FileManager.default.createDirectory(atPath: logDirectory(job: assignment.job), withIntermediateDirectories: true)
        let line = Data("[tessera] \(assignment.name) (execution \(assignment.attempt)): \(message)\n".utf8)
        if let handle = FileHandle(forWritingAtPath: path) {
            defer { try? handle.close() }
            _ = try? handle.seekToEnd()
            try? handle.write(contentsOf: line)
        } else {
            _ = FileManager.default.createFile(atPath: path, contents: line)
        }
    }

    static func interpreter(for language: String) -> String {
        switch language.lowercased() {
        case "python", "cpython", "python3": "python3"
        case "shell": "sh"
        default: language
        }
    }

    static func isEnvironmentName(_ name: String) -> Bool {
        !name.isEmpty && !name.contains("=") && !name.utf8.contains(0)
    }
}
