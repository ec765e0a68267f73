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
}
