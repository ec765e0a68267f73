import ArgumentParser
import Foundation
import Grid
import GridWorkloads
import Imaging

/// `tessera run WORKFLOW.yaml`: runs one workflow on an embedded grid and reports how it ended.
struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run one workflow on an embedded grid.",
        discussion: """
            Shows a live progress line on a terminal, prints where the task logs are, and exits 0 only \
            when the job FINISHED (1 when it ended otherwise, 2 when the workflow is invalid). \
            Self-healing records and logs live under --data-dir, so a second run skips the tasks whose \
            outputs and inputs are unchanged.
            """
    )

    @Argument(help: "The workflow file (YAML).")
    var workflow: String

    @Option(name: .customLong("var"), help: "Override a job variable: NAME=VALUE (repeatable).")
    var variables: [String] = []

    @Option(help: "Where logs and self-healing records go.")
    var dataDir: String = ".tessera"

    @Option(help: "Local nodes (default: one per core, one core kept for the grid when there are more than 2).")
    var nodes: Int?

    @Flag(help: "Allow HIGH and HIGHEST priorities.")
    var admin = false

    @Flag(help: "Print one JSON object: job, state, tasks (name, state, executions, duration in seconds).")
    var json = false

    func validate() throws {
        _ = try parsedVariables()
        if let nodes, nodes < 1 { throw ValidationError("--nodes must be at least 1") }
    }

    func parsedVariables() throws -> [String: String] {
        var parsed: [String: String] = [:]
        for item in variables {
            guard let equals = item.firstIndex(of: "="), equals != item.startIndex else {
                throw ValidationError("--var expects NAME=VALUE, got '\(item)'")
            }
            parsed[String(item[..<equals])] = String(item[item.index(after: equals)...])
        }
        return parsed
    }

    func run() async throws {
        let definition: Workflow
        do {
            definition = try Workflow(contentsOfFile: workflow, variables: try parsedVariables())
        } catch {
            FileHandle.standardError.write(Data("\(error)\n".utf8))
            throw ExitCode(2)
        }
        var settings = GridSettings()
        settings.nodes = nodes
        settings.oversubscribe = nodes != nil
        settings.dataDirectory = URL(fileURLWithPath: dataDir).standardizedFileURL.path
        let functions = FunctionRegistry()
        BuiltinFunctions.register(in: functions)
        let grid = try await Grid.start(settings: settings, functions: functions)
        let job: JobHandle
        do {
            job = try await grid.submit(definition, variables: try parsedVariables(), admin: admin)
        } catch {
            FileHandle.standardError.write(Data("\(error)\n".utf8))
            await grid.shutdown()
            throw ExitCode(2)
        }
        let live = !json && isatty(STDOUT_FILENO) == 1
        var lastLine = ContinuousClock.now - .seconds(1)
        for await event in try await job.events where live {
            // At most ten updates a second, and always the last one.
            guard event.isFinal || ContinuousClock.now - lastLine >= .milliseconds(100) else { continue }
            lastLine = ContinuousClock.now
            let p = event.progress
            // Straight to the terminal: no buffering to flush, one write per update.
            let line = "\r\u{1B}[Kjob \(job.id) \(definition.name): \(p.done)/\(p.total) done · \(p.running) running · \(p.failed) failed"
            FileHandle.standardOutput.write(Data(line.utf8))
        }
        let result = try await job.result()
        await grid.shutdown()
        if json {
            try printJSON(RunReport(result))
        } else {
            if live { print("") }
            print("job \(result.job) \(result.name): \(result.status) (\(result.progress.done)/\(result.progress.total) tasks)")
            for task in result.tasks where task.status != .finished || task.alreadyDone {
                let note = task.alreadyDone ? "already done" : (task.message ?? "")
                print("  \(task.name): \(task.status) \(note)")
            }
            print("logs: \(result.logDirectory)")
        }
        if result.status != .finished { throw ExitCode(1) }
    }
}

/// The JSON printed by `tessera run --json`.
struct RunReport: Encodable {
    struct Task: Encodable {
        var name: String
        var state: String
        var executions: Int
        var alreadyDone: Bool
        var message: String?
        /// Seconds its last execution ran, as its node measured it.
        var duration: Double?
    }
    var job: UInt64
    var name: String
    var state: String
    var tasks: [Task]
    var logs: String

    init(_ result: JobResult) {
        job = result.job.rawValue
        name = result.name
        state = result.status.rawValue
        tasks = result.tasks.map {
            Task(name: $0.name.description, state: $0.status.rawValue, executions: $0.executions, alreadyDone: $0.alreadyDone, message: $0.message,
                 duration: $0.duration)
        }
        logs = result.logDirectory
    }
}
