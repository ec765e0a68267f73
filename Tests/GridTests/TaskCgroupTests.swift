import Foundation
@testable import Grid
import Testing

/// Whether the machine gives this (root) process control groups for tasks; why not, when it does not.
let taskCgroupProbe: (available: Bool, why: String) = {
    guard isolationTestsEnabled else { return (false, "set TESSERA_ISOLATION_TESTS=1 (root) to run the control group tests") }
    switch TaskCgroups.discover() {
    case .success: return (true, "")
    case .failure(let why): return (false, "this machine gives tessera no control groups (\(why)): the control group tests need them")
    }
}()

/// Tasks of an isolated grid in control groups of their own (issue 27: "cgroups where the machine has them"): their
/// memory and process limits count every process they start, and nothing they start outlives them, even what
/// leaves their process group.
@Suite(
    .serialized, .timeLimit(.minutes(2)),
    .enabled(if: taskCgroupProbe.available, Comment(rawValue: taskCgroupProbe.why)))
struct TaskCgroupTests {
    static let carol = UnixAccount(name: "uid-3999011", uid: 3_999_011, gid: 3_999_011)

    static func grid(_ root: String, _ limits: (inout ResourceLimits) -> Void) async throws -> Grid {
        var resources = ResourceLimits()
        limits(&resources)
        let cgroups = try TaskCgroups.discover().get()
        return try await startGrid(directory: root) { settings in
            settings.isolation = TaskIsolation(
                accounts: ["carol": Self.carol], taskRoot: root + "/tasks", resources: resources, cgroups: cgroups)
        }
    }

    @Test func aTaskPastItsMemoryLimit_isKilled_andFailsNamingTheLimit() async throws {
        let root = try makeTemporaryDirectory("cgroup-memory")
        let grid = try await Self.grid(root) { $0.memory = 64 << 20 }
        // 512 MiB, touched (a bytearray is zeroed): far past 64 MiB.
        let job = try await grid.submit(Workflow(name: "greedy", tasks: [
            TaskDefinition("eat", .bash("python3 -c 'b = bytearray(512 << 20); print(len(b))'")),
        ]), owner: "carol")
        let result = try await job.result()
        let log = try job.logs(task: "eat")
        #expect(result.task("eat")?.status == .faulty, "\(log)")
        #expect(result.task("eat")?.message?.contains("limit memoryBytes") == true)
        #expect(!log.contains("536870912"), "the allocation must not have succeeded:\n\(log)")
        #expect(log.contains("memory limit of 67108864 bytes (limit memoryBytes)"), "\(log)")
        // A task within the limit runs as before.
        let small = try await grid.submit(Workflow(name: "small", tasks: [
            TaskDefinition("sip", .bash("python3 -c 'b = bytearray(8 << 20); print(len(b))'")),
        ]), owner: "carol")
        #expect(try await small.result().status == .finished)
        #expect(try small.logs(task: "sip").contains("8388608"))
        await grid.shutdown()
    }

    @Test func groupsOfEndedTasks_areReused_andWhatTheLimitsDidToEarlierTasksIsNotCountedAgain() async throws {
        let root = try makeTemporaryDirectory("cgroup-reuse")
        var resources = ResourceLimits()
        resources.memory = 64 << 20
        resources.processesPerTask = 64
        let cgroups = try TaskCgroups.discover().get()
        let grid = try await startGrid(directory: root) { settings in
            settings.nodes = 1
            settings.isolation = TaskIsolation(accounts: ["carol": Self.carol], taskRoot: root + "/tasks", resources: resources, cgroups: cgroups)
        }
        let greedy = try await grid.submit(Workflow(name: "greedy", tasks: [
            TaskDefinition("eat", .bash("python3 -c 'b = bytearray(512 << 20)'")),
        ]), owner: "carol")
        #expect(try await greedy.result().task("eat")?.message?.contains("limit memoryBytes") == true)
        // One node: each task after the first runs in the group the one before it left (the killed one's too).
        let tasks = (0..<12).map { TaskDefinition("q\($0)", .bash("exit 3")) }
        let quiet = try await grid.submit(Workflow(name: "quiet", tasks: tasks), owner: "carol")
        let result = try await quiet.result()
        for task in result.tasks {
            #expect(task.message == "exit code 3", "an earlier task's memory kill was counted against \(task.name): \(task.message ?? "")")
        }
        for base in cgroups.bases {
            let groups = (try? FileManager.default.contentsOfDirectory(atPath: base))?.filter { $0.hasPrefix("t") } ?? []
            #expect(groups.count <= 2, "13 tasks one after another on one node made \(groups.count) groups in \(base)")
        }
        #expect(cgroups.idleCount >= 1)
        await grid.shutdown()
    }

