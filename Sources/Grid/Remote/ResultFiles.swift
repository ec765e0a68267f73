import Cluster
import Crypto
import Foundation

/// Large values between hosts: a value over ``inlineLimit`` bytes does not travel inside a frame but as a file in
/// a directory every host shares (`--shared-dir`), named by the SHA-256 of its bytes and checked when read. The
/// frame carries a small reference in its place: `{"$tesseraResultFile": PATH, "sha256": HEX, "bytes": N}`.
enum ResultFiles {
    /// The largest value sent inline (a frame holds up to 8 MiB; a batch holds many values).
    static let inlineLimit = 1 << 20
    static let referenceKey = "$tesseraResultFile"

    /// Whether the value's encoding is over `limit` bytes (stops counting past it).
    static func isLarge(_ value: Value, limit: Int = inlineLimit) -> Bool {
        var budget = limit
        return !fits(value, &budget)
    }

    private static func fits(_ value: Value, _ budget: inout Int) -> Bool {
        switch value {
        case .null, .bool: budget -= 1
        case .int, .double: budget -= 9
        case .string(let text): budget -= 5 + text.utf8.count
        case .array(let items):
            budget -= 5
            for item in items where budget >= 0 { _ = fits(item, &budget) }
        case .object(let members):
            budget -= 5
            for (key, item) in members where budget >= 0 {
                budget -= 4 + key.utf8.count
                _ = fits(item, &budget)
            }
        }
        return budget >= 0
    }

    /// The value itself when small; else a reference to the file it was written to in `directory`.
    ///
    /// - Throws: `GridError.remote` when the value is large and there is no shared directory, or the write fails.
    static func spill(_ value: Value, directory: String?, what: String) throws(GridError) -> Value {
        guard isLarge(value) else { return value }
        var writer = WireWriter(capacity: inlineLimit * 2)
        RemoteWire.write(value, into: &writer)
        let bytes = writer.bytes
        guard let directory else {
            throw .remote("\(what) is \(bytes.count) bytes, over the \(inlineLimit)-byte limit of a value sent between hosts: give the server and the agents a --shared-dir")
        }
        let digest = SHA256.hash(data: bytes).map { String(format: "%02x", $0) }.joined()
        let folder = directory + "/results"
        let path = folder + "/" + digest + ".value"
        do {
            if !FileManager.default.fileExists(atPath: path) {
                try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
                try Data(bytes).write(to: URL(fileURLWithPath: path), options: .atomic)
            }
        } catch {
            throw .remote("cannot write \(what) to \(path)", cause: .init(error))
        }
        return .object([referenceKey: .string(path), "sha256": .string(digest), "bytes": .int(bytes.count)])
    }

    /// The value a reference points to (checked against its SHA-256), or the value itself when it is no reference.
    ///
    /// - Throws: `GridError.remote` when the file is missing, changed or does not decode.
    static func resolve(_ value: Value) throws(GridError) -> Value {
        guard case .object(let members) = value, members.count == 3, case .string(let path)? = members[referenceKey],
            case .string(let digest)? = members["sha256"]
        else { return value }
        guard let data = FileManager.default.contents(atPath: path) else { throw .remote("the shared result file \(path) cannot be read") }
        guard SHA256.hash(data: data).map({ String(format: "%02x", $0) }).joined() == digest else {
            throw .remote("the shared result file \(path) does not match its SHA-256 \(digest)")
        }
        let decoded = Array(data).withUnsafeBytes { raw -> Value? in
            var reader = WireReader(raw)
            return try? RemoteWire.readValue(&reader, depth: 0)
        }
        guard let decoded else { throw .remote("the shared result file \(path) does not decode") }
        return decoded
    }

    /// An outcome whose large result travels as a file (or, without a shared directory, a failure that says why).
    static func spill(_ outcome: TaskOutcome, directory: String?) -> TaskOutcome {
        do {
            switch outcome {
            case .success(let result, let variables) where isLarge(result):
                return .success(result: try spill(result, directory: directory, what: "the result"), variables: variables)
            case .alreadyDone(let result, let variables, let reason) where isLarge(result):
                return .alreadyDone(result: try spill(result, directory: directory, what: "the result"), variables: variables, reason: reason)
            default:
                return outcome
            }
        } catch {
            return .failure(message: error.description)
        }
    }

    /// An outcome with its result file read back (a failure when it cannot be).
    static func resolve(_ outcome: TaskOutcome) -> TaskOutcome {
        do {
            switch outcome {
            case .success(let result, let variables): return .success(result: try resolve(result), variables: variables)
            case .alreadyDone(let result, let variables, let reason):
                return .alreadyDone(result: try resolve(result), variables: variables, reason: reason)
            case .failure: return outcome
            }
        } catch {
            return .failure(message: error.description)
        }
    }
}
