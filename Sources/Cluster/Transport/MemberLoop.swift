import CoreMetrics
import Logging
import NIOCore
import NIOPosix
import Synchronization

/// The consumer of a member's inputs: owns the core and the codec, performs the core's effects.
struct MemberLoop {
    let member: ClusterMember
    let sockets: MemberSockets
    var core: MembershipCore
    var codec: PacketCodec
    let origin: UInt64
    var faults: Xoshiro256?
    var stopping = false

    init(member: ClusterMember, sockets: MemberSockets) {
        let configuration = member.configuration
        self.member = member
        self.sockets = sockets
        core = MembershipCore(id: configuration.id, address: sockets.address, settings: configuration.settings,
                              seed: configuration.seed)
        // Sequence numbers start at a random point so two members started with the same seed stay apart.
        var random = SystemRandomNumberGenerator()
        codec = PacketCodec(clusterID: configuration.clusterID, keyRing: configuration.keyRing,
                            firstSequence: random.next() >> 16)
        origin = NIODeadline.now().uptimeNanoseconds
        faults = configuration.transport.faults.map { Xoshiro256(seed: $0.seed) }
    }

    var now: ClusterTime {
        ClusterTime(nanoseconds: Int64(NIODeadline.now().uptimeNanoseconds &- origin))
    }

    mutating func run() async {
        perform(core.start(seeds: member.configuration.seeds, now: now))
        for await input in member.inputs {
            switch input {
            case .datagram(let buffer, let from):
                member.metrics.datagramsReceived.increment()
                let opened = buffer.withUnsafeReadableBytes { codec.open($0, stream: false) }
                switch opened {
                case .success(.datagram(let datagram)):
                    guard let address = ClusterMember.memberAddress(from) else { continue }
                    perform(core.onDatagram(datagram, from: address, now: now))
                case .success: reject(.wrongChannel)
                case .failure(let reason): reject(reason)
                }
            case .timer(let timer):
                perform(core.onTimer(timer, now: now))
            case .syncRequest(let buffer, let connection):
                let opened = buffer.withUnsafeReadableBytes { codec.open($0, stream: true) }
                guard case .success(.syncRequest(let request)) = opened else {
                    if case .failure(let reason) = opened { reject(reason) } else { reject(.wrongChannel) }
                    connection.close(promise: nil)
                    continue
                }
                let (reply, effects) = core.onSyncRequest(request, now: now)
                let bytes = codec.seal(reply, reply: true)
                let frame = LengthPrefixedFrameDecoder.frame(bytes, allocator: connection.allocator)
                connection.writeAndFlush(frame).whenComplete { _ in connection.close(promise: nil) }
                perform(effects)
            case .syncReply(let buffer):
                let opened = buffer.withUnsafeReadableBytes { codec.open($0, stream: true) }
                switch opened {
                case .success(.syncReply(let reply)): perform(core.onSyncReply(reply, now: now))
                case .success: reject(.wrongChannel)
                case .failure(let reason): reject(reason)
                }
            case .syncFailed(let address):
                member.metrics.syncsFailed.increment()
                member.logger.debug("state exchange failed", metadata: ["cluster.peer": "\(address)"])
                perform(core.onSyncFailed(to: address, now: now))
            case .rejected(let reason):
                reject(reason)
            case .view(let continuation):
                continuation.resume(returning: core.members)
            case .stop:
                if stopping { return }
                stopping = true
                perform(core.leave(now: now))
                let drain = member.configuration.transport.leaveDrain
                let sink = member.inputSink
                member.group.next().scheduleTask(in: .nanoseconds(drain.nanoseconds)) { sink.finish() }
            }
            member.metrics.activeMembers.record(core.activeCount)
        }
    }

    mutating func reject(_ reason: Rejection) {
        member.metrics.rejected[reason]?.increment()
        member.counts.withLock { $0[reason, default: 0] += 1 }
        member.logger.trace("packet refused", metadata: ["cluster.reason": "\(reason.rawValue)"])
    }

    mutating func perform(_ effects: [MembershipEffect]) {
        for effect in effects {
            switch effect {
            case .send(let datagram, let address):
                send(codec.seal(datagram), to: address)
            case .sync(let message, let address):
                member.metrics.syncsOpened.increment()
                member.openSync(codec.seal(message, reply: false), to: address)
            case .setTimer(let timer, let at):
                let deadline = NIODeadline.uptimeNanoseconds(origin &+ UInt64(max(at.nanoseconds, 0)))
                let sink = member.inputSink
                member.group.next().scheduleTask(deadline: deadline) { sink.yield(.timer(timer)) }
            case .event(let event):
                member.metrics.events.increment()
                member.logger.debug("membership event", metadata: ["cluster.event": "\(event)"])
                member.eventSink.yield(event)
            }
        }
    }

    mutating func send(_ bytes: [UInt8], to address: MemberAddress) {
        guard let target = ClusterMember.socketAddress(address) else { return }
        var buffer = sockets.udp.allocator.buffer(capacity: bytes.count)
        buffer.writeBytes(bytes)
        member.metrics.datagramsSent.increment()
        member.metrics.bytesSent.increment(by: bytes.count)
        let envelope = AddressedEnvelope(remoteAddress: target, data: buffer)
        if let faults = member.configuration.transport.faults, var random = self.faults {
            defer { self.faults = random }
            if random.unit() < faults.loss { return }
            if faults.delay > .zero {
                let channel = sockets.udp
                member.group.next().scheduleTask(in: .nanoseconds(faults.delay.nanoseconds)) {
                    channel.writeAndFlush(envelope, promise: nil)
                }
                return
            }
        }
        sockets.udp.writeAndFlush(envelope, promise: nil)
    }
}
