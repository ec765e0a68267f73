import Foundation
import Glibc
import Synchronization

private let instances = Atomic<UInt64>(0)

/// Control groups for the tasks of an isolated grid, where the machine has them: each subprocess execution runs in
/// a group of its own under this process's, with the memory and process limits of ``ResourceLimits`` counted for
/// the whole task (every process it starts, however it detaches), and when it ends every process left in the group
/// is killed, so that nothing a task started outlives it (a `setsid` escapes a process group, not a control group).
///
/// Both layouts are handled: the unified hierarchy (cgroup v2, Debian 12's default: the `memory` and `pids`
/// controllers enabled in this process's group, which needs a delegated group under systemd, `Delegate=yes`) and
/// the split one (v1, one mount per controller). The groups are `tessera-PID-N/tM` in this process's group of each
/// controller (N counts the grids of this process); groups that a dead server left are emptied and removed at
/// ``discover(procRoot:cgroupRoot:)``, and a grid's own when it goes.
public final class TaskCgroups: Sendable {
    /// The folders, one per controller hierarchy (a single one for v2), under which task groups are made.
    let bases: [String]
    /// Whether the layout is the unified one.
    let unified: Bool
    /// Which base holds the memory controller, which the pids one.
    let memoryBase: String?
    let pidsBase: String?
    private let counter = Atomic<UInt64>(0)
    /// Groups whose removal failed (a process was still leaving): tried again after later tasks.
    private let pending = Mutex<[String]>([])
    /// Empty groups of ended tasks, kept for the next ones: making and removing a group costs more than the task
    /// itself for short ones (a memory group's removal is finished by RCU callbacks, on every core).
    private let idle = Mutex<[IdleGroup]>([])
    /// How many empty groups are kept at most (more than the tasks that run at once on any machine the grid targets).
    static let idleKept = 256

    /// An empty group kept for reuse, with its limits and its counters when its last task ended.
    struct IdleGroup {
        var folders: [String]
        var memoryBytes: UInt64?
        var processes: UInt64?
        var counters: TaskCgroup.Usage
    }

    init(bases: [String], unified: Bool, memoryBase: String?, pidsBase: String?) {
        self.bases = bases
        self.unified = unified
        self.memoryBase = memoryBase
        self.pidsBase = pidsBase
    }

    /// Why control groups are not used on this machine.
    public struct Unavailable: Error, CustomStringConvertible {
        /// What is missing.
        public var description: String
    }

