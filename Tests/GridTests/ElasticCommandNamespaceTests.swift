import Foundation
import Synchronization
import Testing
import TesseraTestSupport

/// A `command` node source whose operator scripts start agents as real hosts in network namespaces (root only:
/// TESSERA_NETNS_TESTS=1, which `.ci/run` sets): the server in `tse1` (10.80.0.1), hosts acquired in `tse2`…`tse4`
/// by `ip netns exec … setsid tessera agent`, released by pid, listed from the scripts' own records.
@Suite("Elastic node sources: a command source over network namespaces", .serialized, .timeLimit(.minutes(3)),
       .enabled(if: ProcessInfo.processInfo.environment["TESSERA_NETNS_TESTS"] == "1", "set TESSERA_NETNS_TESTS=1 (root) to run the network-namespace tests"))
struct ElasticCommandNamespaceTests {
    static let prefix = "tse"
    static let net = "10.80.0"

    static func netns(_ arguments: [String]) {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let process = Process()
        process.executableURL = root.appendingPathComponent("tools/netns")
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(["NETNS_PREFIX": prefix, "NETNS_NET": net]) { $1 }
        try? process.run()
        process.waitUntilExit()
    }

    /// The operator's scripts: a host takes the first free namespace of 2…4 and runs an agent there in a session of
    /// its own (it outlives the script); release stops it by pid; list prints what runs.
    static func scripts(_ root: String, binary: String) throws {
        let acquire = """
            #!/bin/sh
            # acquire NAME JOIN KEYFILE WORKERS
            set -e
            mkdir -p \(root)/hosts
            for n in 2 3 4; do
              if mkdir \(root)/hosts/slot$n 2>/dev/null; then
                echo "$1" > \(root)/hosts/slot$n/name
                setsid ip netns exec \(prefix)$n \(binary) agent --join "$2" --bind \(net).$n:7946 --key-file "$3" --workers "$4" \\
                  --no-bind --data \(root)/agent-$1 </dev/null >\(root)/agent-$1.log 2>&1 &
                echo $! > \(root)/hosts/slot$n/pid
                echo "\(prefix)$n:$!"
                exit 0
              fi
            done
            echo "no free namespace for $1" >&2
            exit 4
            """
        let release = """
            #!/bin/sh
            # release NAME
            for slot in \(root)/hosts/slot*; do
              [ -f "$slot/name" ] && [ "$(cat "$slot/name")" = "$1" ] || continue
              pid=$(cat "$slot/pid")
              kill -TERM "$pid" 2>/dev/null || true
              for i in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
              kill -KILL "$pid" 2>/dev/null || true
              rm -rf "$slot"
            done
            exit 0
            """
        let list = """
            #!/bin/sh
            for slot in \(root)/hosts/slot*; do
              [ -f "$slot/pid" ] || continue
              pid=$(cat "$slot/pid")
              kill -0 "$pid" 2>/dev/null && echo "$(cat "$slot/name") $(basename "$slot"):$pid"
            done
            exit 0
            """
        for (name, text) in [("acquire", acquire), ("release", release), ("list", list)] {
            try text.write(toFile: "\(root)/\(name).sh", atomically: true, encoding: .utf8)
            chmod("\(root)/\(name).sh", 0o755)
        }
    }

