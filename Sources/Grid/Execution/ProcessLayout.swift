import Foundation
import Glibc
import Synchronization

/// Numbers the drafts of shared files of this process.
private let drafts = Atomic<UInt64>(0)

/// Where one subprocess execution's files go, the environment it starts from, and (isolated) the account it runs as.
///
/// The files of an execution: the script, `parents.json` (the parents' results; a task without parents shares its
/// job's empty one), and the result and variables files the task may write (made by the task, when it writes them).
/// Logs are made by the capture when the first bytes come. A task that writes nothing costs one new folder.
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
    /// The folder of the job's shared files (the empty parents file).
    var jobFolder: String

    /// The job's working folder under the task root.
    static func workFolder(job: JobID, _ isolation: TaskIsolation) -> String { "\(isolation.taskRoot)/work/\(job)" }

    /// The files an isolated task's account must own to be read back (`nil`: any owner, the grid's own tasks).
    var outputOwner: uid_t? { confinement.map { $0.account?.uid ?? getuid() } }

    /// Lays out an unconfined execution in the job's folder under the data directory.
    static func unconfined(_ assignment: TaskAssignment, jobFolder: String) throws(Failure) -> ProcessLayout {
        let base = "\(jobFolder)/run"
        do {
            try FileManager.default.createDirectory(atPath: base, withIntermediateDirectories: true)
        } catch {
            throw Failure(description: "cannot create \(base): \(error)")
        }
        let run = try makeFresh("\(base)/\(assignment.name).\(assignment.attempt)", mode: 0o755)
        return ProcessLayout(run: run, environment: ProcessInfo.processInfo.environment, confinement: nil, jobFolder: base)
    }

    /// Lays out an isolated execution: the job's working folder (0700, the owner's account), the run folder (made
    /// new, the server's while it writes the script into it; ``handOver()`` gives it to the task's account), an
    /// environment rebuilt from nothing.
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
        let jobFolder = root + "/run/\(assignment.job)"
        for shared in [root, root + "/work", root + "/run", jobFolder] {
            try makeFolder(shared, mode: 0o711, uid: getuid(), gid: getgid())
        }
        if assignment.workingDirectory == nil {
            try makeFolder(directory, mode: 0o700, uid: uid, gid: gid)
        }
        // Never a folder of an earlier process of this server (a restart runs the same execution again): what the
        // task's account could write there is left alone, not walked and removed as root.
        let run = try makeFresh("\(jobFolder)/\(assignment.name).\(assignment.attempt)", mode: 0o700)
        var environment = isolation.baseEnvironment
        environment["HOME"] = directory
        environment["TMPDIR"] = directory
        environment["USER"] = account?.name ?? environment["USER"]
        environment["LOGNAME"] = account?.name ?? environment["LOGNAME"]
        return ProcessLayout(
            run: run, environment: environment.compactMapValues { $0 },
            confinement: ProcessLauncher.Confinement(account: account, resources: isolation.resources, cgroups: isolation.cgroups),
            jobFolder: jobFolder)
    }

    /// Makes a new folder at `path`, or at `path.2`, `path.3`… when that one exists (an earlier process's).
    static func makeFresh(_ path: String, mode: mode_t) throws(Failure) -> String {
        for suffix in 1...1_000 {
            let candidate = suffix == 1 ? path : "\(path).\(suffix)"
            if mkdir(candidate, mode) == 0 { return candidate }
            guard errno == EEXIST else { throw Failure(description: "cannot create \(candidate): \(String(cString: strerror(errno)))") }
        }
        throw Failure(description: "cannot create a new folder for \(path): 1,000 earlier ones are there")
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
        if info.st_mode & 0o7777 != mode {
            guard chmod(path, mode) == 0 else { throw Failure(description: "cannot set the mode of \(path): \(String(cString: strerror(errno)))") }
        }
    }

    /// Writes a file the task reads (the script, the parents' results) into the run folder, before ``handOver()``:
    /// a new file (never through a link), the task's account's.
    func write(_ data: Data, to path: String) -> Bool {
        Self.create(path, data, mode: confinement == nil ? 0o644 : 0o600, owner: confinement?.account)
    }

    /// The parents' results file of an execution with these parents: its own, or its job's shared empty one.
    func parentsFile(_ parents: [String: Value]) -> String? {
        guard parents.isEmpty else {
            let path = run + "/parents.json"
            guard let data = try? JSONEncoder().encode(parents), write(data, to: path) else { return nil }
            return path
        }
        let shared = jobFolder + "/no-parents.json"
        var info = stat()
        if lstat(shared, &info) == 0 { return (info.st_mode & S_IFMT) == S_IFREG ? shared : nil }
        // Written under a name of its own, then linked into place: a task never sees it half written.
        let draft = "\(shared).\(getpid()).\(drafts.add(1, ordering: .relaxed).newValue)"
        guard Self.create(draft, Data("{}".utf8), mode: 0o644) else { return nil }
        defer { unlink(draft) }
        return link(draft, shared) == 0 || errno == EEXIST ? shared : nil
    }

    /// Gives the run folder to the task's account once the grid's files are in it: the task writes its result and
    /// variables files there itself (read back only when they are regular files of that account).
    func handOver() -> Bool {
        guard let confinement, let account = confinement.account else { return true }
        return chown(run, account.uid, account.gid) == 0
    }

    /// Makes a new file with these bytes and this mode (never through a link), the account's when one is given.
    static func create(_ path: String, _ data: Data, mode: mode_t, owner: UnixAccount? = nil) -> Bool {
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        guard fchmod(fd, mode) == 0 else { return false }
        if let owner, fchown(fd, owner.uid, owner.gid) != 0 { return false }
        return data.withUnsafeBytes { bytes in
            var offset = 0
            while offset < bytes.count {
                let written = Glibc.write(fd, bytes.baseAddress.map { $0 + offset }, bytes.count - offset)
                if written < 0 && errno == EINTR { continue }
                if written <= 0 { return false }
                offset += written
            }
            return true
        }
    }
}
