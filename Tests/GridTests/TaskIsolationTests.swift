import CoreFoundation
import Foundation
@testable import Grid
import Testing

/// Whether the isolation tests run: they need root (tasks change account), so `.ci/run` enables them.
let isolationTestsEnabled = ProcessInfo.processInfo.environment["TESSERA_ISOLATION_TESTS"] == "1"

/// Tasks of two users on an isolated grid, as root, with uids drawn from a range (no passwd entries needed): each
/// runs under its own account, in its job's private folder, with an environment rebuilt from nothing and with
/// limits, and can reach neither the other's files nor the grid's (issue 27, item 1).
@Suite(
    .serialized, .timeLimit(.minutes(2)),
    .enabled(if: isolationTestsEnabled, "set TESSERA_ISOLATION_TESTS=1 (root) to run the task isolation tests"))
struct TaskIsolationTests {
    static let alice = UnixAccount(name: "uid-3999001", uid: 3_999_001, gid: 3_999_001)
    static let bob = UnixAccount(name: "uid-3999002", uid: 3_999_002, gid: 3_999_002)

    static func isolatedGrid(_ root: String) async throws -> Grid {
        #expect(getuid() == 0, "TESSERA_ISOLATION_TESTS needs root")
        var resources = ResourceLimits()
        resources.processes = 512
        resources.openFiles = 256
        resources.fileSize = 1 << 20
        return try await startGrid(directory: root) { settings in
            settings.isolation = TaskIsolation(
                accounts: ["alice": Self.alice, "bob": Self.bob], taskRoot: root + "/tasks", resources: resources)
        }
    }

    @Test func aUsersScript_cannotReadAnotherUsersFiles_northeGridsData_norSignalTheGrid() async throws {
        let root = try makeTemporaryDirectory("isolation")
        // The grid's own environment holds a secret no task may see.
        setenv("TESSERA_TEST_SERVER_SECRET", "server-secret-42", 1)
        defer { unsetenv("TESSERA_TEST_SERVER_SECRET") }
        let grid = try await Self.isolatedGrid(root)
        let data = grid.settings.dataDirectory
        let alice = try await grid.submit(Workflow(name: "private", tasks: [
            TaskDefinition("keep", .bash("""
                echo alice-secret-in-log
                echo alice-secret-in-file > secret.txt
                echo '"alice-result"' > "$TESSERA_RESULT_FILE"
                """)),
        ]), owner: "alice")
        let aliceResult = try await alice.result()
        #expect(aliceResult.status == .finished)
        #expect(aliceResult.result(of: "keep") == "alice-result")
        let aliceFolder = root + "/tasks/work/\(alice.id)"
        let probe = """
            try() { if eval "$2" >/dev/null 2>&1; then echo "$1=reached"; else echo "$1=denied"; fi; }
            try logs 'cat "\(data)"/jobs/*/logs/* | grep -q alice-secret'
            try journal 'head -c 16 "\(data)"/journal.sqlite'
            try datadir 'ls "\(data)"'
            try folder 'cat "\(aliceFolder)/secret.txt"'
            try listing 'ls "\(aliceFolder)"'
            try script 'cat "\(root)"/tasks/run/\(alice.id)/*/script'
            try signal 'kill -0 '"$PPID"
            try environ 'cat /proc/'"$PPID"'/environ'
            env | grep -q server-secret-42 && echo env=leaked || echo env=clean
            echo uid=$(id -u) gid=$(id -g)
            echo procs=$(ulimit -u) files=$(ulimit -n) size=$(ulimit -f)
            echo home=$HOME pwd=$(pwd)
            stat -c 'mode=%a owner=%u' .
            echo '"bob-result"' > "$TESSERA_RESULT_FILE"
            """
        let bob = try await grid.submit(Workflow(name: "private", tasks: [TaskDefinition("keep", .bash(probe))]), owner: "bob")
        let bobResult = try await bob.result()
        let log = try bob.logs(task: "keep")
        #expect(bobResult.status == .finished, "\(log)")
        #expect(bobResult.result(of: "keep") == "bob-result")
        for denied in ["logs", "journal", "datadir", "folder", "listing", "script", "signal", "environ"] {
            #expect(log.contains("\(denied)=denied"), "bob's task reached \(denied):\n\(log)")
        }
        #expect(log.contains("env=clean"), "\(log)")
        #expect(log.contains("uid=\(Self.bob.uid) gid=\(Self.bob.gid)"), "\(log)")
        #expect(log.contains("procs=512 files=256 size=1024"), "\(log)")
        let bobFolder = root + "/tasks/work/\(bob.id)"
        #expect(log.contains("home=\(bobFolder) pwd=\(bobFolder)"), "\(log)")
        #expect(log.contains("mode=700 owner=\(Self.bob.uid)"), "\(log)")
        var info = stat()
        #expect(stat(data, &info) == 0 && info.st_mode & 0o777 == 0o700, "the data directory is private to the grid")
        await grid.shutdown()
    }

