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
    /// - Parameters:
    ///   - started: called with the pid (= the process group id) once it runs, so it can be aborted.
    ///   - confinement: for a task of an isolated grid, the account it runs as (`nil`: the server's) and its limits.
    nonisolated(nonsending) static func run(
        _ argv: [String], environment: [String: String], workingDirectory: String?, stdout: String, stderr: String,
        walltime: Duration?, clock: any GridClock, confinement: Confinement? = nil, started: (Int32) -> Void
    ) async -> ProcessExit {
        let pid = confinement.map {
            spawnIsolated(argv, environment: environment, workingDirectory: workingDirectory, stdout: stdout, stderr: stderr, $0)
        } ?? spawn(argv, environment: environment, workingDirectory: workingDirectory, stdout: stdout, stderr: stderr)
        guard pid > 0 else { return .spawnFailed(-pid) }
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
        let code = await wait(pid)
        watchdog?.cancel()
        if timedOut.load(ordering: .sequentiallyConsistent) {
            // The leader is reaped; make sure nothing of its group outlives it.
            _ = tessera_kill_group(pid)
            return .walltimeExceeded
        }
        return .exited(code)
    }

    static func spawn(_ argv: [String], environment: [String: String], workingDirectory: String?, stdout: String, stderr: String) -> Int32 {
        guard !argv.isEmpty else { return -22 }
        let env = environment.map { "\($0.key)=\($0.value)" }
        return withCStrings(argv) { argvPointers in
            withCStrings(env) { envPointers in
                if let workingDirectory {
                    return tessera_spawn(argvPointers, envPointers, workingDirectory, stdout, stderr)
                }
                return tessera_spawn(argvPointers, envPointers, nil, stdout, stderr)
            }
        }
    }

    /// The account and limits of an isolated task's process.
    struct Confinement: Sendable {
        /// The account; `nil` keeps the server's (an administrator's task).
        var account: UnixAccount?
        /// The resource limits.
        var resources: ResourceLimits
    }

    static func spawnIsolated(
        _ argv: [String], environment: [String: String], workingDirectory: String?, stdout: String, stderr: String,
        _ confinement: Confinement
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
                        tessera_spawn_isolated(
                            path, argvPointers, envPointers, workingDirectory, stdout, stderr, uid, gid, groupPointer.baseAddress,
                            Int32(groups.count), limitPointer.baseAddress, Int32(limits.count))
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
