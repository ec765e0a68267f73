import Foundation
import GridServer
import Testing
import TesseraTestSupport

/// The REST API: every route in this process through Hummingbird's testing framework, with a users file; and a real
/// `tessera serve` for what only the process shows (listening on loopback, the CLI client, the config file).
@Suite("REST API", .timeLimit(.minutes(3)))
struct RESTAPITests {
    static let alice = "alice-token-0123456789"
    static let bob = "bob-token-0123456789ab"
    static let root = "root-token-0123456789a"

    static let usersFile = """
        # name role token
        alice user \(alice)
        bob   user \(bob)
        root  admin \(root)
        """

    static func submit(_ server: APIHarness, _ yaml: String, token: String = alice, variables: [String: String] = [:]) async throws -> (Int, [String: Any]) {
        try await server.object("POST", "/api/v1/jobs", token: token, json: ["workflow": yaml, "variables": variables])
    }

    static func taskState(_ job: [String: Any], _ name: String) -> String? {
        (job["tasks"] as? [[String: Any]])?.first { $0["name"] as? String == name }?["state"] as? String
    }

    @Test func everyRoute_theUsersRules_andBadInputChangingNothing() async throws {
        try await APIHarness.with("rest", users: Self.usersFile) { server in
            let mark = server.root + "/go"

            // Who may ask.
            #expect(try await server.object("GET", "/api/v1/jobs").status == 401)
            let (badStatus, bad) = try await server.object("GET", "/api/v1/jobs", token: "not-a-token-at-all")
            #expect(badStatus == 401 && bad["code"] as? String == "unauthorized" && bad["message"] is String)

            // A job that finishes: results, tasks, logs.
            let (created, answer) = try await Self.submit(server, """
                name: quick
                variables:
                  WHO: nobody
                tasks:
                  a:
                    command: [echo, "hi ${WHO}"]
                  b:
                    depends: [a]
                    function: tessera.echo
                    input: {x: 1}
                """, variables: ["WHO": "there"])
            #expect(created == 201)
            let quick = try #require(answer["id"] as? Int)
            let done = try await server.waitJob(quick, token: Self.alice) { $0["state"] as? String == "FINISHED" }
            #expect(done["owner"] as? String == "alice" && done["name"] as? String == "quick")
            #expect(Self.taskState(done, "a") == "FINISHED")
            let (_, task) = try await server.object("GET", "/api/v1/jobs/\(quick)/tasks/b", token: Self.alice)
            #expect((task["result"] as? [String: Int]) == ["x": 1])
            let (_, result) = try await server.object("GET", "/api/v1/jobs/\(quick)/result", token: Self.alice)
            #expect((result["results"] as? [String: Any])?["b"] as? [String: Int] == ["x": 1])
            let (logStatus, log) = try await server.call("GET", "/api/v1/jobs/\(quick)/tasks/a/logs", token: Self.alice)
            #expect(logStatus == 200 && String(decoding: log, as: UTF8.self) == "hi there\n")
            let (_, all) = try await server.call("GET", "/api/v1/jobs/\(quick)/logs", token: Self.alice)
            #expect(String(decoding: all, as: UTF8.self).contains("[a]\nhi there"))
            let tasks = try await server.call("GET", "/api/v1/jobs/\(quick)/tasks", token: Self.alice)
            let taskList = try JSONSerialization.jsonObject(with: tasks.body) as? [Any]
            #expect(tasks.status == 200 && taskList?.count == 2)

            // Another user does not see it; an administrator does.
            #expect(try await server.object("GET", "/api/v1/jobs/\(quick)", token: Self.bob).status == 404)
            #expect(try await server.object("PUT", "/api/v1/jobs/\(quick)/kill", token: Self.bob).status == 404)
            #expect(try await server.object("GET", "/api/v1/jobs/\(quick)", token: Self.root).status == 200)
            let (_, bobs) = try await server.object("GET", "/api/v1/jobs", token: Self.bob)
            #expect((bobs["jobs"] as? [Any])?.isEmpty == true)
            let (_, roots) = try await server.object("GET", "/api/v1/jobs?owner=alice", token: Self.root)
            #expect((roots["jobs"] as? [[String: Any]])?.first?["id"] as? Int == quick)
            let (_, sneaky) = try await server.object("GET", "/api/v1/jobs?owner=bob", token: Self.alice)
            #expect((sneaky["jobs"] as? [Any])?.isEmpty == true)

            // HIGH needs an administrator, at submission and later.
            let high = "name: high\npriority: HIGH\ntasks:\n  a:\n    function: tessera.noop\n"
            let (refused, refusal) = try await Self.submit(server, high)
            #expect(refused == 403 && refusal["code"] as? String == "needs_admin")
            #expect(try await Self.submit(server, high, token: Self.root).0 == 201)

            // A running job: pause, resume, priority, logs followed while it runs.
            let (_, running) = try await server.call(
                "POST", "/api/v1/jobs?var=MARK=\(mark)", token: Self.alice, body: Data("""
                    name: waits
                    variables:
                      MARK: none
                    tasks:
                      w:
                        script:
                          language: bash
                          code: echo started; while [ ! -f "$MARK" ]; do sleep 0.02; done; echo done
                      later:
                        depends: [w]
                        function: tessera.noop
                    """.utf8), contentType: "application/yaml")
            let waits = try #require((try JSONSerialization.jsonObject(with: running) as? [String: Any])?["id"] as? Int)
            try await server.waitJob(waits, token: Self.alice) { Self.taskState($0, "w") == "RUNNING" }
            let (_, paused) = try await server.object("PUT", "/api/v1/jobs/\(waits)/pause", token: Self.alice)
            #expect(paused["state"] as? String == "PAUSED")
            #expect(try await server.object("PUT", "/api/v1/jobs/\(waits)/pause", token: Self.alice).status == 409)
            let (_, resumed) = try await server.object("PUT", "/api/v1/jobs/\(waits)/resume", token: Self.alice)
            #expect(resumed["state"] as? String == "RUNNING")
            #expect(try await server.object("PUT", "/api/v1/jobs/\(waits)/priority", token: Self.alice, json: ["priority": "HIGH"]).status == 403)
            #expect(try await server.object("PUT", "/api/v1/jobs/\(waits)/priority", token: Self.alice, json: ["priority": "BOGUS"]).status == 400)
            #expect(try await server.object("PUT", "/api/v1/jobs/\(waits)/priority", token: Self.alice, json: ["priority": "LOW", "x": 1]).status == 400)
            let (_, raised) = try await server.object("PUT", "/api/v1/jobs/\(waits)/priority", token: Self.root, json: ["priority": "HIGH"])
            #expect(raised["priority"] as? String == "HIGH")
            async let followed = server.call("GET", "/api/v1/jobs/\(waits)/tasks/w/logs?follow=true", token: Self.alice)
            #expect(try await server.object("DELETE", "/api/v1/jobs/\(waits)", token: Self.alice).status == 409, "a running job cannot be removed")
            _ = FileManager.default.createFile(atPath: mark, contents: nil)
            let stream = try await followed
            #expect(stream.status == 200 && String(decoding: stream.body, as: UTF8.self) == "started\ndone\n")
            try await server.waitJob(waits, token: Self.alice) { $0["state"] as? String == "FINISHED" }
            // Byte ranges of a log, read from the file without loading it.
            let logs = "/api/v1/jobs/\(waits)/tasks/w/logs"
            #expect(String(decoding: try await server.call("GET", logs + "?offset=2&limit=5", token: Self.alice).body, as: UTF8.self) == "arted")
            #expect(String(decoding: try await server.call("GET", logs + "?offset=8", token: Self.alice).body, as: UTF8.self) == "done\n")
            #expect(try await server.call("GET", logs + "?offset=999", token: Self.alice).body.isEmpty)
            #expect(try await server.call("GET", logs + "?offset=-1", token: Self.alice).status == 400)
            #expect(try await server.call("GET", logs + "?limit=x", token: Self.alice).status == 400)

            // In-Error: restart, then mark finished.
            let (_, stuck) = try await Self.submit(server, """
                name: stuck
                tasks:
                  bad:
                    onTaskError: suspendTask
                    command: [bash, -c, "exit 2"]
                  after:
                    depends: [bad]
                    function: tessera.noop
                """)
            let stuckID = try #require(stuck["id"] as? Int)
            try await server.waitJob(stuckID, token: Self.alice) { $0["state"] as? String == "IN_ERROR" }
            let (_, restarted) = try await server.object("PUT", "/api/v1/jobs/\(stuckID)/tasks/bad/restart-in-error", token: Self.alice)
            #expect(restarted["name"] as? String == "bad")
            try await server.waitJob(stuckID, token: Self.alice) { Self.taskState($0, "bad") == "IN_ERROR" && ($0["tasks"] as? [[String: Any]])?.first?["executions"] as? Int == 2 }
            #expect(try await server.object("PUT", "/api/v1/jobs/\(stuckID)/tasks/bad/finish-in-error", token: Self.alice).status == 200)
            try await server.waitJob(stuckID, token: Self.alice) { $0["state"] as? String == "FINISHED" }
            #expect(try await server.object("PUT", "/api/v1/jobs/\(stuckID)/tasks/bad/kill", token: Self.alice).status == 409)

            // Kill a task, restart a running one, kill a job.
            let (_, long) = try await Self.submit(server, """
                name: long
                tasks:
                  one:
                    command: [sleep, "30"]
                  two:
                    command: [sleep, "30"]
                """)
            let longID = try #require(long["id"] as? Int)
            try await server.waitJob(longID, token: Self.alice) { Self.taskState($0, "one") == "RUNNING" && Self.taskState($0, "two") == "RUNNING" }
            let (_, killedTask) = try await server.object("PUT", "/api/v1/jobs/\(longID)/tasks/one/kill", token: Self.alice)
            #expect(killedTask["state"] as? String == "FAULTY")
            #expect(try await server.object("PUT", "/api/v1/jobs/\(longID)/tasks/two/restart", token: Self.alice).status == 200)
            let (_, killed) = try await server.object("PUT", "/api/v1/jobs/\(longID)/kill", token: Self.alice)
            #expect(killed["state"] as? String == "KILLED")

            // Remove an ended job from memory: it stays readable from the journal.
            #expect(try await server.call("DELETE", "/api/v1/jobs/\(quick)", token: Self.alice).status == 204)
            #expect(try await server.object("GET", "/api/v1/jobs/\(quick)", token: Self.alice).object["state"] as? String == "FINISHED")

            // Bad input: a clear 4xx, nothing changes.
            let (_, before) = try await server.object("GET", "/api/v1/jobs", token: Self.root)
            let count = (before["jobs"] as? [Any])?.count
            let (invalid, invalidBody) = try await Self.submit(server, "name: x\ntasks:\n  a:\n    depends: [nowhere]\n    function: tessera.noop\n")
            #expect(invalid == 422 && (invalidBody["message"] as? String)?.contains("nowhere") == true)
            #expect(try await Self.submit(server, "name: [unclosed").0 == 422)
            #expect(try await server.object("POST", "/api/v1/jobs", token: Self.alice, json: ["workflow": "name: x", "extra": true]).status == 400)
            #expect(try await server.call("POST", "/api/v1/jobs", token: Self.alice, body: Data("[1]".utf8), contentType: "application/json").status == 400)
            #expect(try await server.call("POST", "/api/v1/jobs", token: Self.alice, body: Data("x".utf8), contentType: "text/plain").status == 415)
            let huge = Data(repeating: 0x61, count: 5 * 1024 * 1024)
            #expect(try await server.call("POST", "/api/v1/jobs", token: Self.alice, body: huge, contentType: "application/yaml").status == 413)
            #expect(try await server.object("GET", "/api/v1/jobs/abc", token: Self.alice).status == 400)
            #expect(try await server.object("GET", "/api/v1/jobs/999", token: Self.alice).status == 404)
            #expect(try await server.object("GET", "/api/v1/jobs/\(quick)/tasks/nope", token: Self.alice).status == 404)
            #expect(try await server.object("GET", "/api/v1/jobs/\(quick)/tasks/a%23x", token: Self.alice).status == 404)
            #expect(try await server.object("PATCH", "/api/v1/jobs", token: Self.alice).status == 405)
            let (noRoute, noRouteBody) = try await server.object("GET", "/api/v2/nothing", token: Self.alice)
            #expect(noRoute == 404 && noRouteBody["code"] as? String == "not_found")
            #expect(try await server.object("GET", "/api/v1/jobs?limit=0", token: Self.alice).status == 400)
            #expect(try await server.object("GET", "/api/v1/jobs?state=bogus", token: Self.alice).status == 400)
            let (_, after) = try await server.object("GET", "/api/v1/jobs", token: Self.root)
            #expect((after["jobs"] as? [Any])?.count == count)

            // Nodes: everyone reads, administrators lock.
            let nodes = try await server.call("GET", "/api/v1/nodes", token: Self.bob)
            let nodeList = try JSONSerialization.jsonObject(with: nodes.body) as? [Any]
            #expect(nodes.status == 200 && nodeList?.count == 2)
            #expect(try await server.call("GET", "/api/v1/nodesources", token: Self.bob).status == 200)
            #expect(try await server.object("PUT", "/api/v1/nodes/0/lock", token: Self.alice).status == 403)
            #expect(try await server.object("PUT", "/api/v1/nodes/0/lock", token: Self.root).object["locked"] as? Bool == true)
            #expect(try await server.object("PUT", "/api/v1/nodes/0/unlock", token: Self.root).object["locked"] as? Bool == false)
            #expect(try await server.object("PUT", "/api/v1/nodes/99/lock", token: Self.root).status == 404)

            // The OpenAPI document and the metrics.
            let openapi = try await server.call("GET", "/openapi.yaml")
            #expect(openapi.status == 200 && String(decoding: openapi.body, as: UTF8.self).hasPrefix("openapi: 3"))
            // The quarantine is the administrators'.
            #expect(try await server.call("GET", "/api/v1/quarantine", token: Self.alice).status == 403)
            let (listed, quarantine) = try await server.call("GET", "/api/v1/quarantine", token: Self.root)
            #expect(listed == 200 && String(decoding: quarantine, as: UTF8.self) == "[]")
            #expect(try await server.call("DELETE", "/api/v1/quarantine/5", token: Self.root).status == 404)
            #expect(try await server.call("DELETE", "/api/v1/quarantine/5", token: Self.bob).status == 403)
            // With users, the metrics (every tenant's counts) need an administrator's token.
            #expect(try await server.call("GET", "/metrics").status == 401)
            #expect(try await server.call("GET", "/metrics", token: Self.alice).status == 403)
            let metrics = String(decoding: try await server.call("GET", "/metrics", token: Self.root).body, as: UTF8.self)
            #expect(metrics.contains("tessera_jobs{state=\"FINISHED\"}") && metrics.contains("tessera_dispatch_latency"))

        }
    }

