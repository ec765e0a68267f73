import Foundation
import Synchronization

/// The `tessera` executable built next to the test bundle (`swift build --build-tests` builds it; `tools/test`
/// does), or nil when it was not built.
public let tesseraBinary: String? = {
    guard let bundle = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") else { return nil }
    let path = URL(fileURLWithPath: bundle).deletingLastPathComponent().appendingPathComponent("tessera").path
    return FileManager.default.isExecutableFile(atPath: path) ? path : nil
}()

/// The `tessera` executable is not built next to the tests.
public struct MissingExecutable: Error, CustomStringConvertible {
    public init() {}
    public var description: String { "the tessera executable is not built next to the tests: run tools/test" }
}

/// Runs `tessera` with `arguments` in `directory`; returns the exit status, stdout and stderr (through files, so
/// that no pipe can fill up and block the child). It awaits the child's end without holding a thread: tests run
/// side by side on Swift's cooperative pool (as many threads as cores), and a test blocked in `waitUntilExit`
/// would starve the others.
///
/// With `namespace`, it runs inside that network namespace (`ip netns exec`, root only); with `launcher`, under
/// that command (`["taskset", "-c", "1"]`), looked up on PATH; `environment` is added to this process's.
///
/// - Throws: `MissingExecutable`, or the errors of starting the process and reading its output.
public func runTessera(
    _ arguments: [String], in directory: String, namespace: String? = nil, launcher: [String] = [],
    environment: [String: String] = [:]
) async throws -> (status: Int32, out: String, err: String) {
    guard let binary = tesseraBinary else { throw MissingExecutable() }
    let process = Process()
    if !environment.isEmpty {
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
    }
    if let namespace {
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["ip", "netns", "exec", namespace] + launcher + [binary] + arguments
    } else if !launcher.isEmpty {
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = launcher + [binary] + arguments
    } else {
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = arguments
    }
    process.currentDirectoryURL = URL(fileURLWithPath: directory)
    let stamp = UUID().uuidString
    let outPath = directory + "/.stdout-" + stamp
    let errPath = directory + "/.stderr-" + stamp
    for path in [outPath, errPath] { _ = FileManager.default.createFile(atPath: path, contents: nil) }
    guard let out = FileHandle(forWritingAtPath: outPath), let err = FileHandle(forWritingAtPath: errPath) else {
        throw CocoaError(.fileWriteUnknown)
    }
    process.standardOutput = out
    process.standardError = err
    try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
        process.terminationHandler = { _ in continuation.resume() }
        do {
            try process.run()
        } catch {
            process.terminationHandler = nil
            continuation.resume(throwing: error)
        }
    }
    try out.close()
    try err.close()
    return (process.terminationStatus, try String(contentsOfFile: outPath, encoding: .utf8),
            try String(contentsOfFile: errPath, encoding: .utf8))
}

/// Runs a program to its end without holding a thread (tests share Swift's cooperative pool, as many threads
/// as cores: a test blocked in `waitUntilExit` starves the others); returns its exit status.
public func runProcess(_ executable: String, _ arguments: [String], environment: [String: String]? = nil) async throws -> Int32 {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    if let environment { process.environment = environment }
    let exit = ProcessExit(process)
    try process.run()
    return await exit.status()
}

/// A process's end, awaited without holding a thread: make it before `run()`.
public final class ProcessExit: Sendable {
    private let state = Mutex<(status: Int32?, waiters: [CheckedContinuation<Int32, Never>])>((nil, []))

    /// Watches `process`, which must not have been started yet.
    public init(_ process: Process) {
        process.terminationHandler = { [self] finished in
            let status = finished.terminationStatus
            let waiters = self.state.withLock { state in
                state.status = status
                defer { state.waiters = [] }
                return state.waiters
            }
            for waiter in waiters { waiter.resume(returning: status) }
        }
    }

    /// Waits for the end and returns the exit status.
    public func status() async -> Int32 {
        await withCheckedContinuation { continuation in
            let status: Int32? = state.withLock { state in
                if state.status == nil { state.waiters.append(continuation) }
                return state.status
            }
            if let status { continuation.resume(returning: status) }
        }
    }
}

/// A TCP connection to an IPv4 `host:port` (a plain socket, for tests that send raw bytes), or `nil`.
public func connectTCP(host: String, port: UInt16) -> Int32? {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { return nil }
    var target = sockaddr_in()
    target.sin_family = sa_family_t(AF_INET)
    target.sin_port = port.bigEndian
    inet_pton(AF_INET, host, &target.sin_addr)
    let connected = withUnsafePointer(to: &target) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    guard connected == 0 else {
        close(fd)
        return nil
    }
    return fd
}
