import Foundation
import Grid
import Hummingbird
import Logging
import ServiceLifecycle

/// The REST API under `/api/v1` (the routes of ProActive's scheduler and resource manager that Tessera has),
/// the OpenAPI document at `/openapi.yaml` and the Prometheus metrics at `/metrics`.
///
/// Users see and act on their own jobs only (another user's job is a 404, as if it did not exist); admins on
/// every job and on nodes. Every error is a JSON body `{"code", "message"}`.
public struct RESTAPI: Sendable {
    public let grid: Grid
    /// `nil`: no users file, everyone on loopback is the local administrator.
    public let users: Users?
    public let metrics: GridMetrics
    /// The nodes' counts through time (the portal's chart).
    public var history: NodeHistory?
    /// The event streams' one pass per tick.
    public var streams: EventBroadcaster?
    /// The largest request body accepted.
    public static let maxBody = 4 * 1024 * 1024

    public init(grid: Grid, users: Users?, metrics: GridMetrics, history: NodeHistory? = nil, streams: EventBroadcaster? = nil) {
        self.grid = grid
        self.users = users
        self.metrics = metrics
        self.history = history
        self.streams = streams
    }

    /// Every route of the API and the portal, with 405 for a method a path does not declare.
    public func router() -> Router<BasicRequestContext> {
        let router = Router(context: BasicRequestContext.self)
        // Every route, so that a method a path does not declare gets 405 with Allow (not 404).
        var declared: [String: Set<HTTPRequest.Method>] = [:]
        func route(
            _ method: HTTPRequest.Method, _ path: String,
            _ handler: @escaping @Sendable (Request, BasicRequestContext) async throws -> Response
        ) {
            let full = path.hasPrefix("/") ? path : "/api/v1/" + path
            declared[full, default: []].insert(method)
            router.on(RouterPath(full), method: method, use: handler)
        }
        route(.get, "/openapi.yaml") { _, _ in
            Response(status: .ok, headers: [.contentType: "application/yaml"], body: .init(byteBuffer: ByteBuffer(string: OpenAPIDocument.yaml)))
        }
        route(.get, "/metrics") { request, _ in
            // Every tenant's job counts and the queue show there: an administrator's, when there are users.
            if users != nil, !(try authenticate(request)).admin {
                throw APIError(.forbidden, "needs_admin", "the metrics show every user's jobs: they need an administrator's token")
            }
            let text = await metrics.render(grid: grid)
            return Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4"], body: .init(byteBuffer: ByteBuffer(string: text)))
        }
        route(.get, "jobs") { request, _ in try await listJobs(request) }
        route(.post, "jobs") { request, context in try await submit(request, context) }
        route(.get, "jobs/:id") { request, context in
            let report = try await jobReport(ownedJob(request, context))
            return try json(JobView(report))
        }
        route(.delete, "jobs/:id") { request, context in
            let job = try await ownedJob(request, context)
            try await run { try await job.remove() }
            return Response(status: .noContent)
        }
        route(.get, "jobs/:id/result") { request, context in
            let report = try await jobReport(ownedJob(request, context))
            var results: [String: Value] = [:]
            for task in report.tasks { if let result = task.result { results[task.name.description] = result } }
            return try json(ResultView(id: report.job.rawValue, state: report.status.rawValue, results: results))
        }
        route(.get, "jobs/:id/tasks") { request, context in
            let report = try await jobReport(ownedJob(request, context))
            return try json(report.tasks.map { TaskView($0, withResult: false) })
        }
        route(.get, "jobs/:id/tasks/:task") { request, context in
            let report = try await jobReport(ownedJob(request, context))
            let name = try taskName(context)
            guard let task = report.tasks.first(where: { $0.name == name }) else {
                throw APIError(.taskNotFound(report.job, name.description))
            }
            return try json(TaskView(task, withResult: true))
        }
        route(.get, "jobs/:id/tasks/:task/logs") { request, context in
            let job = try await ownedJob(request, context)
            let report = try await jobReport(job)
            let name = try taskName(context)
            guard let task = report.tasks.first(where: { $0.name == name }) else { throw APIError(.taskNotFound(report.job, name.description)) }
            let query = request.uri.queryParameters
            if query.get("follow") == "true" {
                return try await followResponse(job, task: name, ended: task.status.isTerminal || !report.status.isAlive)
            }
            let offset = try Self.byteCount(query.get("offset"), "offset") ?? 0
            return try logResponse(job, task: name, offset: offset, limit: try Self.byteCount(query.get("limit"), "limit"))
        }
        route(.get, "jobs/:id/logs") { request, context in
            let job = try await ownedJob(request, context)
            let report = try await jobReport(job)
            let names = report.tasks.map(\.name)
            let paths = try names.map { name in try runNow { try job.logPaths(task: name.description) } }
            // Task by task from the files, never the whole job's logs in memory.
            let body = ResponseBody { writer in
                for (name, pair) in zip(names, paths) {
                    let sizes = (Self.fileSize(pair.out), Self.fileSize(pair.err))
                    guard sizes.0 + sizes.1 > 0 else { continue }
                    try await writer.write(ByteBuffer(string: "[\(name)]\n"))
                    _ = try await Self.copy(pair.out, from: 0, upTo: sizes.0, to: &writer)
                    _ = try await Self.copy(pair.err, from: 0, upTo: sizes.1, to: &writer)
                    if !Self.endsWithNewline(sizes.1 > 0 ? pair.err : pair.out) { try await writer.write(ByteBuffer(string: "\n")) }
                }
                try await writer.finish(nil)
            }
            return Response(status: .ok, headers: [.contentType: "text/plain; charset=utf-8"], body: body)
        }
        for (path, action) in [("kill", JobAction.kill), ("pause", .pause), ("resume", .resume)] {
            route(.put, "jobs/:id/\(path)") { request, context in
                let job = try await ownedJob(request, context)
                try await run { try await job.act(action) }
                return try json(JobView(try await jobReport(job), withTasks: false))
            }
        }
        route(.put, "jobs/:id/priority") { request, context in
            let user = try authenticate(request)
            let job = try await ownedJob(request, context)
            let body = try await decode(PriorityBody.self, from: request, context, allowed: ["priority"])
            guard let priority = JobPriority(name: body.priority) else {
                throw APIError.badRequest("unknown priority '\(body.priority)': IDLE, LOWEST, LOW, NORMAL, HIGH or HIGHEST")
            }
            try await run { try await job.setPriority(priority, admin: user.admin) }
            return try json(JobView(try await jobReport(job), withTasks: false))
        }
        let taskActions: [(String, @Sendable (TaskInstanceName) -> JobAction)] = [
            ("kill", { .killTask($0) }), ("restart", { .restartTask($0) }),
            ("restart-in-error", { .restartInErrorTask($0) }), ("finish-in-error", { .finishInErrorTask($0) }),
        ]
        for (path, action) in taskActions {
            route(.put, "jobs/:id/tasks/:task/\(path)") { request, context in
                let job = try await ownedJob(request, context)
                let name = try taskName(context)
                try await run { try await job.act(action(name)) }
                let report = try await jobReport(job)
                guard let task = report.tasks.first(where: { $0.name == name }) else { throw APIError(.taskNotFound(job.id, name.description)) }
                return try json(TaskView(task, withResult: false))
            }
        }
        route(.get, "nodes") { request, _ in
            _ = try authenticate(request)
            return try json(await grid.nodes().map(NodeView.init))
        }
        addNodeSourceRoutes(route)
        for (path, locked) in [("lock", true), ("unlock", false)] {
            route(.put, "nodes/:node/\(path)") { request, context in
                let user = try authenticate(request)
                guard user.admin else { throw APIError(.forbidden, "needs_admin", "only an administrator may \(path) nodes") }
                guard let number = context.parameters.get("node", as: Int.self),
                      await grid.nodes().contains(where: { $0.id.rawValue == number })
                else { throw APIError.notFound("no node \(context.parameters.get("node") ?? "")") }
                try await run { try await grid.setNode(NodeID(number), locked: locked) }
                let node = await grid.nodes().first { $0.id.rawValue == number }
                return try json(node.map(NodeView.init))
            }
        }
        // Jobs whose journal rows do not read back (administrators): listed with the reason, and dropped for good.
        route(.get, "quarantine") { request, _ in
            guard try authenticate(request).admin else { throw APIError(.forbidden, "needs_admin", "the quarantine holds every user's jobs: it needs an administrator") }
            let journal = try self.journal()
            return try json(try runNow { try journal.quarantined() }.map(QuarantineView.init))
        }
        route(.delete, "quarantine/:id") { request, context in
            guard try authenticate(request).admin else { throw APIError(.forbidden, "needs_admin", "the quarantine holds every user's jobs: it needs an administrator") }
            guard let text = context.parameters.get("id"), let number = UInt64(text) else {
                throw APIError.badRequest("a job id is a number, got '\(context.parameters.get("id") ?? "")'")
            }
            let journal = try self.journal()
            guard try runNow({ try journal.dropQuarantined(JobID(number)) }) else { throw APIError.notFound("job \(number) is not in quarantine") }
            return Response(status: .noContent)
        }
        addPortalRoutes(route)
        router.add(middleware: MethodNotAllowedMiddleware(routes: declared))
        return router
    }

