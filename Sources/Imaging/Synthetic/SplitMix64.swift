import Foundation

/// A small, fast, seeded random number generator (SplitMix64), so synthetic data and tests are reproducible.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    private var state: UInt64

    /// A generator that yields the same sequence for the same `seed`.
    public init(seed: UInt64) {
        state = seed
    }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Draws from a Gamma distribution: the multiplicative speckle of a multi-looked SAR intensity.
///
/// Marsaglia & Tsang's method (shape ≥ 1); with shape L and scale 1/L the mean is 1 and the variance 1/L,
/// so the equivalent number of looks of `intensity × sample` is L.
public struct GammaSampler: Sendable {
    /// The shape k (the number of looks for speckle).
    public let shape: Double
    /// The scale θ (1/shape for unit-mean speckle).
    public let scale: Double
    private let d: Double
    private let c: Double

    /// A sampler of Gamma(`shape`, `scale`).
    ///
    /// - Precondition: `shape ≥ 1` and `scale > 0`.
    public init(shape: Double, scale: Double) {
        precondition(shape >= 1 && scale > 0, "Gamma sampling needs shape ≥ 1 and a positive scale")
        self.shape = shape
        self.scale = scale
        d = shape - 1.0 / 3.0
        c = 1.0 / (9.0 * d).squareRoot()
    }

    /// Unit-mean speckle of `looks` looks (ENL), such as 4.4 for IW GRDH.
    public static func speckle(looks: Double) -> GammaSampler {
        GammaSampler(shape: looks, scale: 1 / looks)
    }

    /// One sample.
    public func sample(using generator: inout some RandomNumberGenerator) -> Double {
        while true {
            var x: Double
            var v: Double
            repeat {
                x = Self.standardNormal(using: &generator)
                v = 1 + c * x
            } while v <= 0
            v = v * v * v
            let u = Double.random(in: Double.leastNonzeroMagnitude..<1, using: &generator)
            if u < 1 - 0.0331 * x * x * x * x || log(u) < 0.5 * x * x + d * (1 - v + log(v)) {
                return d * v * scale
            }
        }
    }

    /// A standard normal sample (Box–Muller).
    static func standardNormal(using generator: inout some RandomNumberGenerator) -> Double {
        let u1 = Double.random(in: Double.leastNonzeroMagnitude..<1, using: &generator)
        let u2 = Double.random(in: 0..<1, using: &generator)
        return (-2 * log(u1)).squareRoot() * cos(2 * Double.pi * u2)
    }
}
