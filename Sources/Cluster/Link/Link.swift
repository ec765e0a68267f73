import Logging
import NIOCore
import NIOPosix
import Synchronization

/// An authenticated, ordered, bidirectional stream of frames between two members over TCP: the remote calls
/// between the scheduler's host and its agents.
///
/// A link is made by ``dial(_:port:expecting:identity:clusterID:keyRing:group:timeout:)`` on one side and
/// accepted by a ``LinkAcceptor`` (on the member's cluster port) on the other. Both ends prove they hold a key
/// of the cluster's ring; every frame is authenticated and chained (see ``LinkHandshake``). Frames are
/// bounded (``LinkHandshake/maxFrameBytes``); a frame that fails authentication or is oversized closes this
/// link and nothing else. Reading applies back-pressure: the next frame is read once the handler returned.
public final class Link: Sendable {
    /// The member at the other end.
    public let peer: NodeID
    /// Its socket address, for logs.
    public let remoteAddress: String
    /// The largest payload ``send(_:)`` accepts.
    public static let maxPayloadBytes = LinkHandshake.maxFrameBytes - LinkHandshake.tagBytes

    private struct State {
        var handler: (@Sendable ([UInt8]) async -> Void)?
        var handlerWaiter: CheckedContinuation<(@Sendable ([UInt8]) async -> Void)?, Never>?
        var reason: LinkError?
        var closeWaiters: [CheckedContinuation<LinkError, Never>] = []
    }

    private let channel: any Channel
    private let outbound: AsyncStream<[UInt8]>.Continuation
    private let outboundFrames: AsyncStream<[UInt8]>
    private let state = Mutex(State())

    init(peer: NodeID, channel: any Channel) {
        self.peer = peer
        self.channel = channel
        remoteAddress = channel.remoteAddress.map { "\($0.ipAddress ?? "?"):\($0.port ?? 0)" } ?? "?"
        (outboundFrames, outbound) = AsyncStream.makeStream()
    }

    /// Queues a payload; frames go out in the order they were queued.
    ///
    /// - Throws: `.closed` once the link is closed, `.badFrame(.oversized)` above ``maxPayloadBytes``.
    public func send(_ payload: [UInt8]) throws(LinkError) {
        guard payload.count <= Self.maxPayloadBytes else { throw .badFrame(.oversized) }
        if case .terminated = outbound.yield(payload) { throw .closed }
    }

    /// Starts delivering the peer's payloads to `handler`, one at a time, in order.
    public func start(_ handler: @escaping @Sendable ([UInt8]) async -> Void) {
        let waiter = state.withLock { state -> CheckedContinuation<(@Sendable ([UInt8]) async -> Void)?, Never>? in
            state.handler = handler
            defer { state.handlerWaiter = nil }
            return state.handlerWaiter
        }
        waiter?.resume(returning: handler)
    }

    /// Closes the link (idempotent).
    public func close() {
        finish(.closed)
        channel.close(promise: nil)
    }

    /// Waits until the link is closed, and says why.
    public func closed() async -> LinkError {
        await withCheckedContinuation { continuation in
            let reason: LinkError? = state.withLock { state in
                if let reason = state.reason { return reason }
                state.closeWaiters.append(continuation)
                return nil
            }
            if let reason { continuation.resume(returning: reason) }
        }
    }

    /// Why it closed, once it has.
    public var closeReason: LinkError? { state.withLock { $0.reason } }

    private func finish(_ reason: LinkError) {
        let (waiters, handlerWaiter) = state.withLock { state -> ([CheckedContinuation<LinkError, Never>], CheckedContinuation<(@Sendable ([UInt8]) async -> Void)?, Never>?) in
            if state.reason == nil { state.reason = reason }
            defer {
                state.closeWaiters = []
                state.handlerWaiter = nil
            }
            return (state.closeWaiters, state.handlerWaiter)
        }
        outbound.finish()
        handlerWaiter?.resume(returning: nil)
        for waiter in waiters { waiter.resume(returning: state.withLock { $0.reason } ?? reason) }
    }

    private func handler() async -> (@Sendable ([UInt8]) async -> Void)? {
        await withCheckedContinuation { continuation in
            let ready: ((@Sendable ([UInt8]) async -> Void)?)? = state.withLock { state in
                if let handler = state.handler { return .some(handler) }
                if state.reason != nil { return .some(nil) }
                state.handlerWaiter = continuation
                return nil
            }
            if let ready { continuation.resume(returning: ready) }
        }
    }

    // MARK: - Dialling

