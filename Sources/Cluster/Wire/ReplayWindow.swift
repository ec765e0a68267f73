/// Remembers which sequence numbers each sender has used, IPsec/DTLS style: a 1,024-bit sliding window per
/// sender, keyed by node id and epoch, so a captured packet played again is refused.
public struct ReplayWindow: Sendable {
    struct Sender: Sendable {
        var epoch: UInt64
        var highest: UInt64
        var bits: [UInt64]
    }

    /// The window's width in sequence numbers.
    public static let width: UInt64 = 1024

    /// Senders tracked at most; beyond, the least recently accepted is forgotten.
    public let capacity: Int
    private var senders: [NodeID: Sender] = [:]
    private var recency: [NodeID: UInt64] = [:]
    private var clock: UInt64 = 0

    /// A window tracking up to `capacity` senders.
    public init(capacity: Int = 65_536) {
        precondition(capacity > 0, "a replay window tracks at least one sender")
        self.capacity = capacity
    }

    /// What `check` decided.
    public enum Verdict: Sendable, Hashable {
        /// New: accept it (and `commit` it once its MAC is verified).
        case fresh
        /// Seen before, or older than the window.
        case replayed
        /// From an earlier epoch of a sender already seen in a later one.
        case staleEpoch
    }

    /// Whether (sender, epoch, sequence) is new, without recording it.
    public func check(sender: NodeID, epoch: UInt64, sequence: UInt64) -> Verdict {
        guard let state = senders[sender] else { return .fresh }
        if epoch < state.epoch { return .staleEpoch }
        if epoch > state.epoch { return .fresh }
        if sequence > state.highest { return .fresh }
        let age = state.highest - sequence
        if age >= Self.width { return .replayed }
        return state.bits[Int(age / 64)] & (1 << (age % 64)) != 0 ? .replayed : .fresh
    }

    /// Records (sender, epoch, sequence) as used; call only after the packet authenticated.
    public mutating func commit(sender: NodeID, epoch: UInt64, sequence: UInt64) {
        clock += 1
        recency[sender] = clock
        guard var state = senders[sender], epoch <= state.epoch else {
            if senders[sender] == nil, senders.count >= capacity { evictOldest() }
            var fresh = Sender(epoch: epoch, highest: sequence, bits: Array(repeating: 0, count: Int(Self.width / 64)))
            fresh.bits[0] = 1
            senders[sender] = fresh
            return
        }
        guard epoch == state.epoch else { return }
        if sequence > state.highest {
            shift(&state.bits, by: sequence - state.highest)
            state.highest = sequence
            state.bits[0] |= 1
        } else {
            let age = state.highest - sequence
            if age < Self.width { state.bits[Int(age / 64)] |= 1 << (age % 64) }
        }
        senders[sender] = state
    }

    /// Senders tracked now.
    public var count: Int { senders.count }

    /// Moves every bit `distance` places towards older ages (bit k is the sequence `highest − k`).
    private func shift(_ bits: inout [UInt64], by distance: UInt64) {
        guard distance < Self.width else {
            for index in bits.indices { bits[index] = 0 }
            return
        }
        let words = Int(distance / 64)
        let offset = distance % 64
        for index in stride(from: bits.count - 1, through: 0, by: -1) {
            let source = index - words
            var value: UInt64 = 0
            if source >= 0 {
                value = bits[source] << offset
                if offset > 0, source - 1 >= 0 { value |= bits[source - 1] >> (64 - offset) }
            }
            bits[index] = value
        }
    }

    private mutating func evictOldest() {
        guard let oldest = recency.min(by: { $0.value < $1.value })?.key else { return }
        senders[oldest] = nil
        recency[oldest] = nil
    }
}