    /// The task groups of this process, after emptying and removing what dead servers left; ``Unavailable`` says
    /// why there are none (not root, no controllers, a group that cannot be written).
    public static func discover(procRoot: String = "/proc", cgroupRoot: String = "/sys/fs/cgroup") -> Result<TaskCgroups, Unavailable> {
        guard getuid() == 0 else { return .failure(Unavailable(description: "not root")) }
        guard let membership = try? String(contentsOfFile: "\(procRoot)/self/cgroup", encoding: .utf8) else {
            return .failure(Unavailable(description: "\(procRoot)/self/cgroup cannot be read"))
        }
        // Lines are ID:CONTROLLERS:PATH; v2's is 0::PATH.
        var v1: [String: String] = [:]
        var v2Path: String?
        for line in membership.split(separator: "\n") {
            let fields = line.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
            guard fields.count == 3 else { continue }
            if fields[0] == "0" && fields[1].isEmpty {
                v2Path = String(fields[2])
            } else {
                for controller in fields[1].split(separator: ",") { v1[String(controller)] = String(fields[2]) }
            }
        }
        let own = "tessera-\(getpid())-\(instances.add(1, ordering: .relaxed).newValue)"
        // Split hierarchies first: where v1 holds the controllers, the unified one has none of them.
        var memory: String?
        var pids: String?
        for (controller, path) in [("memory", v1["memory"]), ("pids", v1["pids"])] {
            guard let path else { continue }
            let mount = "\(cgroupRoot)/\(controller)"
            guard FileManager.default.fileExists(atPath: "\(mount)/cgroup.procs") else { continue }
            let parent = Self.join(mount, path)
            sweep(parent)
            let base = "\(parent)/\(own)"
            guard mkdir(base, 0o755) == 0 || errno == EEXIST else { continue }
            if controller == "memory" { memory = base } else { pids = base }
        }
        if memory != nil || pids != nil {
            return .success(TaskCgroups(bases: [memory, pids].compactMap { $0 }, unified: false, memoryBase: memory, pidsBase: pids))
        }
        guard let v2Path else { return .failure(Unavailable(description: "no memory or pids controller is mounted")) }
        let mount = FileManager.default.fileExists(atPath: "\(cgroupRoot)/cgroup.controllers") ? cgroupRoot : "\(cgroupRoot)/unified"
        let parent = Self.join(mount, v2Path)
        let available = (try? String(contentsOfFile: "\(parent)/cgroup.controllers", encoding: .utf8)) ?? ""
        let controllers = Set(available.split(whereSeparator: \.isWhitespace).map(String.init))
        guard controllers.contains("memory") || controllers.contains("pids") else {
            return .failure(Unavailable(description: "\(parent) offers neither the memory nor the pids controller (under systemd: Delegate=yes)"))
        }
        sweep(parent)
        // A group with processes cannot give controllers to its children (the root can): the server moves into a
        // leaf of its own first.
        if v2Path != "/" {
            let leaf = "\(parent)/tessera-server-\(getpid())"
            guard mkdir(leaf, 0o755) == 0 || errno == EEXIST, write("\(getpid())\n", to: "\(leaf)/cgroup.procs") else {
                return .failure(Unavailable(description: "cannot move the server into \(leaf)"))
            }
            // Its helpers (the reaper) too.
            let members = (try? String(contentsOfFile: "\(parent)/cgroup.procs", encoding: .utf8)) ?? ""
            for member in members.split(separator: "\n").compactMap({ Int32($0) }) where parentPID(of: member, procRoot: procRoot) == getpid() {
                write("\(member)\n", to: "\(leaf)/cgroup.procs")
            }
        }
        let wanted = ["memory", "pids"].filter(controllers.contains)
        let enable = wanted.map { "+\($0)" }.joined(separator: " ")
        guard write(enable, to: "\(parent)/cgroup.subtree_control") else {
            return .failure(Unavailable(description: "cannot enable \(enable) in \(parent)/cgroup.subtree_control"))
        }
        let base = "\(parent)/\(own)"
        guard mkdir(base, 0o755) == 0 || errno == EEXIST, write(enable, to: "\(base)/cgroup.subtree_control") else {
            return .failure(Unavailable(description: "cannot make \(base) with \(enable)"))
        }
        return .success(TaskCgroups(
            bases: [base], unified: true, memoryBase: wanted.contains("memory") ? base : nil, pidsBase: wanted.contains("pids") ? base : nil))
    }

    /// The task groups for tasks with these limits: `nil` when the machine has none and the limits need none, a
    /// failure when they need them and there are none.
    public static func forTasks(_ resources: ResourceLimits, found: Result<TaskCgroups, Unavailable>) -> Result<TaskCgroups?, Unavailable> {
        switch found {
        case .success(let cgroups): .success(cgroups)
        case .failure(let why): resources.needsCgroups ? .failure(why) : .success(nil)
        }
    }

    /// A task's group in each hierarchy, with the limits written; its `cgroup.procs` files open for the child to
    /// join before it runs.
    func make(memoryBytes: UInt64?, processes: UInt64?) throws(Unavailable) -> TaskCgroup {
        retryPending()
        if let reused = reuse(memoryBytes: memoryBytes, processes: processes) { return reused }
        let name = "t\(counter.add(1, ordering: .relaxed).newValue)"
        var folders: [String] = []
        var joins: [Int32] = []
        func fail(_ message: String) -> Unavailable {
            for fd in joins { close(fd) }
            for folder in folders { rmdir(folder) }
            return Unavailable(description: message)
        }
        for base in bases {
            let folder = "\(base)/\(name)"
            guard mkdir(folder, 0o755) == 0 else { throw fail("cannot make \(folder): \(String(cString: strerror(errno)))") }
            folders.append(folder)
            if base == memoryBase, let memoryBytes {
                let written = unified
                    ? Self.write("\(memoryBytes)", to: "\(folder)/memory.max")
                    : Self.write("\(memoryBytes)", to: "\(folder)/memory.limit_in_bytes")
                guard written else { throw fail("cannot set the memory limit of \(folder)") }
                // Swap must not extend it (where swap is accounted).
                if unified {
                    _ = Self.write("0", to: "\(folder)/memory.swap.max")
                } else {
                    _ = Self.write("\(memoryBytes)", to: "\(folder)/memory.memsw.limit_in_bytes")
                }
            }
            if base == pidsBase, let processes {
                guard Self.write("\(processes)", to: "\(folder)/pids.max") else { throw fail("cannot set the process limit of \(folder)") }
            }
            let fd = open("\(folder)/cgroup.procs", O_WRONLY | O_CLOEXEC)
            guard fd >= 0 else { throw fail("cannot open \(folder)/cgroup.procs") }
            joins.append(fd)
        }
        return group(folders, joins: joins, memoryBytes: memoryBytes, processes: processes, baseline: TaskCgroup.Usage())
    }

