import Foundation

/// The simulated network between members: loss, latency, duplication, reordering and partitions.
public struct NetworkModel: Sendable, Hashable {
    /// Probability that a datagram is lost, on every link.
    public var loss: Double = 0
    /// Median one-way latency.
    public var latencyMedian: Duration = .microseconds(500)
    /// Spread of the lognormal latency (σ of its logarithm).
    public var latencySigma: Double = 0.5
    /// Probability that a datagram is delivered twice.
    public var duplication: Double = 0
    /// Probability that a datagram is held back by up to `reorderDelay`, overtaking later ones.
    public var reordering: Double = 0
    /// The longest hold-back of a reordered datagram.
    public var reorderDelay: Duration = .milliseconds(20)
    /// How long a state exchange to an unreachable member takes to fail (TCP connect timeout).
    public var connectTimeout: Duration = .seconds(3)

    /// A loss-free LAN with 0.5 ms median latency.
    public init() {}

    /// One draw of the one-way latency.
    func latency(using rng: inout Xoshiro256) -> Int64 {
        // Box–Muller from two uniforms; the lognormal's median is `latencyMedian`.
        let u1 = max(rng.unit(), 1e-12)
        let u2 = rng.unit()
        let normal = (-2 * log(u1)).squareRoot() * cos(2 * Double.pi * u2)
        return Int64(Double(latencyMedian.nanoseconds) * exp(latencySigma * normal))
    }
}

/// A period during which some links drop everything.
public struct PartitionPlan: Sendable, Hashable {
    /// Who cannot reach whom.
    public enum Shape: Sendable, Hashable {
        /// The first `fraction` of the members (in a seeded random order) and the rest cannot reach each other.
        case split(fraction: Double)
        /// One seeded random pair: the first member hears nothing from the second (the second still hears the
        /// first).
        case oneWay
    }

    /// When the links go down.
    public var start: Duration
    /// When they come back.
    public var end: Duration
    /// Which links.
    public var shape: Shape

    /// A partition as described.
    public init(start: Duration, end: Duration, shape: Shape) {
        self.start = start
        self.end = end
        self.shape = shape
    }
}
