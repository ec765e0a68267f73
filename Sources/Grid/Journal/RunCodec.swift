/// The payload of a row that holds a run of one job's null-result ends: for each end, in order, its task index,
/// attempt, node, time (nanoseconds after the row's time) and, from schema v4 on, how long it ran (nanoseconds, 0
/// when not measured), each a zigzag LEB128 varint (most ends take 7 – 11 bytes instead of a row of their own).
enum RunCodec {
    /// Appends one end; `ran` is its measured run time in nanoseconds, 0 when none.
    static func append(task: Int, attempt: Int, node: Int, at: Int64, ran: Int64, after base: Int64, to payload: inout [UInt8]) {
        varint(Int64(task), to: &payload)
        varint(Int64(attempt), to: &payload)
        varint(Int64(node), to: &payload)
        varint(at &- base, to: &payload)
        varint(ran, to: &payload)
    }

    /// Appends the ends of `payload` to `records`; `timed` says whether each end holds its run time (schema v4's
    /// rows) or not (v3's).
    ///
    /// - Throws: `GridError.journal` when the payload is cut short or holds a number out of range.
    static func decode(_ payload: [UInt8], job: JobID, after base: Int64, timed: Bool = true, into records: inout [JournalRecord]) throws(GridError) {
        var offset = 0
        while offset < payload.count {
            let start = offset
            guard let task = read(payload, &offset), let attempt = read(payload, &offset), let node = read(payload, &offset),
                let delta = read(payload, &offset), let ran = timed ? read(payload, &offset) : 0, ran >= 0,
                ran <= JobCore.longestRunNanoseconds,
                let index = Int(exactly: task), index >= 0, let execution = Int(exactly: attempt), let nodeID = Int(exactly: node)
            else {
                throw .journal("a run of ends of job \(job) is damaged at byte \(start) of \(payload.count)")
            }
            records.append(.finished(
                job: job, index: index, attempt: execution, node: NodeID(nodeID), outcome: .success(result: .null, variables: nil),
                at: .nanoseconds(base &+ delta), ran: ran > 0 ? .nanoseconds(ran) : nil))
        }
    }

    /// One number alone (the measured run time of an end that has a row of its own).
    static func single(_ value: Int64) -> [UInt8] {
        var payload: [UInt8] = []
        varint(value, to: &payload)
        return payload
    }

    /// The number that `payload` holds alone; `nil` when it is damaged or holds more.
    static func single(_ payload: [UInt8]) -> Int64? {
        var offset = 0
        guard let value = read(payload, &offset), offset == payload.count else { return nil }
        return value
    }

    private static func varint(_ value: Int64, to payload: inout [UInt8]) {
        var zigzag = UInt64(bitPattern: (value << 1) ^ (value >> 63))
        while zigzag >= 0x80 {
            payload.append(UInt8(truncatingIfNeeded: zigzag) | 0x80)
            zigzag >>= 7
        }
        payload.append(UInt8(zigzag))
    }

    /// The varint at `offset`, which moves past it; `nil` when it is cut short, longer than ten bytes, or wider
    /// than 64 bits.
    private static func read(_ payload: [UInt8], _ offset: inout Int) -> Int64? {
        var value: UInt64 = 0
        var shift: UInt64 = 0
        while offset < payload.count, shift < 70 {
            let byte = payload[offset]
            offset += 1
            // The tenth byte holds the 64th bit only: more is a damaged payload, not a number to truncate.
            if shift == 63, byte > 1 { return nil }
            value |= UInt64(byte & 0x7F) << shift
            if byte & 0x80 == 0 {
                return Int64(bitPattern: value >> 1) ^ -Int64(bitPattern: value & 1)
            }
            shift += 7
        }
        return nil
    }
}
