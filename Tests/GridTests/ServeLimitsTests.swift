import Foundation
import TesseraTestSupport
import Testing

/// A real `tessera serve` against clients that hold connections: past the caps a connection is answered 503 and an
/// event stream 429, a client that never finishes its headers is closed at the deadline, and the server keeps
/// answering everyone else (issue 27, items 9 and 10).
@Suite("tessera serve: connection and stream limits", .serialized, .timeLimit(.minutes(2)))
struct ServeLimitsTests {
    /// A TCP connection from `source` to the server (loopback addresses are all this machine's).
    static func connect(_ server: ServerProcess, from source: String = "127.0.0.1") throws -> Int32 {
        let url = try #require(URL(string: server.url))
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        try #require(fd >= 0)
        var local = sockaddr_in()
        local.sin_family = sa_family_t(AF_INET)
        inet_pton(AF_INET, source, &local.sin_addr)
        let bound = withUnsafePointer(to: &local) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        try #require(bound == 0)
        var target = sockaddr_in()
        target.sin_family = sa_family_t(AF_INET)
        target.sin_port = UInt16(url.port ?? 0).bigEndian
        inet_pton(AF_INET, url.host ?? "127.0.0.1", &target.sin_addr)
        let connected = withUnsafePointer(to: &target) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        try #require(connected == 0)
        return fd
    }

    static func send(_ fd: Int32, _ text: String) {
        _ = text.withCString { Glibc.send(fd, $0, strlen($0), Int32(MSG_NOSIGNAL)) }
    }

    /// The first bytes the server sends (or "" once it closes), read on a Dispatch thread, within 30 s.
    static func firstBytes(_ fd: Int32) async -> String {
        await withCheckedContinuation { continuation in
            DispatchQueue.global().async {
                var timeout = timeval(tv_sec: 30, tv_usec: 0)
                setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
                var buffer = [UInt8](repeating: 0, count: 4096)
                let count = recv(fd, &buffer, buffer.count, 0)
                continuation.resume(returning: count > 0 ? String(decoding: buffer[..<count], as: UTF8.self) : "")
            }
        }
    }

    static let request = "GET /api/v1/jobs HTTP/1.1\r\nHost: tessera\r\n\r\n"

    @Test func connectionsPastTheCap_get503_andOtherAddressesAreServed() async throws {
        let root = try makeTemporaryDirectory("serve-connections")
        let server = try await ServerProcess.start(data: root + "/data", arguments: ["--max-connections-per-address", "8", "--header-timeout", "60"])
        var held: [Int32] = []
        for _ in 0..<8 { held.append(try Self.connect(server)) }
        // Each held connection is answered: the server has counted it.
        for fd in held { Self.send(fd, Self.request); #expect(await Self.firstBytes(fd).hasPrefix("HTTP/1.1 200")) }
        let ninth = try Self.connect(server)
        Self.send(ninth, Self.request)
        let refused = await Self.firstBytes(ninth)
        #expect(refused.hasPrefix("HTTP/1.1 503"), "\(refused)")
        close(ninth)
        // Another client address is not held back by the first one's connections.
        let other = try Self.connect(server, from: "127.0.0.2")
        Self.send(other, Self.request)
        #expect(await Self.firstBytes(other).hasPrefix("HTTP/1.1 200"))
        close(other)
        for fd in held { close(fd) }
        #expect(await server.terminate() == 0)
    }

    @Test func aClientThatNeverFinishesItsHeaders_isClosedAtTheDeadline() async throws {
        let root = try makeTemporaryDirectory("serve-slowloris")
        let server = try await ServerProcess.start(data: root + "/data", arguments: ["--header-timeout", "1"])
        let slow = try Self.connect(server)
        let started = ContinuousClock.now
        Self.send(slow, "GET /api/v1/jobs HTTP/1.1\r\nHost: tessera\r\nX-Slow: 1")
        #expect(await Self.firstBytes(slow).isEmpty, "the server closes the connection without an answer")
        let waited = ContinuousClock.now - started
        #expect(waited < .seconds(20), "closed after \(waited)")
        close(slow)
        // An idle keep-alive connection goes the same way once its deadline passes.
        let idle = try Self.connect(server)
        Self.send(idle, Self.request)
        #expect(await Self.firstBytes(idle).hasPrefix("HTTP/1.1 200"))
        #expect(await Self.firstBytes(idle).isEmpty)
        close(idle)
        #expect(await server.terminate() == 0)
    }

    @Test func eventStreamsPastTheUsersCap_get429() async throws {
        let root = try makeTemporaryDirectory("serve-streams")
        let server = try await ServerProcess.start(data: root + "/data", arguments: ["--max-streams-per-user", "2"])
        var streams: [Int32] = []
        for _ in 0..<2 {
            let fd = try Self.connect(server)
            Self.send(fd, "GET /api/v1/events HTTP/1.1\r\nHost: tessera\r\n\r\n")
            let answer = await Self.firstBytes(fd)
            #expect(answer.hasPrefix("HTTP/1.1 200"), "\(answer)")
            streams.append(fd)
        }
        let third = try Self.connect(server)
        Self.send(third, "GET /api/v1/events HTTP/1.1\r\nHost: tessera\r\n\r\n")
        let refused = await Self.firstBytes(third)
        #expect(refused.hasPrefix("HTTP/1.1 429") && refused.contains("too_many_streams"), "\(refused)")
        close(third)
        #expect(try await server.call("GET", "/api/v1/jobs").status == 200)
        for fd in streams { close(fd) }
        #expect(await server.terminate() == 0)
    }
}
