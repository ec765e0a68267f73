import Dispatch
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Synchronization
import TesseraTestSupport

/// A `tessera serve` process started by a test, on a free loopback port; killed when the test drops it.
final class ServerProcess: Sendable {
    let process: Process
    let exit: ProcessExit
    /// `http://127.0.0.1:PORT`.
    let url: String
    let errorLog: String

    private init(process: Process, exit: ProcessExit, url: String, errorLog: String) {
        self.process = process
        self.exit = exit
        self.url = url
        self.errorLog = errorLog
    }

    deinit {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
    }

    struct StartFailure: Error, CustomStringConvertible {
        var description: String
    }

    /// Starts the server and returns once it says where it listens.
    static func start(data: String, arguments: [String] = []) async throws -> ServerProcess {
        guard let binary = tesseraBinary else { throw MissingExecutable() }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = ["serve", "--data", data, "--listen", "127.0.0.1:0", "--nodes", "2", "--log-level", "warning"] + arguments
        let errorLog = data + ".stderr-\(UUID().uuidString.prefix(6))"
        _ = FileManager.default.createFile(atPath: errorLog, contents: nil)
        process.standardError = FileHandle(forWritingAtPath: errorLog)
        let pipe = Pipe()
        process.standardOutput = pipe
        let (lines, sink) = AsyncStream.makeStream(of: String.self)
        let buffer = Mutex<[UInt8]>([])
        pipe.fileHandleForReading.readabilityHandler = { handle in
            let data = handle.availableData
            if data.isEmpty {
                handle.readabilityHandler = nil
                sink.finish()
                return
            }
            let complete: [String] = buffer.withLock { pending in
                pending.append(contentsOf: data)
                var found: [String] = []
                while let newline = pending.firstIndex(of: 0x0A) {
                    found.append(String(decoding: pending[..<newline], as: UTF8.self))
                    pending.removeSubrange(...newline)
                }
                return found
            }
            for line in complete { sink.yield(line) }
        }
        let exit = ProcessExit(process)
        try process.run()
        for await line in lines {
            if let range = line.range(of: "http://") {
                let url = String(line[range.lowerBound...].prefix { !$0.isWhitespace })
                return ServerProcess(process: process, exit: exit, url: url, errorLog: errorLog)
            }
        }
        _ = await exit.status()
        let errors = (try? String(contentsOfFile: errorLog, encoding: .utf8)) ?? ""
        throw StartFailure(description: "tessera serve exited \(process.terminationStatus) before listening: \(errors)")
    }

    /// A real SIGKILL; returns once the process is gone.
    func kill9() async {
        kill(process.processIdentifier, SIGKILL)
        _ = await exit.status()
    }

    /// SIGTERM; returns the exit status.
    func terminate() async -> Int32 {
        kill(process.processIdentifier, SIGTERM)
        return await exit.status()
    }

    /// One HTTP call: the status and the body.
    func call(_ method: String, _ path: String, token: String? = nil, body: Data? = nil, contentType: String? = nil) async throws -> (status: Int, body: Data) {
        guard let target = URL(string: url + path) else { throw StartFailure(description: "bad path \(path)") }
        var request = URLRequest(url: target)
        request.httpMethod = method
        request.httpBody = body
        request.timeoutInterval = 60
        if let token { request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization") }
        if let contentType { request.setValue(contentType, forHTTPHeaderField: "Content-Type") }
        let (data, response) = try await URLSession.shared.data(for: request)
        return ((response as? HTTPURLResponse)?.statusCode ?? 0, data)
    }

    /// A JSON object answer.
    func object(_ method: String, _ path: String, token: String? = nil, json: [String: Any]? = nil) async throws -> (status: Int, object: [String: Any]) {
        let body = try json.map { try JSONSerialization.data(withJSONObject: $0) }
        let (status, data) = try await call(method, path, token: token, body: body, contentType: body == nil ? nil : "application/json")
        return (status, (try? JSONSerialization.jsonObject(with: data) as? [String: Any]) ?? [:])
    }

    /// Reads job `id` until `done` holds: once when the job's event stream (`/api/v1/events?job=ID`) has opened, then
    /// once after each chunk the stream sends (its passes come at most every 250 ms, with a keep-alive every 2 s), so
    /// the test waits on the server's events, not on a polling loop. Returns the last read: the one where `done`
    /// held, or the job as it stood when the stream ended.
    @discardableResult
    func waitJob(_ id: Int, token: String? = nil, until done: ([String: Any]) -> Bool) async throws -> [String: Any] {
        let chunks = eventChunks(path: "/api/v1/events?job=\(id)", token: token)
        defer { chunks.stop() }
        var job: [String: Any] = [:]
        for await _ in chunks.stream {
            let (status, read) = try await object("GET", "/api/v1/jobs/\(id)", token: token)
            job = read
            if status != 200 || done(job) { return job }
        }
        return try await object("GET", "/api/v1/jobs/\(id)", token: token).object
    }

    /// A server-sent event stream read over a plain socket on a Dispatch thread (never the cooperative pool): one
    /// element per chunk received, the first once the response's head and first event came. `stop()` ends it.
    func eventChunks(path: String, token: String?) -> EventChunks {
        let chunks = EventChunks()
        let address = url.replacingOccurrences(of: "http://", with: "")
        let parts = address.split(separator: ":")
        let host = String(parts.first ?? "127.0.0.1")
        let port = parts.count > 1 ? UInt16(parts[1]) ?? 0 : 0
        let authorization = token.map { "Authorization: Bearer \($0)\r\n" } ?? ""
        DispatchQueue.global().async {
            defer { chunks.sink.finish() }
            guard let fd = connectTCP(host: host, port: port) else { return }
            defer { close(fd) }
            guard chunks.attach(fd) else { return }
            let request = "GET \(path) HTTP/1.1\r\nHost: \(address)\r\n\(authorization)Accept: text/event-stream\r\n\r\n"
            _ = Array(request.utf8).withUnsafeBytes { send(fd, $0.baseAddress, $0.count, 0) }
            var buffer = [UInt8](repeating: 0, count: 65_536)
            while true {
                let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
                if count <= 0 { break }
                chunks.sink.yield(String(decoding: buffer[0..<count], as: UTF8.self))
            }
        }
        return chunks
    }

    /// The chunks of one event stream, and the means to end it from the test.
    final class EventChunks: Sendable {
        let stream: AsyncStream<String>
        let sink: AsyncStream<String>.Continuation
        /// The socket, once connected; `-1` once stopped.
        private let socket = Mutex<Int32?>(nil)

        init() { (stream, sink) = AsyncStream.makeStream(of: String.self) }

        /// Records the reader's socket; false when the stream was stopped before it connected.
        func attach(_ fd: Int32) -> Bool {
            socket.withLock { current in
                guard current != -1 else { return false }
                current = fd
                return true
            }
        }

        /// Ends the stream: the reader's blocked `recv` returns at once.
        func stop() {
            socket.withLock { current in
                if let fd = current, fd >= 0 { shutdown(fd, Int32(SHUT_RDWR)) }
                current = -1
            }
            sink.finish()
        }
    }
}
