import CoreFoundation
import Foundation
import Glibc
import Grid
import Hummingbird
import ServiceLifecycle
import Synchronization

/// Task logs as streams: read in chunks from the files, in a byte range when asked, and followed from the last
/// offset read, so that the server's memory stays bounded whatever a log's size (issue 27, item 7).
extension RESTAPI {
    /// The most bytes read from a log file at once.
    static let logChunk = 64 * 1024

    /// The log of a task (stdout then stderr as one text), from byte `offset`, at most `limit` bytes.
    func logResponse(_ job: JobHandle, task: TaskInstanceName, offset: Int64, limit: Int64?) throws -> Response {
        let paths = try runNow { try job.logPaths(task: task.description) }
        let body = ResponseBody { writer in
            var skip = offset
            var left = limit ?? Int64.max
            for path in [paths.out, paths.err] where left > 0 {
                let size = Self.fileSize(path)
                guard skip < size else {
                    skip -= size
                    continue
                }
                let (sum, overflow) = skip.addingReportingOverflow(left)
                let end = try await Self.copy(path, from: skip, upTo: overflow ? size : min(size, sum), to: &writer)
                left -= end - skip
                skip = 0
            }
            try await writer.finish(nil)
        }
        return Response(status: .ok, headers: [.contentType: "text/plain; charset=utf-8"], body: body)
    }

    /// Streams a task's log as it grows until the task ends: each file is read on from where the last read stopped
    /// (a stat of each a tick), never again from its start.
    func followResponse(_ job: JobHandle, task: TaskInstanceName, ended: Bool) async throws -> Response {
        let paths = try runNow { try job.logPaths(task: task.description) }
        // Subscribed before the first read: an end after it is seen.
        let events = (try? await job.events) ?? AsyncStream { $0.finish() }
        let body = ResponseBody { writer in
            let over = ManagedFlag(ended)
            let watcher = Task {
                for await event in events {
                    if event.isFinal { break }
                    if case .task(let name, let status, _, _, _) = event.change, name == task, status.isTerminal { break }
                }
                over.set()
            }
            defer { watcher.cancel() }
            var offsets: [Int64] = [0, 0]
            while true {
                let last = over.value  // read before the files: a task that ends after this is read again
                for (index, path) in [paths.out, paths.err].enumerated() {
                    let size = Self.fileSize(path)
                    if size > offsets[index] { offsets[index] = try await Self.copy(path, from: offsets[index], upTo: size, to: &writer) }
                }
                if last || Task.isShuttingDownGracefully || Task.isCancelled { break }
                try await grid.settings.clock.sleep(for: .milliseconds(200))
            }
            try await writer.finish(nil)
        }
        return Response(status: .ok, headers: [.contentType: "text/plain; charset=utf-8"], body: body)
    }

    /// The size of a file (0 when it is absent).
    static func fileSize(_ path: String) -> Int64 {
        ((try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? NSNumber)?.int64Value ?? 0
    }

    /// Writes the bytes of `path` in `[from, upTo)` in chunks; returns the offset reached.
    static func copy(_ path: String, from start: Int64, upTo end: Int64, to writer: inout any ResponseBodyWriter) async throws -> Int64 {
        guard let handle = FileHandle(forReadingAtPath: path) else { return start }
        defer { try? handle.close() }
        try handle.seek(toOffset: UInt64(start))
        var offset = start
        while offset < end {
            let wanted = Int(min(Int64(logChunk), end - offset))
            guard let data = try handle.read(upToCount: wanted), !data.isEmpty else { break }
            try await writer.write(ByteBuffer(bytes: data))
            offset += Int64(data.count)
        }
        return offset
    }
}

/// A flag set once, from another task (the end of a followed task, seen in its job's events).
final class ManagedFlag: Sendable {
    private let state: Atomic<Bool>
    init(_ value: Bool) { state = Atomic(value) }
    var value: Bool { state.load(ordering: .acquiring) }
    func set() { state.store(true, ordering: .releasing) }
}