    // MARK: - Handlers

    private func submit(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        let user = try authenticate(request)
        let contentType = request.headers[.contentType] ?? ""
        var variables: [String: String] = [:]
        let yaml: String
        if contentType.hasPrefix("application/json") {
            let body = try await decode(SubmitBody.self, from: request, context, allowed: ["workflow", "variables"])
            yaml = body.workflow
            variables = body.variables ?? [:]
        } else if contentType.hasPrefix("application/yaml") || contentType.hasPrefix("application/x-yaml") || contentType.hasPrefix("text/yaml") {
            yaml = String(buffer: try await body(of: request))
            for item in request.uri.queryParameters[values: "var"] {
                guard let equals = item.firstIndex(of: "="), equals != item.startIndex else {
                    throw APIError.badRequest("var expects NAME=VALUE, got '\(item)'")
                }
                variables[String(item[..<equals])] = String(item[item.index(after: equals)...])
            }
        } else {
            throw APIError(.unsupportedMediaType, "unsupported_media_type", "send the workflow as application/json {\"workflow\": YAML, \"variables\": {…}} or as application/yaml")
        }
        let workflow: Workflow
        do {
            workflow = try Workflow(yaml: yaml, file: "request", variables: variables, limits: grid.settings.limits)
        } catch {
            throw APIError(.unprocessableContent, "invalid_workflow", "\(error)")
        }
        let job = try await run { try await grid.submit(workflow, variables: variables, admin: user.admin, owner: user.name) }
        metrics.submitted()
        var headers = HTTPFields()
        headers[.contentType] = "application/json"
        headers[.location] = "/api/v1/jobs/\(job.id)"
        return Response(status: .created, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: try JSONEncoder().encode(SubmitAnswer(id: job.id.rawValue)))))
    }

    private func listJobs(_ request: Request) async throws -> Response {
        let user = try authenticate(request)
        let query = request.uri.queryParameters
        var limit = 100
        if let text = query.get("limit") {
            guard let value = Int(text), (1...1000).contains(value) else { throw APIError.badRequest("limit must be 1…1000, got '\(text)'") }
            limit = value
        }
        var before: JobID?
        if let text = query.get("before") {
            guard let value = UInt64(text), value <= UInt64(Int64.max) else { throw APIError.badRequest("before must be a job id, got '\(text)'") }
            before = JobID(value)
        }
        var state: JobStatus?
        if let text = query.get("state") {
            guard let value = JobStatus(rawValue: text.uppercased()) else {
                throw APIError.badRequest("unknown state '\(text)': \(JobStatus.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            state = value
        }
        if !user.admin, let asked = query.get("owner"), asked != user.name {
            // Another user's jobs are not this user's to list: the page of an owner without jobs.
            return try json(JobPage(jobs: [], next: nil))
        }
        let owner = user.admin ? query.get("owner") : user.name
        let live = Dictionary(uniqueKeysWithValues: await grid.jobSummaries().map { ($0.job, $0) })
        var page: [JobView] = []
        var cursor = before
        var exhausted = false
        while page.count < limit && !exhausted {
            let rows: [Journal.JobRow]
            if let journal = grid.journal {
                rows = try runNow { try journal.jobs(owner: owner, limit: 200, before: cursor) }
            } else {
                rows = live.values.filter { ($0.job < (cursor ?? JobID(.max))) && (owner == nil || $0.owner == owner) }
                    .sorted { $0.job > $1.job }.prefix(200)
                    .map { Journal.JobRow(id: $0.job, name: $0.name, owner: $0.owner, status: $0.status, priority: $0.priority, submitted: grid.settings.wallClock(), ended: nil) }
            }
            exhausted = rows.count < 200
            for row in rows {
                cursor = row.id
                let view = live[row.id].map(JobView.init) ?? JobView(row)
                if let state, view.state != state.rawValue { continue }
                page.append(view)
                if page.count == limit { break }
            }
        }
        let next = page.count == limit ? page.last?.id : nil
        return try json(JobPage(jobs: page, next: next))
    }

    /// Streams a task's log as it grows until the task ends (or the client goes away).
    /// A byte offset or count from the query: a whole number ≥ 0.
    static func byteCount(_ text: String?, _ name: String) throws -> Int64? {
        guard let text else { return nil }
        guard let value = Int64(text), value >= 0 else { throw APIError.badRequest("\(name) is a byte count ≥ 0, got '\(text.prefix(40))'") }
        return value
    }

    /// Whether the file's last byte is a newline (an empty or absent file: yes).
    static func endsWithNewline(_ path: String) -> Bool {
        guard let handle = FileHandle(forReadingAtPath: path) else { return true }
        defer { try? handle.close() }
        guard let end = try? handle.seekToEnd(), end > 0 else { return true }
        try? handle.seek(toOffset: end - 1)
        return (try? handle.read(upToCount: 1))?.first == 0x0A
    }
}