    @Test func aLinkInPlaceOfItsResultFile_isNeverFollowed_andAHardLinkToTheServersFile_isNeverRead() async throws {
        let root = try makeTemporaryDirectory("isolation-link")
        let grid = try await Self.isolatedGrid(root)
        let secret = root + "/server-only.txt"
        try "\"server-only\"".write(toFile: secret, atomically: true, encoding: .utf8)
        chmod(secret, 0o600)
        // A file the task's account may link to where the kernel allows it (fs.protected_hardlinks=0), still the
        // server's: read back, it would hand the server's bytes to the task's job.
        let job = try await grid.submit(Workflow(name: "links", tasks: [
            TaskDefinition("soft", .bash("ln -sf \"\(secret)\" \"$TESSERA_RESULT_FILE\" && echo linked")),
            TaskDefinition("hard", .bash("ln -f \"\(secret)\" \"$TESSERA_RESULT_FILE\" && echo linked || echo refused")),
            TaskDefinition("vars", .bash("ln -sf \"\(secret)\" \"$TESSERA_VARIABLES_FILE\" && echo linked")),
        ]), owner: "alice")
        let result = try await job.result()
        #expect(result.task("soft")?.status == .faulty)
        #expect(result.task("soft")?.message?.contains("its result file is not a regular file of its own") == true)
        #expect(result.task("vars")?.status == .faulty)
        #expect(result.task("vars")?.message?.contains("its variables file is not a regular file of its own") == true)
        let hardLog = try job.logs(task: "hard")
        if hardLog.contains("linked") {
            #expect(result.task("hard")?.status == .faulty, "a hard link to the server's file was read: \(hardLog)")
        } else {
            #expect(hardLog.contains("refused"), "\(hardLog)")
        }
        for name in ["soft", "hard", "vars"] { #expect(result.result(of: name) != "server-only") }
        await grid.shutdown()
    }

    @Test func aRerunExecution_getsANewRunFolder_andWhatTheTaskLeftIsNotWalkedAsRoot() async throws {
        let root = try makeTemporaryDirectory("isolation-rerun")
        let grid = try await Self.isolatedGrid(root)
        let job = try await grid.submit(Workflow(name: "rerun", tasks: [
            TaskDefinition("t", .bash("echo \"$TESSERA_RESULT_FILE\"; test ! -e \"$TESSERA_RESULT_FILE\" && echo fresh")),
        ]), owner: "alice")
        let result = try await job.result()
        #expect(result.status == .finished)
        let first = try job.logs(task: "t")
        #expect(first.contains("/run/\(job.id)/t.1/result") && first.contains("fresh"), "\(first)")
        // The folder of that execution, as a restarted server finds it, holding what its task left.
        let earlier = root + "/tasks/run/\(job.id)/t.1"
        let planted = earlier + "/planted"
        #expect(mkdir(planted, 0o755) == 0)
        #expect((try? ProcessLayout.makeFresh(earlier, mode: 0o700)) == earlier + ".2", "a second execution of t.1 gets t.1.2")
        var info = stat()
        #expect(lstat(planted, &info) == 0, "the earlier folder is left as it was")
        await grid.shutdown()
    }
}