    @Test func withoutAUsersFile_onlyLoopback_andTheCLIClientWorks() async throws {
        let root = try makeTemporaryDirectory("rest-cli")
        let refused = try await runTessera(["serve", "--data", root + "/d", "--listen", "0.0.0.0:0"], in: root)
        #expect(refused.status == 2 && refused.err.contains("loopback"))
        let server = try await ServerProcess.start(data: root + "/data")
        let workflow = root + "/wf.yaml"
        try "name: cli\nvariables:\n  WHO: nobody\ntasks:\n  a:\n    command: [echo, \"${WHO}\"]\n".write(toFile: workflow, atomically: true, encoding: .utf8)
        let submitted = try await runTessera(["submit", workflow, "--var", "WHO=you", "--wait", "--json", "--server", server.url], in: root)
        #expect(submitted.status == 0, "\(submitted.err)")
        let job = try JSONSerialization.jsonObject(with: Data(submitted.out.utf8)) as? [String: Any]
        #expect(job?["state"] as? String == "FINISHED")
        let id = try #require(job?["id"] as? Int)
        let shown = try await runTessera(["job", String(id), "--json", "--server", server.url], in: root)
        let detail = try JSONSerialization.jsonObject(with: Data(shown.out.utf8)) as? [String: Any]
        #expect(detail?["id"] as? Int == id && detail?["state"] as? String == "FINISHED" && (detail?["tasks"] as? [Any])?.count == 1)
        #expect(try await runTessera(["logs", String(id), "a", "--server", server.url], in: root).out == "you\n")
        #expect(try await runTessera(["jobs", "--server", server.url], in: root).out.contains("cli"))
        #expect(try await runTessera(["nodes", "--server", server.url], in: root).out.contains("node-1"))
        let missing = try await runTessera(["kill", "42", "--server", server.url], in: root)
        #expect(missing.status == 1 && missing.err.contains("no job 42"))
        #expect(try await runTessera(["priority", String(id), "SOMETIMES", "--server", server.url], in: root).status != 0)
        // An instance name's `#` reaches the server encoded once (it was encoded twice, and no such task was found).
        let loop = """
            name: looped
            tasks:
              l:
                script:
                  language: bash
                  code: echo "pass $TESSERA_TASK_ITERATION"; [ "$TESSERA_TASK_ITERATION" = 0 ] && echo true > "$TESSERA_RESULT_FILE" || echo false > "$TESSERA_RESULT_FILE"
                loop: {target: l}
            """
        try loop.write(toFile: root + "/loop.yaml", atomically: true, encoding: .utf8)
        let looped = try await runTessera(["submit", root + "/loop.yaml", "--wait", "--json", "--server", server.url], in: root)
        let loopJob = try #require((try JSONSerialization.jsonObject(with: Data(looped.out.utf8)) as? [String: Any])?["id"] as? Int)
        let hashed = try await runTessera(["logs", String(loopJob), "l#1", "--server", server.url], in: root)
        #expect(hashed.status == 0 && hashed.out.contains("pass 1"), "\(hashed.out)\(hashed.err)")
        // Negative numbers are named as such, not taken for unknown options.
        let negativeID = try await runTessera(["job", "-1", "--server", server.url], in: root)
        #expect(negativeID.status == 64 && negativeID.err.contains("job ids are whole numbers from 1, got '-1'"), "\(negativeID.err)")
        let negativeLimit = try await runTessera(["jobs", "--limit", "-5", "--server", server.url], in: root)
        #expect(negativeLimit.status == 64 && negativeLimit.err.contains("--limit must be 1…1000, got -5"), "\(negativeLimit.err)")
        // 127.0.0.0/8 is loopback.
        let other = try await ServerProcess.start(data: root + "/data-loopback", arguments: ["--listen", "127.0.0.2:0"])
        #expect(await other.terminate() == 0)
        #expect(await server.terminate() == 0)

        // A config file: its users file applies (tokens needed), a flag wins over it, unknown settings are refused.
        try "alice user \(Self.alice)\n".write(toFile: root + "/users", atomically: true, encoding: .utf8)
        chmod(root + "/users", 0o600)
        try "users: \(root)/users\nkeepDays: 3\nlisten: 10.0.0.1:1\n".write(toFile: root + "/serve.yaml", atomically: true, encoding: .utf8)
        let configured = try await ServerProcess.start(data: root + "/data2", arguments: ["--config", root + "/serve.yaml"])
        #expect(try await configured.call("GET", "/api/v1/jobs").status == 401)
        #expect(try await configured.call("GET", "/api/v1/jobs", token: Self.alice).status == 200)
        #expect(await configured.terminate() == 0)
        try "bogus: 1\n".write(toFile: root + "/bad.yaml", atomically: true, encoding: .utf8)
        let bad = try await runTessera(["serve", "--config", root + "/bad.yaml"], in: root)
        #expect(bad.status != 0 && bad.err.contains("unknown setting(s) bogus"))
    }
}
