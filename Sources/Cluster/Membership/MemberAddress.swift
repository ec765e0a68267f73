#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Where a member listens: an IPv4 or IPv6 address and a port (the same port for UDP and TCP).
public struct MemberAddress: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// The address family.
    public enum Family: UInt8, Sendable {
        /// IPv4: the address is in the low 32 bits of `low`.
        case ipv4 = 4
        /// IPv6: the 16 bytes are `high` then `low`, big-endian.
        case ipv6 = 6
    }

    /// IPv4 or IPv6.
    public var family: Family
    /// The first 8 bytes of an IPv6 address; 0 for IPv4.
    public var high: UInt64
    /// The last 8 bytes of an IPv6 address, or the IPv4 address in host order.
    public var low: UInt64
    /// The port.
    public var port: UInt16

    /// An IPv4 address from its 32-bit value in host order (`10.0.0.1` is `0x0A00_0001`).
    public init(ipv4: UInt32, port: UInt16) {
        family = .ipv4
        high = 0
        low = UInt64(ipv4)
        self.port = port
    }

    /// An IPv6 address from its two big-endian halves.
    public init(ipv6High: UInt64, low: UInt64, port: UInt16) {
        family = .ipv6
        high = ipv6High
        self.low = low
        self.port = port
    }

    /// A placeholder for a tombstone learnt by gossip about a member whose address was never known.
    public static let unknown = MemberAddress(ipv4: 0, port: 0)

    /// The IPv4 address in host order, or nil for IPv6.
    public var ipv4: UInt32? {
        family == .ipv4 ? UInt32(truncatingIfNeeded: low) : nil
    }

    /// Parses `a.b.c.d:port` or `[v6]:port`.
    ///
    /// - Returns: nil when the text is not an address with a port.
    public init?(_ text: String) {
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else { return nil }
            let host = String(text[text.index(after: text.startIndex)..<close])
            let rest = text[text.index(after: close)...]
            guard rest.hasPrefix(":"), let port = UInt16(rest.dropFirst()),
                  let bytes = Self.parseIPv6(host) else { return nil }
            self.init(ipv6High: bytes.0, low: bytes.1, port: port)
            return
        }
        guard let colon = text.lastIndex(of: ":"),
              let port = UInt16(text[text.index(after: colon)...]),
              let ip = Self.parseIPv4(String(text[..<colon])) else { return nil }
        self.init(ipv4: ip, port: port)
    }

    /// Parses a dotted IPv4 address into its host-order value.
    public static func parseIPv4(_ text: String) -> UInt32? {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return nil }
        var value: UInt32 = 0
        for part in parts {
            guard part.count <= 3, let byte = UInt8(part) else { return nil }
            value = value << 8 | UInt32(byte)
        }
        return value
    }

    private static func parseIPv6(_ text: String) -> (UInt64, UInt64)? {
        // 16 raw bytes rather than an `in6_addr` value: its initializer resolves to another module's copy of
        // the type in some builds.
        var storage = [UInt8](repeating: 0, count: 16)
        guard storage.withUnsafeMutableBytes({ inet_pton(AF_INET6, text, $0.baseAddress) }) == 1 else { return nil }
        return storage.withUnsafeBytes { raw in
            var high: UInt64 = 0
            var low: UInt64 = 0
            for index in 0..<8 { high = high << 8 | UInt64(raw[index]) }
            for index in 8..<16 { low = low << 8 | UInt64(raw[index]) }
            return (high, low)
        }
    }

    public static func < (lhs: MemberAddress, rhs: MemberAddress) -> Bool {
        (lhs.family.rawValue, lhs.high, lhs.low, lhs.port) < (rhs.family.rawValue, rhs.high, rhs.low, rhs.port)
    }

    /// The host part as text (`10.0.0.1`, `::1`).
    public var host: String {
        switch family {
        case .ipv4:
            let ip = UInt32(truncatingIfNeeded: low)
            return "\(ip >> 24).\(ip >> 16 & 0xFF).\(ip >> 8 & 0xFF).\(ip & 0xFF)"
        case .ipv6:
            var storage = [UInt8](repeating: 0, count: 16)
            for index in 0..<8 { storage[index] = UInt8(truncatingIfNeeded: high >> UInt64(56 - 8 * index)) }
            for index in 0..<8 { storage[8 + index] = UInt8(truncatingIfNeeded: low >> UInt64(56 - 8 * index)) }
            var buffer = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
            let written = storage.withUnsafeBytes { raw in inet_ntop(AF_INET6, raw.baseAddress, &buffer, socklen_t(buffer.count)) }
            guard written != nil else { return "?" }
            return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        }
    }

    /// `host:port`, with brackets around an IPv6 host.
    public var description: String {
        family == .ipv4 ? "\(host):\(port)" : "[\(host)]:\(port)"
    }
}
