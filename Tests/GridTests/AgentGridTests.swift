import Foundation
import Testing
import TesseraTestSupport

/// One grid across processes: a real `tessera serve` that starts real `tessera agent` processes on loopback
/// addresses (127.0.0.2, …), every remote call over the authenticated link.
@Suite("Agents: one grid across processes", .timeLimit(.minutes(4)), .serialized)
struct AgentGridTests {
    /// A workflow of 2,003 tasks: 2,000 replicas with inputs and parents' results, scripts at both ends.
    static let spread = """
        name: spread
        tasks:
          split:
            script:
              language: bash
              code: echo 3 > "$TESSERA_RESULT_FILE"
            replicate: {runs: 2000}
          work:
            depends: [split]
            function: tessera.parents
          join:
            depends: [work]
            function: tessera.echo
            input: {done: true}
          report:
            depends: [join]
            script:
              language: bash
              code: |
                echo "report from $TESSERA_TASK_NAME"
                echo '{"ok": 1}' > "$TESSERA_RESULT_FILE"
        """

    static func keyFile(_ root: String) throws -> String {
        var random = SystemRandomNumberGenerator()
        let hex = (0..<32).map { _ in String(format: "%02x", UInt8.random(in: 0...255, using: &random)) }.joined()
        let path = root + "/keys"
        try "1 \(hex)\n".write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// The nodes as the API shows them.
    static func nodes(_ server: ServerProcess) async throws -> [[String: Any]] {
        let (status, body) = try await server.call("GET", "/api/v1/nodes")
        #expect(status == 200)
        return (try JSONSerialization.jsonObject(with: body) as? [[String: Any]]) ?? []
    }

    /// The nodes once `done` holds of them: the server's event stream says when they change.
    static func waitNodes(_ server: ServerProcess, until done: ([[String: Any]]) -> Bool) async throws -> [[String: Any]] {
        let events = ServerEvents(url: server.url, seconds: 60)
        defer { events.close() }
        _ = await events.opened()
        let current = try await nodes(server)
        if done(current) { return current }
        if let nodes = await events.first("nodes", as: [[String: Any]].self, where: done) { return nodes }
        let last = try await nodes(server)
        Issue.record("nodes never reached the expected state: \(last)")
        return last
    }

    static func hosts(_ nodes: [[String: Any]], state: String? = nil) -> Set<String> {
        Set(nodes.filter { state == nil || $0["state"] as? String == state }.compactMap { $0["host"] as? String })
    }

    static func submit(_ server: ServerProcess, _ yaml: String) async throws -> Int {
        let (status, answer) = try await server.object("POST", "/api/v1/jobs", json: ["workflow": yaml])
        #expect(status == 201)
        return try #require(answer["id"] as? Int)
    }

    static func wait(_ server: ServerProcess, job: Int, until done: ([String: Any]) -> Bool = { ["FINISHED", "FAILED", "CANCELED", "KILLED"].contains($0["state"] as? String ?? "") }) async throws -> [String: Any] {
        // The job's changes come from the server's event stream (opened before the first look, so none is missed).
        let events = ServerEvents(url: server.url)
        defer { events.close() }
        _ = await events.opened()
        let (status, current) = try await server.object("GET", "/api/v1/jobs/\(job)")
        #expect(status == 200)
        if done(current) { return current }
        if await events.first("job", as: [String: Any].self, where: { $0["id"] as? Int == job && done($0) }) == nil {
            Issue.record("job \(job) never reached the expected state")
        }
        return try await server.object("GET", "/api/v1/jobs/\(job)").object
    }

    static func results(_ server: ServerProcess, job: Int) async throws -> [String: String] {
        let (_, body) = try await server.object("GET", "/api/v1/jobs/\(job)/result")
        let results = body["results"] as? [String: Any] ?? [:]
        return results.mapValues { value in
            (try? JSONSerialization.data(withJSONObject: value, options: [.sortedKeys, .fragmentsAllowed])).map { String(decoding: $0, as: UTF8.self) } ?? ""
        }
    }

    /// The pids of the agent processes a server started (their data directories are under its own).
    static func agentPIDs(under data: String) -> [Int32: String] {
        var found: [Int32: String] = [:]
        var parents: [Int32: Int32] = [:]
        for entry in (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? [] {
            guard let pid = Int32(entry), let raw = FileManager.default.contents(atPath: "/proc/\(entry)/cmdline") else { continue }
            let arguments = raw.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
            guard arguments.count > 1, arguments[1] == "agent", let index = arguments.firstIndex(of: "--data"), index + 1 < arguments.count,
                arguments[index + 1].hasPrefix(data + "/agents/")
            else { continue }
            let bind = arguments.firstIndex(of: "--bind").map { arguments[$0 + 1] } ?? ""
            found[pid] = bind
            let stat = (try? String(contentsOfFile: "/proc/\(entry)/stat", encoding: .utf8)) ?? ""
            let fields = stat.split(separator: ")").last?.split(separator: " ") ?? []
            parents[pid] = fields.count > 1 ? Int32(fields[1]) ?? 0 : 0
        }
        // An agent's reaper is a fork of it (same command line): keep the agents only.
        return found.filter { found[parents[$0.key] ?? 0] == nil }
    }

    @Test func aWorkflowSpreadsOverEveryAgent_withTheResultsOfASingleHost() async throws {
        let root = try makeTemporaryDirectory("agents-spread")
        let keys = try Self.keyFile(root)
        let server = try await ServerProcess.start(
            data: root + "/data", arguments: ["--agents", "3", "--agent-workers", "1", "--no-local-nodes", "--key-file", keys])
        let nodes = try await Self.waitNodes(server) { Self.hosts($0, state: "FREE").count == 3 }
        #expect(nodes.allSatisfy { ($0["host"] as? String)?.hasPrefix("127.0.0.") == true && $0["source"] as? String == "agents" })
        #expect(Set(nodes.compactMap { ($0["host"] as? String)?.split(separator: ":").first.map(String.init) }) == ["127.0.0.2", "127.0.0.3", "127.0.0.4"])

        let job = try await Self.submit(server, Self.spread)
        let done = try await Self.wait(server, job: job)
        #expect(done["state"] as? String == "FINISHED")
        let tasks = done["tasks"] as? [[String: Any]] ?? []
        #expect(tasks.count == 2003)
        let perHost = Dictionary(grouping: tasks, by: { $0["host"] as? String ?? "?" }).mapValues(\.count)
        #expect(Set(perHost.keys) == Self.hosts(nodes), "every agent ran tasks: \(perHost)")
        #expect(perHost.values.allSatisfy { $0 >= 100 }, "work spread over the agents: \(perHost)")
        #expect(tasks.allSatisfy { $0["executions"] as? Int == 1 })
        let (_, logs) = try await server.call("GET", "/api/v1/jobs/\(job)/tasks/report/logs")
        #expect(String(decoding: logs, as: UTF8.self) == "report from report\n", "the agent's log reached the server")

        // The same workflow on one host (a server with local nodes only) gives the same results.
        let single = try await ServerProcess.start(data: root + "/single")
        let reference = try await Self.submit(single, Self.spread)
        let referenceDone = try await Self.wait(single, job: reference)
        #expect(referenceDone["state"] as? String == "FINISHED")
        let remote = try await Self.results(server, job: job)
        let local = try await Self.results(single, job: reference)
        #expect(remote.count == 2003 && remote == local)
        #expect(await single.terminate() == 0)
        #expect(await server.terminate() == 0)
        #expect(Self.agentPIDs(under: root + "/data").isEmpty, "the agents stopped with the server")
    }

    @Test func killingAnAgent_rerunsItsWorkElsewhere_onceEach_andItsRestartIsANewNode() async throws {
        let root = try makeTemporaryDirectory("agents-kill")
        let keys = try Self.keyFile(root)
        let marks = root + "/marks"
        try FileManager.default.createDirectory(atPath: marks, withIntermediateDirectories: true)
        let server = try await ServerProcess.start(
            data: root + "/data", arguments: ["--agents", "3", "--agent-workers", "2", "--no-local-nodes", "--key-file", keys])
        let before = try await Self.waitNodes(server) { Self.hosts($0, state: "FREE").count == 3 }
        // 300 scripts of about 250 ms, each leaving a mark file named after itself when it completes: long enough
        // that the killed agent's reaper (a process of its own, scheduled like any other on a loaded CI machine) kills
        // its scripts well before they could complete.
        let job = try await Self.submit(server, """
            name: marks
            tasks:
              start:
                function: tessera.noop
                replicate: {runs: 300}
              step:
                depends: [start]
                script:
                  language: bash
                  code: sleep 0.25; date +%s%N >> "\(marks)/$TESSERA_TASK_NAME"
              end:
                depends: [step]
                function: tessera.noop
            """)
        // Kill one agent once a third of the steps are done.
        _ = try await Self.wait(server, job: job) { (($0["progress"] as? [String: Any])?["done"] as? Int ?? 0) >= 100 }
        let agents = Self.agentPIDs(under: root + "/data")
        #expect(agents.count == 3)
        let (victim, victimBind) = try #require(agents.min { $0.key < $1.key })
        kill(victim, SIGKILL)
        let killedAt = Date().timeIntervalSince1970
        let victimIP = String(victimBind.split(separator: ":")[0])

        let done = try await Self.wait(server, job: job)
        #expect(done["state"] as? String == "FINISHED")
        let tasks = done["tasks"] as? [[String: Any]] ?? []
        #expect(tasks.count == 302 && tasks.allSatisfy { $0["state"] as? String == "FINISHED" })
        let rerun = tasks.filter { ($0["executions"] as? Int ?? 0) > 1 }
        #expect(rerun.count <= 4, "only what ran on the killed agent's 2 nodes ran again: \(rerun.count)")
        // Every step completed; one that completed twice did so once before the kill (done, but its end not reported
        // yet: at least once) and once after it, elsewhere. None completed after the kill on the killed agent: its
        // scripts died with it (the reaper), so no orphan finished its work behind the grid's back.
        let written = try FileManager.default.contentsOfDirectory(atPath: marks)
        #expect(written.count == 300)
        var twice = 0
        for name in written {
            let times = ((try? String(contentsOfFile: marks + "/" + name, encoding: .utf8))?.split(separator: "\n") ?? [])
                .compactMap { Double($0).map { $0 / 1e9 } }.sorted()
            #expect((1...2).contains(times.count), "\(name) completed \(times.count) times")
            if times.count == 2 {
                twice += 1
                // Within 0.15 s of the kill: the reaper's own latency; an orphan would complete up to 0.25 s after it.
                #expect(times[0] < killedAt + 0.15, "\(name)'s first completion came after the kill: an orphan")
            }
        }
        #expect(twice <= 4)
        // The killed agent's nodes are LOST; its restart (a new process on the same address) is a new host with new nodes.
        let after = try await Self.waitNodes(server) { nodes in
            Self.hosts(nodes, state: "FREE").count == 3 && nodes.contains { $0["state"] as? String == "LOST" }
        }
        let lostHosts = Self.hosts(after, state: "LOST")
        #expect(lostHosts.count == 1 && lostHosts.first?.hasPrefix(victimIP + ":") == true)
        let newHosts = Self.hosts(after, state: "FREE").subtracting(Self.hosts(before))
        #expect(newHosts.count == 1 && newHosts.first?.hasPrefix(victimIP + ":") == true)
        let oldIDs = Set(before.compactMap { $0["id"] as? Int })
        #expect(after.filter { newHosts.contains($0["host"] as? String ?? "") }.allSatisfy { !oldIDs.contains($0["id"] as? Int ?? -1) })

        // The new node receives work.
        let second = try await Self.submit(server, Self.spread)
        let secondDone = try await Self.wait(server, job: second)
        #expect(secondDone["state"] as? String == "FINISHED")
        let ranOn = Set((secondDone["tasks"] as? [[String: Any]] ?? []).compactMap { $0["host"] as? String })
        #expect(ranOn.isSuperset(of: newHosts))
        #expect(await server.terminate() == 0)
    }

    @Test func anAgentWithAWrongKey_isRefusedAndCounted_andGarbageOnAnAgentsPortClosesOnlyThatConnection() async throws {
        let root = try makeTemporaryDirectory("agents-bad")
        let keys = try Self.keyFile(root)
        let server = try await ServerProcess.start(
            data: root + "/data", arguments: ["--agents", "2", "--agent-workers", "1", "--no-local-nodes", "--key-file", keys, "--cluster-bind", "127.0.0.1:0"])
        let nodes = try await Self.waitNodes(server) { Self.hosts($0, state: "FREE").count == 2 }
        // The scheduler's cluster address: the agents joined through it.
        let cluster = try #require(Self.clusterAddress(root + "/data"))

        // An agent with another key: its packets are refused (and counted), it never becomes a node.
        let wrongKeys = root + "/wrong"
        try "1 \(String(repeating: "ab", count: 32))\n".write(toFile: wrongKeys, atomically: true, encoding: .utf8)
        let intruder = Process()
        intruder.executableURL = URL(fileURLWithPath: try #require(tesseraBinary))
        intruder.arguments = [
            "agent", "--join", cluster, "--bind", "127.0.0.9:0", "--key-file", wrongKeys, "--workers", "1", "--no-bind", "--data",
            root + "/intruder", "--join-timeout", "3",
        ]
        intruder.standardOutput = FileHandle.nullDevice
        let intruderLog = root + "/intruder.stderr"
        _ = FileManager.default.createFile(atPath: intruderLog, contents: nil)
        intruder.standardError = try #require(FileHandle(forWritingAtPath: intruderLog))
        let intruderExit = ProcessExit(intruder)
        try intruder.run()
        defer { if intruder.isRunning { kill(intruder.processIdentifier, SIGKILL) } }
        let deadline = ContinuousClock.now + .seconds(90)
        var refused = 0
        while refused == 0 && ContinuousClock.now < deadline {
            // Each scrape is a real request; the intruder keeps knocking meanwhile.
            let (_, metrics) = try await server.call("GET", "/metrics")
            refused = Self.counter(String(decoding: metrics, as: UTF8.self), "cluster_packets_rejected", label: "reason=\"badMAC\"")
        }
        #expect(refused > 0, "the wrong key's packets are counted as refused")
        // Unanswered, the intruder gives up and says why, instead of waiting for ever.
        #expect(await intruderExit.status() == 3)
        let said = (try? String(contentsOfFile: intruderLog, encoding: .utf8)) ?? ""
        #expect(said.contains("the key file or --cluster-id probably differs"), "\(said)")

        // Garbage and an oversized frame on an agent's cluster port close those connections only.
        let agentHost = try #require(nodes.first?["host"] as? String)
        let parts = agentHost.split(separator: ":")
        let port = try #require(UInt16(parts[1]))
        #expect(Self.sendRaw(host: String(parts[0]), port: port, bytes: [0, 0, 0, 8] + Array("TLgarbag".utf8)))
        #expect(Self.sendRaw(host: String(parts[0]), port: port, bytes: [0x7F, 0xFF, 0xFF, 0xFF]))

        // The grid still works on both agents, and the intruder is no node.
        let job = try await Self.submit(server, Self.spread)
        let done = try await Self.wait(server, job: job)
        #expect(done["state"] as? String == "FINISHED")
        let after = try await Self.nodes(server)
        #expect(Self.hosts(after) == Self.hosts(nodes) && !Self.hosts(after).contains { $0.hasPrefix("127.0.0.9") })
        #expect(await server.terminate() == 0)
    }

    @Test func anIdleHost_takesQueuedWorkFromALoadedOne() async throws {
        let root = try makeTemporaryDirectory("agents-steal")
        let keys = try Self.keyFile(root)
        let server = try await ServerProcess.start(
            data: root + "/data", arguments: ["--agents", "2", "--agent-workers", "1", "--no-local-nodes", "--key-file", keys])
        let nodes = try await Self.waitNodes(server) { Self.hosts($0, state: "FREE").count == 2 }
        // Skew: one host is locked while 120 tasks of 20 ms are queued, so all of them wait on the other one.
        let locked = try #require(nodes.first { $0["state"] as? String == "FREE" })
        let lockedID = try #require(locked["id"] as? Int)
        let lockedHost = try #require(locked["host"] as? String)
        #expect(try await server.call("PUT", "/api/v1/nodes/\(lockedID)/lock").status == 200)
        let job = try await Self.submit(server, """
            name: skewed
            tasks:
              start:
                function: tessera.noop
                replicate: {runs: 120}
              work:
                depends: [start]
                function: bench.sleep
                input: 20
            """)
        _ = try await Self.waitNodes(server) { nodes in
            nodes.contains { $0["host"] as? String != lockedHost && ($0["running"] as? Int ?? 0) > 60 }
        }
        // Unlocked, the idle host gets half of the other's queue, and again when it runs out.
        #expect(try await server.call("PUT", "/api/v1/nodes/\(lockedID)/unlock").status == 200)
        let done = try await Self.wait(server, job: job)
        #expect(done["state"] as? String == "FINISHED")
        let work = (done["tasks"] as? [[String: Any]] ?? []).filter { ($0["name"] as? String)?.hasPrefix("work") == true }
        let onUnlocked = work.filter { $0["host"] as? String == lockedHost }.count
        #expect(work.count == 120 && onUnlocked >= 30, "the idle host took queued work: \(onUnlocked) of 120")
        #expect(work.allSatisfy { $0["executions"] as? Int == 1 }, "a released task is not an execution")
        #expect(await server.terminate() == 0)
    }

    @Test func aLargeResult_travelsBetweenHostsAsASharedFile() async throws {
        let root = try makeTemporaryDirectory("agents-large")
        let keys = try Self.keyFile(root)
        let server = try await ServerProcess.start(
            data: root + "/data", arguments: ["--agents", "2", "--agent-workers", "1", "--no-local-nodes", "--key-file", keys])
        _ = try await Self.waitNodes(server) { Self.hosts($0, state: "FREE").count == 2 }
        let job = try await Self.submit(server, """
            name: large
            tasks:
              make:
                script:
                  language: python3
                  code: |
                    import json, os
                    json.dump({"data": "x" * 3000000}, open(os.environ["TESSERA_RESULT_FILE"], "w"))
              use:
                depends: [make]
                function: tessera.parents
            """)
        let done = try await Self.wait(server, job: job)
        #expect(done["state"] as? String == "FINISHED")
        let (_, body) = try await server.object("GET", "/api/v1/jobs/\(job)/result")
        let results = body["results"] as? [String: Any] ?? [:]
        #expect(((results["make"] as? [String: Any])?["data"] as? String)?.count == 3_000_000)
        #expect((((results["use"] as? [Any])?.first as? [String: Any])?["data"] as? String)?.count == 3_000_000)
        let files = (try? FileManager.default.contentsOfDirectory(atPath: root + "/data/shared/results")) ?? []
        #expect(!files.isEmpty, "the value went through the shared directory")
        #expect(await server.terminate() == 0)
    }

    /// The cluster address a server printed in its agents' command lines.
    static func clusterAddress(_ data: String) -> String? {
        for entry in (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? [] {
            guard Int32(entry) != nil, let raw = FileManager.default.contents(atPath: "/proc/\(entry)/cmdline") else { continue }
            let arguments = raw.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
            guard arguments.count > 3, arguments[1] == "agent", arguments.contains(where: { $0.hasPrefix(data + "/agents/") }),
                let index = arguments.firstIndex(of: "--join")
            else { continue }
            return arguments[index + 1]
        }
        return nil
    }

    /// The sum of a Prometheus counter's samples whose labels contain `label`.
    static func counter(_ text: String, _ name: String, label: String) -> Int {
        text.split(separator: "\n").filter { $0.hasPrefix(name) && $0.contains(label) }
            .compactMap { $0.split(separator: " ").last.flatMap { Double($0) } }.reduce(0) { $0 + Int($1) }
    }

    /// Writes bytes to a TCP port and reports whether the peer then closed the connection.
    static func sendRaw(host: String, port: UInt16, bytes: [UInt8]) -> Bool {
        guard let fd = connectTCP(host: host, port: port) else { return false }
        defer { close(fd) }
        _ = bytes.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, 0) }
        var timeout = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var buffer = [UInt8](repeating: 0, count: 64)
        let read = recv(fd, &buffer, buffer.count, 0)
        return read == 0 || (read < 0 && errno == ECONNRESET)
    }
}
