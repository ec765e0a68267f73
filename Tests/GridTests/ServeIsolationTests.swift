import Foundation
import TesseraTestSupport
import Testing

/// A real multi-user `tessera serve` as root: a user's script cannot take the administrator's token from the
/// users file, read another user's logs or the journal, see the server's environment or stop the server; and a
/// server that cannot keep its users apart refuses to start, saying what to change (issue 27, item 1).
@Suite(
    "tessera serve: isolated tasks", .serialized, .timeLimit(.minutes(3)),
    .enabled(if: isolationTestsEnabled, "set TESSERA_ISOLATION_TESTS=1 (root) to run the task isolation tests"))
struct ServeIsolationTests {
    static let alice = RESTAPITests.alice
    static let bob = RESTAPITests.bob
    static let root = RESTAPITests.root

    @Test func aUsersScript_cannotBecomeAdmin_readAnotherUsersLogs_orKillTheServer() async throws {
        let directory = try makeTemporaryDirectory("isolation-serve")
        let users = directory + "/users"
        try RESTAPITests.usersFile.write(toFile: users, atomically: true, encoding: .utf8)
        chmod(users, 0o600)  // a multi-user server refuses a users file the tasks' accounts could read
        let server = try await ServerProcess.start(data: directory + "/data", arguments: ["--users", users])
        let data = directory + "/data"
        let secretJob = "name: keep\ntasks:\n  keep:\n    script:\n      language: bash\n      code: echo alice-secret-9f3\n"
        let (status, answer) = try await server.object("POST", "/api/v1/jobs", token: Self.alice, json: ["workflow": secretJob])
        #expect(status == 201)
        let aliceJob = answer["id"] as? Int ?? 0
        try await server.waitJob(aliceJob, token: Self.alice) { $0["state"] as? String == "FINISHED" }
        let probe = """
            name: probe
            tasks:
              probe:
                script:
                  language: bash
                  code: |
                    users=$(tr '\\0' ' ' < /proc/$PPID/cmdline | sed -n 's/.*--users \\([^ ]*\\).*/\\1/p')
                    echo "users-file=$users"
                    cat "$users" 2>/dev/null | grep -q admin && echo token=taken || echo token=safe
                    cat "\(data)"/jobs/*/logs/* 2>/dev/null | grep -q alice-secret-9f3 && echo logs=read || echo logs=safe
                    head -c 16 "\(data)/journal.sqlite" >/dev/null 2>&1 && echo journal=read || echo journal=safe
                    cat /proc/$PPID/environ >/dev/null 2>&1 && echo environ=read || echo environ=safe
                    kill -9 $PPID 2>/dev/null && echo server=killed || echo server=alive
            """
        let (submitted, job) = try await server.object("POST", "/api/v1/jobs", token: Self.bob, json: ["workflow": probe])
        #expect(submitted == 201)
        let bobJob = job["id"] as? Int ?? 0
        let ended = try await server.waitJob(bobJob, token: Self.bob) { ["FINISHED", "FAILED", "CANCELED"].contains($0["state"] as? String ?? "") }
        #expect(ended["state"] as? String == "FINISHED")
        let (logStatus, logBody) = try await server.call("GET", "/api/v1/jobs/\(bobJob)/tasks/probe/logs", token: Self.bob)
        let log = String(decoding: logBody, as: UTF8.self)
        #expect(logStatus == 200)
        #expect(log.contains("users-file=\(directory)/users"), "the probe found the users file's path: \(log)")
        for line in ["token=safe", "logs=safe", "journal=safe", "environ=safe", "server=alive"] {
            #expect(log.contains(line), "\(line) expected:\n\(log)")
        }
        // The server is still there, and bob is still not an administrator.
        let (me, whoami) = try await server.object("GET", "/api/v1/me", token: Self.bob)
        #expect(me == 200 && whoami["admin"] as? Bool == false)
        #expect(await server.terminate() == 0)
    }

