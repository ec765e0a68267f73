import Crypto
import Foundation

/// The cluster's shared keys: one that signs what this member sends, and up to four more it still accepts, so a
/// key is rotated without downtime and without a cleartext phase (install the new key as accepted everywhere,
/// then make it primary everywhere, then remove the old one).
public struct KeyRing: Sendable {
    /// One key and the one-byte id that travels in the envelope.
    public struct Key: Sendable {
        /// The id in the envelope.
        public let id: UInt8
        /// An HMAC already keyed: copying it skips hashing the key for every packet.
        let keyed: KeyedMAC

        /// A key from its id and 32 secret bytes.
        public init(id: UInt8, secret: [UInt8]) {
            self.id = id
            keyed = KeyedMAC(HMAC<SHA256>(key: SymmetricKey(data: secret)))
        }
    }

    /// An HMAC-SHA256 state right after keying, shared by copy.
    ///
    /// `@unchecked Sendable`: swift-crypto 3 does not mark `HMAC` Sendable, but it is a value whose digest
    /// context is copy-on-write (`Digest_boring.swift` copies it unless uniquely referenced), and this state is
    /// only ever copied, never updated in place, so copies on different threads never share a mutation.
    struct KeyedMAC: @unchecked Sendable {
        private let state: HMAC<SHA256>

        init(_ state: HMAC<SHA256>) {
            self.state = state
        }

        /// The truncated tag of `bytes`.
        func tag(_ bytes: UnsafeRawBufferPointer) -> HashedAuthenticationCode<SHA256> {
            var mac = state
            mac.update(data: bytes)
            return mac.finalize()
        }
    }

    /// The most keys a ring holds: the primary and four accepted.
    public static let capacity = 5

    /// The key this member signs with.
    public let primary: Key
    /// Every key this member accepts, the primary first.
    public let keys: [Key]

    /// A ring from its keys, the first one primary.
    ///
    /// - Throws: `KeyRingError` when there is no key, more than five, an id twice, or a secret not 32 bytes.
    public init(_ keys: [(id: UInt8, secret: [UInt8])]) throws(KeyRingError) {
        guard let first = keys.first else { throw .empty }
        guard keys.count <= Self.capacity else { throw .tooManyKeys(keys.count) }
        var seen = Set<UInt8>()
        for key in keys {
            guard key.secret.count == 32 else { throw .badSecretLength(id: key.id, length: key.secret.count) }
            guard seen.insert(key.id).inserted else { throw .duplicateID(key.id) }
        }
        primary = Key(id: first.id, secret: first.secret)
        self.keys = keys.map { Key(id: $0.id, secret: $0.secret) }
    }

    /// The accepted key with this id.
    public func key(id: UInt8) -> Key? {
        keys.first { $0.id == id }
    }

    /// Parses a key file: one key per line, `ID HEX` (a key id 0–255 and 64 hexadecimal digits), the first line
    /// the primary key; blank lines and lines starting with `#` are ignored.
    ///
    /// - Throws: `KeyRingError` with the line number of the first bad line.
    public static func parse(_ text: String) throws(KeyRingError) -> KeyRing {
        var keys: [(id: UInt8, secret: [UInt8])] = []
        for (number, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = rawLine.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix("#") { continue }
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            guard fields.count == 2, let id = UInt8(fields[0]), let secret = hexBytes(fields[1]) else {
                throw .badLine(number + 1)
            }
            keys.append((id, secret))
        }
        return try KeyRing(keys)
    }

    /// Reads and parses a key file.
    ///
    /// - Throws: `KeyRingError.unreadable` or a parse error.
    public static func load(path: String) throws(KeyRingError) -> KeyRing {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { throw .unreadable(path) }
        return try parse(text)
    }

    private static func hexBytes(_ text: Substring) -> [UInt8]? {
        let digits = Array(text.utf8)
        guard digits.count % 2 == 0 else { return nil }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(digits.count / 2)
        var index = 0
        while index < digits.count {
            guard let byte = UInt8(String(decoding: digits[index...index + 1], as: UTF8.self), radix: 16) else {
                return nil
            }
            bytes.append(byte)
            index += 2
        }
        return bytes
    }
}

/// Why a key ring could not be built.
public enum KeyRingError: Error, Sendable, Hashable, CustomStringConvertible {
    /// No key at all.
    case empty
    /// More than `KeyRing.capacity` keys.
    case tooManyKeys(Int)
    /// A secret that is not 32 bytes.
    case badSecretLength(id: UInt8, length: Int)
    /// The same id twice.
    case duplicateID(UInt8)
    /// A line that is not `ID HEX`.
    case badLine(Int)
    /// The key file could not be read.
    case unreadable(String)

    /// What is wrong, with the format the file must have.
    public var description: String {
        let format = "each line is `ID HEX64`: a key id from 0 to 255, a blank, and 64 hexadecimal digits (32 bytes); "
            + "lines starting with # are comments; the first key signs (`openssl rand -hex 32` makes a secret)"
        switch self {
        case .empty: return "no key in the file: \(format)"
        case .tooManyKeys(let count): return "\(count) keys, more than \(KeyRing.capacity): remove retired keys"
        case .badSecretLength(let id, let length): return "key \(id) has \(length) bytes, not 32: \(format)"
        case .duplicateID(let id): return "key id \(id) appears twice: each key needs its own id"
        case .badLine(let line): return "line \(line) is not a key: \(format)"
        case .unreadable(let reason): return "cannot read the key file: \(reason)"
        }
    }
}
