import ArgumentParser
import Foundation
import Grid
import GridServer

/// Options every client command takes: where the server is and who is asking.
struct ClientOptions: ParsableArguments {
    @Option(help: "The server (default $TESSERA_SERVER, else http://127.0.0.1:8080).")
    var server: String = ProcessInfo.processInfo.environment["TESSERA_SERVER"] ?? "http://127.0.0.1:8080"

    @Option(help: "A file holding the bearer token ($TESSERA_TOKEN wins).")
    var tokenFile: String?

    @Flag(help: "Print JSON instead of a table.")
    var json = false

    func client() throws -> GridClient {
        do {
            return try GridClient(server: server, token: try GridClient.token(file: tokenFile))
        } catch {
            throw ValidationError(error.description)
        }
    }
}

/// Runs a client call: prints the server's error and exits 1 when it fails.
func clientCall<T>(_ body: () async throws(GridClient.Failure) -> T) async throws -> T {
    do {
        return try await body()
    } catch {
        FileHandle.standardError.write(Data("tessera: \(error.description)\n".utf8))
        throw ExitCode(1)
    }
}

private func printRawJSON(_ data: Data) {
    FileHandle.standardOutput.write(data)
    FileHandle.standardOutput.write(Data("\n".utf8))
}

private func jobPath(_ id: UInt64) -> String { "api/v1/jobs/\(id)" }

/// `tessera submit WORKFLOW.yaml`.
struct SubmitCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "submit", abstract: "Submit a workflow to a running grid.",
        discussion: "With --wait it shows the job's progress and exits 0 only when the job FINISHED.")

    @Argument(help: "The workflow file (YAML).")
    var workflow: String

    @Option(name: .customLong("var"), help: "Override a job variable: NAME=VALUE (repeatable).")
    var variables: [String] = []

    @Flag(help: "Wait for the job to end, showing its progress.")
    var wait = false

    @OptionGroup var options: ClientOptions

    func run() async throws {
        guard let text = try? String(contentsOfFile: workflow, encoding: .utf8) else {
            throw ValidationError("cannot read \(workflow)")
        }
        var parsed: [String: String] = [:]
        for item in variables {
            guard let equals = item.firstIndex(of: "="), equals != item.startIndex else { throw ValidationError("--var expects NAME=VALUE, got '\(item)'") }
            parsed[String(item[..<equals])] = String(item[item.index(after: equals)...])
        }
        let client = try options.client()
        let body = try JSONEncoder().encode(SubmitBody(workflow: text, variables: parsed))
        let answer = try await clientCall { () async throws(GridClient.Failure) in
            try client.decode(SubmitAnswer.self, await client.send(client.request("POST", "api/v1/jobs", body: body, contentType: "application/json")))
        }
        if !wait {
            if options.json { try printJSON(answer) } else { print("submitted job \(answer.id)") }
            return
        }
        let live = !options.json && isatty(STDOUT_FILENO) == 1
        var view: JobView
        while true {
            view = try await clientCall { () async throws(GridClient.Failure) in try await client.get(JobView.self, jobPath(answer.id)) }
            if live {
                let p = view.progress
                FileHandle.standardOutput.write(Data("\r\u{1B}[Kjob \(view.id) \(view.name): \(view.state) \(p.done)/\(p.total) done · \(p.running) running · \(p.failed) failed".utf8))
            }
            guard JobStatus(rawValue: view.state)?.isAlive ?? false else { break }
            try await Task.sleep(for: .milliseconds(250))
        }
        if options.json {
            try printJSON(view)
        } else {
            if live { print("") }
            print("job \(view.id) \(view.name): \(view.state) (\(view.progress.done)/\(view.progress.total) tasks)")
        }
        if view.state != JobStatus.finished.rawValue { throw ExitCode(1) }
    }
}