    @Test func onAnAgent_tooAUsersTaskRunsUnderTheirAccount() async throws {
        let directory = try makeTemporaryDirectory("isolation-agents")
        let users = directory + "/users"
        try "alice user \(Self.alice)\nbob user \(Self.bob)\n".write(toFile: users, atomically: true, encoding: .utf8)
        chmod(users, 0o600)
        let keys = try AgentGridTests.keyFile(directory)
        chmod(keys, 0o600)
        let server = try await ServerProcess.start(
            data: directory + "/data",
            arguments: ["--users", users, "--agents", "1", "--agent-workers", "1", "--no-local-nodes", "--key-file", keys])
        let probe = """
            name: remote
            tasks:
              probe:
                script:
                  language: bash
                  code: |
                    echo uid=$(id -u) procs=$(ulimit -u)
                    ls "\(directory)/data" >/dev/null 2>&1 && echo data=read || echo data=safe
                    kill -0 $PPID 2>/dev/null && echo agent=reached || echo agent=safe
            """
        let (submitted, job) = try await server.object("POST", "/api/v1/jobs", token: Self.bob, json: ["workflow": probe])
        #expect(submitted == 201)
        let id = job["id"] as? Int ?? 0
        let ended = try await server.waitJob(id, token: Self.bob) { ["FINISHED", "FAILED"].contains($0["state"] as? String ?? "") }
        #expect(ended["state"] as? String == "FINISHED")
        let task = (ended["tasks"] as? [[String: Any]])?.first
        #expect((task?["host"] as? String)?.hasPrefix("127.0.0.2") == true, "it ran on the agent: \(task ?? [:])")
        let log = String(decoding: try await server.call("GET", "/api/v1/jobs/\(id)/tasks/probe/logs", token: Self.bob).body, as: UTF8.self)
        let accounts = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: directory + "/data/accounts.json"))) as? [String: Int]
        let bobUID = try #require(accounts?["bob"])
        #expect(log.contains("uid=\(bobUID) procs=4096"), "\(log)")
        #expect(log.contains("data=safe") && log.contains("agent=safe"), "\(log)")
        #expect(await server.terminate() == 0)
    }

    @Test func aServerThatCannotKeepUsersApart_refusesToStart_sayingWhatToChange() async throws {
        let directory = try makeTemporaryDirectory("isolation-refusals")
        chmod(directory, 0o755)
        let users = directory + "/users"
        func serve(_ file: String, _ extra: [String] = [], launcher: [String] = []) async throws -> (Int32, String) {
            let (status, _, err) = try await runTessera(
                ["serve", "--data", directory + "/data", "--listen", "127.0.0.1:0", "--users", users, "--nodes", "1"] + extra,
                in: directory, launcher: launcher)
            return (status, err)
        }
        try "alice user \(Self.alice)\n".write(toFile: users, atomically: true, encoding: .utf8)
        chmod(users, 0o644)
        let (readable, readableError) = try await serve(users)
        #expect(readable == 2 && readableError.contains("chmod o-rwx \(users)"), "\(readableError)")
        chmod(users, 0o600)
        try "alice user \(Self.alice) unix=no-such-account-tessera\n".write(toFile: users, atomically: true, encoding: .utf8)
        chmod(users, 0o600)
        let (missing, missingError) = try await serve(users)
        #expect(missing == 2 && missingError.contains("no Unix account 'no-such-account-tessera'"), "\(missingError)")
        try "alice user \(Self.alice) unix=root\n".write(toFile: users, atomically: true, encoding: .utf8)
        chmod(users, 0o600)
        let (rooted, rootedError) = try await serve(users)
        #expect(rooted == 2 && rootedError.contains("is root"), "\(rootedError)")
        try "alice user \(Self.alice) unix=nobody\nbob user \(Self.bob) unix=nobody\n".write(toFile: users, atomically: true, encoding: .utf8)
        chmod(users, 0o600)
        let (shared, sharedError) = try await serve(users)
        #expect(shared == 2 && sharedError.contains("run as the same account"), "\(sharedError)")
        let hidden = directory + "/hidden"
        try FileManager.default.createDirectory(atPath: hidden, withIntermediateDirectories: true)
        chmod(hidden, 0o700)
        try "alice user \(Self.alice)\n".write(toFile: users, atomically: true, encoding: .utf8)
        chmod(users, 0o600)
        let (unreachable, unreachableError) = try await serve(users, ["--task-root", hidden + "/tasks"])
        #expect(unreachable == 2 && unreachableError.contains("chmod o+x \(hidden)"), "\(unreachableError)")
        // Not root: the server cannot run each user's tasks under an account of their own.
        chmod(users, 0o604)  // readable by the unprivileged account below (and so refused for that first, unless not root)
        let (unprivileged, unprivilegedError) = try await serve(
            users, ["--data", directory + "/data-nobody"], launcher: ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"])
        #expect(unprivileged == 2 && unprivilegedError.contains("only root can run each user's tasks"), "\(unprivilegedError)")
    }
}