    private func group(_ folders: [String], joins: [Int32], memoryBytes: UInt64?, processes: UInt64?, baseline: TaskCgroup.Usage) -> TaskCgroup {
        TaskCgroup(
            folders: folders, joins: joins, unified: unified, memoryFolder: folders.first { $0.hasPrefix((memoryBase ?? "\0") + "/") },
            pidsFolder: folders.first { $0.hasPrefix((pidsBase ?? "\0") + "/") }, memoryBytes: memoryBytes, processes: processes,
            baseline: baseline, owner: self)
    }

    /// An empty group of an ended task with the same limits, opened for the next one; `nil` when there is none.
    private func reuse(memoryBytes: UInt64?, processes: UInt64?) -> TaskCgroup? {
        while let kept = idle.withLock({ list -> IdleGroup? in
            guard let index = list.lastIndex(where: { $0.memoryBytes == memoryBytes && $0.processes == processes }) else { return nil }
            return list.remove(at: index)
        }) {
            var joins: [Int32] = []
            for folder in kept.folders {
                let fd = open("\(folder)/cgroup.procs", O_WRONLY | O_CLOEXEC)
                if fd < 0 { break }
                joins.append(fd)
            }
            if joins.count == kept.folders.count {
                return group(kept.folders, joins: joins, memoryBytes: memoryBytes, processes: processes, baseline: kept.counters)
            }
            for fd in joins { close(fd) }
            remove(kept.folders)
        }
        return nil
    }

    /// Keeps the empty group of an ended task for the next one (or removes it past ``idleKept``).
    fileprivate func keep(_ group: IdleGroup) {
        let kept = idle.withLock { list -> Bool in
            guard list.count < Self.idleKept else { return false }
            list.append(group)
            return true
        }
        if !kept { remove(group.folders) }
    }

    /// The empty groups kept for reuse (for tests).
    var idleCount: Int { idle.withLock { $0.count } }

    deinit {
        retryPending()
        for group in idle.withLock({ $0 }) { remove(group.folders) }
        for base in bases { rmdir(base) }
    }

    /// The parent of `pid` (field 4 of its stat line), if it can be read.
    static func parentPID(of pid: Int32, procRoot: String) -> Int32? {
        guard let stat = try? String(contentsOfFile: "\(procRoot)/\(pid)/stat", encoding: .utf8),
            let close = stat.lastIndex(of: ")")
        else { return nil }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        return fields.count > 1 ? Int32(fields[1]) : nil
    }

    fileprivate func remove(_ folders: [String]) {
        let left = folders.filter { rmdir($0) != 0 && errno != ENOENT }
        if !left.isEmpty { pending.withLock { $0.append(contentsOf: left) } }
    }

    private func retryPending() {
        let folders = pending.withLock { list -> [String] in
            defer { list.removeAll() }
            return list
        }
        guard !folders.isEmpty else { return }
        for folder in folders { TaskCgroup.killAll(in: folder, unified: unified) }
        remove(folders)
    }

