import Foundation
import Testing
import TesseraTestSupport

/// Managed node sources on a real `tessera serve`: a `processes` source whose hosts are real `tessera agent`
/// processes acquired and released with the load, a `command` source whose operator scripts fail or start nothing,
/// a kill -9 in the middle of a burst, and the REST API's answers to bad input.
@Suite("Elastic node sources: real processes", .timeLimit(.minutes(5)), .serialized)
struct ElasticSourceProcessTests {
    /// 200 short scripts (about 100 ms each) after a split.
    static func burst(_ runs: Int = 200) -> String {
        """
        name: burst
        tasks:
          split:
            script:
              language: bash
              code: "true"
            replicate: {runs: \(runs)}
          work:
            depends: [split]
            script:
              language: bash
              code: sleep 0.1; echo "$TESSERA_TASK_NAME" > "$TESSERA_RESULT_FILE"
        """
    }

    static var processesSource: [String: Any] { [
        "name": "burst",
        "infrastructure": ["type": "processes", "nodesPerHost": 1, "bootDelay": "1s", "pricePerHostHour": 1.0],
        "policy": ["type": "dynamic", "minNodes": 0, "maxNodes": 4, "refreshTime": "500ms", "minUptime": "3s", "initDelay": "0s"],
        "deploymentTimeout": "60s",
    ] }

    static func source(_ server: ServerProcess, _ name: String) async throws -> [String: Any] {
        let (status, object) = try await server.object("GET", "/api/v1/nodesources/\(name)/usage")
        #expect(status == 200, "GET /api/v1/nodesources/\(name)/usage: \(object)")
        return object
    }

    /// The source once `done` holds of it: read once the event stream opened, then after each chunk it sends (a node
    /// change, or its keep-alive every 2 s), so the test follows the server's events rather than a clock.
    static func waitSource(_ server: ServerProcess, _ name: String, until done: ([String: Any]) -> Bool) async throws -> [String: Any] {
        let chunks = server.eventChunks(path: "/api/v1/events", token: nil)
        defer { chunks.stop() }
        var last: [String: Any] = [:]
        for await _ in chunks.stream {
            last = try await source(server, name)
            if done(last) { return last }
        }
        Issue.record("node source \(name) never reached the expected state: \(last)")
        return last
    }

    /// The live agent processes of a source's hosts (a host's folder is in its command line), by host name.
    static func agents(under data: String, source: String) -> [String: [Int32]] {
        var found: [String: [Int32]] = [:]
        var parents: [Int32: Int32] = [:]
        var hostOf: [Int32: String] = [:]
        for entry in (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? [] {
            guard let pid = Int32(entry), let raw = FileManager.default.contents(atPath: "/proc/\(entry)/cmdline") else { continue }
            let arguments = raw.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
            let prefix = data + "/sources/\(source)/"
            guard arguments.count > 1, arguments[1] == "agent", let index = arguments.firstIndex(of: "--data"), index + 1 < arguments.count,
                arguments[index + 1].hasPrefix(prefix)
            else { continue }
            let stat = (try? String(contentsOfFile: "/proc/\(entry)/stat", encoding: .utf8)) ?? ""
            guard let tail = stat.split(separator: ")").last, !tail.trimmingCharacters(in: .whitespaces).hasPrefix("Z") else { continue }
            let fields = tail.split(separator: " ")
            parents[pid] = fields.count > 1 ? Int32(fields[1]) ?? 0 : 0
            hostOf[pid] = String(arguments[index + 1].dropFirst(prefix.count))
        }
        // An agent's reaper is a fork of it (same command line): keep the agents only.
        for (pid, host) in hostOf where hostOf[parents[pid] ?? 0] == nil { found[host, default: []].append(pid) }
        return found
    }

    /// Whether `pid` runs (a zombie no one reaped yet does not: it holds no resources and runs nothing).
    static func isAlive(_ pid: Int32) -> Bool {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8), let tail = stat.split(separator: ")").last else { return false }
        return !tail.trimmingCharacters(in: .whitespaces).hasPrefix("Z")
    }

