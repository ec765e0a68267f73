/// A point on a member's monotonic clock, in nanoseconds from an arbitrary origin.
///
/// The core never reads a clock: the shell (a real socket service or the simulator) passes `now` in.
public struct ClusterTime: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// Nanoseconds since the clock's origin.
    public var nanoseconds: Int64

    /// A time from its nanoseconds.
    public init(nanoseconds: Int64) {
        self.nanoseconds = nanoseconds
    }

    /// The origin.
    public static let zero = ClusterTime(nanoseconds: 0)

    /// A time from seconds (for tests and scenario scripts).
    public static func seconds(_ value: Double) -> ClusterTime {
        ClusterTime(nanoseconds: Int64(value * 1e9))
    }

    /// This time as seconds.
    public var seconds: Double { Double(nanoseconds) / 1e9 }

    public static func < (lhs: ClusterTime, rhs: ClusterTime) -> Bool {
        lhs.nanoseconds < rhs.nanoseconds
    }

    /// The time `duration` later.
    public static func + (lhs: ClusterTime, rhs: Duration) -> ClusterTime {
        ClusterTime(nanoseconds: lhs.nanoseconds &+ rhs.nanoseconds)
    }

    /// The duration from `rhs` to `lhs`.
    public static func - (lhs: ClusterTime, rhs: ClusterTime) -> Duration {
        .nanoseconds(lhs.nanoseconds &- rhs.nanoseconds)
    }

    public var description: String {
        let millis = nanoseconds / 1_000_000
        return "\(millis / 1000).\(String(repeating: "0", count: 3 - String(millis % 1000).count))\(millis % 1000)s"
    }
}

extension Duration {
    /// The duration in whole nanoseconds, saturating at `Int64.min` and `Int64.max` (about ±292 years): the one
    /// conversion of every module (the journal stores it, the wire carries it), which never traps.
    public var nanoseconds: Int64 {
        let (seconds, attoseconds) = components
        let (whole, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        if overflow { return seconds < 0 ? .min : .max }
        let (sum, past) = whole.addingReportingOverflow(attoseconds / 1_000_000_000)
        return past ? (whole < 0 ? .min : .max) : sum
    }

    /// The duration multiplied by a real factor, rounded to nanoseconds.
    public func scaled(by factor: Double) -> Duration {
        .nanoseconds(Int64((Double(nanoseconds) * factor).rounded()))
    }
}
