import Logging

/// Settings of the Actors runtime, each with a default that suits a dedicated compute host.
public struct Settings: Sendable {
    /// Empty polls (local queue, then stealing) a worker makes before it parks on its semaphore.
    ///
    /// A few polls catch work that arrives right behind the last job without a futex round trip
    /// (about 5 µs); many would burn a core that an SMT sibling or the producer needs. 32 polls
    /// with a `pause` hint cost about 1 µs.
    public var spinsBeforePark: Int = 32 {
        willSet { precondition(newValue >= 0, "spinsBeforePark must not be negative") }
    }

    /// The most jobs one steal takes from a victim (it takes half the victim's queue, capped here).
    ///
    /// Taking half balances a skewed queue in a logarithmic number of steals; the cap keeps one thief
    /// from emptying a deep queue that the owner is about to run.
    public var maxStealBatch: Int = 256 {
        willSet { precondition(newValue >= 1, "maxStealBatch must be at least 1") }
    }

    /// Whether worker threads bind to the PUs of their plan slot.
    ///
    /// Turn off on shared machines where another runtime already owns the cores.
    public var bindThreads: Bool = true

    /// Jobs a worker runs between two updates of the swift-metrics counters.
    ///
    /// Counting into the metrics backend per job would cost more than a tiny job; workers count
    /// locally and publish in batches, and always when they park or stop.
    public var metricsFlushInterval: Int = 4096 {
        willSet { precondition(newValue >= 1, "metricsFlushInterval must be at least 1") }
    }

    /// The logger for pool life-cycle events (start, binding, shutdown).
    public var logger: Logger = Logger(label: "tessera.actors")

    /// Makes settings with every default.
    public init() {}
}
