@testable import Cluster
import Foundation
import NIOCore
import NIOPosix
import Synchronization
import Testing
import TesseraTestSupport

/// Links (remote calls) on a member's cluster port, over real loopback sockets.
@Suite("Links", .serialized, .timeLimit(.minutes(1)))
struct LinkTests {
    static let ring = try! KeyRing([(id: 1, secret: Array(repeating: UInt8(9), count: 32))])

    /// A member accepting links on 127.0.1.30:0.
    static func acceptor(cluster: UInt64 = 5) async throws -> (ClusterMember, LinkAcceptor, Task<Void, any Error>, MemberAddress) {
        let id = NodeID(high: 30, low: 1)
        let links = LinkAcceptor(identity: id, clusterID: cluster, keyRing: ring)
        var configuration = ClusterMember.Configuration(
            id: id, bind: MemberAddress("127.0.1.30:0") ?? .unknown, seeds: [], clusterID: cluster, keyRing: ring, seed: 3)
        configuration.links = links
        let member = ClusterMember(configuration: configuration)
        let running = Task { try await member.run() }
        return (member, links, running, await member.listening())
    }

    /// Collects payloads until `count` arrived.
    final class Inbox: Sendable {
        let received = Mutex<[[UInt8]]>([])
        let stream: AsyncStream<Int>
        let sink: AsyncStream<Int>.Continuation
        init() { (stream, sink) = AsyncStream.makeStream() }
        func take(_ payload: [UInt8]) {
            let count = received.withLock { $0.append(payload); return $0.count }
            sink.yield(count)
        }
        func wait(for count: Int) async {
            if received.withLock({ $0.count }) >= count { return }
            for await seen in stream where seen >= count { return }
        }
    }

    @Test func aLink_carriesFramesBothWays_inOrder() async throws {
        let (_, links, running, address) = try await Self.acceptor()
        defer { running.cancel() }
        let dialer = NodeID(high: 31, low: 1)
        async let accepted = links.links.first { _ in true }
        let link = try await Link.dial(
            address.host, port: Int(address.port), expecting: NodeID(high: 30, low: 1), identity: dialer, clusterID: 5, keyRing: Self.ring,
            group: MultiThreadedEventLoopGroup.singleton)
        let other = try #require(await accepted)
        #expect(other.peer == dialer && link.peer == NodeID(high: 30, low: 1))
        let toAcceptor = Inbox()
        let toDialer = Inbox()
        other.start { toAcceptor.take($0) }
        link.start { toDialer.take($0) }
        for index in 0..<1000 {
            try link.send(Array("to acceptor \(index)".utf8))
            try other.send(Array(repeating: UInt8(index % 256), count: index))
        }
        try link.send(Array(repeating: 1, count: 4 << 20))  // a large frame
        await toAcceptor.wait(for: 1001)
        await toDialer.wait(for: 1000)
        let got = toAcceptor.received.withLock { $0 }
        #expect(got.prefix(1000).enumerated().allSatisfy { String(decoding: $1, as: UTF8.self) == "to acceptor \($0)" })
        #expect(got.last?.count == 4 << 20)
        #expect(toDialer.received.withLock { $0 }.enumerated().allSatisfy { $1.count == $0 })
        #expect(throws: LinkError.badFrame(.oversized)) { try link.send(Array(repeating: 0, count: Link.maxPayloadBytes + 1)) }
        link.close()
        #expect(await other.closed() == .closed)
        #expect(throws: LinkError.closed) { try link.send([1]) }
    }

