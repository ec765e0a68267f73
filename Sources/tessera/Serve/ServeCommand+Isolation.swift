import CoreFoundation
import Foundation
import Glibc
import Grid
import GridServer

/// How `tessera serve` keeps its users apart: the accounts their tasks run as, and the checks it makes before it
/// starts (a multi-user server that cannot keep users apart refuses to start, saying why and what to change).
struct ServeIsolation {
    /// Why the server cannot start isolated; the message says what to change.
    struct Refusal: Error, CustomStringConvertible {
        var description: String
    }

    /// The default range of uids for users without a `unix=` account (2,000,000,000 – 2,000,099,999: above the
    /// ranges Debian gives people, services and containers' subordinate ids).
    static let defaultUIDs: ClosedRange<UInt32> = 2_000_000_000...2_000_099_999

    /// The isolation for `users`: each user with `unix=` runs as that account, each other user as a uid of `range`
    /// (kept in `DATA/accounts.json` so that a user keeps the uid their files have), an administrator without
    /// `unix=` as the server's own account.
    ///
    /// - Throws: ``Refusal`` when not root, when an account is missing, is root, or is shared, when the range is
    ///   used up, or when the users file or the task root is readable or unreachable where it must not be.
    static func make(
        users: Users, usersFile: String, keyFile: String?, data: String, taskRoot: String, range: ClosedRange<UInt32>,
        resources: ResourceLimits
    ) throws(Refusal) -> TaskIsolation {
        guard getuid() == 0 else {
            throw Refusal(description: """
                a users file makes the server multi-user, and only root can run each user's tasks under an account of \
                their own (uid \(getuid()) cannot): start tessera serve as root (users' tasks then run as the unix= \
                accounts of the users file, or as uids from --task-uids), or without --users for a single local user
                """)
        }
        for (what, path) in [("the users file", usersFile), ("the key file", keyFile)] {
            guard let path else { continue }
            var info = stat()
            guard stat(path, &info) == 0 else { continue }
            guard info.st_mode & 0o007 == 0 else {
                throw Refusal(description: "\(what) \(path) can be read by any account, the tasks' included: chmod o-rwx \(path)")
            }
        }
        var accounts: [String: UnixAccount] = [:]
        var assigned = loadAssignments(data)
        for user in users.all {
            if let unix = user.unix {
                guard let account = UnixAccount.lookUp(unix) else {
                    throw Refusal(description: "user \(user.name): no Unix account '\(unix)' (create it, e.g. useradd --system \(unix), or fix unix=)")
                }
                guard account.uid != 0 else {
                    throw Refusal(description: "user \(user.name): unix=\(unix) is root, whose tasks could do anything: name an account of their own")
                }
                accounts[user.name] = account
            } else if !user.admin {
                let uid: UInt32
                if let kept = assigned[user.name], range.contains(kept) {
                    uid = kept
                } else {
                    let taken = Set(assigned.values)
                    guard let free = range.first(where: { !taken.contains($0) && getpwuid($0) == nil }) else {
                        throw Refusal(description: "the task uid range \(range.lowerBound)-\(range.upperBound) is used up: widen --task-uids")
                    }
                    uid = free
                    assigned[user.name] = uid
                }
                accounts[user.name] = UnixAccount(name: "uid-\(uid)", uid: uid, gid: uid)
            }
        }
        var byUID: [UInt32: String] = [:]
        var byGID: [UInt32: String] = [:]
        for (name, account) in accounts.sorted(by: { $0.key < $1.key }) {
            if let other = byUID[account.uid] {
                throw Refusal(description: "users \(other) and \(name) run as the same account (uid \(account.uid)), so each could read the other's data: give each its own")
            }
            if let other = byGID[account.gid] {
                throw Refusal(description: "users \(other) and \(name) share the primary group \(account.gid), which reads their run folders: give each a group of its own")
            }
            byUID[account.uid] = name
            byGID[account.gid] = name
        }
        try saveAssignments(assigned, data)
        try checkReachable(taskRoot)
        let cgroups: TaskCgroups?
        switch TaskCgroups.forTasks(resources, found: TaskCgroups.discover()) {
        case .success(let found): cgroups = found
        case .failure(let why):
                throw Refusal(description: """
                    taskLimits memoryBytes and processesPerTask need control groups, and tessera cannot make any here \
                    (\(why)): remove those limits, or give the server a delegated group (under systemd: Delegate=yes)
                    """)
        }
        return TaskIsolation(accounts: accounts, taskRoot: taskRoot, resources: resources, cgroups: cgroups)
    }

    /// The uids given to users so far.
    static func loadAssignments(_ data: String) -> [String: UInt32] {
        guard let bytes = FileManager.default.contents(atPath: data + "/accounts.json"),
            let decoded = try? JSONDecoder().decode([String: UInt32].self, from: bytes)
        else { return [:] }
        return decoded
    }

    static func saveAssignments(_ assigned: [String: UInt32], _ data: String) throws(Refusal) {
        do {
            try FileManager.default.createDirectory(atPath: data, withIntermediateDirectories: true)
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
            try encoder.encode(assigned).write(to: URL(fileURLWithPath: data + "/accounts.json"), options: .atomic)
        } catch {
            throw Refusal(description: "cannot keep the users' uids in \(data)/accounts.json: \(error)")
        }
    }

    /// Every folder above the task root must let other accounts through (o+x), or no task could reach its folder.
    static func checkReachable(_ taskRoot: String) throws(Refusal) {
        var path = URL(fileURLWithPath: taskRoot).standardizedFileURL.deletingLastPathComponent().path
        while true {
            var info = stat()
            if stat(path, &info) == 0, info.st_mode & 0o001 == 0 {
                throw Refusal(description: """
                    the task root \(taskRoot) is under \(path) (mode \(String(info.st_mode & 0o777, radix: 8))), which the \
                    tasks' accounts cannot pass: chmod o+x \(path), or choose another --task-root
                    """)
            }
            guard path != "/", !path.isEmpty else { return }
            path = URL(fileURLWithPath: path).deletingLastPathComponent().path
        }
    }
}
