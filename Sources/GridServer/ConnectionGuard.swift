import Hummingbird
import NIOCore
import NIOHTTPTypes
import Synchronization

/// How a server's descriptors are shared, so that connections never take the last of them (out of descriptors,
/// NIO's accept spins on EMFILE).
///
/// A reserve of half the descriptors, at most 1,024, stays for the journal, logs, tasks' pipes and agents' links.
/// Of the rest, up to `maxConnections` HTTP connections are served (``answered``); a few more are accepted only to
/// be answered 503 (``accepted``: past it, accepting waits until one closes); the cluster port takes a quarter of
/// the reserve (at least 16).
public struct DescriptorBudget: Equatable {
    public let answered: Int
    public let accepted: Int
    public let cluster: Int

    public init(descriptors: Int, maxConnections: Int) {
        let reserve = min(1_024, descriptors / 2)
        answered = max(1, min(maxConnections, descriptors - reserve))
        accepted = answered + max(8, reserve / 8)
        cluster = max(16, reserve / 4)
    }
}

/// How many HTTP connections the server holds, in all and per client address, so that no client can take every
/// descriptor (issue 27, item 9). Past a cap, a connection is answered 503 and closed.
public final class ConnectionLimiter: Sendable {
    /// The most connections at once.
    let total: Int
    /// The most connections at once from one address.
    let perAddress: Int
    private let state = Mutex<(total: Int, byAddress: [String: Int])>((0, [:]))

    public init(total: Int, perAddress: Int) {
        self.total = total
        self.perAddress = perAddress
    }

    /// Counts a new connection from `address`; `false` (and nothing counted) when a cap is reached.
    func open(_ address: String) -> Bool {
        state.withLock { state in
            guard state.total < total, state.byAddress[address, default: 0] < perAddress else { return false }
            state.total += 1
            state.byAddress[address, default: 0] += 1
            return true
        }
    }

    /// Forgets a connection counted by ``open(_:)``.
    func close(_ address: String) {
        state.withLock { state in
            state.total -= 1
            let left = state.byAddress[address, default: 1] - 1
            state.byAddress[address] = left > 0 ? left : nil
        }
    }

    /// Connections now.
    var count: Int { state.withLock { $0.total } }
}

/// On each HTTP connection: the caps of a ``ConnectionLimiter`` (503 past them) and a deadline for each request's
/// head (a client that sends its headers a byte at a time, or none, is closed when it passes).
public final class ConnectionGuard: ChannelDuplexHandler, RemovableChannelHandler {
    public typealias InboundIn = HTTPRequestPart
    public typealias InboundOut = HTTPRequestPart
    public typealias OutboundIn = HTTPResponsePart
    public typealias OutboundOut = HTTPResponsePart

    private let limiter: ConnectionLimiter
    private let headTimeout: TimeAmount
    private var address = ""
    private var admitted = false
    private var refusing = false
    private var deadline: Scheduled<Void>?

    public init(limiter: ConnectionLimiter, headTimeout: TimeAmount) {
        self.limiter = limiter
        self.headTimeout = headTimeout
    }

    public func handlerAdded(context: ChannelHandlerContext) {
        address = context.channel.remoteAddress?.ipAddress ?? "unknown"
        admitted = limiter.open(address)
        refusing = !admitted
        armDeadline(context)
    }

    public func handlerRemoved(context: ChannelHandlerContext) {
        deadline?.cancel()
        deadline = nil
        if admitted {
            admitted = false
            limiter.close(address)
        }
    }

    public func channelInactive(context: ChannelHandlerContext) {
        handlerRemoved(context: context)
        context.fireChannelInactive()
    }

    public func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let part = unwrapInboundIn(data)
        if case .head = part {
            deadline?.cancel()
            deadline = nil
            if refusing {
                var head = HTTPResponse(status: .serviceUnavailable)
                head.headerFields[.connection] = "close"
                head.headerFields[.contentLength] = "0"
                head.headerFields[.retryAfter] = "5"
                context.write(wrapOutboundOut(.head(head)), promise: nil)
                let channel = context.channel
                context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in channel.close(promise: nil) }
                return
            }
        }
        guard !refusing else { return }
        context.fireChannelRead(data)
    }

    public func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        // The next request on this connection gets its own deadline once this response is out.
        if case .end = unwrapOutboundIn(data) { armDeadline(context) }
        context.write(data, promise: promise)
    }

    private func armDeadline(_ context: ChannelHandlerContext) {
        deadline?.cancel()
        let channel = context.channel
        deadline = context.eventLoop.scheduleTask(in: headTimeout) { channel.close(promise: nil) }
    }
}