/// `tessera jobs`.
struct JobsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "jobs", abstract: "List the jobs of a running grid, newest first.")

    @Option(help: "Only jobs in this state (RUNNING, FINISHED…).")
    var state: String?

    @Option(help: "Only this user's jobs (administrators).")
    var owner: String?

    // Unconditional, so that `--limit -5` is read as a (refused) value rather than as an unknown option.
    @Option(parsing: .unconditional, help: "At most this many (1…1000).")
    var limit: Int = 50

    @OptionGroup var options: ClientOptions

    func validate() throws {
        guard (1...1000).contains(limit) else { throw ValidationError("--limit must be 1…1000, got \(limit)") }
    }

    func run() async throws {
        let client = try options.client()
        var query = [URLQueryItem(name: "limit", value: String(limit))]
        if let state { query.append(URLQueryItem(name: "state", value: state)) }
        if let owner { query.append(URLQueryItem(name: "owner", value: owner)) }
        let data = try await clientCall { () async throws(GridClient.Failure) in
            try await client.send(client.request("GET", "api/v1/jobs", query: query))
        }
        if options.json { return printRawJSON(data) }
        let page = try await clientCall { () async throws(GridClient.Failure) in try client.decode(JobPage.self, data) }
        print(Table.render(
            ["ID", "NAME", "OWNER", "STATE", "PRIORITY", "DONE"],
            page.jobs.map { [String($0.id), $0.name, $0.owner, $0.state, $0.priority, "\($0.progress.done)/\($0.progress.total)"] }))
    }
}

/// `tessera job ID`.
struct JobCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "job", abstract: "Show one job of a running grid and its tasks.")

    @Argument(help: "The job's id.")
    var id: UInt64

    @OptionGroup var options: ClientOptions

    func run() async throws {
        let client = try options.client()
        let data = try await clientCall { () async throws(GridClient.Failure) in try await client.send(client.request("GET", jobPath(id))) }
        if options.json { return printRawJSON(data) }
        let view = try await clientCall { () async throws(GridClient.Failure) in try client.decode(JobView.self, data) }
        print("job \(view.id) \(view.name) (\(view.owner)): \(view.state), priority \(view.priority), \(view.progress.done)/\(view.progress.total) done")
        print(Table.render(
            ["TASK", "STATE", "EXECUTIONS", "NODE", "HOST", "MESSAGE"],
            (view.tasks ?? []).map { [$0.name, $0.state, String($0.executions), $0.node.map { "node-\($0)" } ?? "", $0.host ?? "", $0.message ?? ""] }))
    }
}

/// `tessera logs ID [TASK]`.
struct LogsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "logs", abstract: "Print a job's or a task's logs.")

    @Argument(help: "The job's id.")
    var id: UInt64

    @Argument(help: "A task instance (T, T#1, T*2); all tasks when absent.")
    var task: String?

    @Flag(help: "Keep printing the task's log as it grows, until the task ends.")
    var follow = false

    @OptionGroup var options: ClientOptions

    func validate() throws {
        if follow && task == nil { throw ValidationError("--follow needs a TASK") }
    }

    func run() async throws {
        let client = try options.client()
        guard let task else {
            let data = try await clientCall { () async throws(GridClient.Failure) in try await client.send(client.request("GET", jobPath(id) + "/logs")) }
            FileHandle.standardOutput.write(data)
            return
        }
        let path = jobPath(id) + "/tasks/" + (task.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed.subtracting(["#"])) ?? task) + "/logs"
        if follow {
            try await clientCall { () async throws(GridClient.Failure) in
                try await client.stream(client.request("GET", path, query: [URLQueryItem(name: "follow", value: "true")])) {
                    FileHandle.standardOutput.write($0)
                }
            }
        } else {
            let data = try await clientCall { () async throws(GridClient.Failure) in try await client.send(client.request("GET", path)) }
            FileHandle.standardOutput.write(data)
        }
    }
}

