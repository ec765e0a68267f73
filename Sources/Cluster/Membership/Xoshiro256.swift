/// xoshiro256** (Blackman and Vigna): the seeded generator behind every random choice in the membership core
/// and the simulator.
///
/// The 256-bit state is filled from the 64-bit seed by a SplitMix64 sequence, as its authors recommend, so
/// neighbouring seeds give unrelated streams.
public struct Xoshiro256: RandomNumberGenerator, Sendable, Hashable {
    private var s0: UInt64
    private var s1: UInt64
    private var s2: UInt64
    private var s3: UInt64

    /// A generator that yields the same sequence for the same `seed`.
    public init(seed: UInt64) {
        var x = seed
        func mix() -> UInt64 {
            x &+= 0x9E37_79B9_7F4A_7C15
            var z = x
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        s0 = mix()
        s1 = mix()
        s2 = mix()
        s3 = mix()
    }

    public mutating func next() -> UInt64 {
        let result = ((s1 &* 5) << 7 | (s1 &* 5) >> 57) &* 9
        let t = s1 << 17
        s2 ^= s0
        s3 ^= s1
        s1 ^= s2
        s0 ^= s3
        s2 ^= t
        s3 = s3 << 45 | s3 >> 19
        return result
    }

    /// A uniform integer in `0..<bound` (bound > 0), by Lemire's multiply-shift without the rejection step:
    /// the bias is below 2⁻³² for the bounds used here and it keeps traces cheap to replay.
    public mutating func below(_ bound: Int) -> Int {
        Int(truncatingIfNeeded: ((next() >> 32) &* UInt64(bound)) >> 32)
    }

    /// A uniform real in [0, 1).
    public mutating func unit() -> Double {
        Double(next() >> 11) * 0x1.0p-53
    }

    /// A generator for an independent stream derived from this one (one per simulated member).
    public mutating func fork() -> Xoshiro256 {
        Xoshiro256(seed: next())
    }
}
