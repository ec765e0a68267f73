import CShims
import Dispatch
import Glibc
import Synchronization

/// How a subprocess ended.
enum ProcessExit: Sendable, Equatable {
    /// It exited with this code (128 + N when signal N ended it).
    case exited(Int32)
    /// Its walltime passed; its whole process group was killed.
    case walltimeExceeded
    /// It could not start (errno: ENOENT for a missing program, EACCES, …).
    case spawnFailed(Int32)
    /// Its confinement could not be set up (the message says what).
    case confinementFailed(String)
}

/// The guard against orphaned tasks: once started, a helper process kills the process groups of the tasks
/// still running when this process dies, even by SIGKILL (a killed server or agent leaves nothing running
/// that the grid will run again elsewhere). `tessera serve` and `tessera agent` start it.
public enum ProcessReaper {
    /// Starts the helper (idempotent); returns its pid, or `nil` when it could not start.
    @discardableResult
    public static func start() -> Int32? {
        let pid = tessera_start_reaper()
        return pid >= 0 ? pid : nil
    }
}

/// Starts subprocesses in their own process group and waits for them without blocking a pool thread.
enum ProcessLauncher {
    /// Runs `argv` to its end, or until `walltime` passes on `clock` (then kills its process group).
    ///
    /// Its stdout and stderr go through pipes that this process copies into the log files, `logQuota` bytes at most in
    /// all: past it, a marker line is written once and the rest is dropped (the task never blocks on a full pipe). A
    /// log file is made when the first bytes of its stream come (a quiet task leaves none: readers take a missing log
    /// as empty).
    ///
    /// - Parameters:
    ///   - confinement: for a task of an isolated grid, the account it runs as (`nil`: the server's) and its limits.
    ///   - started: called with the pid (= the process group id) once it runs, so it can be aborted.
    nonisolated(nonsending) static func run(
        _ argv: [String], environment: [String: String], workingDirectory: String?, stdout: String, stderr: String,
        walltime: Duration?, clock: any GridClock, logQuota: Int64 = InputLimits.default.logQuota, confinement: Confinement? = nil,
        keepsLeftovers: Bool = false, started: (Int32) -> Void
    ) async -> Run {
        var outPipe: [Int32] = [-1, -1]
        var errPipe: [Int32] = [-1, -1]
        let outFailure = tessera_pipe(&outPipe)
        guard outFailure == 0 else { return Run(exit: .spawnFailed(outFailure)) }
        let errFailure = tessera_pipe(&errPipe)
        guard errFailure == 0 else {
            close(outPipe[0])
            close(outPipe[1])
            return Run(exit: .spawnFailed(errFailure))
        }
        // The task's own control groups, where the grid has them: its limits count all its processes, and whatever is
        // left in them is killed once it ends.
        var cgroup: TaskCgroup?
        if let confinement, let cgroups = confinement.cgroups {
            do {
                cgroup = try cgroups.make(memoryBytes: confinement.resources.memory, processes: confinement.resources.processesPerTask)
            } catch {
                for fd in outPipe + errPipe { close(fd) }
                return Run(exit: .confinementFailed(error.description))
            }
        }
        let pid: Int32
        if let confinement {
            pid = spawnIsolated(
                argv, environment: environment, workingDirectory: workingDirectory, stdout: outPipe[1], stderr: errPipe[1], confinement,
                cgroups: cgroup?.joins ?? [])
        } else {
            pid = spawn(argv, environment: environment, workingDirectory: workingDirectory, stdout: outPipe[1], stderr: errPipe[1])
        }
        // The child holds its own copies of the write ends: the capture sees the end of output when its processes do.
        close(outPipe[1])
        close(errPipe[1])
        cgroup?.joined()
        guard pid > 0 else {
            for fd in [outPipe[0], errPipe[0]] where fd >= 0 { close(fd) }
            cgroup?.end()
            return Run(exit: .spawnFailed(-pid))
        }
        tessera_reaper_track(pid, 1)
        defer { tessera_reaper_track(pid, 0) }
        started(pid)
        let timedOut = Atomic<Bool>(false)
        var watchdog: Task<Void, Never>?
        if let walltime {
            let deadline = clock.now + walltime
            watchdog = Task {
                do {
                    try await clock.sleep(until: deadline)
                } catch {
                    return
                }
                timedOut.store(true, ordering: .sequentiallyConsistent)
                _ = tessera_kill_group(pid)
            }
        }
        let captured = await capture(
            pid, out: outPipe[0], err: errPipe[0], outFile: stdout, errFile: stderr, quota: logQuota, cgroup: cgroup, keepsLeftovers: keepsLeftovers)
        watchdog?.cancel()
        let exit: ProcessExit = timedOut.load(ordering: .sequentiallyConsistent) ? .walltimeExceeded : .exited(captured.code)
        return Run(exit: exit, logBytes: captured.written, logTruncated: captured.truncated, logError: captured.logError, usage: captured.usage)
    }

    /// How a subprocess ended, and what its output came to.
    struct Run: Sendable {
        /// How it ended.
        var exit: ProcessExit
        /// Bytes of output kept in the logs.
        var logBytes: Int64 = 0
        /// Whether the output passed the quota (the rest was dropped).
        var logTruncated = false
        /// The errno of a log file that could not be opened (its output was dropped); 0 when both could.
        var logError: Int32 = 0
        /// What the control groups' limits did (nothing without them).
        var usage = TaskCgroup.Usage()
    }

    /// The marker written once into a log whose task passed the quota.
    static func quotaMarker(_ quota: Int64) -> String {
        "\n[tessera] the output passed the log quota of \(quota) bytes (limit logQuota): the rest is not kept\n"
    }

