import Foundation
import Grid
import Hummingbird
import ServiceLifecycle
import Synchronization

/// The portal's server-sent events, made once a tick for every stream (issue 27, item 10).
///
/// One subscription to the grid's events collects which jobs changed (and the task changes of the jobs some stream
/// focuses on); every 250 ms one pass reads those jobs' summaries once, the nodes once a second, renders each
/// event once, and hands each stream the part its user may see. A stream costs a filter and a write per tick in
/// which something changed, whatever the number of streams; a user holds at most ``perUser`` streams.
public final class EventBroadcaster: Service, Sendable {
    /// A stream: whose, which job it focuses on, and where its text goes.
    private struct Subscriber {
        var user: Users.User
        var focus: JobID?
        var sink: AsyncStream<String>.Continuation
    }

    private struct State {
        var subscribers: [UInt64: Subscriber] = [:]
        var perUser: [String: Int] = [:]
        var next: UInt64 = 0
        var stopped = false
        /// Jobs that changed since the last tick.
        var changed: Set<JobID> = []
        /// The latest change of each task of a focused job since the last tick.
        var tasks: [JobID: [String: GridEvent]] = [:]
    }

    /// Why a stream was refused.
    enum Refusal: Error {
        /// The user holds as many streams as allowed.
        case tooManyStreams(Int)
        /// The server is stopping.
        case stopped
    }

    let grid: Grid
    /// The most streams one user holds at once.
    let perUser: Int
    /// Time between two passes.
    let tick: Duration
    private let state = Mutex(State())

    public init(grid: Grid, perUser: Int, tick: Duration = .milliseconds(250)) {
        self.grid = grid
        self.perUser = perUser
        self.tick = tick
    }

    /// Streams currently open.
    var count: Int { state.withLock { $0.subscribers.count } }

    /// Opens a stream for `user` (of `focus`'s task changes too, when given).
    ///
    /// - Returns: its id (for ``close(_:)``) and the text to send, event by event.
    /// - Throws: ``Refusal`` past the user's cap or once the server stops.
    func open(user: Users.User, focus: JobID?) throws(Refusal) -> (id: UInt64, stream: AsyncStream<String>) {
        // A slow client keeps the newest few passes: it never holds the others' memory.
        let (stream, sink) = AsyncStream.makeStream(of: String.self, bufferingPolicy: .bufferingNewest(8))
        let id: UInt64 = try state.withLock { (state) throws(Refusal) -> UInt64 in
            guard !state.stopped else { throw .stopped }
            guard state.perUser[user.name, default: 0] < perUser else { throw .tooManyStreams(perUser) }
            state.perUser[user.name, default: 0] += 1
            state.next += 1
            state.subscribers[state.next] = Subscriber(user: user, focus: focus, sink: sink)
            return state.next
        }
        return (id, stream)
    }

    /// Closes a stream opened by ``open(user:focus:)``.
    func close(_ id: UInt64) {
        let sink: AsyncStream<String>.Continuation? = state.withLock { state in
            guard let subscriber = state.subscribers.removeValue(forKey: id) else { return nil }
            let left = state.perUser[subscriber.user.name, default: 1] - 1
            state.perUser[subscriber.user.name] = left > 0 ? left : nil
            return subscriber.sink
        }
        sink?.finish()
    }

    public func run() async throws {
        let events = grid.events
        let collector = Task {
            for await event in events {
                state.withLock { state in
                    guard !state.subscribers.isEmpty else { return }
                    state.changed.insert(event.job)
                    guard case .task(let name, _, _, _, _) = event.change,
                        state.subscribers.values.contains(where: { $0.focus == event.job })
                    else { return }
                    state.tasks[event.job, default: [:]][name.description] = event
                }
            }
        }
        await withGracefulShutdownHandler {
            var lastNodes: [NodeView] = []
            var pass = 0
            while !Task.isCancelled && !Task.isShuttingDownGracefully {
                await self.pass(pass, lastNodes: &lastNodes)
                pass += 1
                try? await grid.settings.clock.sleep(for: tick)
            }
        } onGracefulShutdown: {
            self.stop()
        }
        collector.cancel()
        stop()
    }

    /// Ends every stream and refuses new ones.
    func stop() {
        let sinks = state.withLock { state in
            state.stopped = true
            defer { state.subscribers = [:]; state.perUser = [:] }
            return state.subscribers.values.map(\.sink)
        }
        for sink in sinks { sink.finish() }
    }

    /// One tick: what changed, rendered once, handed to each stream.
    private func pass(_ number: Int, lastNodes: inout [NodeView]) async {
        let (changed, tasks, subscribers) = state.withLock { state in
            defer { state.changed = []; state.tasks = [:] }
            return (state.changed, state.tasks, Array(state.subscribers.values))
        }
        guard !subscribers.isEmpty else { return }
        var jobs: [(owner: String, text: String)] = []
        if !changed.isEmpty {
            for summary in await grid.jobSummaries() where changed.contains(summary.job) {
                jobs.append((summary.owner, "event: job\ndata: \(RESTAPI.line(JobView(summary)))\n\n"))
            }
        }
        var taskText: [JobID: String] = [:]
        for (job, events) in tasks {
            var text = ""
            for event in events.values {
                guard case .task(let name, let status, let node, let executions, let message) = event.change else { continue }
                let view = TaskEventView(name: name.description, state: status.rawValue, executions: executions, node: node?.rawValue, message: message)
                text += "event: task\ndata: \(RESTAPI.line(view))\n\n"
            }
            taskText[job] = text
        }
        var shared = ""
        if number % 4 == 0 {
            let nodes = await grid.nodes().map(NodeView.init)
            if nodes != lastNodes {
                shared += "event: nodes\ndata: \(RESTAPI.line(nodes))\n\n"
                lastNodes = nodes
            }
        }
        // A comment every 2 s keeps proxies from closing the stream and finds out when the client left.
        if number % 8 == 7 { shared += ": keep-alive\n\n" }
        for subscriber in subscribers {
            var out = ""
            for job in jobs where subscriber.user.admin || job.owner == subscriber.user.name { out += job.text }
            if let focus = subscriber.focus, let text = taskText[focus] { out += text }
            out += shared
            if !out.isEmpty { subscriber.sink.yield(out) }
        }
    }
}
