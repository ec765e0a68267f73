import CShims

/// Readings of the monotonic clock as whole nanoseconds, for the bookkeeping a node does per task.
///
/// `ContinuousClock.Instant` is a resilient standard-library type: code outside the standard library stores,
/// copies and compares it (and any struct holding it) through runtime metadata. In a node's loop, which reads
/// the clock once per task and stamps every buffered report, `perf` put that at about a third of the report
/// buffer's cost. The batching only compares ages with the report interval, which plain integers do.
enum MonotonicTime {
    /// Now, in nanoseconds since an arbitrary fixed point (boot, on Linux).
    @inline(__always)
    static func now() -> Int64 { tessera_monotonic_ns() }
}
