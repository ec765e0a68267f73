import Dispatch
import Glibc
import Foundation
import Synchronization
import TesseraTestSupport

/// A client of a server's `/api/v1/events` stream: tests wait on what the server says changed, not on time.
///
/// The socket is read on a Dispatch thread (never on the cooperative pool); the stream ends when the server closes
/// it, after `seconds`, or on ``close()``.
final class ServerEvents: Sendable {
    struct Event: Sendable {
        /// `job`, `task` or `nodes`; `open` once the server has subscribed the stream.
        let kind: String
        /// The JSON data.
        let data: String

        /// The data as a JSON value.
        var json: Any? { try? JSONSerialization.jsonObject(with: Data(data.utf8)) }
    }

    let events: AsyncStream<Event>
    private let closed = Atomic<Bool>(false)

    /// Opens `path` (such as `/api/v1/events?job=3`) on the server at `url` (`http://127.0.0.1:PORT`).
    init(url: String, path: String = "/api/v1/events", token: String? = nil, seconds: Double = 120) {
        let (events, sink) = AsyncStream.makeStream(of: Event.self)
        self.events = events
        let address = url.replacingOccurrences(of: "http://", with: "")
        let parts = address.split(separator: ":")
        let host = String(parts.first ?? "127.0.0.1")
        let port = parts.count > 1 ? UInt16(parts[1]) ?? 0 : 0
        let closed = self.closedFlag
        DispatchQueue.global().async {
            defer { sink.finish() }
            guard let fd = connectTCP(host: host, port: port) else { return }
            defer { Glibc.close(fd) }
            let authorization = token.map { "Authorization: Bearer \($0)\r\n" } ?? ""
            let request = "GET \(path) HTTP/1.1\r\nHost: \(address)\r\n\(authorization)Accept: text/event-stream\r\n\r\n"
            _ = Array(request.utf8).withUnsafeBytes { send(fd, $0.baseAddress, $0.count, 0) }
            var timeout = timeval(tv_sec: 0, tv_usec: 200_000)
            setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
            var pending: [UInt8] = []
            var kind = "message"
            var data = ""
            var buffer = [UInt8](repeating: 0, count: 65_536)
            let deadline = Date().addingTimeInterval(seconds)
            while Date() < deadline && !closed.isSet {
                let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
                if count == 0 { return }
                guard count > 0 else { continue }
                pending += buffer[0..<count]
                // Lines, split on bytes (a String would keep "\r\n" as one character); the chunked encoding's size
                // lines are neither `event:` nor `data:` and are skipped (each write of the server is one chunk and
                // ends with a blank line, so a chunk never splits an event).
                while let newline = pending.firstIndex(of: 0x0A) {
                    var bytes = pending[..<newline]
                    if bytes.last == 0x0D { bytes = bytes.dropLast() }
                    let line = String(decoding: bytes, as: UTF8.self)
                    pending.removeSubrange(...newline)
                    if line.hasPrefix("retry:") {
                        sink.yield(Event(kind: "open", data: "{}"))  // the server subscribed: nothing after this is missed
                    } else if line.hasPrefix("event: ") {
                        kind = String(line.dropFirst(7))
                    } else if line.hasPrefix("data: ") {
                        data += line.dropFirst(6)
                    } else if line.isEmpty && !data.isEmpty {
                        sink.yield(Event(kind: kind, data: data))
                        kind = "message"
                        data = ""
                    }
                }
            }
        }
    }

    private var closedFlag: ClosedFlag { ClosedFlag(owner: self) }

    /// Stops reading.
    func close() {
        closed.store(true, ordering: .relaxed)
    }

    /// Whether ``close()`` was called, readable from the reading thread.
    struct ClosedFlag: Sendable {
        let owner: ServerEvents
        var isSet: Bool { owner.closed.load(ordering: .relaxed) }
    }

    /// Waits until the server has subscribed the stream (`false` when it could not connect).
    func opened() async -> Bool {
        await first("open", as: [String: Any].self) { _ in true } != nil
    }

    /// Waits for the first event of `kind` whose JSON satisfies `condition`; `nil` when the stream ended first.
    func first<T>(_ kind: String, as type: T.Type, where condition: (T) -> Bool) async -> T? {
        for await event in events where event.kind == kind {
            if let value = event.json as? T, condition(value) { return value }
        }
        return nil
    }
}
