import Dispatch
import Foundation
import GridServer
import HTTPTypes
import HummingbirdTesting
import Testing
import TesseraTestSupport

/// The endpoints the portal uses, served in this process on a loopback port (Hummingbird's live testing framework)
/// with three users; the page itself is tested in a real browser by tools/portal-check.
@Suite("Portal endpoints", .timeLimit(.minutes(2)))
struct PortalTests {
    /// Reads a server-sent event stream over a plain socket (on a Dispatch thread, not the cooperative pool) until
    /// `done` holds of what arrived, or 20 s passed; returns what arrived.
    static func readEvents(
        _ url: String, path: String, token: String, opened: (@Sendable () -> Void)? = nil, until done: @escaping @Sendable (String) -> Bool
    ) async -> String {
        let address = url.replacingOccurrences(of: "http://", with: "")
        let parts = address.split(separator: ":")
        let host = String(parts[0])
        let port = UInt16(parts[1]) ?? 0
        return await withCheckedContinuation { continuation in
            DispatchQueue.global().async {
                guard let fd = connectTCP(host: host, port: port) else { return continuation.resume(returning: "") }
                defer { close(fd) }
                let request = "GET \(path) HTTP/1.1\r\nHost: \(address)\r\nAuthorization: Bearer \(token)\r\nAccept: text/event-stream\r\n\r\n"
                _ = Array(request.utf8).withUnsafeBytes { send(fd, $0.baseAddress, $0.count, 0) }
                var timeout = timeval(tv_sec: 1, tv_usec: 0)
                setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
                var received: [UInt8] = []
                var announced = false
                var buffer = [UInt8](repeating: 0, count: 65_536)
                let deadline = Date().addingTimeInterval(20)
                while Date() < deadline {
                    let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
                    if count == 0 { break }
                    if count > 0 { received += buffer[0..<count] }
                    let text = String(decoding: received, as: UTF8.self)
                    if !announced && text.contains("retry:") {
                        announced = true
                        opened?()
                    }
                    if done(text) { break }
                }
                continuation.resume(returning: String(decoding: received, as: UTF8.self))
            }
        }
    }

    @Test func thePage_whoAmI_aJobsGraph_theNodesHistory_andLiveEvents() async throws {
        try await APIHarness.with("portal", users: RESTAPITests.usersFile, framework: .live) { server in
            let url = "http://127.0.0.1:\(try #require(server.client.port))"
            let alice = RESTAPITests.alice
            let bob = RESTAPITests.bob

            // The page and its assets, without a token (they hold no data); `/` leads to it.
            let (pageStatus, page) = try await server.call("GET", "/portal")
            #expect(pageStatus == 200 && String(decoding: page, as: UTF8.self).contains("<title>Tessera</title>"))
            let (scriptStatus, script) = try await server.call("GET", "/portal/app.js")
            #expect(scriptStatus == 200 && String(decoding: script, as: UTF8.self).contains("function follow("))
            #expect(try await server.call("GET", "/portal/app.css").status == 200)
            let home = try await server.client.execute(uri: "/", method: .get)
            #expect(home.status == .found && home.headers[.location] == "/portal", "the root leads to the page")
            #expect(!String(decoding: page + script, as: UTF8.self).contains("https://"), "no asset from the internet")

            // Who am I.
            #expect(try await server.call("GET", "/api/v1/me").status == 401)
            let (_, me) = try await server.object("GET", "/api/v1/me", token: alice)
            #expect(me["name"] as? String == "alice" && me["admin"] as? Bool == false)
            let (_, root) = try await server.object("GET", "/api/v1/me", token: RESTAPITests.root)
            #expect(root["admin"] as? Bool == true)

            // Live events: a job submitted while the stream is open shows up with its progress until FINISHED.
            let (opening, open) = AsyncStream<Void>.makeStream()
            async let stream = Self.readEvents(url, path: "/api/v1/events", token: alice, opened: { open.yield() }) { text in
                text.contains("\"state\":\"FINISHED\"")
            }
            for await _ in opening { break }  // the stream is open (its first line came) before the job is submitted
            let (created, answer) = try await RESTAPITests.submit(server, """
                name: graph
                variables:
                  WHO: alice
                tasks:
                  split:
                    function: tessera.noop
                    replicate: {runs: 50}
                  work:
                    depends: [split]
                    function: tessera.echo
                    input: 1
                """)
            #expect(created == 201)
            let id = try #require(answer["id"] as? Int)
            let events = await stream
            #expect(events.contains("text/event-stream"))
            #expect(events.contains("event: job\ndata: {") && events.contains("\"id\":\(id)") && events.contains("\"state\":\"FINISHED\""))
            #expect(events.contains("\"progress\":{"))
            // Bob's stream says nothing of alice's job.
            let bobs = await Self.readEvents(url, path: "/api/v1/events", token: bob) { $0.contains("retry:") }
            #expect(!bobs.contains("event: job"), "bob hears nothing of alice's job")
            // A job's task events; another user's job is not found.
            let tasks = await Self.readEvents(url, path: "/api/v1/events?job=\(id)", token: alice) { $0.contains("retry:") }
            #expect(tasks.contains("200 OK"))
            #expect(await Self.readEvents(url, path: "/api/v1/events?job=\(id)", token: bob) { $0.contains("\r\n\r\n") }.contains("404"))

            // The graph: one box per task, instances counted by state.
            let (graphStatus, graph) = try await server.object("GET", "/api/v1/jobs/\(id)/graph", token: alice)
            #expect(graphStatus == 200)
            let boxes = graph["tasks"] as? [[String: Any]] ?? []
            #expect(boxes.map { $0["name"] as? String } == ["split", "work"])
            #expect(boxes.first?["flow"] as? String == "replicate" && (boxes.last?["depends"] as? [String]) == ["split"])
            #expect((boxes.last?["instances"] as? [String: Int])?["FINISHED"] == 50)
            #expect((graph["variables"] as? [String: String]) == ["WHO": "alice"])
            #expect(try await server.object("GET", "/api/v1/jobs/\(id)/graph", token: bob).status == 404)

            // The job list has the times, and the nodes' history its first sample.
            let (_, list) = try await server.object("GET", "/api/v1/jobs", token: alice)
            let listed = (list["jobs"] as? [[String: Any]])?.first { $0["id"] as? Int == id }
            #expect(listed?["submitted"] is String && listed?["started"] is String && listed?["ended"] is String)
            let (_, history) = try await server.object("GET", "/api/v1/nodes/history", token: alice)
            let samples = history["samples"] as? [[String: Any]] ?? []
            #expect(history["interval"] as? Double == 5 && !samples.isEmpty)
            #expect((samples.first?["counts"] as? [String: Int])?.values.reduce(0, +) == 2)
        }
    }
}
