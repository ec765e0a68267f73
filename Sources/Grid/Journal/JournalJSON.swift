import Foundation

/// A JSON writer for what the journal stores on the hot path (workflows, task outcomes, reports), producing the
/// same shapes as the types' `Codable` conformances so that `JSONDecoder` reads them back, about ten times
/// faster than `JSONEncoder` (which, through its generic containers, cost more than SQLite itself).
struct JournalJSON {
    /// What was written (internal, not private: the record encoders of JournalJSON+Records.swift append to it too).
    var bytes: [UInt8] = []

    init(capacity: Int = 256) { bytes.reserveCapacity(capacity) }

    var data: Data { Data(bytes) }

    // MARK: - Scalars

    mutating func raw(_ text: StaticString) {
        text.withUTF8Buffer { bytes.append(contentsOf: $0) }
    }

    mutating func string(_ text: String) {
        bytes.append(0x22)
        // Most text needs no escaping: copy it whole.
        let plain = text.utf8.withContiguousStorageIfAvailable { buffer -> Bool in
            for byte in buffer where byte < 0x20 || byte == 0x22 || byte == 0x5C { return false }
            bytes.append(contentsOf: buffer)
            return true
        }
        if plain == true {
            bytes.append(0x22)
            return
        }
        for byte in text.utf8 {
            switch byte {
            case 0x22: raw("\\\"")
            case 0x5C: raw("\\\\")
            case 0x0A: raw("\\n")
            case 0x0D: raw("\\r")
            case 0x09: raw("\\t")
            case 0..<0x20:
                raw("\\u00")
                bytes.append(Self.hex[Int(byte >> 4)])
                bytes.append(Self.hex[Int(byte & 0xF)])
            default: bytes.append(byte)
            }
        }
        bytes.append(0x22)
    }

    private static let hex: [UInt8] = Array("0123456789abcdef".utf8)

    mutating func int<T: BinaryInteger>(_ value: T) {
        guard let small = Int64(exactly: value) else {
            bytes.append(contentsOf: String(value).utf8)
            return
        }
        // Digits written straight into the output: `String(value)` goes through the generic radix
        // conversion, which cost more than the rest of a final report's fields.
        if small < 0 { bytes.append(0x2D) }
        var magnitude = small.magnitude
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 20) { digits in
            var count = 0
            repeat {
                digits[19 - count] = 0x30 + UInt8(magnitude % 10)
                magnitude /= 10
                count += 1
            } while magnitude > 0
            bytes.append(contentsOf: digits[(20 - count)...])
        }
    }

    mutating func bool(_ value: Bool) {
        if value { raw("true") } else { raw("false") }
    }

    /// A double that reads back as a double: integral values keep a `.0` (an integer would read back as `.int`).
    mutating func double(_ value: Double) {
        guard value.isFinite else {
            raw("null")
            return
        }
        let text = value.description
        bytes.append(contentsOf: text.utf8)
        if !text.utf8.contains(where: { $0 == 0x2E || $0 == 0x65 || $0 == 0x45 }) { raw(".0") }
    }

    /// `Duration`'s own Codable form: its attoseconds as a 128-bit integer in two halves, `[high, low]`.
    mutating func duration(_ value: Duration) {
        let (seconds, attoseconds) = value.components
        let total = Int128(seconds) * 1_000_000_000_000_000_000 + Int128(attoseconds)
        bytes.append(0x5B)
        int(Int64(truncatingIfNeeded: total >> 64))
        bytes.append(0x2C)
        int(UInt64(truncatingIfNeeded: total))
        bytes.append(0x5D)
    }

    mutating func value(_ value: Value) {
        switch value {
        case .null: raw("null")
        case .bool(let flag): bool(flag)
        case .int(let number): int(number)
        case .double(let number): double(number)
        case .string(let text): string(text)
        case .array(let items):
            bytes.append(0x5B)
            for (index, item) in items.enumerated() {
                if index > 0 { bytes.append(0x2C) }
                self.value(item)
            }
            bytes.append(0x5D)
        case .object(let members):
            var object = Object(&self)
            for key in members.keys.sorted() {
                guard let member = members[key] else { continue }
                object.key(key, &self)
                self.value(member)
            }
            object.end(&self)
        }
    }

    mutating func strings(_ items: some Sequence<String>) {
        bytes.append(0x5B)
        var first = true
        for item in items {
            if !first { bytes.append(0x2C) }
            first = false
            string(item)
        }
        bytes.append(0x5D)
    }

    mutating func dictionary(_ members: [String: String]) {
        var object = Object(&self)
        for key in members.keys.sorted() {
            object.key(key, &self)
            string(members[key] ?? "")
        }
        object.end(&self)
    }

    /// Writes an object member by member: `key` before each value, `end` after the last.
    struct Object {
        private var first = true

        init(_ json: inout JournalJSON) { json.bytes.append(0x7B) }

        mutating func key(_ name: String, _ json: inout JournalJSON) {
            if !first { json.bytes.append(0x2C) }
            first = false
            json.string(name)
            json.bytes.append(0x3A)
        }

        /// A key known at compile time (no escaping to check).
        mutating func field(_ name: StaticString, _ json: inout JournalJSON) {
            json.bytes.append(first ? 0x22 : 0x2C)
            if !first { json.bytes.append(0x22) }
            first = false
            json.raw(name)
            json.bytes.append(0x22)
            json.bytes.append(0x3A)
        }

        func end(_ json: inout JournalJSON) { json.bytes.append(0x7D) }
    }

    /// An enum case with associated values, as Swift synthesizes it: `{"case": {"label": value, …}}`.
    mutating func enumCase(_ name: String, _ body: (inout JournalJSON, inout Object) -> Void) {
        var outer = Object(&self)
        outer.key(name, &self)
        var inner = Object(&self)
        body(&self, &inner)
        inner.end(&self)
        outer.end(&self)
    }
}

// MARK: - The journal's types
