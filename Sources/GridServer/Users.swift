import Crypto
import Foundation

/// Who may use the REST API: a name, a role and a bearer token per user.
///
/// The users file has one user per line, `NAME ROLE TOKEN [unix=ACCOUNT]` separated by blanks, where ROLE is
/// `user` or `admin` and ACCOUNT the Unix account the user's tasks run as (without it, a user's tasks run as a
/// uid of the server's range, an administrator's as the server's own account); blank lines and lines starting with
/// `#` are ignored. Tokens are compared by their SHA-256 in constant time.
public struct Users: Sendable {
    public struct User: Sendable, Hashable {
        public var name: String
        public var admin: Bool
        /// The Unix account named by `unix=`, if any.
        public var unix: String?

        public init(name: String, admin: Bool, unix: String? = nil) {
            self.name = name
            self.admin = admin
            self.unix = unix
        }
    }

    /// Every user, in file order.
    public let all: [User]

    /// Why a users file was refused.
    public struct FileError: Error, CustomStringConvertible {
        public var description: String
    }

    private let byDigest: [Data: User]

    /// Everyone is the local administrator (no users file: loopback only).
    public static let localAdmin = User(name: "local", admin: true)

    public init(contentsOfFile path: String) throws(FileError) {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw FileError(description: "cannot read the users file \(path)")
        }
        try self.init(text: text, source: path)
    }

    public init(text: String, source: String) throws(FileError) {
        var users: [Data: User] = [:]
        var names: Set<String> = []
        var ordered: [User] = []
        for (number, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
            guard let first = fields.first, !first.hasPrefix("#") else { continue }
            let location = "\(source):\(number + 1)"
            guard fields.count == 3 || fields.count == 4 else {
                throw FileError(description: "\(location): expected NAME ROLE TOKEN [unix=ACCOUNT], got \(fields.count) fields")
            }
            var unix: String?
            if fields.count == 4 {
                guard fields[3].hasPrefix("unix="), fields[3].count > 5 else {
                    throw FileError(description: "\(location): the fourth field must be unix=ACCOUNT, not '\(fields[3].prefix(40))'")
                }
                unix = String(fields[3].dropFirst(5))
            }
            guard fields[0].utf8.count <= 64, fields[0].allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "._-".contains($0)) }) else {
                throw FileError(description: "\(location): a user name is 1 to 64 letters, digits, '.', '_' or '-'")
            }
            guard fields[1] == "user" || fields[1] == "admin" else {
                throw FileError(description: "\(location): the role must be user or admin, not '\(fields[1])'")
            }
            guard fields[2].utf8.count >= 16 else { throw FileError(description: "\(location): a token needs at least 16 characters") }
            guard names.insert(fields[0]).inserted else { throw FileError(description: "\(location): user \(fields[0]) appears twice") }
            let digest = Users.digest(fields[2])
            guard users[digest] == nil else { throw FileError(description: "\(location): two users share a token") }
            let user = User(name: fields[0], admin: fields[1] == "admin", unix: unix)
            users[digest] = user
            ordered.append(user)
        }
        guard !users.isEmpty else { throw FileError(description: "\(source) lists no user") }
        byDigest = users
        all = ordered
    }

    /// The user holding `token`, if any.
    public func user(token: String) -> User? {
        let digest = Users.digest(token)
        var found: User?
        // Every entry is compared, each in constant time, so timing tells nothing about the token.
        for (candidate, user) in byDigest where Users.constantTimeEqual(candidate, digest) { found = user }
        return found
    }

    private static func digest(_ token: String) -> Data { Data(SHA256.hash(data: Data(token.utf8))) }

    private static func constantTimeEqual(_ lhs: Data, _ rhs: Data) -> Bool {
        guard lhs.count == rhs.count else { return false }
        var difference: UInt8 = 0
        for (a, b) in zip(lhs, rhs) { difference |= a ^ b }
        return difference == 0
    }
}
