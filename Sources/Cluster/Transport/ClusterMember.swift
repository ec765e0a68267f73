import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle
import Synchronization

/// One member of the cluster on real sockets: the membership core behind a SwiftNIO UDP socket (probes and
/// gossip) and a TCP listener (joins and push-pull), every packet authenticated.
///
/// All inputs (datagrams, frames, timers, replies) go through one stream consumed by `run()`, which owns the
/// core: the core is never shared, and its effects are performed in the order it returns them.
public final class ClusterMember: Service, Sendable {
    /// Everything a member needs to start.
    public struct Configuration: Sendable {
        /// This process's identity: draw a fresh one per process start.
        public var id: NodeID
        /// The address to listen on (UDP and TCP, same port) and to announce.
        public var bind: MemberAddress
        /// Members to join through.
        public var seeds: [MemberAddress]
        /// The cluster's id: members of other clusters are refused.
        public var clusterID: UInt64
        /// The keys.
        public var keyRing: KeyRing
        /// The protocol.
        public var settings: MembershipSettings
        /// The sockets.
        public var transport: TransportSettings
        /// The seed of the core's random choices (log it: it replays the member's decisions).
        public var seed: UInt64
        /// Accepts links (remote calls) on the cluster port; `nil` refuses them.
        public var links: LinkAcceptor?

        /// A configuration with the default protocol and transport settings.
        public init(id: NodeID, bind: MemberAddress, seeds: [MemberAddress], clusterID: UInt64, keyRing: KeyRing,
                    settings: MembershipSettings = .tessera, transport: TransportSettings = TransportSettings(),
                    seed: UInt64) {
            self.id = id
            self.bind = bind
            self.seeds = seeds
            self.clusterID = clusterID
            self.keyRing = keyRing
            self.settings = settings
            self.transport = transport
            self.seed = seed
        }
    }

    enum Input: Sendable {
        case datagram(ByteBuffer, from: SocketAddress)
        case timer(MembershipTimer)
        case syncRequest(ByteBuffer, connection: any Channel)
        case syncReply(ByteBuffer)
        case syncFailed(MemberAddress)
        case rejected(Rejection)
        case view(CheckedContinuation<[Member], Never>)
        case stop
    }

    /// The configuration.
    public let configuration: Configuration
    /// Membership changes, in order, for the grid (and `tessera cluster member`).
    public let events: AsyncStream<MembershipEvent>
    let eventSink: AsyncStream<MembershipEvent>.Continuation
    let inputs: AsyncStream<Input>
    let inputSink: AsyncStream<Input>.Continuation
    let group: MultiThreadedEventLoopGroup
    let logger: Logger
    let metrics = ClusterMetrics()
    let counts = Mutex<[Rejection: Int]>([:])
    let bound = Mutex<(address: MemberAddress?, waiting: [CheckedContinuation<MemberAddress, Never>])>((nil, []))

    /// A member that starts when `run()` is called.
    ///
    /// - Parameters:
    ///   - configuration: identity, addresses, keys and settings.
    ///   - logger: where the member logs (it adds `cluster.node` and `cluster.address` metadata).
    public init(configuration: Configuration, logger: Logger = Logger(label: "tessera.cluster")) {
        self.configuration = configuration
        (events, eventSink) = AsyncStream.makeStream()
        (inputs, inputSink) = AsyncStream.makeStream()
        group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        var logger = logger
        logger[metadataKey: "cluster.node"] = "\(configuration.id.short)"
        logger[metadataKey: "cluster.address"] = "\(configuration.bind)"
        self.logger = logger
    }

    deinit {
        group.shutdownGracefully { _ in }
    }

    /// Packets refused so far, by reason.
    public var rejections: [Rejection: Int] {
        counts.withLock { $0 }
    }

    /// The address the member listens on, once bound (the configured one, or the port the system chose for 0).
    public var boundAddress: MemberAddress? {
        bound.withLock { $0.address }
    }

    /// Waits until the member listens, and returns its address.
    public func listening() async -> MemberAddress {
        await withCheckedContinuation { continuation in
            let ready: MemberAddress? = bound.withLock { state in
                if let address = state.address { return address }
                state.waiting.append(continuation)
                return nil
            }
            if let ready { continuation.resume(returning: ready) }
        }
    }

    /// What the member currently believes about the others.
    public func view() async -> [Member] {
        await withCheckedContinuation { inputSink.yield(.view($0)) }
    }

    /// Leaves the cluster gracefully and makes `run()` return.
    public func leave() {
        inputSink.yield(.stop)
    }

    /// Runs the member until it leaves, its task is cancelled, or a graceful shutdown is requested (it then
    /// gossips its departure before closing).
    ///
    /// - Throws: the socket errors of binding.
    public func run() async throws {
        let sockets = try await bindSockets()
        let waiting = bound.withLock { state in
            state.address = sockets.address
            defer { state.waiting = [] }
            return state.waiting
        }
        for continuation in waiting { continuation.resume(returning: sockets.address) }
        logger.notice("cluster member listening", metadata: ["cluster.seed": "\(configuration.seed)"])
        var loop = MemberLoop(member: self, sockets: sockets)
        await withTaskCancellationOrGracefulShutdownHandler {
            await loop.run()
        } onCancelOrGracefulShutdown: {
            self.inputSink.yield(.stop)
        }
        try? await sockets.udp.close()
        try? await sockets.tcp.close()
        eventSink.finish()
        logger.notice("cluster member stopped")
    }
}