    /// What the capture of a process found.
    struct Captured: Sendable {
        var code: Int32
        var written: Int64
        var truncated: Bool
        var logError: Int32
        var usage: TaskCgroup.Usage
    }

    /// Copies the pipes into the logs and waits for the process, then kills what it left in its process group and
    /// control groups, on a Dispatch thread (blocking in `poll` there, not on a pinned worker).
    ///
    /// With `keepsLeftovers` (an infrastructure's command, whose background children are the hosts it starts) the
    /// process group is left alone once the leader exited; a walltime still kills it.
    static func capture(
        _ pid: Int32, out: Int32, err: Int32, outFile: String, errFile: String, quota: Int64, cgroup: TaskCgroup?, keepsLeftovers: Bool = false
    ) async -> Captured {
        let marker = quotaMarker(quota)
        return await withCheckedContinuation { (continuation: CheckedContinuation<Captured, Never>) in
            DispatchQueue.global().async {
                var written: Int64 = 0
                var truncated: Int32 = 0
                var logError: Int32 = 0
                let code = tessera_capture(pid, out, err, outFile, errFile, quota, &written, &truncated, &logError, marker)
                // The leader is reaped: what it left running goes with it (as ProActive's process tree killer does),
                // so that no task outlives its execution, holds its node's core or keeps writing where it wrote: its
                // process group, and in its control groups what left that group too.
                if !keepsLeftovers { _ = tessera_kill_group(pid) }
                let usage = cgroup?.end() ?? TaskCgroup.Usage()
                continuation.resume(
                    returning: Captured(code: code, written: written, truncated: truncated != 0, logError: logError, usage: usage))
            }
        }
    }

    static func spawn(_ argv: [String], environment: [String: String], workingDirectory: String?, stdout: Int32, stderr: Int32) -> Int32 {
        guard !argv.isEmpty else { return -22 }
        let env = environment.map { "\($0.key)=\($0.value)" }
        return withCStrings(argv) { argvPointers in
            withCStrings(env) { envPointers in
                if let workingDirectory {
                    return tessera_spawn_fds(argvPointers, envPointers, workingDirectory, stdout, stderr)
                }
                return tessera_spawn_fds(argvPointers, envPointers, nil, stdout, stderr)
            }
        }
    }

    /// The account and limits of an isolated task's process.
    struct Confinement: Sendable {
        /// The account; `nil` keeps the server's (an administrator's task).
        var account: UnixAccount?
        /// The resource limits.
        var resources: ResourceLimits
        /// The control groups tasks run in, where the grid has them.
        var cgroups: TaskCgroups?
    }

    static func spawnIsolated(
        _ argv: [String], environment: [String: String], workingDirectory: String?, stdout: Int32, stderr: Int32,
        _ confinement: Confinement, cgroups: [Int32]
    ) -> Int32 {
        guard let program = argv.first, !program.isEmpty else { return -22 }
        guard let path = resolve(program, path: environment["PATH"] ?? "") else { return -ENOENT }
        let env = environment.map { "\($0.key)=\($0.value)" }
        let limits = confinement.resources.rlimits.map { tessera_rlimit(resource: $0.resource, value: $0.value) }
        let uid = confinement.account.map { Int64($0.uid) } ?? -1
        let gid = confinement.account.map { Int64($0.gid) } ?? -1
        let groups = confinement.account?.groups ?? []
        return withCStrings(argv) { argvPointers in
            withCStrings(env) { envPointers in
                groups.withUnsafeBufferPointer { groupPointer in
                    limits.withUnsafeBufferPointer { limitPointer in
                        cgroups.withUnsafeBufferPointer { cgroupPointer in
                            tessera_spawn_isolated(
                                path, argvPointers, envPointers, workingDirectory, stdout, stderr, uid, gid, groupPointer.baseAddress,
                                Int32(groups.count), limitPointer.baseAddress, Int32(limits.count), cgroupPointer.baseAddress,
                                Int32(cgroups.count))
                        }
                    }
                }
            }
        }
    }

    /// The absolute path of `program`: itself when it has a slash, else the first executable regular file of that
    /// name in the directories of `path`.
    static func resolve(_ program: String, path: String) -> String? {
        if program.contains("/") { return program }
        for directory in path.split(separator: ":") where directory.hasPrefix("/") {
            let candidate = "\(directory)/\(program)"
            var info = stat()
            if stat(candidate, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG, info.st_mode & 0o111 != 0 { return candidate }
        }
        return nil
    }

    /// Waits on a Dispatch thread (blocking in `waitpid` there, not on a pinned worker).
    static func wait(_ pid: Int32) async -> Int32 {
        await withCheckedContinuation { (continuation: CheckedContinuation<Int32, Never>) in
            DispatchQueue.global().async {
                continuation.resume(returning: tessera_wait(pid))
            }
        }
    }

    /// Kills a process group (an aborted execution).
    static func kill(group pid: Int32) {
        _ = tessera_kill_group(pid)
    }

    private static func withCStrings<R>(_ strings: [String], _ body: (UnsafePointer<UnsafePointer<CChar>?>) -> R) -> R {
        let duplicated = strings.map { strdup($0) }
        defer { for pointer in duplicated { free(pointer) } }
        var pointers: [UnsafePointer<CChar>?] = duplicated.map { $0.map { UnsafePointer($0) } }
        pointers.append(nil)
        // The buffer is never empty (it ends with nil), so its base address exists.
        return pointers.withUnsafeBufferPointer { body($0.baseAddress.unsafelyUnwrapped) }
    }
}
