/// Who follows the grid's node list (``Grid/nodeChanges``), and the list they were last sent. The scheduler
/// owns one; it reads the list only when somebody follows it and sends it only when it changed.
struct NodeListFollowers {
    typealias List = [ResourceLedger.Entry]
    private var sinks: [UInt64: AsyncStream<List>.Continuation] = [:]
    private var nextID: UInt64 = 0
    private var last: List = []
    private var finished = false

    /// A stream that starts with `current`, then gets each change (the newest list only, for a slow reader).
    /// `ended` is called with the follower's id when its reader goes away, to ``remove(_:)`` it.
    mutating func follow(_ current: List, ended: @escaping @Sendable (UInt64) -> Void) -> AsyncStream<List> {
        let (stream, sink) = AsyncStream.makeStream(of: List.self, bufferingPolicy: .bufferingNewest(1))
        guard !finished else {
            sink.finish()
            return stream
        }
        nextID += 1
        let id = nextID
        sinks[id] = sink
        sink.onTermination = { _ in ended(id) }
        last = current
        sink.yield(current)
        return stream
    }

    mutating func remove(_ id: UInt64) { sinks[id] = nil }

    /// Sends the list when it changed; `read` is not called without followers.
    mutating func publish(_ read: () -> List) {
        guard !sinks.isEmpty else { return }
        let list = read()
        guard list != last else { return }
        last = list
        for sink in sinks.values { sink.yield(list) }
    }

    /// Ends every stream; later followers get an ended stream.
    mutating func finish() {
        finished = true
        for sink in sinks.values { sink.finish() }
        sinks = [:]
    }
}
