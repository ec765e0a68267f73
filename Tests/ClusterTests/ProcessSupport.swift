import Foundation
import Synchronization
import Testing
import TesseraTestSupport

/// One JSON line printed by `tessera cluster member`.
struct EventLine: Decodable, Sendable {
    let event: String
    let node: String
    let epoch: UInt64
    let address: String
    let by: String?
}

/// What the test knows of each member process: its own node id and, per other node, the last event about it.
struct ClusterView {
    var nodes: [Int: String] = [:]
    var last: [Int: [String: String]] = [:]

    mutating func apply(_ index: Int, _ line: EventLine) {
        if line.event == "started" {
            nodes[index] = line.node
        } else if line.event != "reincarnated" {
            last[index, default: [:]][line.node] = line.event
        }
    }

    /// Whether member `observer` holds `subject`'s process alive (joined or alive last).
    func sees(_ observer: Int, alive subject: Int) -> Bool {
        guard let node = nodes[subject], let event = last[observer]?[node] else { return false }
        return event == "joined" || event == "alive"
    }

    func sees(_ observer: Int, dead subject: Int) -> Bool {
        guard let node = nodes[subject] else { return false }
        return last[observer]?[node] == "dead"
    }
}

/// Splits a child's standard output into JSON event lines.
final class LineSplitter: Sendable {
    private let buffer = Mutex<[UInt8]>([])
    let index: Int
    let sink: AsyncStream<(Int, EventLine)>.Continuation

    init(index: Int, sink: AsyncStream<(Int, EventLine)>.Continuation) {
        self.index = index
        self.sink = sink
    }

    func feed(_ data: Data) {
        let lines: [[UInt8]] = buffer.withLock { pending in
            pending.append(contentsOf: data)
            var complete: [[UInt8]] = []
            while let newline = pending.firstIndex(of: 0x0A) {
                complete.append(Array(pending[..<newline]))
                pending.removeSubrange(...newline)
            }
            return complete
        }
        for line in lines {
            if let event = try? JSONDecoder().decode(EventLine.self, from: Data(line)) { sink.yield((index, event)) }
        }
    }
}

/// Member processes started by a test; all are killed when it ends.
final class MemberProcesses {
    private(set) var processes: [Process] = []
    /// Their ends, awaited without holding a thread.
    private(set) var exits: [ProcessExit] = []
    let events: AsyncStream<(Int, EventLine)>
    private let sink: AsyncStream<(Int, EventLine)>.Continuation
    var view = ClusterView()

    init() {
        (events, sink) = AsyncStream.makeStream()
    }

    deinit {
        for process in processes where process.isRunning { kill(process.processIdentifier, SIGKILL) }
    }

    /// Starts `tessera cluster member` with `arguments`, optionally inside a network namespace.
    func start(_ arguments: [String], namespace: String? = nil) throws {
        let process = Process()
        let binary = try #require(tesseraBinary)
        if let namespace {
            process.executableURL = URL(fileURLWithPath: "/usr/sbin/ip")
            process.arguments = ["netns", "exec", namespace, binary, "cluster", "member"] + arguments
        } else {
            process.executableURL = URL(fileURLWithPath: binary)
            process.arguments = ["cluster", "member"] + arguments
        }
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        let splitter = LineSplitter(index: processes.count, sink: sink)
        pipe.fileHandleForReading.readabilityHandler = { handle in
            let data = handle.availableData
            if data.isEmpty { handle.readabilityHandler = nil } else { splitter.feed(data) }
        }
        let exit = ProcessExit(process)
        try process.run()
        processes.append(process)
        exits.append(exit)
    }

    /// Reads events until `condition` holds of the view (the suite's time limit bounds the wait).
    func wait(until condition: (ClusterView) -> Bool) async {
        if condition(view) { return }
        for await (index, line) in events {
            view.apply(index, line)
            if condition(view) { return }
        }
    }

    func signal(_ index: Int, _ signal: Int32) {
        kill(processes[index].processIdentifier, signal)
    }
}
