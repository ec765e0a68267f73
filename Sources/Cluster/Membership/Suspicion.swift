import Foundation

/// One running suspicion: when it started, how long it may last, and who confirmed it (Lifeguard's dynamic
/// suspicion timeout).
struct Suspicion: Sendable {
    let epoch: UInt64
    let incarnation: UInt64
    let start: ClusterTime
    let minimum: Duration
    let maximum: Duration
    /// Confirmations that bring the timeout down to `minimum`.
    let needed: Int
    /// The member that raised it and the members that confirmed it.
    private(set) var observers: [NodeID]
    private(set) var deadline: ClusterTime
    /// The deadline passed while this member was paused, and the declaration waits for its backlog.
    var deferred = false

    init(epoch: UInt64, incarnation: UInt64, start: ClusterTime, minimum: Duration, maximum: Duration,
         needed: Int, raisedBy: NodeID, strong: Bool) {
        self.epoch = epoch
        self.incarnation = incarnation
        self.start = start
        self.minimum = minimum
        self.maximum = maximum
        self.needed = needed
        observers = [raisedBy]
        deadline = start + maximum
        // A strong first suspicion with nothing to wait for (small clusters) starts at the minimum.
        if strong, needed == 0 { deadline = start + minimum }
    }

    /// Moves the deadline later (a paused member reads its backlog first).
    mutating func postpone(to time: ClusterTime) {
        deadline = max(deadline, time)
    }

    var confirmations: Int { observers.count - 1 }

    /// max(min, max − (max − min) · log(C + 1) / log(K + 1)); with nothing to wait for (K = 0), the minimum.
    static func timeout(confirmations: Int, needed: Int, minimum: Duration, maximum: Duration) -> Duration {
        guard needed > 0 else { return minimum }
        let fraction = log(Double(confirmations + 1)) / log(Double(needed + 1))
        let span = Double((maximum - minimum).nanoseconds)
        let value = Double(maximum.nanoseconds) - span * fraction
        return .nanoseconds(max(minimum.nanoseconds, Int64(value.rounded())))
    }

    /// Records an independent confirmation; returns whether it was new (and the deadline moved).
    mutating func confirm(by observer: NodeID) -> Bool {
        guard !observers.contains(observer) else { return false }
        observers.append(observer)
        deadline = max(start + Self.timeout(confirmations: confirmations, needed: needed, minimum: minimum,
                                            maximum: maximum), deferred ? deadline : .zero)
        return true
    }
}
