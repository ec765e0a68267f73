import NIOCore
import NIOPosix
import Synchronization

/// The member's two listening sockets.
struct MemberSockets: Sendable {
    let udp: any Channel
    let tcp: any Channel
    let address: MemberAddress
}

extension ClusterMember {
    /// Binds UDP and TCP on the configured address (the TCP listener on the port UDP got when it is 0).
    func bindSockets() async throws -> MemberSockets {
        let sink = inputSink
        let host = configuration.bind.host
        let udp = try await DatagramBootstrap(group: group)
            .channelOption(.socketOption(.so_reuseaddr), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(DatagramInbound(sink: sink))
                }
            }
            .bind(host: host, port: Int(configuration.bind.port)).get()
        let port = udp.localAddress?.port ?? Int(configuration.bind.port)
        let active = ConnectionCount()
        let transport = configuration.transport
        let links = configuration.links
        let tcp = try await ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            // Connections stay under a count that fits the descriptors (out of them, NIO's accept would spin on
            // EMFILE: its back-off only holds once an accept in the batch succeeded); past the count the member stops
            // accepting until one closes, and backs off after an accept error.
            .serverChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(AcceptGate(limit: transport.maxConnections))
                    try channel.pipeline.syncOperations.addHandler(AcceptBackoffHandler(shouldForwardIOErrorCaught: false))
                }
            }
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    guard active.enter(limit: transport.maxConcurrentSyncs) else {
                        throw TooManyConnections()
                    }
                    let slot = ConnectionSlot(active)
                    channel.closeFuture.whenComplete { _ in slot.release() }
                    let idle = IdleStateHandler(readTimeout: TimeAmount.nanoseconds(transport.idleTimeout.nanoseconds))
                    let sync = SyncServerInbound(sink: sink)
                    try channel.pipeline.syncOperations.addHandlers([
                        idle,
                        ByteToMessageHandler(LengthPrefixedFrameDecoder(maximum: PacketCodec.maxFrameBytes)),
                        StreamDemux(links: links, slot: slot, idle: idle, sync: sync),
                        sync,
                    ])
                }
            }
            .bind(host: host, port: port).get()
        var address = configuration.bind
        address.port = UInt16(port)
        return MemberSockets(udp: udp, tcp: tcp, address: address)
    }

    /// Opens a state exchange: connect, send the request frame, read one reply frame, close.
    func openSync(_ request: [UInt8], to address: MemberAddress) {
        let sink = inputSink
        let transport = configuration.transport
        let promise = group.next().makePromise(of: ByteBuffer.self)
        promise.futureResult.whenComplete { result in
            switch result {
            case .success(let frame): sink.yield(.syncReply(frame))
            case .failure: sink.yield(.syncFailed(address))
            }
        }
        let timeout = group.next().scheduleTask(in: .nanoseconds(transport.idleTimeout.nanoseconds)) {
            promise.fail(SyncTimedOut())
        }
        promise.futureResult.whenComplete { _ in timeout.cancel() }
        let connection = ClientBootstrap(group: group)
            .connectTimeout(.nanoseconds(transport.connectTimeout.nanoseconds))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandlers([
                        ByteToMessageHandler(LengthPrefixedFrameDecoder(maximum: PacketCodec.maxFrameBytes)),
                        SyncClientInbound(promise: promise),
                    ])
                }
            }
            .connect(host: address.host, port: Int(address.port))
        connection.whenSuccess { channel in
            let frame = LengthPrefixedFrameDecoder.frame(request, allocator: channel.allocator)
            channel.writeAndFlush(frame, promise: nil)
            promise.futureResult.whenComplete { _ in channel.close(promise: nil) }
        }
        connection.whenFailure { promise.fail($0) }
    }

    /// The socket address of a member address.
    static func socketAddress(_ address: MemberAddress) -> SocketAddress? {
        try? SocketAddress(ipAddress: address.host, port: Int(address.port))
    }

    /// The member address of a socket address.
    static func memberAddress(_ address: SocketAddress) -> MemberAddress? {
        guard let ip = address.ipAddress, let port = address.port else { return nil }
        return address.protocol == .inet6 ? MemberAddress("[\(ip)]:\(port)") : MemberAddress("\(ip):\(port)")
    }
}

struct TooManyConnections: Error {}