    static func steps(_ source: [String: Any]) -> [String: [String]] {
        let steps = (source["usage"] as? [String: Any])?["steps"] as? [[String: Any]] ?? []
        var byHost: [String: [String]] = [:]
        for step in steps { byHost[step["host"] as? String ?? "", default: []].append(step["state"] as? String ?? "") }
        return byHost
    }

    @Test func aProcessesSource_growsWithABurst_spreadsIt_andShrinksAfterMinUptime() async throws {
        let root = try makeTemporaryDirectory("elastic-processes")
        let keys = try AgentGridTests.keyFile(root)
        let data = root + "/data"
        let server = try await ServerProcess.start(data: data, arguments: ["--cluster-bind", "127.0.0.1:0", "--key-file", keys, "--no-local-nodes"])

        // Bad input: 400 naming the field, and nothing added.
        let bad: [(body: [String: Any], field: String)] = [
            (["name": "x", "infrastructure": ["type": "processes"], "policy": ["type": "dynamic", "minNodes": 5, "maxNodes": 2]], "policy.minNodes"),
            (["name": "x", "infrastructure": ["type": "processes"], "policy": ["type": "dynamic", "loadFactor": 0]], "policy.loadFactor"),
            (["name": "x", "infrastructure": ["type": "vmware"], "policy": ["type": "static"]], "infrastructure.type"),
            (["name": "x", "infrastructure": ["type": "command", "acquire": "start {host}", "release": "stop {name}"], "policy": ["type": "static"]], "infrastructure.acquire"),
            (["name": "x", "infrastructure": ["type": "command", "acquire": "start {name}"], "policy": ["type": "static"]], "infrastructure.release"),
            (["name": "x", "infrastructure": ["type": "processes"], "policy": ["type": "dynamic", "maxNodes": "many"]], "policy.maxNodes"),
            (["name": "local", "infrastructure": ["type": "processes"], "policy": ["type": "static"]], "name"),
            (["name": "x", "infrastructure": ["type": "processes"], "policy": ["type": "static"], "color": "red"], "color"),
        ]
        for (body, field) in bad {
            let (status, answer) = try await server.object("POST", "/api/v1/nodesources", json: body)
            #expect(status == 400, "\(body): \(answer)")
            #expect(answer["field"] as? String == field, "\(body): \(answer)")
        }
        let (listed, names) = try await server.call("GET", "/api/v1/nodesources")
        #expect(listed == 200)
        let sources = ((try? JSONSerialization.jsonObject(with: names)) as? [[String: Any]] ?? []).compactMap { $0["name"] as? String }
        #expect(sources.sorted() == ["agents"], "nothing was added: \(sources)")

        let (created, view) = try await server.object("POST", "/api/v1/nodesources", json: Self.processesSource)
        #expect(created == 201, "\(view)")
        #expect(view["state"] as? String == "deployed")
        let (again, _) = try await server.object("POST", "/api/v1/nodesources", json: Self.processesSource)
        #expect(again == 409, "a second source of the same name")

        let job = try await AgentGridTests.submit(server, Self.burst())
        // While it runs, the source holds hosts; removing it without force is refused.
        let busy = try await Self.waitSource(server, "burst") { (($0["counts"] as? [String: Int])?["BUSY"] ?? 0) > 0 }
        #expect((busy["hosts"] as? [[String: Any]] ?? []).count <= 4)
        let (refused, answer) = try await server.object("DELETE", "/api/v1/nodesources/burst")
        #expect(refused == 409 && answer["code"] as? String == "node_source_busy", "\(answer)")

        let done = try await AgentGridTests.wait(server, job: job)
        #expect(done["state"] as? String == "FINISHED")
        let tasks = done["tasks"] as? [[String: Any]] ?? []
        #expect(tasks.count == 201)
        #expect(tasks.allSatisfy { $0["executions"] as? Int == 1 }, "no task failed or ran twice")
        let perHost = Dictionary(grouping: tasks.filter { $0["name"] as? String != "split" }, by: { $0["host"] as? String ?? "?" }).mapValues(\.count)

        // Idle past minUptime, the hosts go, and their processes with them.
        let after = try await Self.waitSource(server, "burst") { ($0["hosts"] as? [Any])?.isEmpty == true && $0["releasing"] as? Int == 0 }
        let usage = after["usage"] as? [String: Any] ?? [:]
        let acquisitions = usage["acquisitions"] as? [String: Int] ?? [:]
        let joined = acquisitions["joined"] ?? 0
        #expect((2...4).contains(joined), "hosts acquired for the burst: \(acquisitions)")
        #expect(perHost.count == joined, "every host that joined ran tasks: \(perHost)")
        #expect((usage["hostHours"] as? Double ?? 0) > 0)
        #expect((usage["cost"] as? Double ?? 0) >= Double(joined) / 60 - 1e-9, "each host billed at least its minute: \(usage)")
        let ready = usage["readySeconds"] as? [String: Double] ?? [:]
        #expect((ready["p50"] ?? 0) >= 1, "request to FREE takes the boot delay at least: \(ready)")
        for (host, states) in Self.steps(after) {
            #expect(states == ["DEPLOYING", "CONFIGURING", "FREE", "RELEASED"], "\(host): \(states)")
        }
        #expect(Self.agents(under: data, source: "burst").isEmpty, "no agent process left behind")

        let (removed, _) = try await server.call("DELETE", "/api/v1/nodesources/burst")
        #expect(removed == 204)
        let (gone, _) = try await server.call("GET", "/api/v1/nodesources/burst")
        #expect(gone == 404)
        #expect(await server.terminate() == 0)
    }

