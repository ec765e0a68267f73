import CShims
import Glibc

/// How a multi-user grid keeps one user's tasks from another's data and from the server.
///
/// Each user's subprocess tasks run under a Unix account of their own (``accounts``), in a working folder of
/// their job that only that account may enter, with an environment rebuilt from nothing and with resource
/// limits; the server's data directory, journal, users file, key files, logs and environment stay out of reach,
/// and a task cannot signal the server or another account's processes. `tessera serve` builds it from the users
/// file when it runs as root (and refuses to start with a users file otherwise). The layout under ``taskRoot``:
///
/// - `work/<job>/`, 0700, the owner's account: the job's working folder (`$TESSERA_WORK_DIR`, `$HOME`, `$TMPDIR`);
/// - `run/<job>/<task>.<attempt>/`, 0700, made new for each execution (never one an earlier process left): the
///   server writes the script and the parents' results into it, then gives it to the owner's account, which writes
///   its result and variables files there; they are read back only when they are regular files of that account
///   (never through a link, never a hard link to a file of the server or of another account);
/// - `run/<job>/no-parents.json`: the parents' results of the job's tasks without parents (`{}`), shared.
public struct TaskIsolation: Sendable {
    /// The account each grid user's tasks run as, by user name. A user without one (an administrator) runs as the
    /// server's own account, in the same layout.
    public var accounts: [String: UnixAccount]
    /// The folder that holds every job's working and run folders (its parents must be traversable by the accounts).
    public var taskRoot: String
    /// The limits each task process gets (soft and hard, so it cannot raise them).
    public var resources: ResourceLimits
    /// The environment every task starts from, before the grid's and the workflow's variables: `PATH` and `LANG`
    /// (the server's own environment is never passed on).
    public var baseEnvironment: [String: String]
    /// The control groups each task runs in, where the machine has them (``ResourceLimits/memory`` and
    /// ``ResourceLimits/processesPerTask`` need them); `nil` without.
    public var cgroups: TaskCgroups?

    /// Isolation under `taskRoot` with these accounts and limits.
    public init(
        accounts: [String: UnixAccount], taskRoot: String, resources: ResourceLimits = .init(), baseEnvironment: [String: String]? = nil,
        cgroups: TaskCgroups? = nil
    ) {
        self.accounts = accounts
        self.taskRoot = taskRoot
        self.resources = resources
        self.baseEnvironment = baseEnvironment ?? TaskIsolation.defaultEnvironment()
        self.cgroups = cgroups
    }

    /// `PATH` and `LANG` as the server has them (or Debian's defaults).
    public static func defaultEnvironment() -> [String: String] {
        let path = getenv("PATH").map { String(cString: $0) } ?? "/usr/local/bin:/usr/bin:/bin"
        let lang = getenv("LANG").map { String(cString: $0) } ?? "C.UTF-8"
        return ["PATH": path, "LANG": lang]
    }
}

/// A Unix account tasks run as.
public struct UnixAccount: Sendable, Hashable {
    /// The login name (or `uid-N` for a uid drawn from a range, which has no passwd entry).
    public var name: String
    /// The user id.
    public var uid: UInt32
    /// The primary group id.
    public var gid: UInt32
    /// Supplementary groups.
    public var groups: [UInt32]

    /// An account.
    public init(name: String, uid: UInt32, gid: UInt32, groups: [UInt32] = []) {
        self.name = name
        self.uid = uid
        self.gid = gid
        self.groups = groups
    }

    /// The account named `name` in the passwd database, with its groups; `nil` when there is none.
    public static func lookUp(_ name: String) -> UnixAccount? {
        var entry = passwd()
        var result: UnsafeMutablePointer<passwd>?
        var buffer = [CChar](repeating: 0, count: 16_384)
        guard getpwnam_r(name, &entry, &buffer, buffer.count, &result) == 0, result != nil else { return nil }
        var count: Int32 = 64
        var groups = [gid_t](repeating: 0, count: Int(count))
        if getgrouplist(name, entry.pw_gid, &groups, &count) < 0 {
            groups = [gid_t](repeating: 0, count: Int(count))
            _ = getgrouplist(name, entry.pw_gid, &groups, &count)
        }
        return UnixAccount(name: name, uid: entry.pw_uid, gid: entry.pw_gid, groups: Array(groups.prefix(Int(max(0, count)))))
    }
}

/// Resource limits for each task process; `nil` leaves the server's own.
public struct ResourceLimits: Sendable, Hashable {
    /// Processes and threads of the task's account at once (`RLIMIT_NPROC`; default 4,096). It counts every
    /// process of the account, so one user's fork bomb stops at it.
    public var processes: UInt64? = 4_096
    /// Open files per process (`RLIMIT_NOFILE`; default 8,192).
    public var openFiles: UInt64? = 8_192
    /// The largest file a task may write (`RLIMIT_FSIZE`; default 256 GiB, a few full Sentinel-1 products).
    public var fileSize: UInt64? = 256 << 30
    /// Address space per process (`RLIMIT_AS`; default none: GDAL and JVMs map far more than they use).
    public var addressSpace: UInt64?
    /// Memory of the whole task, every process it starts counted (a control group's `memory.max`, without swap;
    /// default none): past it the kernel kills a process of the task, which fails saying so.
    public var memory: UInt64?
    /// Processes and threads of the whole task at once (a control group's `pids.max`; default none).
    public var processesPerTask: UInt64?

    /// Whether a limit needs control groups.
    public var needsCgroups: Bool { memory != nil || processesPerTask != nil }

    /// The defaults.
    public init() {}

    /// The limits as `tessera_spawn_isolated` takes them.
    var rlimits: [(resource: Int32, value: UInt64)] {
        var list: [(Int32, UInt64)] = []
        if let processes { list.append((Int32(TESSERA_RLIMIT_NPROC), processes)) }
        if let openFiles { list.append((Int32(TESSERA_RLIMIT_NOFILE), openFiles)) }
        if let fileSize { list.append((Int32(TESSERA_RLIMIT_FSIZE), fileSize)) }
        if let addressSpace { list.append((Int32(TESSERA_RLIMIT_AS), addressSpace)) }
        return list
    }
}

/// What a multi-user scheduler tells its agents: the accounts its users' tasks run as, and their limits (each agent
/// keeps its own task root, under its data directory).
public struct AgentIsolation: Sendable, Hashable {
    /// The account of each grid user.
    public var accounts: [String: UnixAccount]
    /// The limits of each task process.
    public var resources: ResourceLimits

    /// The accounts and limits.
    public init(accounts: [String: UnixAccount], resources: ResourceLimits) {
        self.accounts = accounts
        self.resources = resources
    }
}
