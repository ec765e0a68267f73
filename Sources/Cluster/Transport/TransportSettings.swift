/// How a member's sockets behave, beyond the protocol itself.
public struct TransportSettings: Sendable, Hashable {
    /// How long a state exchange may take to connect. Default 3 s.
    public var connectTimeout: Duration = .seconds(3)
    /// How long a state-exchange connection may stay silent before it is closed. Default 10 s.
    public var idleTimeout: Duration = .seconds(10)
    /// State exchanges served at once; more are refused. Default 16.
    public var maxConcurrentSyncs = 16
    /// TCP connections open at once on the member's port (state exchanges, links and handshakes): past it the
    /// member stops accepting until one closes, so that connections never take the last descriptors. Default 1,024.
    public var maxConnections = 1_024
    /// How long a member that leaves keeps gossiping its departure before it closes. Default 1 s.
    public var leaveDrain: Duration = .seconds(1)
    /// Test-only degradation of the outgoing datagrams (the kernel here has no netem).
    package var faults: FaultInjection?

    /// The defaults.
    public init() {}
}

/// Drops and delays outgoing datagrams, for tests of the transport on real sockets.
package struct FaultInjection: Sendable, Hashable {
    /// Probability that an outgoing datagram is dropped.
    package var loss: Double
    /// Delay added to each outgoing datagram.
    package var delay: Duration
    /// Seed of the drop decisions.
    package var seed: UInt64

    package init(loss: Double = 0, delay: Duration = .zero, seed: UInt64 = 1) {
        self.loss = loss
        self.delay = delay
        self.seed = seed
    }
}