    /// Empties and removes the groups of servers that are no longer running (`tessera-PID-N` and
    /// `tessera-server-PID` folders under `parent`).
    static func sweep(_ parent: String) {
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: parent) else { return }
        for entry in entries where entry.hasPrefix("tessera-") {
            let parts = entry.split(separator: "-")
            let number = parts.count > 2 && parts[1] == "server" ? parts[2] : parts.count > 1 ? parts[1] : ""
            guard let pid = Int32(number), pid != getpid(), kill(pid, 0) != 0, errno == ESRCH else { continue }
            let folder = "\(parent)/\(entry)"
            let children = (try? FileManager.default.contentsOfDirectory(atPath: folder))?.filter { $0.hasPrefix("t") } ?? []
            for child in children {
                TaskCgroup.killAll(in: "\(folder)/\(child)", unified: false)
                rmdir("\(folder)/\(child)")
            }
            // A dead server's own leaf held only it.
            rmdir(folder)
        }
    }

    static func join(_ mount: String, _ path: String) -> String {
        path == "/" ? mount : mount + path
    }

    @discardableResult
    static func write(_ text: String, to path: String) -> Bool {
        let fd = open(path, O_WRONLY | O_CLOEXEC)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        let bytes = Array(text.utf8)
        return bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) } == bytes.count
    }
}

/// One execution's control groups.
struct TaskCgroup: Sendable {
    /// Its folder in each hierarchy.
    let folders: [String]
    /// Their `cgroup.procs` files, open for writing: the child writes `0` into each before it runs.
    let joins: [Int32]
    let unified: Bool
    let memoryFolder: String?
    let pidsFolder: String?
    /// The limits written into it.
    let memoryBytes: UInt64?
    let processes: UInt64?
    /// Its counters when this task got it (a reused group's count what its earlier tasks did).
    let baseline: Usage
    let owner: TaskCgroups

    /// How the limits showed once the task ended.
    struct Usage: Sendable, Equatable {
        /// Processes the kernel killed for passing the memory limit.
        var oomKills: Int = 0
        /// Forks refused at the process limit.
        var forksRefused: Int = 0
    }

    /// Closes the join descriptors (once the child runs).
    func joined() {
        for fd in joins { close(fd) }
    }

    /// The counters as the groups have them now (since they were made).
    func counters() -> Usage {
        var usage = Usage()
        if let memoryFolder {
            let file = unified ? "memory.events" : "memory.oom_control"
            usage.oomKills = Self.counter("oom_kill", in: "\(memoryFolder)/\(file)")
        }
        if let pidsFolder {
            usage.forksRefused = Self.counter("max", in: "\(pidsFolder)/pids.events")
        }
        return usage
    }

    /// Ends the task's groups: kills every process left in them, and keeps them for the next task once they are
    /// empty (else removes them later); returns what the limits did to this task.
    @discardableResult
    func end() -> Usage {
        var empty = true
        for folder in folders where !Self.killAll(in: folder, unified: unified) { empty = false }
        let now = counters()
        if empty {
            owner.keep(TaskCgroups.IdleGroup(folders: folders, memoryBytes: memoryBytes, processes: processes, counters: now))
        } else {
            owner.remove(folders)
        }
        return Usage(oomKills: max(0, now.oomKills - baseline.oomKills), forksRefused: max(0, now.forksRefused - baseline.forksRefused))
    }

    /// Kills what runs in `folder` and waits until it is empty (2 s at most: what forks while it is killed is
    /// killed in the next round; a group still busy then is removed later). Returns whether it is empty.
    @discardableResult
    static func killAll(in folder: String, unified: Bool) -> Bool {
        if unified { TaskCgroups.write("1", to: "\(folder)/cgroup.kill") }
        for _ in 0..<2_000 {
            guard let text = try? String(contentsOfFile: "\(folder)/cgroup.procs", encoding: .utf8) else { return false }
            let pids = text.split(separator: "\n").compactMap { Int32($0) }
            if pids.isEmpty { return true }
            for pid in pids { kill(pid, SIGKILL) }
            usleep(1_000)
        }
        return false
    }

    /// The value of `key N` in a flat keyed file.
    static func counter(_ key: String, in path: String) -> Int {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return 0 }
        for line in text.split(separator: "\n") {
            let parts = line.split(separator: " ")
            if parts.count == 2, parts[0] == key, let value = Int(parts[1]) { return value }
        }
        return 0
    }
}

extension TaskCgroups {
    /// Where the task groups go and which controllers they have, for the start log.
    public var summary: String {
        let controllers = [memoryBase.map { _ in "memory" }, pidsBase.map { _ in "pids" }].compactMap { $0 }.joined(separator: "+")
        return "\(unified ? "v2" : "v1") \(controllers) under \(bases.joined(separator: ", "))"
    }
}
