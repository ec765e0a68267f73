/// The 128-bit identity a member draws at each process start.
///
/// A restarted process draws a new one, so it is a new member and can never inherit the incarnation or the
/// tombstone of its previous life (the failure memberlist PR #345 describes).
public struct NodeID: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// The first 64 bits.
    public var high: UInt64
    /// The last 64 bits.
    public var low: UInt64

    /// An identity from its two halves.
    public init(high: UInt64, low: UInt64) {
        self.high = high
        self.low = low
    }

    /// A fresh identity drawn from `rng`.
    public static func random(using rng: inout some RandomNumberGenerator) -> NodeID {
        NodeID(high: rng.next(), low: rng.next())
    }

    /// Parses the 32 hexadecimal digits `description` prints.
    public init?(hex: String) {
        let digits = Array(hex.utf8)
        guard digits.count == 32,
              let high = UInt64(String(decoding: digits[0..<16], as: UTF8.self), radix: 16),
              let low = UInt64(String(decoding: digits[16..<32], as: UTF8.self), radix: 16)
        else { return nil }
        self.init(high: high, low: low)
    }

    public static func < (lhs: NodeID, rhs: NodeID) -> Bool {
        (lhs.high, lhs.low) < (rhs.high, rhs.low)
    }

    /// 32 lowercase hexadecimal digits.
    public var description: String {
        Self.hex(high) + Self.hex(low)
    }

    /// The first 8 digits, enough to tell members apart in logs.
    public var short: String {
        String(Self.hex(high).prefix(8))
    }

    private static func hex(_ value: UInt64) -> String {
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: 16 - digits.count) + digits
    }
}

/// Who a member is in one of its lives: its process identity and the epoch of this life.
///
/// The epoch starts at 0 and grows each time the member learns that it was declared dead somewhere and rejoins:
/// a declared death is final for an epoch (the grid re-queues that epoch's work and fences its late results),
/// so coming back is a new epoch, never a revival.
public struct MemberIdentity: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// The process identity.
    public var id: NodeID
    /// The life of that process, bumped when it refutes its own death.
    public var epoch: UInt64

    /// An identity in its given epoch.
    public init(id: NodeID, epoch: UInt64 = 0) {
        self.id = id
        self.epoch = epoch
    }

    public static func < (lhs: MemberIdentity, rhs: MemberIdentity) -> Bool {
        (lhs.id, lhs.epoch) < (rhs.id, rhs.epoch)
    }

    public var description: String { "\(id.short)/\(epoch)" }
}
