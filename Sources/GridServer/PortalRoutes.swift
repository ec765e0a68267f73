import Foundation
import Grid
import Hummingbird
import ServiceLifecycle
import Synchronization

/// `GET /api/v1/me`: who the token names.
struct MeView: Codable, Sendable {
    var name: String
    var admin: Bool
}

/// `GET /api/v1/jobs/{id}/graph`: the workflow's tasks (definitions, not instances) with their dependencies, flow
/// controls and how many of their instances are in each state, so a graph of 2,000 replicas stays one box.
struct GraphView: Codable, Sendable {
    struct Task: Codable, Sendable {
        var name: String
        var depends: [String]
        /// `replicate`, `loop` or `if`.
        var flow: String?
        /// The tasks the flow control names (loop start; if, else, continuation).
        var targets: [String]
        /// `start` or `end` of a block.
        var block: String?
        /// Instances by state.
        var instances: [String: Int]
        /// What runs: `function NAME`, `bash`, `command ARGV0`.
        var runs: String
    }
    var id: UInt64
    var tasks: [Task]
    /// The workflow's job variables (as declared).
    var variables: [String: String]
}

/// `GET /api/v1/nodes/history`: the nodes' counts by state through time.
struct NodeHistoryView: Codable, Sendable {
    struct Sample: Codable, Sendable {
        /// Seconds since 1970.
        var time: Double
        var counts: [String: Int]
    }
    /// Seconds between samples.
    var interval: Double
    var samples: [Sample]
}

/// The nodes' counts by state, sampled at a fixed interval (the last `capacity` samples): the history the portal
/// charts, like the resource manager's screen of ProActive.
public final class NodeHistory: Service, Sendable {
    let grid: Grid
    let interval: Duration
    let capacity: Int
    private let samples = Mutex<[NodeHistoryView.Sample]>([])

    public init(grid: Grid, interval: Duration = .seconds(5), capacity: Int = 1440) {
        self.grid = grid
        self.interval = interval
        self.capacity = capacity
    }

    /// Takes one sample now.
    func sample() async {
        var counts: [String: Int] = [:]
        for node in await grid.nodes() { counts[node.state.rawValue, default: 0] += 1 }
        let sample = NodeHistoryView.Sample(time: grid.settings.wallClock().timeIntervalSince1970, counts: counts)
        samples.withLock { samples in
            samples.append(sample)
            if samples.count > capacity { samples.removeFirst(samples.count - capacity) }
        }
    }

    var view: NodeHistoryView {
        NodeHistoryView(interval: Double(interval.components.seconds) + Double(interval.components.attoseconds) / 1e18, samples: samples.withLock { $0 })
    }

    public func run() async throws {
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            await sample()
            do {
                try await cancelWhenGracefulShutdown { try await self.grid.settings.clock.sleep(for: self.interval) }
            } catch {
                return
            }
        }
    }
}

extension RESTAPI {
    /// The portal's own routes: who am I, a job's graph, live events, the nodes' history, and the page itself.
    func addPortalRoutes(_ route: (HTTPRequest.Method, String, @escaping @Sendable (Request, BasicRequestContext) async throws -> Response) -> Void) {
        route(.get, "me") { request, _ in
            let user = try authenticate(request)
            return try json(MeView(name: user.name, admin: user.admin))
        }
        route(.get, "jobs/:id/graph") { request, context in
            let job = try await ownedJob(request, context)
            let workflow = try await run { try await job.workflow() }
            let report = try await run { try await job.report() }
            var counts: [String: [String: Int]] = [:]
            for task in report.tasks { counts[task.name.task, default: [:]][task.status.rawValue, default: 0] += 1 }
            let tasks = workflow.tasks.map { definition -> GraphView.Task in
                let runs: String
                switch definition.executable {
                case .function(let name, _): runs = "function \(name)"
                case .script(let script): runs = script.language
                case .command(let argv): runs = "command \(argv.first ?? "")"
                }
                return GraphView.Task(
                    name: definition.name, depends: definition.depends, flow: definition.flow?.keyword, targets: definition.flow?.targets ?? [],
                    block: definition.block == .none ? nil : definition.block.rawValue, instances: counts[definition.name] ?? [:], runs: runs)
            }
            let variables = Dictionary(workflow.variables.map { ($0.name, $0.value) }) { $1 }
            return try json(GraphView(id: job.id.rawValue, tasks: tasks, variables: variables))
        }
        route(.get, "nodes/history") { request, _ in
            _ = try authenticate(request)
            return try json(history?.view ?? NodeHistoryView(interval: 0, samples: []))
        }
        route(.get, "events") { request, _ in try await events(request) }
        route(.get, "/") { _, _ in
            Response(status: .found, headers: [.location: "/portal"])
        }
        route(.get, "/portal") { _, _ in PortalAssets.html.response }
        route(.get, "/portal/app.js") { _, _ in PortalAssets.script.response }
        route(.get, "/portal/app.css") { _, _ in PortalAssets.style.response }
    }

    /// `GET /api/v1/events[?job=ID]`: server-sent events, coalesced every 250 ms by the ``EventBroadcaster`` (one
    /// pass serves every stream). `job` events carry the user's jobs that changed (as in the jobs list); with
    /// `?job=ID`, `task` events carry that job's instances that changed; `nodes` events carry the node list, at once
    /// and then when it changed (checked every second). A comment every 2 s keeps proxies from closing the stream
    /// and finds out when the client left. A user holds at most `--max-streams-per-user` streams (429 past it).
    func events(_ request: Request) async throws -> Response {
        let user = try authenticate(request)
        let grid = self.grid
        var focus: JobID?
        if let text = request.uri.queryParameters.get("job") {
            guard let number = UInt64(text), number <= UInt64(Int64.max) else { throw APIError.badRequest("job must be a job id, got '\(text)'") }
            let owner = try await run { try await grid.owner(of: JobID(number)) }
            guard user.admin || owner == user.name else { throw APIError(.jobNotFound(JobID(number))) }
            focus = JobID(number)
        }
        guard let streams else { throw APIError(.serviceUnavailable, "no_streams", "this server has no event streams") }
        let opened: (id: UInt64, stream: AsyncStream<String>)
        do {
            opened = try streams.open(user: user, focus: focus)
        } catch .tooManyStreams(let cap) {
            throw APIError(.tooManyRequests, "too_many_streams", "a user holds at most \(cap) event streams at once: close one first")
        } catch .stopped {
            throw APIError(.serviceUnavailable, "shutting_down", "the server is stopping")
        }
        let nodes = await grid.nodes().map(NodeView.init)
        let body = ResponseBody { writer in
            defer { streams.close(opened.id) }
            try await writer.write(ByteBuffer(string: "retry: 2000\n\nevent: nodes\ndata: \(Self.line(nodes))\n\n"))
            for await text in opened.stream {
                try await writer.write(ByteBuffer(string: text))
            }
            try await writer.finish(nil)
        }
        return Response(
            status: .ok, headers: [.contentType: "text/event-stream", .cacheControl: "no-cache"], body: body)
    }

    /// One JSON value on one line.
    static func line(_ value: some Encodable) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return (try? encoder.encode(value)).map { String(decoding: $0, as: UTF8.self) } ?? "null"
    }
}

/// A flag set once, read from any task.
final class OnceFlag: Sendable {
    private let value = Atomic<Bool>(false)
    func set() { value.store(true, ordering: .relaxed) }
    var isSet: Bool { value.load(ordering: .relaxed) }
}

/// A task change in the event stream.
struct TaskEventView: Codable, Sendable {
    var name: String
    var state: String
    var executions: Int
    var node: Int?
    var message: String?
}