/// Accepts while fewer than `limit` accepted connections are open; past it, the next read waits until one closes
/// (the connections queue in the kernel's backlog instead of taking descriptors).
final class AcceptGate: ChannelDuplexHandler {
    typealias InboundIn = any Channel
    typealias InboundOut = any Channel
    typealias OutboundIn = Never

    private let limit: Int
    private var open = 0
    private var waiting = false

    init(limit: Int) {
        self.limit = max(1, limit)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let child = unwrapInboundIn(data)
        open += 1
        let gate = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        child.closeFuture.hop(to: context.eventLoop).whenComplete { _ in
            let (handler, context) = gate.value
            handler.open -= 1
            if handler.waiting, handler.open < handler.limit {
                handler.waiting = false
                context.read()
            }
        }
        context.fireChannelRead(data)
    }

    func read(context: ChannelHandlerContext) {
        guard open < limit else {
            waiting = true
            return
        }
        context.read()
    }
}
struct SyncTimedOut: Error {}

/// Counts the state exchanges being served, to refuse more than the limit.
final class ConnectionCount: Sendable {
    private let value = Atomic<Int>(0)

    func enter(limit: Int) -> Bool {
        let now = value.add(1, ordering: .relaxed).newValue
        if now > limit {
            value.subtract(1, ordering: .relaxed)
            return false
        }
        return true
    }

    func leave() {
        value.subtract(1, ordering: .relaxed)
    }
}

/// A state exchange's place in the connection limit, given back once (at close, or when the connection
/// becomes a link, which the limit does not count).
final class ConnectionSlot: Sendable {
    private let count: ConnectionCount
    private let held = Atomic<Bool>(true)

    init(_ count: ConnectionCount) {
        self.count = count
    }

    func release() {
        if held.exchange(false, ordering: .relaxed) { count.leave() }
    }
}

/// Looks at a connection's first frame: a link hello hands the connection to the member's ``LinkAcceptor``
/// (without the state exchange's idle timeout); anything else goes on to the state exchange.
final class StreamDemux: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    let links: LinkAcceptor?
    let slot: ConnectionSlot
    let idle: IdleStateHandler
    let sync: SyncServerInbound

    init(links: LinkAcceptor?, slot: ConnectionSlot, idle: IdleStateHandler, sync: SyncServerInbound) {
        self.links = links
        self.slot = slot
        self.idle = idle
        self.sync = sync
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        guard let links, frame.getInteger(at: frame.readerIndex, as: UInt16.self) == LinkHandshake.magic else {
            context.fireChannelRead(data)
            context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
            return
        }
        let pipeline = context.pipeline.syncOperations
        do {
            pipeline.removeHandler(idle, promise: nil)
            pipeline.removeHandler(sync, promise: nil)
            pipeline.removeHandler(context: context, promise: nil)
            let channel = try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: context.channel)
            slot.release()
            links.accept(first: frame, channel: channel)
        } catch {
            context.close(promise: nil)
        }
    }
}

/// Hands every received datagram to the member's input stream.
final class DatagramInbound: ChannelInboundHandler {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>

    let sink: AsyncStream<ClusterMember.Input>.Continuation

    init(sink: AsyncStream<ClusterMember.Input>.Continuation) {
        self.sink = sink
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let envelope = unwrapInboundIn(data)
        sink.yield(.datagram(envelope.data, from: envelope.remoteAddress))
    }
}

/// Serves one state exchange: the request frame goes to the member, which writes the reply and closes.
final class SyncServerInbound: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer

    let sink: AsyncStream<ClusterMember.Input>.Continuation

    init(sink: AsyncStream<ClusterMember.Input>.Continuation) {
        self.sink = sink
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        sink.yield(.syncRequest(unwrapInboundIn(data), connection: context.channel))
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is IdleStateHandler.IdleStateEvent { context.close(promise: nil) }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if error is LengthPrefixedFrameDecoder.OversizedFrame { sink.yield(.rejected(.oversized)) }
        context.close(promise: nil)
    }
}

/// Reads the reply frame of a state exchange this member opened.
final class SyncClientInbound: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    let promise: EventLoopPromise<ByteBuffer>

    init(promise: EventLoopPromise<ByteBuffer>) {
        self.promise = promise
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        promise.succeed(unwrapInboundIn(data))
    }

    func channelInactive(context: ChannelHandlerContext) {
        promise.fail(ChannelError.eof)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        promise.fail(error)
        context.close(promise: nil)
    }
}