    @Test func killedInTheMiddleOfABurst_theRestartAdoptsOrReleasesEveryAgent_andStartsNoneTwice() async throws {
        let root = try makeTemporaryDirectory("elastic-kill")
        let keys = try AgentGridTests.keyFile(root)
        let data = root + "/data"
        let arguments = ["--cluster-bind", "127.0.0.1:0", "--key-file", keys, "--no-local-nodes"]
        let first = try await ServerProcess.start(data: data, arguments: arguments)
        var source = Self.processesSource
        source["policy"] = ["type": "dynamic", "minNodes": 0, "maxNodes": 3, "refreshTime": "500ms", "minUptime": "3s", "initDelay": "0s"]
        source["deploymentTimeout"] = "20s"
        let (created, _) = try await first.object("POST", "/api/v1/nodesources", json: source)
        #expect(created == 201)
        let job = try await AgentGridTests.submit(first, Self.burst(300))
        _ = try await Self.waitSource(first, "burst") { (($0["counts"] as? [String: Int])?["BUSY"] ?? 0) >= 2 }
        let before = Self.agents(under: data, source: "burst")
        #expect(before.count >= 2 && before.values.allSatisfy { $0.count == 1 }, "\(before)")
        await first.kill9()
        // The agents outlive the killed server.
        #expect(Self.agents(under: data, source: "burst").keys.sorted() == before.keys.sorted())

        let second = try await ServerProcess.start(data: data, arguments: arguments)
        let done = try await AgentGridTests.wait(second, job: job)
        #expect(done["state"] as? String == "FINISHED")
        let live = Self.agents(under: data, source: "burst")
        #expect(live.values.allSatisfy { $0.count == 1 }, "no host started twice: \(live)")
        for (host, pids) in live where before[host] != nil {
            #expect(pids == before[host], "host \(host) is the same process, adopted again")
        }
        let after = try await Self.waitSource(second, "burst") { ($0["hosts"] as? [Any])?.isEmpty == true && $0["releasing"] as? Int == 0 }
        let acquisitions = (after["usage"] as? [String: Any])?["acquisitions"] as? [String: Int] ?? [:]
        #expect((acquisitions["adopted"] ?? 0) >= 1, "the agents that outlived the crash were adopted again: \(acquisitions)")
        #expect(Self.agents(under: data, source: "burst").isEmpty, "no agent process left behind")
        print("after the restart: \(acquisitions)")
        for pids in before.values {
            for pid in pids { #expect(!Self.isAlive(pid), "agent \(pid) from before the crash is gone") }
        }
        #expect(await second.terminate() == 0)
    }

    @Test func aFailingAcquire_andAnAgentThatNeverJoins_areTypedFailuresWithBackOff_andTheJobRunsOnTheStaticNodes() async throws {
        let root = try makeTemporaryDirectory("elastic-fail")
        let keys = try AgentGridTests.keyFile(root)
        let server = try await ServerProcess.start(data: root + "/data", arguments: ["--cluster-bind", "127.0.0.1:0", "--key-file", keys])
        let failing: [String: Any] = [
            "name": "broken",
            "infrastructure": ["type": "command", "acquire": "echo 'quota exceeded for {name}' >&2; exit 3", "release": "true"],
            "policy": ["type": "static", "hosts": 1],
        ]
        let silent: [String: Any] = [
            "name": "silent",
            "infrastructure": ["type": "command", "acquire": "echo vm-{name}", "release": "true", "list": "true"],
            "policy": ["type": "static", "hosts": 1], "deploymentTimeout": "1s",
        ]
        for body in [failing, silent] {
            let (status, answer) = try await server.object("POST", "/api/v1/nodesources", json: body)
            #expect(status == 201, "\(answer)")
        }
        let job = try await AgentGridTests.submit(server, Self.burst(20))
        let done = try await AgentGridTests.wait(server, job: job)
        #expect(done["state"] as? String == "FINISHED")

        let broken = try await Self.waitSource(server, "broken") { ($0["failuresInRow"] as? Int ?? 0) >= 2 }
        let failure = broken["lastFailure"] as? String ?? ""
        #expect(failure.contains("status 3") && failure.contains("quota exceeded for broken-"), "\(failure)")
        #expect(((broken["usage"] as? [String: Any])?["acquisitions"] as? [String: Int])?["failed"] ?? 0 >= 2)
        let silentView = try await Self.waitSource(server, "silent") { ($0["failuresInRow"] as? Int ?? 0) >= 1 }
        #expect((silentView["lastFailure"] as? String ?? "").contains("did not join within"), "\(silentView)")
        #expect(((silentView["usage"] as? [String: Any])?["acquisitions"] as? [String: Int])?["timedOut"] ?? 0 >= 1)
        // Back-off: failures in a row wait 1 s, 2 s, 4 s… so a few seconds see only a handful of attempts.
        let steps = ((broken["usage"] as? [String: Any])?["steps"] as? [[String: Any]] ?? []).filter { $0["state"] as? String == "DEPLOYING" }
        #expect(steps.count <= 6, "attempts are spaced out: \(steps.count)")
        #expect(await server.terminate() == 0)
    }

    @Test func serveConfig_createsItsNodeSources_refusesABadOneByField_andTheJournalWinsAfterARestart() async throws {
        let root = try makeTemporaryDirectory("elastic-config")
        let keys = try AgentGridTests.keyFile(root)
        let bad = root + "/bad.yaml"
        try """
            clusterBind: 127.0.0.1:0
            keyFile: \(keys)
            nodeSources:
              - {name: cloud, infrastructure: {type: processes}, policy: {type: dynamic, minNodes: 3, maxNodes: 1}}
            """.write(toFile: bad, atomically: true, encoding: .utf8)
        let refused = try await runTessera(["serve", "--config", bad, "--data", root + "/bad-data"], in: root)
        #expect(refused.status != 0 && refused.err.contains("nodeSources[0].policy.minNodes"), "\(refused.err)")

        let good = root + "/good.yaml"
        try """
            clusterBind: 127.0.0.1:0
            keyFile: \(keys)
            nodeSources:
              - name: cloud
                rank: 20
                infrastructure: {type: processes, nodesPerHost: 2, pricePerHostHour: 0.5}
                policy: {type: tessera, minHosts: 0, maxHosts: 2, minUptime: 5s}
            """.write(toFile: good, atomically: true, encoding: .utf8)
        let first = try await ServerProcess.start(data: root + "/data", arguments: ["--config", good])
        let view = try await Self.source(first, "cloud")
        #expect(view["rank"] as? Int == 20 && view["policy"] as? String == "tessera" && view["state"] as? String == "deployed")
        // Edited at run time, then restarted with the same config: the journal's edit stays.
        var edited = (view["spec"] as? [String: Any]) ?? [:]
        edited["rank"] = 30
        let (status, answer) = try await first.object("PUT", "/api/v1/nodesources/cloud", json: edited)
        #expect(status == 200, "\(answer)")
        #expect(await first.terminate() == 0)
        let second = try await ServerProcess.start(data: root + "/data", arguments: ["--config", good])
        #expect(try await Self.source(second, "cloud")["rank"] as? Int == 30)
        let (_, listed) = try await second.call("GET", "/api/v1/nodesources")
        let names = ((try? JSONSerialization.jsonObject(with: listed)) as? [[String: Any]] ?? []).compactMap { $0["name"] as? String }
        #expect(names.filter { $0 == "cloud" }.count == 1)
        #expect(await second.terminate() == 0)
    }

    @Test func removingASourceWithForce_drainsItsRunningWork_whichFinishesWithoutAFailure() async throws {
        let root = try makeTemporaryDirectory("elastic-remove")
        let keys = try AgentGridTests.keyFile(root)
        let server = try await ServerProcess.start(data: root + "/data", arguments: ["--cluster-bind", "127.0.0.1:0", "--key-file", keys, "--nodes", "1"])
        // Rank 0, as the local node: the two share the work.
        let pinned: [String: Any] = [
            "name": "pinned", "rank": 0, "infrastructure": ["type": "processes", "nodesPerHost": 1],
            "policy": ["type": "static", "hosts": 1], "drainTimeout": "60s",
        ]
        let (created, _) = try await server.object("POST", "/api/v1/nodesources", json: pinned)
        #expect(created == 201)
        _ = try await Self.waitSource(server, "pinned") { (($0["counts"] as? [String: Int])?["FREE"] ?? 0) == 1 }
        let job = try await AgentGridTests.submit(server, """
            name: slow
            tasks:
              split:
                script: {language: bash, code: "true"}
                replicate: {runs: 4}
              work:
                depends: [split]
                script: {language: bash, code: "sleep 1"}
            """)
        _ = try await Self.waitSource(server, "pinned") { (($0["counts"] as? [String: Int])?["BUSY"] ?? 0) == 1 }
        let (refused, _) = try await server.call("DELETE", "/api/v1/nodesources/pinned")
        #expect(refused == 409)
        let (draining, view) = try await server.object("DELETE", "/api/v1/nodesources/pinned?force=true")
        #expect(draining == 202 && view["state"] as? String == "removing", "\(view)")
        let done = try await AgentGridTests.wait(server, job: job)
        #expect(done["state"] as? String == "FINISHED")
        #expect((done["tasks"] as? [[String: Any]] ?? []).allSatisfy { $0["executions"] as? Int == 1 }, "the drained host's task finished there")
        // Gone once its host is released, and its agent with it.
        let chunks = server.eventChunks(path: "/api/v1/events", token: nil)
        defer { chunks.stop() }
        var status = 200
        for await _ in chunks.stream {
            status = try await server.call("GET", "/api/v1/nodesources/pinned").status
            if status == 404 { break }
        }
        #expect(status == 404)
        #expect(Self.agents(under: root + "/data", source: "pinned").isEmpty)
        #expect(await server.terminate() == 0)
    }

    @Test func anAgentWhoseServerDiedAndNeverCameBack_stopsByItselfAfterTheOrphanTimeout() async throws {
        let root = try makeTemporaryDirectory("elastic-orphan")
        let keys = try AgentGridTests.keyFile(root)
        let server = try await ServerProcess.start(data: root + "/data", arguments: ["--cluster-bind", "127.0.0.1:0", "--key-file", keys])
        let spec: [String: Any] = [
            "name": "lonely", "infrastructure": ["type": "processes", "orphanTimeout": "2s"], "policy": ["type": "static", "hosts": 1],
        ]
        let (created, _) = try await server.object("POST", "/api/v1/nodesources", json: spec)
        #expect(created == 201)
        let up = try await Self.waitSource(server, "lonely") { (($0["counts"] as? [String: Int])?["FREE"] ?? 0) == 1 }
        let handle = (up["hosts"] as? [[String: Any]])?.first?["handle"] as? String
        let pid = try #require(handle.flatMap { Int32($0) })
        await server.kill9()
        // Nobody restarts the server: the agent notices it has no scheduler and stops (a pidfd says when).
        #expect(processIsGone(pid), "agent \(pid) stopped by itself")
        // Its reaper (a fork with the same command line) follows it.
        for helper in Self.agents(under: root + "/data", source: "lonely").values.flatMap({ $0 }) { #expect(processIsGone(helper)) }
    }

    @Test func aBurstBeyondTheLocalNodes_spillsOntoTheSourcesHosts_evenWithEveryTaskQueuedLocally() async throws {
        // The local node's queue (256 deep) takes every task at once: the source must still see them as demand, and
        // the idle hosts it brings must take them over (they are placed before the busy local node, rank or not).
        let root = try makeTemporaryDirectory("elastic-spill")
        let keys = try AgentGridTests.keyFile(root)
        let server = try await ServerProcess.start(data: root + "/data", arguments: ["--cluster-bind", "127.0.0.1:0", "--key-file", keys, "--nodes", "1"])
        let spill: [String: Any] = [
            "name": "spill", "infrastructure": ["type": "processes", "nodesPerHost": 2],
            "policy": ["type": "dynamic", "minNodes": 0, "maxNodes": 4, "refreshTime": "500ms", "minUptime": "30s", "initDelay": "0s"],
        ]
        let (created, _) = try await server.object("POST", "/api/v1/nodesources", json: spill)
        #expect(created == 201)
        let job = try await AgentGridTests.submit(server, Self.burst(60).replacingOccurrences(of: "sleep 0.1", with: "sleep 0.3"))
        let done = try await AgentGridTests.wait(server, job: job)
        #expect(done["state"] as? String == "FINISHED")
        let tasks = done["tasks"] as? [[String: Any]] ?? []
        let hosts = Set(tasks.compactMap { $0["host"] as? String })
        #expect(hosts.contains { $0.hasPrefix("127.") }, "the source's hosts took part of the burst: \(hosts)")
        #expect(tasks.allSatisfy { $0["executions"] as? Int == 1 })
        #expect(await server.terminate() == 0)
    }
    @Test func aCommandSource_startsAgentsOnLoopbackAddresses_throughItsScripts_andReleasesThemAll() async throws {
        // The operator's scripts of a `command` source, on this machine: each host is an agent on 127.0.2.N started
        // in a session of its own, released by its pid, listed from the scripts' own records.
        let root = try makeTemporaryDirectory("elastic-loopback")
        let keys = try AgentGridTests.keyFile(root)
        let binary = try #require(tesseraBinary)
        let acquire = """
            #!/bin/sh
            # acquire NAME JOIN KEYFILE WORKERS: the host's number picks its address
            set -e
            n=${1##*-}
            mkdir -p \(root)/hosts/$1
            setsid \(binary) agent --join "$2" --bind 127.0.2.$((n + 1)):0 --key-file "$3" --workers "$4" --no-bind \\
              --data \(root)/agent-$1 </dev/null >\(root)/agent-$1.log 2>&1 &
            echo $! > \(root)/hosts/$1/pid
            echo "pid-$!"
            """
        let release = """
            #!/bin/sh
            [ -f \(root)/hosts/$1/pid ] || exit 0
            pid=$(cat \(root)/hosts/$1/pid)
            kill -TERM "$pid" 2>/dev/null || true
            for i in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
            kill -KILL "$pid" 2>/dev/null || true
            rm -rf \(root)/hosts/$1
            """
        let list = """
            #!/bin/sh
            for host in \(root)/hosts/*; do
              [ -f "$host/pid" ] && kill -0 "$(cat "$host/pid")" 2>/dev/null && echo "$(basename "$host") pid-$(cat "$host/pid")"
            done
            exit 0
            """
        for (name, text) in [("acquire", acquire), ("release", release), ("list", list)] {
            try text.write(toFile: "\(root)/\(name).sh", atomically: true, encoding: .utf8)
            chmod("\(root)/\(name).sh", 0o755)
        }
        let server = try await ServerProcess.start(data: root + "/data", arguments: ["--cluster-bind", "127.0.0.1:0", "--key-file", keys, "--no-local-nodes"])
        let spec: [String: Any] = [
            "name": "vms",
            "infrastructure": [
                "type": "command", "nodesPerHost": 1, "pricePerHostHour": 2.0, "listInterval": "2s",
                "acquire": "\(root)/acquire.sh {name} {join} {keyFile} {nodesPerHost}", "release": "\(root)/release.sh {name}", "list": "\(root)/list.sh",
            ],
            "policy": ["type": "dynamic", "minNodes": 0, "maxNodes": 3, "refreshTime": "500ms", "minUptime": "3s", "initDelay": "0s"],
            "deploymentTimeout": "30s",
        ]
        let (created, answer) = try await server.object("POST", "/api/v1/nodesources", json: spec)
        #expect(created == 201, "\(answer)")
        let job = try await AgentGridTests.submit(server, Self.burst(90))
        let done = try await AgentGridTests.wait(server, job: job)
        #expect(done["state"] as? String == "FINISHED")
        let hosts = Set((done["tasks"] as? [[String: Any]] ?? []).compactMap { $0["host"] as? String })
        #expect(hosts.count >= 2 && hosts.allSatisfy { $0.hasPrefix("127.0.2.") }, "the burst ran on the scripts' hosts: \(hosts)")
        let after = try await Self.waitSource(server, "vms") { ($0["hosts"] as? [Any])?.isEmpty == true && $0["releasing"] as? Int == 0 }
        let usage = after["usage"] as? [String: Any] ?? [:]
        #expect((2...3).contains((usage["acquisitions"] as? [String: Int])?["joined"] ?? 0), "\(usage)")
        #expect(((usage["acquisitions"] as? [String: Int])?["evicted"] ?? 0) == 0, "the list showed every host it held")
        #expect(((try? FileManager.default.contentsOfDirectory(atPath: root + "/hosts")) ?? []).isEmpty, "every host was released")
        let left = ((try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []).filter { entry in
            guard let raw = FileManager.default.contents(atPath: "/proc/\(entry)/cmdline"), let pid = Int32(entry), Self.isAlive(pid) else { return false }
            return String(decoding: raw, as: UTF8.self).contains(root + "/agent-")
        }
        #expect(left.isEmpty, "no agent process left: \(left)")
        #expect(await server.terminate() == 0)
    }
}
