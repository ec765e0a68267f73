import Foundation
import Glibc
import Synchronization

/// Self-healing: for each task, the fingerprint of the inputs of its last successful run and the
/// files it produced, so that the same work is not done twice.
///
/// A task is "already done" when its fingerprint (definition, resolved variables, parents' results)
/// equals the recorded one and every recorded output still has the same size, modification time and
/// inode. Records live in memory and, when a path is given, in a JSON file that survives restarts.
final class HealingStore: Sendable {
    /// One file as it was when recorded.
    struct FileStamp: Codable, Hashable, Sendable {
        var path: String
        var size: Int64
        var modifiedNanoseconds: Int64
        var inode: UInt64
    }

    /// The last successful run of one task.
    struct Record: Codable, Sendable {
        var fingerprint: UInt64
        var outputs: [FileStamp]
        var result: Value
        var variables: [String: String]?
    }

    /// Why a task must run (for the log) or that it is already done.
    enum Verdict: Sendable {
        case alreadyDone(Record)
        case mustRun(String)
    }

    private let records: Mutex<(all: [String: Record], version: Int)>
    /// The version last written to `path`: writes are serialized and never replace a newer file with
    /// an older snapshot (two nodes recording at once would otherwise lose one record).
    private let written = Mutex(0)
    private let path: String?
    private let journal: Journal?

    /// Loads the records at `path` (a missing or unreadable file starts empty), or keeps them in memory only.
    init(path: String?) {
        self.path = path
        self.journal = nil
        var loaded: [String: Record] = [:]
        if let path, let data = FileManager.default.contents(atPath: path),
            let decoded = try? JSONDecoder().decode([String: Record].self, from: data)
        {
            loaded = decoded
        }
        records = Mutex((loaded, 0))
    }

    /// Loads the records kept in a journal and keeps new ones there.
    init(journal: Journal) throws(GridError) {
        self.path = nil
        self.journal = journal
        var loaded: [String: Record] = [:]
        let decoder = JSONDecoder()
        for (key, data) in try journal.healingRecords() {
            if let record = try? decoder.decode(Record.self, from: data) { loaded[key] = record }
        }
        records = Mutex((loaded, 0))
    }

    /// The key of a task's record: its owner, its workflow's name and its instance name.
    ///
    /// The owner is part of it: two users' workflows of the same name never see, skip on or overwrite each other's
    /// records (records written before owners were part of the key match no job, so those tasks run once more).
    static func key(owner: String, workflow: String, task: TaskInstanceName) -> String {
        owner.isEmpty ? "\(workflow)/\(task)" : "\(owner)\u{1F}\(workflow)/\(task)"
    }

    /// Whether the task with this fingerprint and these output patterns is already done.
    func check(key: String, fingerprint: UInt64, outputs: [String], in directory: String, glob: OutputGlob = .unconfined) -> Verdict {
        guard let record = records.withLock({ $0.all[key] }) else { return .mustRun("no earlier run recorded") }
        guard record.fingerprint == fingerprint else { return .mustRun("its inputs changed since the last run") }
        let current: [FileStamp]
        do {
            current = try HealingStore.stamps(outputs, in: directory, glob: glob)
        } catch {
            return .mustRun("\(error)")
        }
        guard !current.isEmpty else { return .mustRun("its outputs are missing") }
        guard Set(current) == Set(record.outputs) else { return .mustRun("its outputs changed since the last run") }
        return .alreadyDone(record)
    }

    /// Records a successful run; returns the files recorded (none means nothing was produced).
    ///
    /// - Throws: ``OutputGlob/Problem`` when the outputs leave a confined directory or match past a bound.
    @discardableResult
    func record(
        key: String, fingerprint: UInt64, outputs: [String], in directory: String, result: Value, variables: [String: String]?,
        glob: OutputGlob = .unconfined
    ) throws(OutputGlob.Problem) -> [FileStamp] {
        let stamps = try HealingStore.stamps(outputs, in: directory, glob: glob)
        guard !stamps.isEmpty else { return [] }
        records.withLock { records in
            records.all[key] = Record(fingerprint: fingerprint, outputs: stamps, result: result, variables: variables)
            records.version += 1
        }
        if let journal, let data = try? JSONEncoder().encode(Record(fingerprint: fingerprint, outputs: stamps, result: result, variables: variables)) {
            // A failed write only costs a re-run after a restart.
            try? journal.saveHealing(key: key, record: data)
        }
        if let path {
            written.withLock { written in
                let (snapshot, version) = records.withLock { ($0.all, $0.version) }
                guard version > written, let data = try? JSONEncoder().encode(snapshot) else { return }
                try? data.write(to: URL(fileURLWithPath: path), options: .atomic)
                written = version
            }
        }
        return stamps
    }

    /// The files matching `patterns` (globs, relative to `directory`), stamped, sorted by path.
    static func stamps(_ patterns: [String], in directory: String, glob: OutputGlob) throws(OutputGlob.Problem) -> [FileStamp] {
        var found: [FileStamp] = []
        for path in try glob.matches(patterns, in: directory) {
            guard let attributes = try? FileManager.default.attributesOfItem(atPath: path),
                let modified = attributes[.modificationDate] as? Date
            else { continue }
            found.append(FileStamp(
                path: path, size: (attributes[.size] as? NSNumber)?.int64Value ?? -1,
                modifiedNanoseconds: Int64((modified.timeIntervalSince1970 * 1e9).rounded()),
                inode: (attributes[.systemFileNumber] as? NSNumber)?.uint64Value ?? 0))
        }
        return found.sorted { $0.path < $1.path }
    }
}