    /// `argv` inside namespace `host`, its standard output line by line into `lines`.
    static func start(in host: Int, _ argv: [String], lines: AsyncStream<String>.Continuation) throws -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["ip", "netns", "exec", "\(prefix)\(host)"] + argv
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        streamLines(of: pipe, into: lines)
        try process.run()
        return process
    }

    /// The live `tessera agent` processes whose data folder is under `root`.
    static func agents(under root: String) -> [Int32] {
        ((try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []).compactMap { entry in
            guard let pid = Int32(entry), let raw = FileManager.default.contents(atPath: "/proc/\(entry)/cmdline") else { return nil }
            let arguments = raw.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
            guard arguments.count > 1, arguments[1] == "agent", arguments.contains(where: { $0.hasPrefix(root + "/agent-") }),
                ElasticSourceProcessTests.isAlive(pid)
            else { return nil }
            return pid
        }
    }

    @Test func aCommandSource_startsAgentsInOtherNamespaces_spreadsABurst_andReleasesThemAll() async throws {
        Self.netns(["down"])
        Self.netns(["up", "4"])
        defer { Self.netns(["down"]) }
        let root = try makeTemporaryDirectory("elastic-netns")
        let binary = try #require(tesseraBinary)
        try Self.scripts(root, binary: binary)
        let keys = try AgentGridTests.keyFile(root)
        let (serverLines, serverSink) = AsyncStream.makeStream(of: String.self)
        let serverProcess = try Self.start(in: 1, [
            binary, "serve", "--data", root + "/data", "--listen", "127.0.0.1:0", "--cluster-bind", "\(Self.net).1:7946", "--key-file", keys,
            "--no-local-nodes", "--log-level", "notice",
        ], lines: serverSink)
        defer { if serverProcess.isRunning { kill(serverProcess.processIdentifier, SIGKILL) } }
        var url: String?
        for await line in serverLines {
            if let range = line.range(of: "http://") {
                url = String(line[range.lowerBound...].prefix { !$0.isWhitespace })
                break
            }
        }
        let server = try #require(url)
        func cli(_ arguments: [String]) async throws -> String {
            let (status, out, err) = try await runTessera(arguments + ["--server", server], in: root, namespace: "\(Self.prefix)1")
            #expect(status == 0, "tessera \(arguments.joined(separator: " ")): \(err)")
            return out
        }
        let spec = """
            name: vms
            infrastructure:
              type: command
              nodesPerHost: 1
              pricePerHostHour: 2.0
              acquire: \(root)/acquire.sh {name} {join} {keyFile} {nodesPerHost}
              release: \(root)/release.sh {name}
              list: \(root)/list.sh
            policy: {type: dynamic, minNodes: 0, maxNodes: 3, refreshTime: 500ms, minUptime: 3s, initDelay: 0s}
            deploymentTimeout: 30s
            """
        try spec.write(toFile: root + "/vms.yaml", atomically: true, encoding: .utf8)
        _ = try await cli(["nodesource", "add", root + "/vms.yaml"])
        try ElasticSourceProcessTests.burst(90).write(toFile: root + "/burst.yaml", atomically: true, encoding: .utf8)
        let submitted = try await cli(["submit", root + "/burst.yaml", "--wait", "--json"])
        let job = try #require(try JSONSerialization.jsonObject(with: Data(submitted.utf8)) as? [String: Any])
        #expect(job["state"] as? String == "FINISHED")
        let tasks = try await cli(["job", "\(job["id"] as? Int ?? 0)", "--json"])
        let view = try #require(try JSONSerialization.jsonObject(with: Data(tasks.utf8)) as? [String: Any])
        let hosts = Set((view["tasks"] as? [[String: Any]] ?? []).compactMap { $0["host"] as? String })
        #expect(hosts.count >= 2 && hosts.allSatisfy { $0.hasPrefix(Self.net + ".") }, "the burst ran on the namespaces' hosts: \(hosts)")

        // The server's event stream, read inside the namespace by curl, paces the reads until the hosts are gone (a
        // node change, or the stream's keep-alive every 2 s).
        let (chunks, sink) = AsyncStream.makeStream(of: String.self)
        let events = try Self.start(in: 1, ["/usr/bin/curl", "-sN", server + "/api/v1/events"], lines: sink)
        defer { if events.isRunning { kill(events.processIdentifier, SIGKILL) } }
        var source: [String: Any] = [:]
        for await _ in chunks {
            let out = try await cli(["nodesource", "show", "vms", "--json"])
            source = (try? JSONSerialization.jsonObject(with: Data(out.utf8)) as? [String: Any]) ?? [:]
            if (source["hosts"] as? [Any])?.isEmpty == true && source["releasing"] as? Int == 0 { break }
        }
        #expect((source["hosts"] as? [Any])?.isEmpty == true, "the idle hosts were released: \(source)")
        let usage = source["usage"] as? [String: Any] ?? [:]
        let joined = (usage["acquisitions"] as? [String: Int])?["joined"] ?? 0
        #expect((2...3).contains(joined), "\(usage)")
        #expect((usage["cost"] as? Double ?? 0) > 0)
        #expect(Self.agents(under: root).isEmpty, "no agent process left in any namespace")
        let list = try await runProcess(root + "/list.sh", [])
        #expect(list == 0)
        #expect(((try? FileManager.default.contentsOfDirectory(atPath: root + "/hosts")) ?? []).isEmpty, "every slot was released")
        kill(serverProcess.processIdentifier, SIGTERM)
        serverProcess.waitUntilExit()
    }
}
