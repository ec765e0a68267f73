import Foundation
import HTTPTypes
import Grid
import GridServer
import GridWorkloads
import Hummingbird
import HummingbirdTesting
import Logging
import Testing

/// The REST API and the portal in this process: a grid as `tessera serve` makes it (a journal in a data folder,
/// `nodes` local nodes, the built-in functions), its `RESTAPI` router, and Hummingbird's testing framework in
/// front of it. `.router` hands requests to the router directly; `.live` serves them on a loopback port, for the
/// tests that read a stream over a socket.
struct APIHarness: Sendable {
    let client: any TestClientProtocol
    let grid: Grid
    /// The test's own folder (the grid's data is in `root/data`).
    let root: String

    /// The process's one swift-metrics backend, bootstrapped before the first harness grid starts (swift-metrics
    /// allows one bootstrap per process), so that the grid's dispatch latency reaches `/metrics`.
    static let metrics = GridMetrics.bootstrap()

    /// Runs `body` against a fresh grid and API; the grid is shut down afterwards, whether `body` throws or not.
    static func with(
        _ name: String, users: String? = nil, nodes: Int = 2, framework: TestingSetup = .router,
        _ body: @Sendable (APIHarness) async throws -> Void
    ) async throws {
        let root = try makeTemporaryDirectory(name)
        let metrics = Self.metrics
        var settings = GridSettings()
        settings.nodes = nodes
        settings.oversubscribe = true
        settings.dataDirectory = root + "/data"
        settings.workingDirectory = root + "/data/work"
        settings.journal = true
        var logger = Logger(label: "tessera.test.api")
        logger.logLevel = .warning
        settings.logger = logger
        try FileManager.default.createDirectory(atPath: settings.workingDirectory, withIntermediateDirectories: true)
        let functions = FunctionRegistry()
        BuiltinFunctions.register(in: functions)
        let grid = try await Grid.start(settings: settings, functions: functions)
        let list = try users.map { try Users(text: $0, source: "the test's users") }
        let streams = EventBroadcaster(grid: grid, perUser: 8)
        let history = NodeHistory(grid: grid)
        let api = RESTAPI(grid: grid, users: list, metrics: metrics, history: history, streams: streams)
        var app = Application(router: api.router(), logger: logger)
        app.addServices(streams, history)
        let outcome: Result<Void, any Error>
        do {
            try await app.test(framework) { client in
                try await body(APIHarness(client: client, grid: grid, root: root))
            }
            outcome = .success(())
        } catch {
            outcome = .failure(error)
        }
        await grid.shutdown()
        try outcome.get()
    }

    /// One HTTP call: the status and the body.
    func call(_ method: String, _ path: String, token: String? = nil, body: Data? = nil, contentType: String? = nil) async throws -> (status: Int, body: Data) {
        guard let verb = HTTPRequest.Method(method) else { throw HarnessError(description: "bad method \(method)") }
        var headers = HTTPFields()
        if let token { headers[.authorization] = "Bearer \(token)" }
        if let contentType { headers[.contentType] = contentType }
        let response = try await client.execute(uri: path, method: verb, headers: headers, body: body.map { ByteBuffer(bytes: $0) })
        return (response.status.code, Data(response.body.readableBytesView))
    }

    /// A JSON object answer.
    func object(_ method: String, _ path: String, token: String? = nil, json: [String: Any]? = nil) async throws -> (status: Int, object: [String: Any]) {
        let body = try json.map { try JSONSerialization.data(withJSONObject: $0) }
        let (status, data) = try await call(method, path, token: token, body: body, contentType: body == nil ? nil : "application/json")
        return (status, (try? JSONSerialization.jsonObject(with: data) as? [String: Any]) ?? [:])
    }

    /// Reads job `id` through the API until `done` holds, once now and then once after each of the job's events
    /// (subscribed before the first read, so no change is missed; the stream ends with the job). Returns the last
    /// read: the one where `done` held, or the job as it ended.
    @discardableResult
    func waitJob(_ id: Int, token: String, until done: ([String: Any]) -> Bool) async throws -> [String: Any] {
        let events = try await grid.job(JobID(rawValue: UInt64(id))).events
        var (status, job) = try await object("GET", "/api/v1/jobs/\(id)", token: token)
        #expect(status == 200)
        if done(job) || status != 200 { return job }
        for await _ in events {
            (status, job) = try await object("GET", "/api/v1/jobs/\(id)", token: token)
            if done(job) || status != 200 { return job }
        }
        return try await object("GET", "/api/v1/jobs/\(id)", token: token).object
    }

    struct HarnessError: Error, CustomStringConvertible {
        var description: String
    }
}
