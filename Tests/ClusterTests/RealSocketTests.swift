@testable import Cluster
import Foundation
import Logging
import NIOCore
import NIOPosix
import Synchronization
import Testing
import TesseraTestSupport

/// A fresh key file in a temporary directory.
func makeKeyFile() throws -> String {
    let directory = URL(fileURLWithPath: try TestDirectories.make("keys"))
    var random = SystemRandomNumberGenerator()
    let hex = (0..<32).map { _ in String(format: "%02x", UInt8.random(in: 0...255, using: &random)) }.joined()
    let path = directory.appendingPathComponent("keys").path
    try "1 \(hex)\n".write(toFile: path, atomically: true, encoding: .utf8)
    return path
}

@Suite("Real sockets", .serialized, .timeLimit(.minutes(1)))
struct RealSocketTests {
    @Test
    func fiveProcesses_converge_detectAKilledMember_andLeaveGracefully() async throws {
        let keys = try makeKeyFile()
        let members = MemberProcesses()
        let port = 27_946
        for index in 0..<5 {
            var arguments = ["--bind", "127.0.1.\(index + 1):\(port)", "--key-file", keys]
            if index > 0 { arguments += ["--join", "127.0.1.1:\(port)"] }
            try members.start(arguments)
        }
        await members.wait { view in
            (0..<5).allSatisfy { observer in (0..<5).allSatisfy { $0 == observer || view.sees(observer, alive: $0) } }
        }
        let clock = ContinuousClock()
        let killed = clock.now
        members.signal(4, SIGKILL)
        await members.wait { view in (0..<4).allSatisfy { view.sees($0, dead: 4) } }
        let detection = clock.now - killed
        print("5 processes on loopback: a SIGKILLed member was declared dead by all 4 others in \(detection)")
        #expect(detection < .seconds(15))
        members.signal(3, SIGTERM)
        await members.wait { view in (0..<3).allSatisfy { view.last[$0]?[view.nodes[3] ?? ""] == "left" } }
        #expect(await members.exits[3].status() == 0)
        for index in 0..<3 { members.signal(index, SIGTERM) }
    }

    @Test func member_dropsBadPacketsSilently_andCountsEachReason() async throws {
        let secret = Array(repeating: UInt8(7), count: 32)
        let ring = try KeyRing([(id: 1, secret: secret)])
        let configuration = ClusterMember.Configuration(
            id: NodeID(high: 1, low: 1), bind: MemberAddress("127.0.1.20:0")!, seeds: [], clusterID: 99,
            keyRing: ring, seed: 1)
        let member = ClusterMember(configuration: configuration)
        let running = Task { try await member.run() }
        defer { running.cancel() }
        let address = await member.listening()
        let target = try SocketAddress(ipAddress: "127.0.1.20", port: Int(address.port))
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let replies = ReplyCount(keyRing: ring, clusterID: 99)
        let client = try await DatagramBootstrap(group: group)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(replies) }
            }
            .bind(host: "127.0.1.21", port: 0).get()
        func send(_ bytes: [UInt8]) async throws {
            var buffer = client.allocator.buffer(capacity: bytes.count)
            buffer.writeBytes(bytes)
            try await client.writeAndFlush(AddressedEnvelope(remoteAddress: target, data: buffer))
        }
        let sender = MemberIdentity(id: NodeID(high: 2, low: 2))
        let ping = Datagram(sender: sender, body: .ping(sequence: 1, target: NodeID(high: 1, low: 1)))
        var genuine = PacketCodec(clusterID: 99, keyRing: ring)
        let valid = genuine.seal(ping)
        var otherCluster = PacketCodec(clusterID: 98, keyRing: ring)
        var otherKey = PacketCodec(clusterID: 99, keyRing: try KeyRing([(id: 2, secret: secret)]))
        var forger = PacketCodec(clusterID: 99, keyRing: try KeyRing([(id: 1, secret: Array(repeating: 8, count: 32))]))
        try await send(Array(valid.prefix(20)))
        try await send(Array(repeating: 1, count: 1600))
        try await send(otherCluster.seal(ping))
        try await send(otherKey.seal(ping))
        try await send(forger.seal(ping))
        try await send(valid)
        try await send(valid)
        // A second genuine ping, sent last: its ack comes after the member has read everything before it.
        try await send(genuine.seal(Datagram(sender: sender, body: .ping(sequence: 2, target: NodeID(high: 1, low: 1)))))
        var acks: [UInt32] = []
        for await reply in replies.datagrams {
            acks.append(reply)
            if reply == 2 { break }
        }
        // Only the genuine pings are answered; none of the bad packets is.
        #expect(acks == [1, 2])
        let expected: [Rejection: Int] = [.truncated: 1, .oversized: 1, .wrongCluster: 1, .unknownKey: 1, .badMAC: 1,
                                          .replayed: 1]
        #expect(member.rejections == expected)
        #expect(await member.view().isEmpty)
        try await client.close()
        try await group.shutdownGracefully()
    }
}