    /// Opens a link to the member listening at `host:port` whose identity must be `expecting` (when given).
    ///
    /// - Throws: `LinkError` when the connection fails, the handshake is refused or times out, or the peer is
    ///   not the member expected.
    public static func dial(
        _ host: String, port: Int, expecting: NodeID?, identity: NodeID, clusterID: UInt64, keyRing: KeyRing,
        group: any EventLoopGroup, timeout: Duration = .seconds(5)
    ) async throws(LinkError) -> Link {
        let asyncChannel: NIOAsyncChannel<ByteBuffer, ByteBuffer>
        do {
            asyncChannel = try await ClientBootstrap(group: group)
                .connectTimeout(.nanoseconds(timeout.nanoseconds))
                .channelOption(.socketOption(.tcp_nodelay), value: 1)
                .connect(host: host, port: port) { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(
                            ByteToMessageHandler(LengthPrefixedFrameDecoder(maximum: LinkHandshake.maxFrameBytes)))
                        return try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                    }
                }
        } catch {
            throw .connectFailed("\(host):\(port): \(error)")
        }
        let result: Result<Link, LinkError> = await withCheckedContinuation { continuation in
            let once = Once(continuation)
            Task {
                await run(asyncChannel, role: .dial(expecting: expecting, identity: identity, clusterID: clusterID, keyRing: keyRing),
                          timeout: timeout) { once.resume($0) }
                once.resume(.failure(.closed))
            }
        }
        return try result.get()
    }

    enum Role {
        case dial(expecting: NodeID?, identity: NodeID, clusterID: UInt64, keyRing: KeyRing)
        case accept(first: ByteBuffer, identity: NodeID, clusterID: UInt64, keyRing: KeyRing)
    }

    /// Runs one connection: the handshake, then the writer and the reader until either side closes.
    static func run(
        _ asyncChannel: NIOAsyncChannel<ByteBuffer, ByteBuffer>, role: Role, timeout: Duration,
        established: @escaping @Sendable (Result<Link, LinkError>) -> Void
    ) async {
        let channel = asyncChannel.channel
        let timedOut = Flag()
        let timer = channel.eventLoop.scheduleTask(in: .nanoseconds(timeout.nanoseconds)) {
            timedOut.set()
            channel.close(promise: nil)
        }
        try? await asyncChannel.executeThenClose { inbound, outbound in
            var frames = inbound.makeAsyncIterator()
            let write: @Sendable ([UInt8]) async throws -> Void = { bytes in
                var buffer = channel.allocator.buffer(capacity: bytes.count + 4)
                buffer.writeInteger(UInt32(bytes.count))
                buffer.writeBytes(bytes)
                try await outbound.write(buffer)
            }
            // The handshake.
            var sending: FrameMAC
            var receiving: FrameMAC
            let link: Link
            do {
                switch role {
                case .dial(let expecting, let identity, let clusterID, let keyRing):
                    let nonce = LinkHandshake.nonce()
                    try await write(LinkHandshake.seal(.hello, clusterID: clusterID, key: keyRing.primary, sender: identity, nonce: nonce))
                    guard let reply = try await frames.next() else {
                        established(.failure(timedOut.isSet ? .timedOut : .closed))
                        return
                    }
                    let opened = reply.withUnsafeReadableBytes {
                        LinkHandshake.open($0, kind: .welcome, clusterID: clusterID, keyRing: keyRing, answering: nonce)
                    }
                    guard case .success(let welcome) = opened else {
                        if case .failure(let reason) = opened { established(.failure(.refused(reason))) }
                        return
                    }
                    if let expecting, welcome.sender != expecting {
                        established(.failure(.unexpectedPeer(expected: expecting, got: welcome.sender)))
                        return
                    }
                    sending = LinkHandshake.sessionKey(welcome.key, hello: nonce, welcome: welcome.nonce, direction: 0)
                    receiving = LinkHandshake.sessionKey(welcome.key, hello: nonce, welcome: welcome.nonce, direction: 1)
                    link = Link(peer: welcome.sender, channel: channel)
                case .accept(let first, let identity, let clusterID, let keyRing):
                    let opened = first.withUnsafeReadableBytes {
                        LinkHandshake.open($0, kind: .hello, clusterID: clusterID, keyRing: keyRing)
                    }
                    guard case .success(let hello) = opened else {
                        if case .failure(let reason) = opened { established(.failure(.refused(reason))) }
                        return
                    }
                    let nonce = LinkHandshake.nonce()
                    try await write(LinkHandshake.seal(.welcome, clusterID: clusterID, key: hello.key, sender: identity, nonce: nonce, answering: hello.nonce))
                    sending = LinkHandshake.sessionKey(hello.key, hello: hello.nonce, welcome: nonce, direction: 1)
                    receiving = LinkHandshake.sessionKey(hello.key, hello: hello.nonce, welcome: nonce, direction: 0)
                    link = Link(peer: hello.sender, channel: channel)
                }
            } catch {
                established(.failure(timedOut.isSet ? .timedOut : .closed))
                return
            }
            timer.cancel()
            established(.success(link))
            // The writer, alongside the reader.
            let reason: LinkError = await withTaskGroup(of: LinkError?.self) { group in
                group.addTask { [sending] in
                    var mac = sending
                    for await payload in link.outboundFrames {
                        do {
                            try await write(mac.seal(payload))
                        } catch {
                            return .closed
                        }
                    }
                    return nil
                }
                var reason = LinkError.closed
                if let handler = await link.handler() {
                    do {
                        while let frame = try await frames.next() {
                            let opened = frame.withUnsafeReadableBytes { receiving.open($0) }
                            switch opened {
                            case .success(let payload): await handler(payload)
                            case .failure(let rejection): throw LinkError.badFrame(rejection)
                            }
                        }
                    } catch let error as LinkError {
                        reason = error
                    } catch let error as LengthPrefixedFrameDecoder.OversizedFrame {
                        _ = error
                        reason = .badFrame(.oversized)
                    } catch {
                        reason = .closed
                    }
                }
                link.finish(reason)
                channel.close(promise: nil)
                group.cancelAll()
                return reason
            }
            _ = reason
        }
    }
}