    @Test func aForkBomb_stopsAtTheTasksProcessLimit_andItsProcessesEndWithIt() async throws {
        let root = try makeTemporaryDirectory("cgroup-pids")
        let grid = try await Self.grid(root) { $0.processesPerTask = 16 }
        let script = """
            import os, signal, sys
            count = 0
            try:
                for _ in range(200):
                    if os.fork() == 0:
                        signal.pause()
                        os._exit(0)
                    count += 1
            except OSError as error:
                print("refused after", count, error)
            sys.exit(3)
            """
        let job = try await grid.submit(Workflow(name: "bomb", tasks: [
            TaskDefinition("fork", .bash("cat > bomb.py <<'EOF'\n\(script)\nEOF\npython3 bomb.py")),
        ]), owner: "carol")
        let result = try await job.result()
        let log = try job.logs(task: "fork")
        #expect(result.task("fork")?.status == .faulty, "\(log)")
        // bash, python and 14 children at most (15 where bash runs python in its place).
        let refused = log.split(separator: "\n").first { $0.hasPrefix("refused after ") }.flatMap { Int($0.split(separator: " ")[2]) }
        #expect(refused.map { (10...15).contains($0) } == true, "\(log)")
        #expect(log.contains("(limit processesPerTask)"), "\(log)")
        #expect(Self.processesOf(uid: Self.carol.uid).isEmpty, "the forked children are gone")
        await grid.shutdown()
    }

    @Test func whatATaskDetachesFromItsProcessGroup_endsWithTheTask() async throws {
        let root = try makeTemporaryDirectory("cgroup-setsid")
        let grid = try await Self.grid(root) { _ in }
        let job = try await grid.submit(Workflow(name: "escape", tasks: [
            // setsid gives the waiting child a session and process group of its own: only the control group still holds it.
            TaskDefinition("leave", .bash("setsid tail -f /dev/null < /dev/null > /dev/null 2>&1 & echo started $!")),
        ]), owner: "carol")
        let result = try await job.result()
        let log = try job.logs(task: "leave")
        #expect(result.status == .finished, "\(log)")
        #expect(log.contains("started"))
        #expect(Self.processesOf(uid: Self.carol.uid).isEmpty, "the detached child outlived its task:\n\(log)")
        await grid.shutdown()
    }

    @Test func aMachineWithoutControlGroups_isReportedWithTheReason() throws {
        let empty = try makeTemporaryDirectory("cgroup-none")
        try FileManager.default.createDirectory(atPath: empty + "/self", withIntermediateDirectories: true)
        try "0::/\n".write(toFile: empty + "/self/cgroup", atomically: true, encoding: .utf8)
        switch TaskCgroups.discover(procRoot: empty, cgroupRoot: empty + "/sys") {
        case .success: Issue.record("a machine without cgroup mounts has no task groups")
        case .failure(let why): #expect(why.description.contains("neither the memory nor the pids controller"), "\(why)")
        }
    }

    /// The live (not zombie) processes of `uid`.
    static func processesOf(uid: UInt32) -> [Int32] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap(Int32.init).filter { pid in
            guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return false }
            let lines = status.split(separator: "\n")
            let state = lines.first { $0.hasPrefix("State:") } ?? ""
            let uidLine = lines.first { $0.hasPrefix("Uid:") } ?? ""
            return !state.contains("Z") && !state.contains("X") && uidLine.split(whereSeparator: \.isWhitespace).dropFirst().first == Substring("\(uid)")
        }
    }
}