/// `tessera kill|pause|resume ID`.
struct JobActionCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "kill", abstract: "Kill a job.")

    @Argument(help: "The job's id.")
    var id: UInt64

    @OptionGroup var options: ClientOptions

    static func act(_ action: String, id: UInt64, options: ClientOptions) async throws {
        let client = try options.client()
        let data = try await clientCall { () async throws(GridClient.Failure) in try await client.send(client.request("PUT", jobPath(id) + "/" + action)) }
        if options.json { return printRawJSON(data) }
        let view = try await clientCall { () async throws(GridClient.Failure) in try client.decode(JobView.self, data) }
        print("job \(view.id) \(view.name): \(view.state)")
    }

    func run() async throws { try await Self.act("kill", id: id, options: options) }
}

struct PauseCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "pause", abstract: "Pause a job (tasks not started wait).")
    @Argument(help: "The job's id.") var id: UInt64
    @OptionGroup var options: ClientOptions
    func run() async throws { try await JobActionCommand.act("pause", id: id, options: options) }
}

struct ResumeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "resume", abstract: "Resume a paused job.")
    @Argument(help: "The job's id.") var id: UInt64
    @OptionGroup var options: ClientOptions
    func run() async throws { try await JobActionCommand.act("resume", id: id, options: options) }
}

/// `tessera priority ID LEVEL`.
struct PriorityCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "priority", abstract: "Change a job's priority (HIGH and HIGHEST: administrators).")

    @Argument(help: "The job's id.")
    var id: UInt64

    @Argument(help: "IDLE, LOWEST, LOW, NORMAL, HIGH or HIGHEST.")
    var level: String

    @OptionGroup var options: ClientOptions

    func validate() throws {
        guard JobPriority(name: level) != nil else { throw ValidationError("unknown priority '\(level)': IDLE, LOWEST, LOW, NORMAL, HIGH or HIGHEST") }
    }

    func run() async throws {
        let client = try options.client()
        let body = try JSONEncoder().encode(PriorityBody(priority: level))
        let data = try await clientCall { () async throws(GridClient.Failure) in
            try await client.send(client.request("PUT", jobPath(id) + "/priority", body: body, contentType: "application/json"))
        }
        if options.json { return printRawJSON(data) }
        let view = try await clientCall { () async throws(GridClient.Failure) in try client.decode(JobView.self, data) }
        print("job \(view.id) \(view.name): priority \(view.priority)")
    }
}

/// `tessera nodes`.
struct NodesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "nodes", abstract: "List the nodes of a running grid.")

    @OptionGroup var options: ClientOptions

    func run() async throws {
        let client = try options.client()
        let data = try await clientCall { () async throws(GridClient.Failure) in try await client.send(client.request("GET", "api/v1/nodes")) }
        if options.json { return printRawJSON(data) }
        let nodes = try await clientCall { () async throws(GridClient.Failure) in try client.decode([NodeView].self, data) }
        print(Table.render(
            ["HOST", "NODE", "SOURCE", "STATE", "LOCKED", "TASKS", "LABELS"],
            nodes.sorted { ($0.host, $0.id) < ($1.host, $1.id) }.map {
                [$0.host, $0.node, $0.source, $0.state, $0.locked ? "yes" : "no", "\($0.running)/\($0.capacity)", $0.labels.joined(separator: ",")]
            }))
        // The sources, with their hosts being deployed and their cost (as `tessera nodesource list`).
        let sources = try await clientCall { () async throws(GridClient.Failure) in try await client.send(client.request("GET", "api/v1/nodesources")) }
        if let list = try? JSONSerialization.jsonObject(with: sources) as? [[String: Any]] {
            print("")
            print(NodeSourceText.table(list))
        }
    }
}

/// Plain text tables: columns padded to their widest cell.
enum Table {
    static func render(_ header: [String], _ rows: [[String]]) -> String {
        let all = [header] + rows
        let widths = header.indices.map { column in all.map { $0.indices.contains(column) ? $0[column].count : 0 }.max() ?? 0 }
        return all.map { row in
            row.indices.map { row[$0].padding(toLength: widths[$0], withPad: " ", startingAt: 0) }.joined(separator: "  ")
                .trimmingCharacters(in: .whitespaces)
        }.joined(separator: "\n")
    }
}