/// Opens what the test's socket receives and streams the sequence numbers of the acks.
final class ReplyCount: ChannelInboundHandler, Sendable {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>
    let datagrams: AsyncStream<UInt32>
    private let sink: AsyncStream<UInt32>.Continuation
    private let codec: Mutex<PacketCodec>

    init(keyRing: KeyRing, clusterID: UInt64) {
        (datagrams, sink) = AsyncStream.makeStream()
        codec = Mutex(PacketCodec(clusterID: clusterID, keyRing: keyRing))
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let bytes = Array(unwrapInboundIn(data).data.readableBytesView)
        if case .success(.datagram(let datagram)) = codec.withLock({ $0.open(bytes, stream: false) }),
           case .ack(let sequence) = datagram.body {
            sink.yield(sequence)
        }
    }
}

@Suite("Transport fault injection", .timeLimit(.minutes(1)))
struct FaultInjectionTests {
    /// Three in-process members whose outgoing datagrams lose 20 % and wait 20 ms still converge, and a member
    /// that leaves is seen leaving.
    @Test func lossyDelayedMembers_convergeOnRealSockets() async throws {
        let ring = try KeyRing([(id: 1, secret: Array(repeating: 3, count: 32))])
        var members: [ClusterMember] = []
        var tasks: [Task<Void, any Error>] = []
        var seedAddress: MemberAddress?
        for index in 0..<3 {
            var transport = TransportSettings()
            transport.faults = FaultInjection(loss: 0.2, delay: .milliseconds(20), seed: UInt64(index + 1))
            transport.leaveDrain = .milliseconds(300)
            let configuration = ClusterMember.Configuration(
                id: NodeID(high: UInt64(index + 10), low: 1), bind: MemberAddress("127.0.1.\(50 + index):0")!,
                seeds: seedAddress.map { [$0] } ?? [], clusterID: 5, keyRing: ring, transport: transport,
                seed: UInt64(index + 1))
            let member = ClusterMember(configuration: configuration)
            members.append(member)
            tasks.append(Task { try await member.run() })
            let address = await member.listening()
            if seedAddress == nil { seedAddress = address }
        }
        var joined = [0, 0, 0]
        await withTaskGroup(of: (Int, Int).self) { group in
            for (index, member) in members.enumerated() {
                group.addTask {
                    var count = 0
                    for await event in member.events {
                        if case .joined = event { count += 1 }
                        if count == 2 { break }
                    }
                    return (index, count)
                }
            }
            for await (index, count) in group { joined[index] = count }
        }
        #expect(joined == [2, 2, 2])
        members[2].leave()
        try await tasks[2].value
        for task in tasks.prefix(2) { task.cancel() }
        for task in tasks.prefix(2) { _ = try? await task.value }
    }
}