    @Test func theWrongKey_theWrongCluster_orAnotherPeer_areRefused() async throws {
        let (_, links, running, address) = try await Self.acceptor()
        defer { running.cancel() }
        let wrongKey = try KeyRing([(id: 1, secret: Array(repeating: UInt8(8), count: 32))])
        await #expect(throws: LinkError.self) {
            _ = try await Link.dial(address.host, port: Int(address.port), expecting: nil, identity: NodeID(high: 32, low: 1), clusterID: 5,
                                    keyRing: wrongKey, group: MultiThreadedEventLoopGroup.singleton, timeout: .seconds(2))
        }
        let unknownKey = try KeyRing([(id: 2, secret: Array(repeating: UInt8(9), count: 32))])
        await #expect(throws: LinkError.self) {
            _ = try await Link.dial(address.host, port: Int(address.port), expecting: nil, identity: NodeID(high: 32, low: 1), clusterID: 5,
                                    keyRing: unknownKey, group: MultiThreadedEventLoopGroup.singleton, timeout: .seconds(2))
        }
        await #expect(throws: LinkError.self) {
            _ = try await Link.dial(address.host, port: Int(address.port), expecting: nil, identity: NodeID(high: 32, low: 1), clusterID: 6,
                                    keyRing: Self.ring, group: MultiThreadedEventLoopGroup.singleton, timeout: .seconds(2))
        }
        await #expect(throws: LinkError.unexpectedPeer(expected: NodeID(high: 1, low: 1), got: NodeID(high: 30, low: 1))) {
            _ = try await Link.dial(address.host, port: Int(address.port), expecting: NodeID(high: 1, low: 1), identity: NodeID(high: 32, low: 1),
                                    clusterID: 5, keyRing: Self.ring, group: MultiThreadedEventLoopGroup.singleton)
        }
        // The acceptor's side counts each refusal by reason (it answers none of them).
        let deadline = ContinuousClock.now + .seconds(5)
        while links.refused.values.reduce(0, +) < 3 && ContinuousClock.now < deadline { await Task.yield() }
        #expect(links.refused[.refused(.badMAC)] == 1)
        #expect(links.refused[.refused(.unknownKey)] == 1)
        #expect(links.refused[.refused(.wrongCluster)] == 1)
    }

    @Test func aForgedFrame_closesThatLinkOnly() async throws {
        let (_, links, running, address) = try await Self.acceptor()
        defer { running.cancel() }
        var accepted = links.links.makeAsyncIterator()
        let good = try await Link.dial(address.host, port: Int(address.port), expecting: nil, identity: NodeID(high: 33, low: 1), clusterID: 5,
                                       keyRing: Self.ring, group: MultiThreadedEventLoopGroup.singleton)
        let goodOther = try #require(await accepted.next())
        let inbox = Inbox()
        goodOther.start { inbox.take($0) }

        // A raw connection that does the handshake, then sends a frame with a wrong MAC.
        let fd = try #require(connectTCP(host: address.host, port: address.port))
        defer { close(fd) }
        func sendFrame(_ bytes: [UInt8]) {
            let frame = withUnsafeBytes(of: UInt32(bytes.count).bigEndian) { Array($0) } + bytes
            _ = frame.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, 0) }
        }
        let nonce = LinkHandshake.nonce()
        sendFrame(LinkHandshake.seal(.hello, clusterID: 5, key: Self.ring.primary, sender: NodeID(high: 34, low: 1), nonce: nonce))
        var reply = [UInt8](repeating: 0, count: 4 + LinkHandshake.messageBytes)
        var read = 0
        while read < reply.count {
            let got = reply.withUnsafeMutableBytes { recv(fd, $0.baseAddress! + read, $0.count - read, 0) }
            guard got > 0 else { break }
            read += got
        }
        #expect(read == reply.count)
        let raw = try #require(await accepted.next())
        raw.start { _ in Issue.record("a forged frame was delivered") }
        sendFrame(Array("forged".utf8) + Array(repeating: 0, count: LinkHandshake.tagBytes))
        #expect(await raw.closed() == .badFrame(.badMAC))

        // The other link goes on.
        try good.send(Array("still here".utf8))
        await inbox.wait(for: 1)
        #expect(inbox.received.withLock { $0 } == [Array("still here".utf8)])
        #expect(goodOther.closeReason == nil)
        good.close()
    }
}