/// A flag set once, read from any thread.
final class Flag: Sendable {
    private let value = Atomic<Bool>(false)

    func set() { value.store(true, ordering: .relaxed) }

    var isSet: Bool { value.load(ordering: .relaxed) }
}

/// Resumes a continuation once; later results are dropped.
final class Once<T: Sendable>: Sendable {
    private let continuation: Mutex<CheckedContinuation<T, Never>?>

    init(_ continuation: CheckedContinuation<T, Never>) {
        self.continuation = Mutex(continuation)
    }

    func resume(_ value: T) {
        let continuation = self.continuation.withLock { stored -> CheckedContinuation<T, Never>? in
            defer { stored = nil }
            return stored
        }
        continuation?.resume(returning: value)
    }
}

/// Accepts the links other members open to this member's cluster port (on the same TCP listener as the
/// membership's state exchanges: the first frame's magic tells them apart).
public final class LinkAcceptor: Sendable {
    /// Links whose handshake succeeded, in order.
    public let links: AsyncStream<Link>
    private let sink: AsyncStream<Link>.Continuation
    private let identity: NodeID
    private let clusterID: UInt64
    private let keyRing: KeyRing
    private let timeout: Duration
    private let refusals = Mutex<[LinkError: Int]>([:])
    private let logger: Logger

    /// An acceptor for `identity`'s links under `keyRing`.
    public init(identity: NodeID, clusterID: UInt64, keyRing: KeyRing, timeout: Duration = .seconds(5),
                logger: Logger = Logger(label: "tessera.cluster.link")) {
        self.identity = identity
        self.clusterID = clusterID
        self.keyRing = keyRing
        self.timeout = timeout
        self.logger = logger
        (links, sink) = AsyncStream.makeStream()
    }

    /// Handshakes refused so far, by reason (a wrong key is `.refused(.badMAC)` or `.refused(.unknownKey)`).
    public var refused: [LinkError: Int] { refusals.withLock { $0 } }

    /// Takes over a connection whose first frame is a link hello.
    func accept(first: ByteBuffer, channel: NIOAsyncChannel<ByteBuffer, ByteBuffer>) {
        let role = Link.Role.accept(first: first, identity: identity, clusterID: clusterID, keyRing: keyRing)
        let sink = self.sink
        let logger = self.logger
        let peer = channel.channel.remoteAddress.map { "\($0)" } ?? "?"
        Task {
            await Link.run(channel, role: role, timeout: timeout) { result in
                switch result {
                case .success(let link): sink.yield(link)
                case .failure(let error):
                    self.refusals.withLock { $0[error, default: 0] += 1 }
                    logger.warning("link refused", metadata: ["cluster.peer": "\(peer)", "cluster.reason": "\(error)"])
                }
            }
        }
    }

    /// Stops yielding links.
    public func finish() { sink.finish() }
}
