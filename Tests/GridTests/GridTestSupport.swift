import Foundation
import CShims
import Synchronization
import Grid
import TesseraTestSupport
import Testing

/// A fresh data and working directory per test (removed when the test process exits).
func makeTemporaryDirectory(_ name: String = "grid") throws -> String {
    try TestDirectories.make("test-\(name)")
}

/// Starts a 2-node grid on this machine with its own directories and, when given, a manual clock.
func startGrid(nodes: Int = 2, clock: ManualClock? = nil, directory: String? = nil, configure: (inout GridSettings) -> Void = { _ in }) async throws -> Grid {
    var settings = GridSettings()
    settings.nodes = nodes
    settings.oversubscribe = true
    settings.reservedCores = 0
    let root = try directory ?? makeTemporaryDirectory()
    settings.dataDirectory = root + "/data"
    settings.workingDirectory = root
    if let clock { settings.clock = clock }
    configure(&settings)
    let functions = FunctionRegistry()
    functions.register("noop") { (_: inout TaskContext) in .null }
    return try await Grid.start(settings: settings, functions: functions)
}

/// Collects a job's events until one matches, returning everything seen so far.
func events(of job: JobHandle, until stop: @Sendable (GridEvent) -> Bool) async throws -> [GridEvent] {
    var seen: [GridEvent] = []
    for await event in try await job.events {
        seen.append(event)
        if stop(event) { break }
    }
    return seen
}

/// Whether process `pid` is gone (or a zombie nobody reaped yet).
/// Whether process `pid` ends within ten seconds (SIGKILL is delivered when the process next runs,
/// which on a loaded machine may be a moment after `kill` returns). Watches it through a pidfd.
func processIsGone(_ pid: Int32) -> Bool {
    tessera_wait_gone(pid, 10_000) == 1
}

/// Whether `error` is a `GridError.journal` whose reason or underlying error contains `text`.
func isJournalError(_ error: any Error, containing text: String) -> Bool {
    guard case .journal(let reason, let cause) = error as? GridError else { return false }
    return reason.contains(text) || cause?.description.contains(text) == true
}

extension GridEvent {
    /// The task state this event reports, if it is a task event for `name`.
    func taskStatus(_ name: String) -> TaskStatus? {
        if case .task(let task, let status, _, _, _) = change, task.description == name { return status }
        return nil
    }
}

/// Waits until `name` exists in `directory` (inotify), at most `milliseconds`; says whether it appeared.
///
/// The wait blocks a Dispatch thread, never one of the cooperative pool's: on a 2-core machine two tests blocked
/// there would stall every actor of the test process, the grid that should create the file included.
func waitForFile(_ name: String, in directory: String, milliseconds: Int32 = 30_000) async -> Bool {
    await withCheckedContinuation { continuation in
        DispatchQueue.global().async {
            continuation.resume(returning: tessera_wait_file(directory, name, milliseconds) == 1)
        }
    }
}

/// Hands what a pipe's reader gets to `lines`, a line at a time (without the newline); finishes it at the end.
func streamLines(of pipe: Pipe, into lines: AsyncStream<String>.Continuation) {
    let pending = Mutex("")
    pipe.fileHandleForReading.readabilityHandler = { handle in
        let data = handle.availableData
        guard !data.isEmpty else {
            handle.readabilityHandler = nil
            lines.finish()
            return
        }
        let complete: [String] = pending.withLock { text in
            text += String(decoding: data, as: UTF8.self)
            var found: [String] = []
            while let newline = text.firstIndex(of: "\n") {
                found.append(String(text[..<newline]))
                text = String(text[text.index(after: newline)...])
            }
            return found
        }
        for line in complete { lines.yield(line) }
    }
}
