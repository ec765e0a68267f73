import Foundation
import Glibc

/// Where one subprocess execution's files go, the environment it starts from, and (isolated) the account it runs as.
struct ProcessLayout {
    /// Why an isolated execution could not be laid out.
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    /// The execution's folder: the script, the parents' results, the result and variables files.
    var run: String
    /// The environment before the grid's and the workflow's variables.
    var environment: [String: String]
    /// The account and limits of an isolated task; `nil` for the grid's own account and environment.
    var confinement: ProcessLauncher.Confinement?

    /// The job's working folder under the task root.
    static func workFolder(job: JobID, _ isolation: TaskIsolation) -> String { "\(isolation.taskRoot)/work/\(job)" }

    /// Lays out an isolated execution: the job's working folder (0700, the owner's account), the run folder
    /// (0750, the server's account and the owner's group), an environment rebuilt from nothing.
    ///
    /// - Throws: ``Failure`` when a folder cannot be made or is not what it must be (a link, another owner).
    static func isolated(_ assignment: TaskAssignment, in directory: String, _ isolation: TaskIsolation) throws(Failure) -> ProcessLayout {
        let account = isolation.accounts[assignment.owner]
        let uid = account?.uid ?? getuid()
        let gid = account?.gid ?? getgid()
        let root = isolation.taskRoot
        // The folders above the root (an agent's under its server's root), passable by every account.
        let above = (root as NSString).deletingLastPathComponent
        if !FileManager.default.fileExists(atPath: above) {
            try? FileManager.default.createDirectory(atPath: above, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o711])
        }
        for shared in [root, root + "/work", root + "/run", root + "/run/\(assignment.job)"] {
            try makeFolder(shared, mode: 0o711, uid: getuid(), gid: getgid())
        }
        if assignment.workingDirectory == nil {
            try makeFolder(directory, mode: 0o700, uid: uid, gid: gid)
        }
        let run = "\(root)/run/\(assignment.job)/\(assignment.name).\(assignment.attempt)"
        // A folder of an earlier process of this server (a restart runs the same execution again) holds only files
        // this account wrote or precreated: the task could not add any.
        try? FileManager.default.removeItem(atPath: run)
        try makeFolder(run, mode: 0o750, uid: getuid(), gid: gid)
        var environment = isolation.baseEnvironment
        environment["HOME"] = directory
        environment["TMPDIR"] = directory
        environment["USER"] = account?.name ?? environment["USER"]
        environment["LOGNAME"] = account?.name ?? environment["LOGNAME"]
        return ProcessLayout(
            run: run, environment: environment.compactMapValues { $0 },
            confinement: ProcessLauncher.Confinement(account: account, resources: isolation.resources, cgroups: isolation.cgroups))
    }

    /// Makes `path` (or checks the one there) a real folder with this owner and mode.
    static func makeFolder(_ path: String, mode: mode_t, uid: uid_t, gid: gid_t) throws(Failure) {
        if mkdir(path, mode) != 0 && errno != EEXIST {
            throw Failure(description: "cannot create \(path): \(String(cString: strerror(errno)))")
        }
        var info = stat()
        guard lstat(path, &info) == 0, (info.st_mode & S_IFMT) == S_IFDIR else {
            throw Failure(description: "\(path) is not a folder (a link or a file is there)")
        }
        if info.st_uid != uid || info.st_gid != gid {
            guard chown(path, uid, gid) == 0 else {
                throw Failure(description: "cannot give \(path) to uid \(uid): \(String(cString: strerror(errno)))")
            }
        }
        guard chmod(path, mode) == 0 else { throw Failure(description: "cannot set the mode of \(path): \(String(cString: strerror(errno)))") }
    }

    /// Writes a file the task reads (the script, the parents' results): the server's, readable by the task's group.
    func write(_ data: Data, to path: String) -> Bool {
        guard let confinement else { return FileManager.default.createFile(atPath: path, contents: data) }
        guard FileManager.default.createFile(atPath: path, contents: data, attributes: [.posixPermissions: 0o640]) else { return false }
        return chown(path, getuid(), confinement.account?.gid ?? getgid()) == 0
    }

    /// Precreates a file the task writes (result, variables) as its own, in the folder it cannot change, so that it
    /// cannot put a link to the server's files in its place. Nothing to do for a task of the grid's own account.
    func prepareOutputFile(_ path: String) -> Bool {
        guard let confinement else { return true }
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        guard let account = confinement.account else { return true }
        return fchown(fd, account.uid, account.gid) == 0
    }
}
